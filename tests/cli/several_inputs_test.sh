#!/usr/bin/env bash
# weft train/evaluate/predict on a model with two named inputs, each read from its own dataset of
# one HDF5 file, every run a new process:
#  1. --input NAME=DATASET maps the inputs; a run stopped mid-epoch and resumed with --resume
#     ends with the same bits as the straight run (2 threads, then 1), streamed in windows;
#  2. evaluate and predict reuse the mapping stored with the model, and agree with each other;
#  3. the spec's "training": {"datasets": ...} maps them too, and --input overrides it;
#  4. bad mappings and bad files are one line naming the input, the dataset and the file;
#  5. --normalize standardize stores each input's own statistics, and evaluate and predict apply them.
# Usage: several_inputs_test.sh WEFT
weft=$1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# 160 samples: "grid" (2, 3) and "table" (2); the class says which of grid[0, 0] and table[0]
# are positive, so a model needs both inputs to do better than 1/2.
/usr/bin/python3 - <<'PY'
import h5py, numpy as np
rng = np.random.default_rng(5)
grid = rng.normal(size=(160, 2, 3)).astype(np.float32)
table = rng.normal(size=(160, 2)).astype(np.float32)
y = 2 * (grid[:, 0, 0] > 0) + (table[:, 0] > 0)
with h5py.File("data.h5", "w") as f:
    f["grid"] = grid
    f["table"] = table
    f["labels"] = y.astype(np.int32)
    f["short"] = table[:150]
    f["wide"] = np.zeros((160, 5), np.float32)
PY
cat >spec.json <<'JSON'
{ "inputs": {"image": [2, 3], "meta": [2]},
  "layers": [ {"type": "flatten", "inputs": ["image"], "name": "flat"},
              {"type": "concat", "inputs": ["flat", "meta"]},
              {"type": "dense", "units": 16}, {"type": "relu"},
              {"type": "dense", "units": 4} ],
  "loss": {"type": "cross_entropy"},
  "optimizer": {"type": "adam", "lr": 0.02} }
JSON
map=(--input image=grid --input meta=table)
# A budget of 0.001 MB (1048 bytes) holds 29 rows of 8 values and a label (36 bytes): 6 windows.
common=(spec.json --data data.h5 "${map[@]}" --memory-budget 0.001 --batch 16 --seed 7 --epochs 3 --progress plain)

"$weft" train "${common[@]}" --threads 2 --checkpoint-dir straight --checkpoint-every 7 --out model.h5 >straight.log
grep -q "streaming data.h5 from disk in windows of 29 rows" straight.log
last=$(ls straight | tail -1)
"$weft" train "${common[@]}" --threads 1 --resume straight/step-00000014.h5 --checkpoint-dir mid >mid.log
grep -q "resumed from straight/step-00000014.h5 at step 14" mid.log
[ "$(ls mid | tail -1)" = "$last" ]
/usr/bin/python3 - "straight/$last" "mid/$last" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1]) as a, h5py.File(sys.argv[2]) as b:
    names = []
    a.visit(names.append)
    weights = [n for n in names if n.split("/")[0] in ("model", "optimizer") and isinstance(a[n], h5py.Dataset)]
    assert weights and all(np.array_equal(a[n][...], b[n][...]) for n in weights), "the resumed run differs"
PY

# Evaluate and predict take the mapping (and the normalisation) saved with MODEL; predict's
# probabilities give the accuracy evaluate reports.
evaluate_matches_predict() {
  "$weft" evaluate "$1" --data data.h5 >eval.log
  accuracy=$(sed -n 's/.*test accuracy \([0-9.]*\).*/\1/p' eval.log)
  "$weft" predict "$1" --input data.h5 -o predictions.csv
  /usr/bin/python3 - "$accuracy" <<'PY'
import sys, h5py, numpy as np
p = np.loadtxt("predictions.csv", delimiter=",", skiprows=1)
with h5py.File("data.h5") as f:
    y = f["labels"][...]
ours = (p.argmax(1) == y).mean()
assert abs(ours - float(sys.argv[1])) < 1e-4, (ours, sys.argv[1])
assert ours > 0.7, f"accuracy {ours}: the two-input model did not learn (chance 0.25)"
PY
}
evaluate_matches_predict model.h5
# Swapping the datasets of a saved model's mapping by flag: another shape, refused.
if "$weft" predict model.h5 --input data.h5 --input image=table -o /dev/null 2>swap.err; then exit 1; fi
grep -qF "dataset 'table' has samples of shape (2); model input 'image' takes (2, 3)" swap.err

# The spec's mapping, and a flag over it.
/usr/bin/python3 - <<'PY'
import json
spec = json.load(open("spec.json"))
spec["training"] = {"datasets": {"image": "grid", "meta": "wide"}, "epochs": 1}
json.dump(spec, open("mapped.json", "w"))
PY
"$weft" train mapped.json --data data.h5 --input meta=table --progress plain >mapped.log
grep -q "training mapped.json on 160 samples" mapped.log

expect_error "unmapped input" "model input 'meta' has no dataset: map one with --input meta=DATASET" \
  "$weft" train spec.json --data data.h5 --input image=grid
expect_error "unknown input" "--input picture=grid: the model has no input 'picture' (its inputs: image, meta)" \
  "$weft" train spec.json --data data.h5 --input picture=grid --input meta=table
expect_error "not a mapping" "--input 'image': expected NAME=DATASET" \
  "$weft" train spec.json --data data.h5 --input image
expect_error "twice" "--input image=...: given twice" \
  "$weft" train spec.json --data data.h5 --input image=grid --input image=grid --input meta=table
expect_error "missing dataset" "HDF5 file 'data.h5' has no dataset 'tabel' (mapped to model input 'meta')" \
  "$weft" train spec.json --data data.h5 --input image=grid --input meta=tabel
expect_error "wrong shape" "HDF5 file 'data.h5': dataset 'wide' has samples of shape (5) (5 values); model input 'meta' takes (2)" \
  "$weft" train spec.json --data data.h5 --input image=grid --input meta=wide
expect_error "uneven counts" "HDF5 file 'data.h5': 'short' (model input 'meta') has 150 samples but 'labels' has 160" \
  "$weft" train spec.json --data data.h5 --input image=grid --input meta=short
expect_error "not HDF5" "the model has 2 inputs (image, meta): --data must be an HDF5 file with one dataset per input" \
  "$weft" train spec.json --data "$tmp" "${map[@]}"
expect_error "evaluate unknown input" "--input label=labels: the model has no input 'label'" \
  "$weft" evaluate model.h5 --data data.h5 --input label=labels
expect_error "predict missing dataset" "has no dataset 'tabel' (mapped to model input 'meta')" \
  "$weft" predict model.h5 --input data.h5 --input meta=tabel

# 5. --normalize standardize, streamed in the 6 windows: each input standardised by its own
# per-feature mean and standard deviation over the training rows, stored as /data/mean/<input>
# and /data/std/<input>; NumPy's two-pass figures in double must agree to rounding.
"$weft" train "${common[@]}" --normalize standardize --out standardized.h5 >/dev/null
/usr/bin/python3 - <<'PY'
import sys
import h5py, numpy as np
with h5py.File("standardized.h5") as model, h5py.File("data.h5") as data:
    for name, dataset in (("image", "grid"), ("meta", "table")):
        x = data[dataset][...].astype(np.float64).reshape(160, -1)
        for statistic, want in (("mean", x.mean(axis=0)), ("std", x.std(axis=0))):
            got = model[f"data/{statistic}/{name}"][...]
            if got.shape != want.shape or np.max(np.abs(got - want)) > 1e-12:
                sys.exit(f"FAIL: /data/{statistic}/{name} is {got}, NumPy's {want}")
PY
evaluate_matches_predict standardized.h5
echo "several-input CLI runs: all passed"
