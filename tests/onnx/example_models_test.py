"""weft export --onnx on every example model (examples/models/*.json), each trained briefly (one
epoch on 512 Fashion-MNIST images, three of 32-sample batches for fashion_resnet, so weights and
batch-norm running statistics are no longer at their initial values): the file passes
onnx.checker with full checks, declares opset 13, the input/output names and shapes with a
symbolic batch axis and the metadata, and OpenCV's DNN module running it on the first 1000 Fashion-MNIST test images gives `weft predict`'s
probabilities to 1e-4. fashion_mlp is also trained with --normalize standardize, whose input
preparation the ONNX graph must include.
Usage: example_models_test.py WEFT SOURCE_DIR"""
import glob
import gzip
import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_support import check, checked_model, onnx_built, opencv_outputs, read_predictions, require_onnx, run, skip

weft, source = sys.argv[1], sys.argv[2]
os.chdir(tempfile.mkdtemp())
require_onnx(weft, ".")

fashion = "/usr/share/datasets/fashion-mnist"


def read_idx(name, count):
    with gzip.open(f"{fashion}/{name}.gz") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * d:8 + 4 * d], "big") for d in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)[:count]


def write_idx(path, array):
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 0x08, array.ndim]))
        for d in array.shape:
            f.write(int(d).to_bytes(4, "big"))
        f.write(np.ascontiguousarray(array, np.uint8).tobytes())


# A small IDX folder: 512 training images, the first 1000 test images (bytes: weft scales by 1/255).
os.makedirs("data")
for part, count in (("train", 512), ("t10k", 1000)):
    write_idx(f"data/{part}-images-idx3-ubyte", read_idx(f"{part}-images-idx3-ubyte", count))
    write_idx(f"data/{part}-labels-idx1-ubyte", read_idx(f"{part}-labels-idx1-ubyte", count))
images = read_idx("t10k-images-idx3-ubyte", 1000).astype(np.float32) / 255

cases = [(path, []) for path in sorted(glob.glob(f"{source}/examples/models/*.json"))]
check(len(cases) >= 3, f"expected the example models in {source}/examples/models, found {len(cases)}")
cases.append((f"{source}/examples/models/fashion_mlp.json", ["--normalize", "standardize"]))

for spec_path, extra in cases:
    name = os.path.basename(spec_path)[:-5] + ("_standardized" if extra else "")
    # fashion_resnet (batch norm after every convolution) needs more steps than one epoch of 64s
    # before it classifies better than chance (0.47 of the test images after 3 epochs of 64, 0.67
    # after 3 epochs of 32).
    steps = ["--epochs", 3, "--batch", 32] if name == "fashion_resnet" else ["--epochs", 1, "--batch", 64]
    run(weft, "train", spec_path, "--data", "data", *steps, "--threads", 2, "--seed", 1,
        "--progress", "plain", "--out", f"{name}.h5", *extra)
    if not onnx_built(weft, f"{name}.h5", "."):
        skip("this weft was built without ONNX export (meson option onnx)")
    out, _ = run(weft, "export", f"{name}.h5", "--onnx", f"{name}.onnx")
    check(f"to {name}.onnx" in out, f"export did not report the ONNX file:\n{out}")
    model = checked_model(f"{name}.onnx")

    # The interface the README documents.
    check([(o.domain, o.version) for o in model.opset_import] == [("", 13)], f"{name}: opset {model.opset_import}")
    spec = json.load(open(spec_path))
    sample = spec["input"]

    def dims(value):
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    check([i.name for i in model.graph.input] == ["input"], f"{name}: inputs {[i.name for i in model.graph.input]}")
    check(dims(model.graph.input[0]) == ["batch", *sample], f"{name}: input shape {dims(model.graph.input[0])}")
    check([o.name for o in model.graph.output] == ["output", "probabilities"], f"{name}: outputs {model.graph.output}")
    for o in model.graph.output:
        check(dims(o) == ["batch", 10], f"{name}: {o.name} shape {dims(o)}")
    meta = {p.key: p.value for p in model.metadata_props}
    check(meta.get("weft_version", "") != "" and model.producer_name == "weft", f"{name}: no weft version: {meta}")
    stored = json.loads(meta["spec"])
    check([l["type"] for l in stored["layers"]] == [l["type"] for l in spec["layers"]], f"{name}: metadata spec {stored}")
    check(json.loads(meta["normalize"]) == ("standardize" if extra else "none"), f"{name}: normalize {meta['normalize']}")

    # OpenCV against weft predict on the same 1000 images.
    run(weft, "predict", f"{name}.h5", "--input", "data/t10k-images-idx3-ubyte", "-o", f"{name}.csv")
    want = read_predictions(f"{name}.csv")
    check(want.shape == (1000, 10), f"{name}: weft predict gave {want.shape}")
    got, logits = opencv_outputs(f"{name}.onnx", images.reshape(1000, *sample), ("probabilities", "output"))
    check(got.shape == (1000, 10), f"{name}: OpenCV gave {got.shape}")
    error = np.max(np.abs(got - want))
    check(error <= 1e-4, f"{name}: OpenCV's probabilities differ from weft predict's by {error:.3g} (> 1e-4)")
    # The raw output is the logits that give those probabilities, and the model is not trivial.
    softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
    check(np.max(np.abs(softmax / softmax.sum(axis=1, keepdims=True) - got)) <= 1e-5, f"{name}: output is not the logits")
    agree = np.mean(np.argmax(got, axis=1) == read_idx("t10k-labels-idx1-ubyte", 1000))
    check(agree > 0.5, f"{name}: only {agree:.2f} of the test images classified right; the check is not meaningful")
    print(f"{name}: onnx.checker ok; OpenCV vs weft predict on 1000 images: max |Δp| = {error:.2e}, accuracy {agree:.3f}")

print("example models test passed")
