"""weft train's optimisation flags, each checked by what it does to the trained weights:
--epochs, --batch (0 = the full set), --lr, --schedule, --accumulate, --clip-norm, --clip-value
against reference.py's NumPy loop; --threads and --shard (the same bits for any thread count at
one shard size; another shard size only re-associates the sums) and --seed (the same seed, the
same bits; another seed, other initial weights).
Usage: train_optimization_test.py WEFT"""
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import check, close, linear_spec, read_log, run, train, weights, grid_values, write_idx_folder

weft = sys.argv[1]
os.chdir(tempfile.mkdtemp())
rng = np.random.default_rng(11)

# 96 training and 48 test samples, 4 features, 6 classes (so the log has top-5 accuracy too).
x, xt = grid_values(rng, (96, 4)), grid_values(rng, (48, 4))
rule = rng.normal(size=(4, 6))
y, yt = np.argmax(x @ rule, axis=1), np.argmax(xt @ rule, axis=1)
write_idx_folder("data", x, y, xt, yt)
linear_spec("spec.json", 4, 6, "cross_entropy", lr=0.1)


def weft_train(*flags, out="model.h5"):
    run(weft, "train", "spec.json", "--data", "data", "--progress", "plain", "--out", out, *flags)
    return weights(out)


def reference(**settings):
    settings = {"loss": "cross_entropy", "lr": 0.1, "batch": 16, "epochs": 2, "outputs": 6, **settings}
    return train(x, y, **settings)


def matches(got, want, what):
    check(close(got[0], want["w"]) and close(got[1], want["b"]),
          f"{what}: the weights differ from the reference loop by {np.max(np.abs(got[0] - want['w'])):.3g}")


def differs(a, b, what):
    """The test is only worth something if the flag changes the answer by far more than rounding."""
    check(np.max(np.abs(a["w"] - b["w"])) > 1e-3, f"{what}: the reference cannot tell the cases apart")


# --epochs, --batch, --lr: the spec says lr 0.1; the flag wins.
plain = reference(lr=0.05, epochs=3)
matches(weft_train("--batch", 16, "--epochs", 3, "--lr", 0.05), plain, "--batch 16 --epochs 3 --lr 0.05")
differs(plain, reference(lr=0.1, epochs=3), "--lr")
differs(plain, reference(lr=0.05, epochs=2), "--epochs")
full = reference(batch=0, epochs=3)
matches(weft_train("--batch", 0, "--epochs", 3), full, "--batch 0 (full batch)")
differs(full, reference(batch=16, epochs=3), "--batch 0")

# --accumulate 2 at batch 16 is one step per 32 samples: batch 32's weights, not batch 16's.
accumulated = weft_train("--batch", 16, "--accumulate", 2, "--epochs", 2, out="accumulated.h5")
batch32 = weft_train("--batch", 32, "--epochs", 2, out="batch32.h5")
want = reference(batch=32)
matches(accumulated, want, "--accumulate 2 at batch 16")
matches(batch32, want, "--batch 32")
check(close(accumulated[0], batch32[0], 1e-5), "--accumulate 2 at batch 16 is not batch 32")
differs(want, reference(batch=16), "--accumulate")
# Uneven groups: 96 samples in batches of 20 are 5 batches, so the third step has one batch of 16.
matches(weft_train("--batch", 20, "--accumulate", 2, "--epochs", 2), reference(batch=20, accumulate=2),
        "--accumulate 2 at batch 20 (a short last group)")

# --clip-norm and --clip-value: a large rate makes gradients that the thresholds cut.
clipped_norm = reference(lr=1.0, clip_norm=0.05)
check(clipped_norm["largest_norm"] > 0.2, f"gradient norms {clipped_norm['largest_norm']:.3g} are not clipped at 0.05")
matches(weft_train("--lr", 1.0, "--batch", 16, "--epochs", 2, "--clip-norm", 0.05), clipped_norm, "--clip-norm 0.05")
differs(clipped_norm, reference(lr=1.0), "--clip-norm")
clipped_value = reference(lr=1.0, clip_value=0.01)
check(clipped_value["largest_element"] > 0.05, "no gradient element reaches the --clip-value threshold")
matches(weft_train("--lr", 1.0, "--batch", 16, "--epochs", 2, "--clip-value", 0.01), clipped_value, "--clip-value 0.01")
differs(clipped_value, reference(lr=1.0), "--clip-value")
# Every clamped step moves a weight by at most lr · v: one step (batch 0, one epoch) from zeros.
w, b = weft_train("--lr", 1.0, "--batch", 0, "--epochs", 1, "--clip-value", 0.01, out="one_step.h5")
check(max(np.max(np.abs(w)), np.max(np.abs(b))) <= 0.01 * (1 + 1e-6), "one step moved a weight by more than lr · clip-value")
check(np.max(np.abs(w)) >= 0.01 * (1 - 1e-6), "no weight reached the clipped step: the bound was not exercised")

# --schedule: step decay halving per epoch, in the weights and in the log's lr column.
schedule = '{"type": "step", "step_size": 1, "gamma": 0.5}'
scheduled = reference(lr=0.4, epochs=3, rate=lambda epoch: 0.4 * 0.5 ** epoch)
matches(weft_train("--lr", 0.4, "--batch", 16, "--epochs", 3, "--schedule", schedule, "--log", "scheduled.csv"),
        scheduled, "--schedule step")
_, log = read_log("scheduled.csv")
check(close(log["lr"], [0.4, 0.2, 0.1], 1e-9), f"the log's lr column is {log['lr']}, not 0.4, 0.2, 0.1")
differs(scheduled, reference(lr=0.4, epochs=3), "--schedule")

# --threads and --shard: 32-sample batches in shards of 8 give the same bits on 1 and 2 threads;
# shards of 32 (one per batch) re-associate the gradient sums: equal to rounding, still the reference.
out, _ = run(weft, "train", "spec.json", "--data", "data", "--batch", 32, "--shard", 8, "--threads", 1, "--out", "t1.h5")
check(", 1 threads," in out, f"--threads 1 is not what ran:\n{out}")
run(weft, "train", "spec.json", "--data", "data", "--batch", 32, "--shard", 8, "--threads", 2, "--out", "t2.h5")
one, two = weights("t1.h5"), weights("t2.h5")
check(one[0].tobytes() == two[0].tobytes() and one[1].tobytes() == two[1].tobytes(), "--shard 8: 1 and 2 threads differ")
matches(one, reference(batch=32, epochs=1), "--shard 8")
matches(weft_train("--batch", 32, "--epochs", 1, "--shard", 32, "--threads", 1, out="s32.h5"), reference(batch=32, epochs=1),
        "--shard 32")

# --seed: the default initialiser (glorot_uniform) and shuffling come from it.
with open("seeded.json", "w") as f:
    f.write('{"input": [4], "layers": [{"type": "dense", "units": 6}], "loss": "cross_entropy", "optimizer": "sgd"}')
for name, seed in (("a", 3), ("b", 3), ("c", 4)):
    run(weft, "train", "seeded.json", "--data", "data", "--batch", 16, "--seed", seed, "--out", f"seed_{name}.h5")
a, b, c = (weights(f"seed_{n}.h5", "dense_0") for n in "abc")
check(a[0].tobytes() == b[0].tobytes(), "--seed 3 twice gave different weights")
check(np.max(np.abs(a[0] - c[0])) > 1e-3, "--seed 3 and --seed 4 gave the same weights")
print("train_optimization_test: all passed")
