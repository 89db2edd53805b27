"""weft export --onnx of a model with two named inputs (examples/two_input, trained one epoch on
640 Fashion-MNIST images built into HDF5 by its make_data.py): the file passes onnx.checker with
full checks, has one graph input per model input, named and shaped as the model declares them,
and running the graph gives `weft predict`'s probabilities to 1e-4; the same for the model trained
with --normalize standardize, whose graph standardises each input by its own stored statistics
(Sub and Div nodes). OpenCV 4.6's importer refuses a Concat fed by a 2-d graph input, so the
graph runs in a NumPy interpreter of the ONNX operators it uses (Flatten, Gemm, Relu, Concat,
Identity, Softmax, Sub, Div), written from the ONNX operator docs.
Usage: two_inputs_test.py WEFT SOURCE_DIR"""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_support import check, checked_model, onnx_built, read_predictions, require_onnx, run, skip

weft, source = sys.argv[1], sys.argv[2]
os.chdir(tempfile.mkdtemp())
require_onnx(weft, ".")
subprocess.run(["/usr/bin/python3", f"{source}/examples/two_input/make_data.py", "--out", "data", "--train", "640",
                "--test", "200"], check=True, capture_output=True)
import h5py
import onnx
from onnx import numpy_helper


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def interpret(model):
    """The graph's probabilities on data/test.h5's samples."""
    with h5py.File("data/test.h5") as f:
        values = {"image": f["images"][...].astype(np.float32), "meta": f["meta"][...].astype(np.float32)}
    values.update({t.name: numpy_helper.to_array(t) for t in model.graph.initializer})
    for node in model.graph.node:
        a = {attr.name: onnx.helper.get_attribute_value(attr) for attr in node.attribute}
        x = [values[name] for name in node.input]
        if node.op_type == "Flatten":
            y = x[0].reshape(int(np.prod(x[0].shape[:a.get("axis", 1)])), -1)
        elif node.op_type == "Gemm":
            y = (x[0].T if a.get("transA") else x[0]) @ (x[1].T if a.get("transB") else x[1]) + (x[2] if len(x) > 2 else 0)
        elif node.op_type == "Relu":
            y = np.maximum(x[0], 0)
        elif node.op_type == "Concat":
            y = np.concatenate(x, axis=a["axis"])
        elif node.op_type == "Identity":
            y = x[0]
        elif node.op_type == "Softmax":
            y = softmax(x[0], a.get("axis", -1))
        elif node.op_type in ("Sub", "Div"):  # numpy broadcasts as ONNX does
            y = x[0] - x[1] if node.op_type == "Sub" else x[0] / x[1]
        else:
            check(False, f"the interpreter does not know {node.op_type}")
        values[node.output[0]] = y
    return values["probabilities"]


for label, flags in (("raw", []), ("standardized", ["--normalize", "standardize"])):
    run(weft, "train", f"{source}/examples/two_input/fashion_two_input.json", "--data", "data/train.h5", "--epochs",
        "1", "--seed", "1", "--progress", "plain", *flags, "--out", f"{label}.h5")
    if not onnx_built(weft, f"{label}.h5", "."):
        skip("this weft was built without ONNX export (meson option onnx)")
    run(weft, "export", f"{label}.h5", "--onnx", f"{label}.onnx")
    model = checked_model(f"{label}.onnx")
    inputs = {i.name: [d.dim_value or d.dim_param for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
    check(inputs == {"image": ["batch", 1, 28, 28], "meta": ["batch", 8]}, f"{label}: graph inputs {inputs}")
    subtracted = sorted(n.input[0] for n in model.graph.node if n.op_type == "Sub")
    check(subtracted == ([] if label == "raw" else ["image", "meta"]), f"{label}: inputs standardised: {subtracted}")
    ours = interpret(model)
    run(weft, "predict", f"{label}.h5", "--input", "data/test.h5", "-o", f"{label}.csv")
    theirs = read_predictions(f"{label}.csv")
    check(ours.shape == theirs.shape, f"{label}: shapes {ours.shape} vs {theirs.shape}")
    error = np.abs(ours - theirs).max()
    check(error < 1e-4, f"{label}: the graph's probabilities differ from weft predict's by {error}")
    print(f"two-input ONNX export ({label}): the graph matches weft predict to {error:.2g}")
