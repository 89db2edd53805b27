#!/usr/bin/env bash
# weft train/export/predict with checkpoints, through the command line (each run a new process):
#  1. resume equivalence: 2 epochs straight equal 5 steps → checkpoint → new process --resume →
#     the rest, bit for bit (weights, buffers, Adam's slots, metrics history), with dropout and a
#     learning-rate schedule in the model, from the middle of an epoch and from an epoch end;
#  2. --keep-last and --keep-best;
#  3. export to a weights-only file and predict from it;
#  4. examples/python/weft_numpy.py rebuilds the model from the HDF5 file with h5py and NumPy
#     and reproduces weft's predictions.
# Usage: checkpoint_test.sh WEFT SOURCE_DIR
set -euo pipefail
weft=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# 150 samples, 4 features, 3 classes: the class is which of three directions the point is nearest.
/usr/bin/python3 - <<'PY'
import numpy as np
rng = np.random.default_rng(5)
x = rng.normal(size=(150, 4))
centres = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 1]])
y = np.argmin(((x[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
with open("data.csv", "w") as f:
    f.write("a,b,c,d,label\n")
    for row, label in zip(x, y):
        f.write(",".join(f"{v:.6f}" for v in row) + f",{label}\n")
PY
cat >spec.json <<'JSON'
{ "input": [4],
  "layers": [ {"type": "dense", "units": 16}, {"type": "relu"}, {"type": "dropout", "rate": 0.25},
              {"type": "dense", "units": 3, "name": "head"} ],
  "loss": {"type": "cross_entropy"},
  "optimizer": {"type": "adam", "lr": 0.01},
  "training": {"schedule": {"type": "step", "step_size": 3, "gamma": 0.5, "unit": "step"}} }
JSON
common=(spec.json --data data.csv --normalize standardize --validation-split 0.2 --batch 16 --seed 7 --epochs 2)

# 120 training samples, batch 16: 8 steps per epoch, 16 in all.
"$weft" train "${common[@]}" --threads 2 --checkpoint-dir straight --checkpoint-every 5 --checkpoint-every 1epoch >straight.log
"$weft" train "${common[@]}" --threads 1 --resume straight/step-00000005.h5 --checkpoint-dir mid >mid.log
"$weft" train "${common[@]}" --threads 2 --resume straight/step-00000008.h5 --checkpoint-dir boundary >boundary.log
grep -q "resumed from straight/step-00000005.h5 at step 5" mid.log

/usr/bin/python3 - <<'PY'
import json, sys
import h5py, numpy as np

TIMINGS = ("seconds", "samples_per_second")

def tensors(f):
    # Every dataset but the timing series of the history.
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj[...])
                 if isinstance(obj, h5py.Dataset) and name.rsplit("/", 1)[-1] not in TIMINGS else None)
    return out

def history(f):
    # Timings differ between runs; everything else must be identical.
    state = json.loads(f["training"].attrs["state"])
    return [[m for m in epoch if m[0] not in TIMINGS] for epoch in state["history"]]

with h5py.File("straight/step-00000016.h5") as a:
    want, want_history = tensors(a), history(a)
    assert a["training"].attrs["step"] == 16
for run in ("mid", "boundary"):
    with h5py.File(f"{run}/step-00000016.h5") as b:
        got = tensors(b)
        assert set(got) == set(want), (run, sorted(set(got) ^ set(want)))
        for name in want:
            if want[name].tobytes() != got[name].tobytes():
                sys.exit(f"{run}: {name} differs from the straight run")
        if history(b) != want_history:
            sys.exit(f"{run}: the metrics history differs:\n{history(b)}\n{want_history}")
        assert any(n.startswith("optimizer/head/weight/exp_avg") for n in got)
print("resume: bit-identical after resuming mid-epoch and at an epoch end")
PY

# --keep-last 2 leaves the two newest periodic checkpoints; --keep-best writes best.h5.
"$weft" train "${common[@]}" --checkpoint-dir kept --checkpoint-every 2 --keep-last 2 --keep-best val_loss >/dev/null
[ "$(ls kept)" = "$(printf 'best.h5\nstep-00000014.h5\nstep-00000016.h5')" ] || { ls kept; exit 1; }

# Export and predict: class probabilities, one row per input row, each summing to 1.
"$weft" export straight/step-00000016.h5 -o model.h5 >/dev/null
"$weft" predict model.h5 --input data.csv -o predictions.csv
[ "$(head -1 predictions.csv)" = "p_0,p_1,p_2" ]
[ "$(wc -l <predictions.csv)" -eq 151 ]
/usr/bin/python3 "$src/examples/python/weft_numpy.py" model.h5 data.csv --compare predictions.csv
echo "checkpoint_test: all passed"
