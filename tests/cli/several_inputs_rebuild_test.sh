#!/usr/bin/env bash
# The two rebuilds of a saved model outside weft, examples/python/weft_numpy.py (NumPy) and
# benchmarks/weft_model_in_pytorch.py (PyTorch), on a graph model with two named inputs: each
# reads the samples as `weft predict` does (one HDF5 dataset per input, by the mapping stored with
# the model or by --input NAME=DATASET) and must give weft predict's probabilities within 1e-5;
# a model file with one weight or one batch-norm running statistic changed must make both fail.
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

# The same file with one value changed, on each input's path: both rebuilds must disagree.
/usr/bin/python3 - <<'PY'
import shutil, h5py
for out, tensor in (("bent_weight.h5", "weights/meta_dense/weight"), ("bent_buffer.h5", "buffers/bn/running_mean")):
    shutil.copy("model.h5", out)
    with h5py.File(out, "r+") as f:
        values = f[tensor][...]
        values.flat[0] += 0.05
        f[tensor][...] = values
PY
failed=0
for bent in bent_weight.h5 bent_buffer.h5; do
  for script in "${rebuilds[@]}"; do
    if /usr/bin/python3 "$script" "$bent" new.h5 --input image=pics --input meta=feats --compare flags.csv \
         --tolerance 1e-5 >bent.log 2>&1 || ! grep -q "largest difference between weft and" bent.log; then
      echo "FAIL: $(basename "$script") on $bent agreed with weft predict on the unchanged model (or crashed):"
      cat bent.log
      failed=$((failed + 1))
    fi
  done
done
[ "$failed" -eq 0 ]
echo "several-input rebuilds in NumPy and PyTorch: all passed"
