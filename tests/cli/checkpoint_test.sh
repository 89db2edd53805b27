#!/usr/bin/env bash
# weft train/export/predict with checkpoints, through the command line (each run a new process):
#  1. resume equivalence: 2 epochs straight equal 5 steps → checkpoint → new process --resume →
#     the rest, bit for bit (weights, buffers, Adam's slots, metrics history), with dropout and a
#     learning-rate schedule in the model, from the middle of an epoch and from an epoch end;
#  2. --keep-last and --keep-best;
#  3. export to a weights-only file and predict from it;
#  4. examples/python/weft_numpy.py rebuilds the model from the HDF5 file with h5py and NumPy
#     and reproduces weft's predictions (within 1e-5), for a dense model and for a convolutional
#     one with every activation and inference-time layer weft registers; so does
#     benchmarks/weft_model_in_pytorch.py in PyTorch for the convolutional ones, transposed
#     convolutions of each dimensionality included, and both fail on a changed weight;
#  5. early stopping resumed from a checkpoint stops at the same epoch with the same weights.
# Usage: checkpoint_test.sh WEFT SOURCE_DIR
weft=$1
src=$2
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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
base=(spec.json --data data.csv --normalize standardize --validation-split 0.2 --batch 16 --seed 7)
common=("${base[@]}" --epochs 2)

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

# --keep-best with step checkpoints chooses at epoch ends only (val_loss exists only there):
# best.h5 is the state at the end of the epoch with the lowest val_loss (epoch 3 of 4 at this
# rate), 8 steps per epoch: step 24, not one of the step checkpoints (multiples of 5).
"$weft" train "${base[@]}" --epochs 4 --lr 0.1 --schedule constant --checkpoint-dir best --checkpoint-every 5 --keep-best val_loss >/dev/null
/usr/bin/python3 - <<'PY'
import json
import h5py, numpy as np
with h5py.File("best/step-00000032.h5") as last, h5py.File("best/best.h5") as best:
    val_loss = last["training/history/val_loss"][...]
    epoch = int(np.argmin(val_loss)) + 1
    assert epoch < 4, f"the last epoch is the best: this checks nothing ({val_loss})"
    assert best["training"].attrs["position"] == 0, "best.h5 is not at an epoch end"
    assert best["training"].attrs["epoch"] == epoch, (best["training"].attrs["epoch"], val_loss)
    assert best["training"].attrs["step"] == 8 * epoch
    assert best["training/history/val_loss"][-1] == val_loss.min()
print(f"keep-best: best.h5 is the end of epoch {epoch} of 4 (val_loss {val_loss.round(4).tolist()})")
PY

# Export and predict: class probabilities, one row per input row, each summing to 1.
"$weft" export straight/step-00000016.h5 -o model.h5 >/dev/null
"$weft" predict model.h5 --input data.csv -o predictions.csv
[ "$(head -1 predictions.csv)" = "p_0,p_1,p_2" ]
[ "$(wc -l <predictions.csv)" -eq 151 ]
/usr/bin/python3 "$src/examples/python/weft_numpy.py" model.h5 data.csv --compare predictions.csv --tolerance 1e-5

# The same for a convolutional model with every layer that matters at inference: 1×6×6 images
# from the 36 columns of images.csv, 3 classes.
/usr/bin/python3 - <<'PY'
import numpy as np
rng = np.random.default_rng(9)
x = rng.normal(size=(48, 36))
y = (x[:, :12].sum(1) > 0).astype(int) + (x[:, 24:].sum(1) > 1).astype(int)
np.savetxt("images.csv", np.column_stack([x, y]), delimiter=",", fmt="%.6f",
           header=",".join([f"p{i}" for i in range(36)] + ["label"]), comments="")
PY
cat >conv.json <<'JSON'
{ "input": [1, 6, 6],
  "layers": [
    {"type": "conv2d", "filters": 4, "kernel": 3, "padding": "same"},
    {"type": "batch_norm"}, {"type": "gelu"},
    {"type": "conv2d", "filters": 4, "kernel": 2, "dilation": 2, "groups": 2, "padding": "same"},
    {"type": "max_pool2d", "kernel": 2},
    {"type": "conv_transpose2d", "filters": 4, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
    {"type": "layer_norm", "axes": 2}, {"type": "selu"}, {"type": "spatial_dropout", "rate": 0.2},
    {"type": "avg_pool2d", "kernel": 3, "stride": 2, "padding": 1, "count_include_pad": false},
    {"type": "hard_sigmoid"}, {"type": "reshape", "shape": [4, -1]}, {"type": "conv1d", "filters": 6, "kernel": 2},
    {"type": "batch_norm"}, {"type": "global_avg_pool"},
    {"type": "dense", "units": 12}, {"type": "layer_norm"}, {"type": "softplus", "beta": 2, "threshold": 1},
    {"type": "dense", "units": 10}, {"type": "gelu", "approximate": "tanh"}, {"type": "swish"},
    {"type": "elu", "alpha": 0.7}, {"type": "leaky_relu", "slope": 0.1}, {"type": "dropout", "rate": 0.3},
    {"type": "dense", "units": 8}, {"type": "silu"}, {"type": "tanh"}, {"type": "sigmoid"}, {"type": "identity"},
    {"type": "relu"}, {"type": "flatten"}, {"type": "dense", "units": 3},
    {"type": "log_softmax"} ],
  "loss": "nll",
  "optimizer": {"type": "adam", "lr": 0.01} }
JSON
"$weft" train conv.json --data images.csv --batch 8 --epochs 2 --seed 3 --out conv.h5 >/dev/null
"$weft" predict conv.h5 --input images.csv -o conv_predictions.csv
/usr/bin/python3 "$src/examples/python/weft_numpy.py" conv.h5 images.csv --compare conv_predictions.csv --tolerance 1e-5
/usr/bin/python3 "$src/benchmarks/weft_model_in_pytorch.py" conv.h5 images.csv --compare conv_predictions.csv --tolerance 1e-5

# The transposed convolutions of every dimensionality (the generic one with "dims", per-axis
# stride, padding, dilation, output_padding, groups, no bias), softmax over the channels at each
# position and channel dropout on 1-d and 3-d maps, rebuilt by both scripts.
cat >transposed.json <<'JSON'
{ "input": [1, 6, 6],
  "layers": [
    {"type": "conv_transpose", "dims": 2, "filters": 3, "kernel": [2, 3], "stride": [1, 2], "padding": [0, 1],
     "dilation": [2, 1], "output_padding": [1, 0], "name": "up2d"},
    {"type": "softmax"}, {"type": "reshape", "shape": [3, 99]},
    {"type": "conv_transpose1d", "filters": 2, "kernel": 3, "stride": 2, "padding": 2, "output_padding": 1,
     "bias": false, "name": "up1d"},
    {"type": "spatial_dropout", "rate": 0.3}, {"type": "leaky_relu", "slope": 0.2},
    {"type": "reshape", "shape": [2, 7, 7, 4]},
    {"type": "conv_transpose3d", "filters": 2, "kernel": [2, 1, 2], "stride": [1, 2, 1], "padding": [0, 0, 1],
     "groups": 2, "name": "up3d"},
    {"type": "spatial_dropout", "rate": 0.3}, {"type": "elu", "alpha": 0.5},
    {"type": "softplus", "beta": 0.5, "threshold": 3},
    {"type": "flatten"}, {"type": "dense", "units": 3}, {"type": "log_softmax"} ],
  "loss": "nll",
  "optimizer": {"type": "adam", "lr": 0.01} }
JSON
"$weft" train transposed.json --data images.csv --batch 8 --epochs 2 --seed 3 --out transposed.h5 >/dev/null
"$weft" predict transposed.h5 --input images.csv -o transposed_predictions.csv
rebuilds=("$src/examples/python/weft_numpy.py" "$src/benchmarks/weft_model_in_pytorch.py")
for script in "${rebuilds[@]}"; do
  /usr/bin/python3 "$script" transposed.h5 images.csv --compare transposed_predictions.csv --tolerance 1e-5
done
# Each transposed convolution's weight changed by 0.05 in one place: both rebuilds must disagree.
for tensor in up2d/weight up1d/weight up3d/weight up3d/bias; do
  /usr/bin/python3 - "$tensor" <<'PY'
import shutil, sys, h5py
shutil.copy("transposed.h5", "bent.h5")
with h5py.File("bent.h5", "r+") as f:
    values = f["weights/" + sys.argv[1]][...]
    values.flat[0] += 0.05
    f["weights/" + sys.argv[1]][...] = values
PY
  for script in "${rebuilds[@]}"; do
    if /usr/bin/python3 "$script" bent.h5 images.csv --compare transposed_predictions.csv --tolerance 1e-5 >bent.log 2>&1 ||
       ! grep -q "largest difference between weft and" bent.log; then
      echo "FAIL: $(basename "$script") with $tensor changed agreed with weft predict (or crashed):"
      cat bent.log
      exit 1
    fi
  done
done

# A graph on the same images: fan-out into a residual branch and a concatenation, every merge layer,
# broadcasting (the (4, 1, 1) channel means added back to the maps); rebuilt by weft_numpy.py and,
# in PyTorch, by benchmarks/weft_model_in_pytorch.py.
cat >graph.json <<'JSON'
{ "input": [1, 6, 6],
  "layers": [
    {"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1, "name": "stem"},
    {"type": "batch_norm"}, {"type": "tanh"},
    {"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1, "name": "branch"},
    {"type": "add", "inputs": ["branch", "stem"], "name": "sum"},
    {"type": "global_avg_pool", "inputs": ["stem"]}, {"type": "reshape", "shape": [4, 1, 1], "name": "means"},
    {"type": "subtract", "inputs": ["sum", "means"], "name": "centred"},
    {"type": "multiply", "inputs": ["centred", "sum", "means"], "name": "product"},
    {"type": "concat", "inputs": ["product", "input"], "name": "joined"},
    {"type": "concat", "axis": -1, "inputs": ["joined", "joined"]},
    {"type": "max_pool2d", "kernel": 2}, {"type": "flatten"}, {"type": "dense", "units": 3} ],
  "loss": "cross_entropy",
  "optimizer": {"type": "adam", "lr": 0.01} }
JSON
"$weft" train graph.json --data images.csv --batch 8 --epochs 2 --seed 3 --out graph.h5 >/dev/null
"$weft" predict graph.h5 --input images.csv -o graph_predictions.csv
/usr/bin/python3 "$src/examples/python/weft_numpy.py" graph.h5 images.csv --compare graph_predictions.csv --tolerance 1e-5
/usr/bin/python3 "$src/benchmarks/weft_model_in_pytorch.py" graph.h5 images.csv --compare graph_predictions.csv --tolerance 1e-5

# Early stopping (patience 1, restore_best by default) through the command line: resumed from
# each epoch's checkpoint, the run stops at the same epoch and saves the same weights.
cat >early.json <<'JSON'
{ "input": [4],
  "layers": [ {"type": "dense", "units": 16}, {"type": "relu"}, {"type": "dropout", "rate": 0.25},
              {"type": "dense", "units": 3} ],
  "loss": "cross_entropy",
  "optimizer": {"type": "adam", "lr": 0.2},
  "training": {"early_stopping": {"patience": 1, "monitor": "val_accuracy"}} }
JSON
early=(early.json --data data.csv --validation-split 0.2 --batch 16 --seed 7 --epochs 30)
"$weft" train "${early[@]}" --checkpoint-dir es --checkpoint-every 1epoch --out es-straight.h5 >es.log
grep -q "early stopping after epoch" es.log || { cat es.log; exit 1; }
stopped=$(sed -n 's/^early stopping after epoch \([0-9]*\).*/\1/p' es.log)
for ckpt in es/step-*.h5; do
  "$weft" train "${early[@]}" --resume "$ckpt" --out es-resumed.h5 >es-resumed.log
  grep -q "early stopping after epoch $stopped:" es-resumed.log || { echo "$ckpt:"; cat es.log es-resumed.log; exit 1; }
  /usr/bin/python3 - "$ckpt" <<'PY'
import sys
import h5py
with h5py.File("es-straight.h5") as a, h5py.File("es-resumed.h5") as b:
    names = []
    a.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
    for name in names:
        if a[name][...].tobytes() != b[name][...].tobytes():
            sys.exit(f"resumed from {sys.argv[1]}: {name} differs from the straight run")
PY
done
echo "early stopping: every resumed run stopped after epoch $stopped with the straight run's weights"
echo "checkpoint_test: all passed"
