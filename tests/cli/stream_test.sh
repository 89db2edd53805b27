#!/usr/bin/env bash
# weft train/evaluate streaming an HDF5 file (--stream, --memory-budget), each run a new process:
#  1. resume equivalence with a streamed dataset, a standardisation fitted in one streaming pass
#     and a seeded split: straight, and stopped mid-epoch → checkpoint → --resume, bit for bit;
#  2. resuming with another window size is refused (the epoch order would differ);
#  3. weft evaluate streams an HDF5 file and reports what the in-memory evaluation reports;
#  4. bad files: a missing dataset, uneven row counts, features of the wrong shape.
# Usage: stream_test.sh WEFT
weft=$1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# 150 samples, 4 features (offset and scaled, so standardisation matters), 3 classes: how many
# of the first two features are positive.
/usr/bin/python3 - <<'PY'
import h5py, numpy as np
x = np.random.default_rng(3).normal(size=(150, 4))
y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)
with h5py.File("data.h5", "w") as f:
    f["features"] = (x * 10 + 50).astype(np.float32)
    f["labels"] = y.astype(np.int32)
    f["short"] = y[:149].astype(np.int32)
    f["wide"] = np.zeros((150, 5), np.float32)
PY
cat >spec.json <<'JSON'
{ "input": [4],
  "layers": [ {"type": "dense", "units": 16}, {"type": "relu"}, {"type": "dropout", "rate": 0.25},
              {"type": "dense", "units": 3} ],
  "loss": {"type": "cross_entropy"},
  "optimizer": {"type": "adam", "lr": 0.01} }
JSON
# A budget of 0.0005 MB holds 26 rows of 4 features and a label (20 bytes): 6 windows.
common=(spec.json --data data.h5 --stream --memory-budget 0.0005 --normalize standardize --validation-split 0.2
        --batch 16 --seed 7 --epochs 2 --progress plain)

"$weft" train "${common[@]}" --threads 2 --checkpoint-dir straight --checkpoint-every 5 --out model.h5 >straight.log
grep -q "streaming data.h5 from disk in windows of 26 rows" straight.log
last=$(ls straight | tail -1)
"$weft" train "${common[@]}" --threads 1 --resume straight/step-00000005.h5 --checkpoint-dir mid >mid.log
grep -q "resumed from straight/step-00000005.h5 at step 5" mid.log
[ "$(ls mid | tail -1)" = "$last" ]
/usr/bin/python3 - "straight/$last" "mid/$last" <<'PY'
import sys, h5py
def tensors(path):
    out = {}
    with h5py.File(path) as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[...].tobytes())
                     if isinstance(obj, h5py.Dataset) and name.rsplit("/", 1)[-1] not in ("seconds", "samples_per_second") else None)
    return out
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
assert set(a) == set(b), sorted(set(a) ^ set(b))
bad = [n for n in a if a[n] != b[n]]
assert not bad, f"differ after a streamed resume: {bad}"
assert any(n.startswith("optimizer/") for n in a) and "data/mean" in a
PY

expect_error "other window" "streaming windows of 26 rows, this run trains streaming windows of 52 rows" \
  "$weft" train "${common[@]/0.0005/0.001}" --resume straight/step-00000005.h5
expect_error "missing dataset" "HDF5 file 'data.h5' has no dataset 'targets'" \
  "$weft" train "${common[@]}" --labels targets
expect_error "uneven rows" "'features' has 150 samples but 'short' has 149" "$weft" train "${common[@]}" --labels short
expect_error "wrong shape" "dataset 'wide' has samples of shape (5) (5 values); the model takes (4)" \
  "$weft" train "${common[@]}" --features wide

# In memory (the file fits the default budget) with scaling and no validation part.
"$weft" train spec.json --data data.h5 --normalize scale:0.1 --epochs 1 --progress plain >scaled.log
grep -q "training spec.json on 150 samples" scaled.log

# evaluate: streamed in windows of 26 rows or read at once, the same report.
"$weft" evaluate model.h5 --data data.h5 --memory-budget 0.0005 >streamed.txt
"$weft" evaluate model.h5 --data data.h5 >whole.txt
grep -q "on 150 test samples" streamed.txt
diff streamed.txt whole.txt
echo "stream_test: all passed"
