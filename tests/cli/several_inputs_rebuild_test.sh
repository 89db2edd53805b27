#!/usr/bin/env bash
# The two rebuilds of a saved model outside weft, examples/python/weft_numpy.py (NumPy) and
# benchmarks/weft_model_in_pytorch.py (PyTorch), on a graph model with two named inputs: each
# reads the samples as `weft predict` does (one HDF5 dataset per input, by the mapping stored with
# the model or by --input NAME=DATASET) and must give weft predict's probabilities within 1e-5;
# a model file with one weight or one batch-norm running statistic changed must make both fail.
# Then the same with --normalize (standardize: each input by its own stored statistics; scale:F),
# a changed stored statistic of either input making both fail.
# The model: the image through conv2d, batch_norm, relu and global average pooling; the table
# through dense+relu; multiply, subtract and concat joining them (the pooled tensor read three
# times, the table twice); its inputs declared table first, while weft orders them by name.
# Usage: several_inputs_rebuild_test.sh WEFT SOURCE_DIR
set -euo pipefail
weft=$1 source=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# 240 training samples and 90 new ones in a file whose datasets have other names; the class
# (0..2) counts which of the image's top rows and the table's first column are positive.
/usr/bin/python3 - <<'PY'
import h5py, numpy as np
rng = np.random.default_rng(11)
def samples(n):
    image = rng.normal(size=(n, 1, 6, 6)).astype(np.float32)
    table = rng.normal(size=(n, 3)).astype(np.float32)
    return image, table, ((image[:, 0, :3].mean(axis=(1, 2)) > 0) + (table[:, 0] > 0)).astype(np.int32)
image, table, y = samples(240)
with h5py.File("train.h5", "w") as f:
    f["pixels"], f["table"], f["labels"] = image, table, y
image, table, y = samples(90)
with h5py.File("new.h5", "w") as f:
    f["pics"], f["feats"] = image, table
PY
cat >spec.json <<'JSON'
{ "inputs": {"meta": [3], "image": [1, 6, 6]},
  "layers": [ {"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1, "inputs": ["image"], "name": "conv"},
              {"type": "batch_norm", "name": "bn"}, {"type": "relu"},
              {"type": "global_avg_pool", "name": "pooled"},
              {"type": "dense", "units": 4, "activation": "relu", "inputs": ["meta"], "name": "meta_dense"},
              {"type": "multiply", "inputs": ["pooled", "meta_dense"], "name": "gated"},
              {"type": "subtract", "inputs": ["gated", "pooled"], "name": "diff"},
              {"type": "concat", "inputs": ["diff", "pooled", "meta"], "name": "joined"},
              {"type": "dense", "units": 3, "name": "scores"} ],
  "loss": {"type": "cross_entropy"},
  "optimizer": {"type": "adam", "lr": 0.01} }
JSON
"$weft" train spec.json --data train.h5 --input image=pixels --input meta=table --batch 32 --epochs 3 --seed 3 \
  --progress plain --out model.h5 >train.log

rebuilds=("$source/examples/python/weft_numpy.py" "$source/benchmarks/weft_model_in_pytorch.py")
# The stored mapping (pixels, table) on the training file; flags on the file with other names.
"$weft" predict model.h5 --input train.h5 -o stored.csv
"$weft" predict model.h5 --input new.h5 --input image=pics --input meta=feats -o flags.csv
for script in "${rebuilds[@]}"; do
  /usr/bin/python3 "$script" model.h5 train.h5 --compare stored.csv --tolerance 1e-5
  /usr/bin/python3 "$script" model.h5 new.h5 --input image=pics --input meta=feats --compare flags.csv --tolerance 1e-5
done

# bend MODEL PREDICTIONS.csv DELTA TENSOR...: for each TENSOR (an HDF5 path), a copy of MODEL with
# its first value moved by DELTA; both rebuilds must disagree with weft predict's PREDICTIONS.csv
# on the unchanged model (counted in $failed).
failed=0
bend() {
  local model=$1 predictions=$2 delta=$3
  shift 3
  for tensor in "$@"; do
    /usr/bin/python3 - "$model" "$tensor" "$delta" <<'PY'
import shutil, sys, h5py
model, tensor, delta = sys.argv[1], sys.argv[2], float(sys.argv[3])
shutil.copy(model, "bent.h5")
with h5py.File("bent.h5", "r+") as f:
    values = f[tensor][...]
    values.flat[0] += delta
    f[tensor][...] = values
PY
    for script in "${rebuilds[@]}"; do
      if /usr/bin/python3 "$script" bent.h5 new.h5 --input image=pics --input meta=feats --compare "$predictions" \
           --tolerance 1e-5 >bent.log 2>&1 || ! grep -q "largest difference between weft and" bent.log; then
        echo "FAIL: $(basename "$script") with $tensor of $model changed agreed with weft predict (or crashed):"
        cat bent.log
        failed=$((failed + 1))
      fi
    done
  done
}

# The same file with one value changed, on each input's path: both rebuilds must disagree.
bend model.h5 flags.csv 0.05 weights/meta_dense/weight buffers/bn/running_mean

# The same model trained with each input normalised (--normalize standardize: by its own
# statistics; scale:F): both rebuilds prepare each input as predict does. A stored statistic of
# either input changed must make both disagree.
for normalize in scale:0.5 standardize; do  # normalized.h5 stays the standardised one
  "$weft" train spec.json --data train.h5 --input image=pixels --input meta=table --batch 32 --epochs 3 --seed 3 \
    --normalize "$normalize" --progress plain --out normalized.h5 >train.log
  "$weft" predict normalized.h5 --input new.h5 --input image=pics --input meta=feats -o normalized.csv
  for script in "${rebuilds[@]}"; do
    /usr/bin/python3 "$script" normalized.h5 new.h5 --input image=pics --input meta=feats --compare normalized.csv \
      --tolerance 1e-5
  done
done
bend normalized.h5 normalized.csv 0.5 data/mean/meta data/std/image
[ "$failed" -eq 0 ]
echo "several-input rebuilds in NumPy and PyTorch: all passed"
