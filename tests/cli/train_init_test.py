"""weft train --init-from and --partial, by the weights they leave:
 1. --init-from a model of the same spec starts from its weights: the run equals reference.py's
    loop started from the weights read out of that file;
 2. a model whose head has another shape: refused without --partial (naming the tensor),
    with --partial the matching layer is copied (frozen here, so it must still hold the source's
    weights bit for bit after training) and the mismatched head is reported skipped.
Usage: train_init_test.py WEFT"""
import json
import os
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import check, close, linear_spec, run, train, weights, grid_values, write_idx_folder

weft = sys.argv[1]
os.chdir(tempfile.mkdtemp())
rng = np.random.default_rng(14)
x, xt = grid_values(rng, (64, 4)), grid_values(rng, (16, 4))
rule = rng.normal(size=(4, 3))
y, yt = np.argmax(x @ rule, axis=1), np.argmax(xt @ rule, axis=1)
write_idx_folder("data", x, y, xt, yt)
common = ["--data", "data", "--batch", 16, "--progress", "plain"]

# 1. Same spec: the second run continues from the first one's weights.
linear_spec("linear.json", 4, 3, "cross_entropy", lr=0.1)
run(weft, "train", "linear.json", *common, "--epochs", 2, "--out", "source.h5")
start_w, start_b = weights("source.h5")
check(np.max(np.abs(start_w)) > 0.01, "the source model is still at its zero initialisation")
out, _ = run(weft, "train", "linear.json", *common, "--epochs", 1, "--init-from", "source.h5", "--out", "continued.h5")
check("initialised 2 tensors from source.h5\n" in out, f"--init-from did not report 2 tensors:\n{out}")
want = train(x, y, loss="cross_entropy", lr=0.1, batch=16, epochs=1, w=start_w, b=start_b)
got = weights("continued.h5")
check(close(got[0], want["w"]) and close(got[1], want["b"]), "--init-from: not the reference loop started from source.h5")

# 2. A body of 5 units and a head of 3 (source) or 2 (target) classes.
def two_layer(path, classes, frozen_body):
    spec = {"input": [4],
            "layers": [{"type": "dense", "units": 5, "name": "body", "frozen": frozen_body}, {"type": "relu"},
                       {"type": "dense", "units": classes, "name": "head"}],
            "loss": "cross_entropy", "optimizer": {"type": "sgd", "lr": 0.1}}
    with open(path, "w") as f:
        json.dump(spec, f)


two_layer("three.json", 3, False)
two_layer("two.json", 2, True)
run(weft, "train", "three.json", *common, "--epochs", 1, "--seed", 1, "--out", "three.h5")
_, err = run(weft, "train", "two.json", *common, "--epochs", 1, "--init-from", "three.h5", "--seed", 2, expect_ok=False)
check("head/weight" in err and len(err.strip().splitlines()) == 1, f"strict --init-from did not name head/weight:\n{err}")
# The labels of data are 0..2; the 2-class model trains on the examples of classes 0 and 1.
keep = y < 2
write_idx_folder("binary", x[keep], y[keep], xt[yt < 2], yt[yt < 2])
common[1] = "binary"
out, _ = run(weft, "train", "two.json", *common, "--epochs", 1, "--init-from", "three.h5", "--partial", "--seed", 2,
             "--out", "partial.h5")
check("initialised 2 tensors from three.h5 (2 skipped)" in out, f"--partial did not report 2 loaded, 2 skipped:\n{out}")
run(weft, "train", "two.json", *common, "--epochs", 1, "--seed", 2, "--out", "fresh.h5")
with h5py.File("three.h5") as source, h5py.File("partial.h5") as partial, h5py.File("fresh.h5") as fresh:
    for name in ("weights/body/weight", "weights/body/bias"):
        check(partial[name][...].tobytes() == source[name][...].tobytes(), f"--partial did not copy {name}")
        check(fresh[name][...].tobytes() != source[name][...].tobytes(), f"{name}: the fresh model equals the source anyway")
print("train_init_test: all passed")
