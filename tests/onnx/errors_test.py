"""weft export --onnx refusals: a layer with no ONNX equivalent (4-d convolution; a plugin layer
without Layer::to_onnx), a corrupt and a truncated model file, an output path that cannot be
written (missing folder, a folder in the way). Each is one line on stderr naming the thing, a
non-zero exit, no .onnx file and no temporary left behind, and an .onnx file already at the
target keeps its bytes.
Usage: errors_test.py WEFT TEST_PLUGIN (a plugin whose layer test_doubling has no export hook)"""
import json
import os
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_support import check, onnx_built, require_onnx, run, skip

weft, plugin = sys.argv[1], sys.argv[2]
os.chdir(tempfile.mkdtemp())
require_onnx(weft, ".")
rng = np.random.default_rng(3)


def train(name, shape, layers, *extra):
    with open(f"{name}.json", "w") as f:
        json.dump({"input": shape, "layers": layers + [{"type": "flatten"}, {"type": "dense", "units": 2}],
                   "loss": {"type": "mse"}, "optimizer": {"type": "sgd", "lr": 0.01}}, f)
    with h5py.File(f"{name}_data.h5", "w") as f:
        f["features"] = rng.normal(size=(8, *shape)).astype(np.float32)
        f["labels"] = rng.normal(size=(8, 2)).astype(np.float32)
    run(weft, "train", f"{name}.json", "--data", f"{name}_data.h5", "--epochs", 1, "--batch", 4, "--threads", 1,
        "--progress", "plain", "--out", f"{name}.h5", *extra)


def refused(model, target, must_name, *extra):
    """Export must fail with one line naming `must_name`, leaving the folder of `target` as it was."""
    folder = os.path.dirname(target) or "."
    before = sorted(os.listdir(folder)) if os.path.isdir(folder) else None
    old = open(target, "rb").read() if os.path.isfile(target) else None
    _, err = run(weft, "export", model, "--onnx", target, *extra, expect_ok=False)
    lines = err.strip().splitlines()
    check(len(lines) == 1, f"export {model} → {target}: {len(lines)} lines of error:\n{err}")
    for part in must_name:
        check(part in lines[0], f"export {model} → {target}: the error does not name '{part}': {lines[0]}")
    after = sorted(os.listdir(folder)) if os.path.isdir(folder) else None
    check(before == after, f"export {model} → {target} changed the folder: {before} → {after}")
    if old is not None:
        check(open(target, "rb").read() == old, f"export {model} → {target} changed the file already there")
    print(f"refused: {lines[0]}")


train("good", [3], [{"type": "dense", "units": 4}])
if not onnx_built(weft, "good.h5", "."):
    skip("this weft was built without ONNX export (meson option onnx)")
os.remove("probe.onnx")

# A layer with no ONNX equivalent: 4 spatial axes (ONNX's Conv has at most 3 here), the existing file stays.
train("conv4d", [1, 3, 3, 3, 3], [{"type": "conv", "dims": 4, "filters": 2, "kernel": 2, "name": "c4"}])
open("existing.onnx", "wb").write(b"an older export")
refused("conv4d.h5", "existing.onnx", ["'c4'", "(conv)", "no ONNX equivalent", "4 spatial axes"])
refused("conv4d.h5", "new.onnx", ["'c4'", "no ONNX equivalent"])
check(not os.path.exists("new.onnx"), "a refused export left new.onnx behind")

# A plugin's layer that does not implement the export hook.
train("plugged", [3], [{"type": "test_doubling", "name": "twice"}], "--plugin", plugin)
refused("plugged.h5", "plugged.onnx", ["'twice'", "(test_doubling)", "Layer::to_onnx"], "--plugin", plugin)

# Corrupt and truncated model files: the error names the file.
open("corrupt.h5", "wb").write(rng.integers(0, 256, size=4096, dtype=np.uint8).tobytes())
refused("corrupt.h5", "corrupt.onnx", ["corrupt.h5"])
whole = open("good.h5", "rb").read()
open("truncated.h5", "wb").write(whole[: len(whole) // 2])
refused("truncated.h5", "truncated.onnx", ["truncated.h5"])
refused("missing.h5", "missing.onnx", ["missing.h5"])

# Output paths that cannot be written: a folder that does not exist, a folder in the way.
refused("good.h5", "no_such_folder/model.onnx", ["no_such_folder/model.onnx"])
os.mkdir("folder.onnx")
refused("good.h5", "folder.onnx", ["folder.onnx"])

# Neither -o nor --onnx.
_, err = run(weft, "export", "good.h5", expect_ok=False)
check(len(err.strip().splitlines()) == 1 and "--onnx" in err, f"export without a target: {err}")

# And the model that can be exported still is (the refusals above are not a broken exporter).
run(weft, "export", "good.h5", "--onnx", "good.onnx")
check(os.path.getsize("good.onnx") > 0, "good.onnx is empty")
print("errors test passed")
