"""Shared by the ONNX export tests: run weft, export, check with onnx.checker, run in OpenCV.

A test exits 77 (skipped) when this weft was built without ONNX export or when python3-onnx or
python3-opencv is missing; scripts/test counts such a skip as a failure (scripts/may_skip does
not list these tests), so they cannot turn themselves off where scripts/setup has installed
everything."""
import os
import subprocess
import sys

import numpy as np


def fail(message):
    sys.exit("FAIL: " + message)


def check(condition, message):
    if not condition:
        fail(message)


def run(weft, *args, expect_ok=True):
    p = subprocess.run([weft, *map(str, args)], capture_output=True, text=True)
    if expect_ok and p.returncode != 0:
        fail(f"weft {' '.join(map(str, args))} exited {p.returncode}:\n{p.stdout}{p.stderr}")
    if not expect_ok and p.returncode == 0:
        fail(f"weft {' '.join(map(str, args))} succeeded; it should have failed")
    return p.stdout, p.stderr


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(77)


def require_onnx(weft, folder):
    """Skips unless weft exports ONNX and python3-onnx / python3-opencv are importable."""
    spec = os.path.join(folder, "probe.json")
    with open(spec, "w") as f:
        f.write('{"input": [2], "layers": [{"type": "dense", "units": 1}], "loss": {"type": "mse"}}')
    p = subprocess.run([weft, "export", "--help"], capture_output=True, text=True)
    check(p.returncode == 0 and "--onnx" in p.stdout, "weft export --help does not offer --onnx")
    try:
        import cv2  # noqa: F401
        import onnx  # noqa: F401
    except ImportError as e:
        skip(f"{e.name} is not installed (scripts/setup installs python3-onnx and python3-opencv)")


def onnx_built(weft, model, folder):
    """False when this weft was built without ONNX export (-Donnx=disabled)."""
    p = subprocess.run([weft, "export", model, "--onnx", os.path.join(folder, "probe.onnx")], capture_output=True, text=True)
    return not (p.returncode != 0 and "built without ONNX export" in p.stderr)


def checked_model(path):
    """Loads an exported model and runs onnx.checker with full checks (shape inference too)."""
    import onnx
    onnx.checker.check_model(path, full_check=True)
    return onnx.load(path)


def opencv_outputs(path, x, names=("output",)):
    """Runs the model in OpenCV's DNN module (an independent runtime) on x."""
    import cv2
    net = cv2.dnn.readNetFromONNX(path)
    if x.ndim == 3:
        # cv2's Python binding turns a 3-d array into a 2-d image with channels, not a 3-d blob;
        # a trailing axis of 1 keeps the same values in a blob (the exported graph reshapes it).
        x = x[..., None]
    net.setInput(np.ascontiguousarray(x, dtype=np.float32))
    outs = net.forward(list(names))
    return [np.asarray(o) for o in outs]


def read_predictions(path):
    return np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
