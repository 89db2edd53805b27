"""What weft train reports and when it stops or saves, checked against independent numbers:
--log (every documented column, its values against reference.py's loop), --patience/--monitor
(the epoch it stops after, worked out from a run without early stopping, and the best epoch's
weights restored), --progress bar and plain, and the forms of --checkpoint-every (500,
500steps, 500s, 2epochs, 2e): which step files appear.
Usage: train_monitoring_test.py WEFT"""
import os
import re
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import check, close, linear_spec, read_log, run, train, weights, grid_values, write_idx_folder

weft = sys.argv[1]
os.chdir(tempfile.mkdtemp())
rng = np.random.default_rng(13)

# 96 training samples, 48 test samples (the validation data), 4 features, 6 classes.
x, xt = grid_values(rng, (96, 4)), grid_values(rng, (48, 4))
rule = rng.normal(size=(4, 6))
y, yt = np.argmax(x @ rule, axis=1), np.argmax(xt @ rule, axis=1)
write_idx_folder("data", x, y, xt, yt)
linear_spec("spec.json", 4, 6, "cross_entropy", lr=0.1)
common = ["spec.json", "--data", "data", "--batch", 16]

# --log: the documented columns for a classifier (regression's val_mse and val_mae are checked
# in train_data_test.py), each epoch's values those of the reference loop.
run(weft, "train", *common, "--epochs", 3, "--progress", "plain", "--log", "metrics.csv")
columns, log = read_log("metrics.csv")
documented = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "val_top5_accuracy", "lr", "seconds",
              "samples_per_second"]
check(sorted(columns) == sorted(documented), f"--log columns {columns}, documented {documented}")
want = train(x, y, loss="cross_entropy", lr=0.1, batch=16, epochs=3, validation=(xt, yt))["history"]
for name in documented[:7]:
    expected = [row[name] for row in want]
    check(close(log[name], expected, 1e-5), f"--log column {name}: {log[name]}, the reference loop gives {expected}")
check(np.all(log["seconds"] > 0), "an epoch took no time")
check(close(log["samples_per_second"] * log["seconds"], [96] * 3, 1e-6), "samples_per_second · seconds is not 96 samples")

# --patience/--monitor. The test labels are the training rule shifted by one class, so as the
# model learns the training set its val_loss rises and val_accuracy falls. A run of 8 epochs
# without early stopping gives the series; with patience P the run must stop after the first
# epoch with P epochs since the best one, with the best epoch's weights.
write_idx_folder("shifted", x, y, xt, (yt + 1) % 6)
shifted = ["spec.json", "--data", "shifted", "--batch", 16, "--progress", "plain"]
run(weft, "train", *shifted, "--epochs", 8, "--log", "full.csv")
_, full = read_log("full.csv")


def expected_stop(series, patience, maximize):
    best, best_epoch = None, 0
    for epoch, value in enumerate(series, 1):
        if best is None or (value > best if maximize else value < best):
            best, best_epoch = value, epoch
        elif epoch - best_epoch >= patience:
            return epoch, best_epoch
    return None, best_epoch


for monitor, patience, maximize in (("val_loss", 2, False), ("val_accuracy", 1, True), ("loss", 2, False)):
    stop, best = expected_stop(full[monitor], patience, maximize)
    out, _ = run(weft, "train", *shifted, "--epochs", 8, "--patience", patience, "--monitor", monitor, "--log", "es.csv",
                 "--out", "es.h5")
    _, es = read_log("es.csv")
    if stop is None:  # the training loss keeps falling: the run goes on to --epochs
        check(monitor == "loss", f"--monitor {monitor}: the constructed case does not stop ({full[monitor]})")
        check(len(es["epoch"]) == 8 and "early stopping" not in out, f"--monitor loss stopped early:\n{out}")
        continue
    check(stop < 8, "the case stops only at the end: it checks nothing")
    check(f"early stopping after epoch {stop}: best {monitor}" in out and f"at epoch {best} (its weights restored)" in out,
          f"--patience {patience} --monitor {monitor}: expected a stop after epoch {stop}, best {best}:\n{out}")
    check(len(es["epoch"]) == stop, f"--patience {patience} --monitor {monitor}: {len(es['epoch'])} epochs logged, not {stop}")
    run(weft, "train", *shifted, "--epochs", best, "--out", "best.h5")
    check(weights("es.h5")[0].tobytes() == weights("best.h5")[0].tobytes(), f"--monitor {monitor}: the best weights were not restored")

# --progress bar (even into a pipe): a redrawn line per step whose last draw of an epoch shows
# every batch and the epoch's mean loss; plain: one line per epoch, no redrawing.
bar, _ = run(weft, "train", *common, "--epochs", 2, "--progress", "bar", "--log", "bar.csv")
_, bar_log = read_log("bar.csv")
# (Python's text mode turns the bar's \r into \n: the erase-line code marks a redraw.)
draws = re.findall(r"\033\[Kepoch (\d)/2 \[([=> ]{24})\] (\d)/6  ETA \S+  loss (\S+)", bar)
for epoch in (1, 2):
    last = [d for d in draws if d[0] == str(epoch)][-1]
    check(last[1] == "=" * 24 and last[2] == "6", f"epoch {epoch}'s bar does not end full at 6/6: {last}")
    check(abs(float(last[3]) - bar_log["loss"][epoch - 1]) <= 1e-4, f"the bar's loss {last[3]} is not the epoch's mean loss")
plain, _ = run(weft, "train", *common, "--epochs", 2, "--progress", "plain")
check("\r" not in plain and "\033" not in plain, "--progress plain redraws")
check(len(re.findall(r"^epoch \d/2  loss", plain, re.M)) == 2, f"--progress plain: not one line per epoch:\n{plain}")

# --checkpoint-every: 6 steps an epoch, 3 epochs (18 steps); a checkpoint also when training ends.
for every, steps in ((["4"], [4, 8, 12, 16, 18]), (["4steps"], [4, 8, 12, 16, 18]), (["5s"], [5, 10, 15, 18]),
                     (["2epochs"], [12, 18]), (["1e"], [6, 12, 18]), (["7", "2epochs"], [7, 12, 14, 18])):
    folder = "ckpt_" + "_".join(every)
    flags = [f for e in every for f in ("--checkpoint-every", e)]
    run(weft, "train", *common, "--epochs", 3, "--checkpoint-dir", folder, *flags)
    found = sorted(os.listdir(folder))
    check(found == [f"step-{s:08d}.h5" for s in steps], f"--checkpoint-every {' '.join(every)}: {found}, expected steps {steps}")
_, err = run(weft, "train", *common, "--checkpoint-dir", "bad", "--checkpoint-every", "2weeks", expect_ok=False)
check("--checkpoint-every '2weeks'" in err, f"--checkpoint-every 2weeks: {err}")
print("train_monitoring_test: all passed")
