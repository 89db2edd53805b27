"""weft train's data flags, each checked by what it does to the trained weights (reference.py):
--label by name and by index, --regression, class names numbered in sorted order, --normalize
standardize and scale:F, --validation-split (how many rows it holds out, and that the rest is
what trains), and --data FILE.h5 with --features/--labels (the same bits as the same numbers
from a CSV).
Usage: train_data_test.py WEFT"""
import os
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import check, close, linear_spec, read_log, run, train, weights, grid_values, write_csv

weft = sys.argv[1]
os.chdir(tempfile.mkdtemp())
rng = np.random.default_rng(12)
n = 64


def weft_train(spec, data, *flags, out="model.h5"):
    stdout, _ = run(weft, "train", spec, "--data", data, "--batch", 16, "--epochs", 2, "--progress", "plain", "--out", out,
                    *flags)
    return weights(out), stdout


def matches(got, want, what):
    check(close(got[0], want["w"]) and close(got[1], want["b"]),
          f"{what}: the weights differ from the reference loop by {np.max(np.abs(got[0] - want['w'])):.3g}")


# Regression: the target "y" is the second of four columns; the last column "c" is a feature.
a, c, d = grid_values(rng, n), grid_values(rng, n), grid_values(rng, n)
target = 0.5 * a - c + 0.25 * d
write_csv("regression.csv", [a, target, c, d], ["a", "y", "c", "d"])
linear_spec("regression.json", 3, 1, "mse", lr=0.05)
features = np.column_stack([a, c, d])
want = train(features, target, loss="mse", lr=0.05, batch=16, epochs=2)
by_name, _ = weft_train("regression.json", "regression.csv", "--label", "y", "--regression", out="by_name.h5")
matches(by_name, want, "--label y --regression")
by_index, _ = weft_train("regression.json", "regression.csv", "--label", 1, "--regression", out="by_index.h5")
check(by_index[0].tobytes() == by_name[0].tobytes(), "--label 1 is not the column --label y names")
# Without --label the last column is the target: another model.
last, _ = weft_train("regression.json", "regression.csv", "--regression", out="last.h5")
matches(last, train(np.column_stack([a, target, c]), d, loss="mse", lr=0.05, batch=16, epochs=2), "default label column")
# Without --regression the targets are classes: 0.75 is not a class index or name a linear
# model of one output can learn, and weft says so rather than train on it.
_, err = run(weft, "train", "regression.json", "--data", "regression.csv", "--label", "y", expect_ok=False)
check(err.strip() != "" and len(err.strip().splitlines()) == 1, f"no one-line error without --regression:\n{err}")

# Classes by name: numbered in sorted order (ant 0, bee 1, cat 2) whatever order they appear in.
x = grid_values(rng, (n, 2))
labels = np.argmax(x @ rng.normal(size=(2, 3)), axis=1)
write_csv("named.csv", [x[:, 0], x[:, 1], np.array(["ant", "bee", "cat"])[labels]], ["p", "q", "animal"])
check(["ant", "bee", "cat"][labels[0]] != "ant", "the first row should not name the first class (order would not matter)")
linear_spec("named.json", 2, 3, "cross_entropy")
named, _ = weft_train("named.json", "named.csv")
matches(named, train(x, labels, loss="cross_entropy", lr=0.1, batch=16, epochs=2), "class names")

# --normalize: standardize uses the training rows' mean and population standard deviation;
# scale:F multiplies by F. Features far from zero mean and unit spread, so both matter.
raw = np.column_stack([a * 3 + 20, c * 0.5 - 4, d])
write_csv("offset.csv", [raw[:, 0], raw[:, 1], raw[:, 2], target], ["a", "c", "d", "y"])
standardized = (raw - raw.mean(axis=0)) / raw.std(axis=0)
got, _ = weft_train("regression.json", "offset.csv", "--regression", "--normalize", "standardize", out="std.h5")
matches(got, train(standardized, target, loss="mse", lr=0.05, batch=16, epochs=2), "--normalize standardize")
got, _ = weft_train("regression.json", "offset.csv", "--regression", "--normalize", "scale:0.125", out="scale.h5")
matches(got, train(raw * 0.125, target, loss="mse", lr=0.05, batch=16, epochs=2), "--normalize scale:0.125")
with h5py.File("std.h5") as f:
    check(close(f["data/mean"][...], raw.mean(axis=0), 1e-12), "the model file's /data/mean is not the training mean")

# --validation-split 0.25 holds out round(0.25 · 64) = 16 rows; the model trains on the other 48
# (three batches of 16 a epoch: the log's loss is the reference's on one of the possible subsets
# only, so the count and the validation metrics are checked, not the weights).
_, out = weft_train("regression.json", "regression.csv", "--label", "y", "--regression", "--validation-split", 0.25,
                    "--log", "split.csv", out="split.h5")
check("on 48 samples (validation 16, held out)" in out, f"--validation-split 0.25 did not hold out 16 of 64 rows:\n{out}")
columns, log = read_log("split.csv")
check({"val_loss", "val_mse", "val_mae"} <= set(columns), f"no validation metrics in {columns}")
check(close(log["val_mse"], log["val_loss"], 1e-9), "for an mse model, val_mse is not val_loss")
check(np.all(log["val_mae"] <= np.sqrt(log["val_mse"]) * (1 + 1e-9)) and np.all(log["val_mae"] > 0),
      "val_mae is not in (0, sqrt(val_mse)]")

# HDF5: --features/--labels name the datasets; the same numbers as regression.csv, the same bits.
with h5py.File("regression.h5", "w") as f:
    f["inputs"] = features.astype(np.float32)
    f["targets"] = target.astype(np.float32).reshape(n, 1)  # one target per output, as the CSV reader makes it
    f["decoy"] = np.zeros((n, 3), np.float32)
from_h5, _ = weft_train("regression.json", "regression.h5", "--features", "inputs", "--labels", "targets", out="h5.h5")
check(from_h5[0].tobytes() == by_name[0].tobytes(), "the HDF5 file and the CSV of the same numbers trained differently")
decoy, _ = weft_train("regression.json", "regression.h5", "--features", "decoy", "--labels", "targets", out="decoy.h5")
check(np.max(np.abs(decoy[0])) == 0, "--features decoy (all zeros) still moved the weights: it was not the input")
print("train_data_test: all passed")
