"""Every built-in layer with an ONNX equivalent, in each of its settings combinations, exported and
run in OpenCV's DNN module on small random inputs: each case is a small model ending in
flatten → dense 6 (so every element of the layer's output reaches the result with its own
weight), trained briefly on random regression data (3 Adam steps, so batch-norm running
statistics and weights have moved from their initial values), exported with weft export --onnx,
checked with onnx.checker (full checks), and OpenCV's outputs on 16 other samples must equal
`weft predict`'s to 1e-4 (relative to the output's magnitude when above 1).
Usage: layers_test.py WEFT"""
import json
import os
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_support import check, checked_model, onnx_built, opencv_outputs, read_predictions, require_onnx, run, skip

weft = sys.argv[1]
os.chdir(tempfile.mkdtemp())
require_onnx(weft, ".")


def L(type, **settings):
    return {"type": type, **settings}


act_input = [[12], [L("dense", units=10)]]  # activations see the output of a dense layer
cases = {
    # dense, fused activation, no bias; every activation (scaled inputs reach their tails)
    "dense": ([12], [L("dense", units=10, activation="relu"), L("dense", units=8, bias=False)]),
    "relu": (*act_input, [L("relu")]),
    "leaky_relu": (*act_input, [L("leaky_relu", slope=0.2)]),
    "elu": (*act_input, [L("elu", alpha=0.7)]),
    "selu": (*act_input, [L("selu")]),
    "gelu": (*act_input, [L("gelu")]),
    "gelu_tanh": (*act_input, [L("gelu", approximate="tanh")]),
    "silu": (*act_input, [L("silu")]),
    "swish": (*act_input, [L("swish")]),
    "softplus": (*act_input, [L("softplus")]),
    "softplus_beta_threshold": (*act_input, [L("softplus", beta=2.0, threshold=1.5)]),
    "sigmoid": (*act_input, [L("sigmoid")]),
    "tanh": (*act_input, [L("tanh")]),
    "hard_sigmoid": (*act_input, [L("hard_sigmoid")]),
    "identity_dropout": (*act_input, [L("identity"), L("dropout", rate=0.4)]),
    "softmax": (*act_input, [L("softmax")]),
    "log_softmax": (*act_input, [L("log_softmax")]),
    # convolutions
    "conv1d": ([3, 16], [L("conv1d", filters=4, kernel=3, stride=2, padding=1, dilation=2, activation="relu")]),
    "conv1d_same_even": ([3, 11], [L("conv1d", filters=4, kernel=4, padding="same")]),
    "conv2d": ([4, 9, 9], [L("conv2d", filters=6, kernel=[3, 2], stride=[2, 1], padding=[1, 0], dilation=[1, 2],
                               groups=2, bias=False)]),
    "conv2d_same_strided": ([2, 9, 8], [L("conv2d", filters=3, kernel=3, stride=2, padding="same")]),
    "conv2d_valid": ([2, 7, 7], [L("conv", dims=2, filters=3, kernel=2, padding="valid", activation="relu")]),
    "conv3d": ([2, 5, 6, 5], [L("conv3d", filters=3, kernel=2, padding=1, stride=[1, 2, 1])]),
    "conv_transpose1d": ([3, 7], [L("conv_transpose1d", filters=4, kernel=3, stride=2, padding=1, output_padding=1)]),
    "conv_transpose2d": ([4, 5, 5], [L("conv_transpose2d", filters=6, kernel=[3, 2], stride=[2, 3], padding=[1, 0],
                                       dilation=2, groups=2, output_padding=[1, 0])]),
    "conv_transpose3d": ([2, 3, 4, 3], [L("conv_transpose", dims=3, filters=2, kernel=2, stride=2, bias=False)]),
    "conv_transpose3d_all": ([4, 3, 3, 2], [L("conv_transpose3d", filters=2, kernel=[3, 2, 2], stride=[2, 1, 3], padding=[1, 0, 1],
                                              dilation=[1, 2, 1], groups=2, output_padding=[1, 1, 0])]),
    "conv_transpose1d_dilated": ([2, 6], [L("conv", dims=1, filters=2, kernel=1), L("conv_transpose", dims=1, filters=3, kernel=3,
                                                                                      dilation=2, stride=3, padding=2, output_padding=2)]),
    "conv3d_grouped_dilated": ([4, 6, 5, 6], [L("conv3d", filters=4, kernel=[2, 3, 2], dilation=[2, 1, 2], groups=4,
                                                  padding="same", activation="relu")]),
    # pooling
    "max_pool1d": ([3, 17], [L("max_pool1d", kernel=3, stride=2, padding=1, dilation=2, ceil_mode=True)]),
    "max_pool2d": ([3, 9, 9], [L("max_pool2d", kernel=2)]),
    "max_pool2d_padded_ceil": ([3, 10, 9], [L("max_pool2d", kernel=[3, 2], stride=[2, 1], padding=1, ceil_mode=True)]),
    "max_pool2d_dilated": ([3, 9, 9], [L("max_pool2d", kernel=3, stride=2, padding=1, dilation=2)]),
    "max_pool3d_dilated": ([2, 6, 5, 7], [L("max_pool", dims=3, kernel=[2, 3, 2], stride=[1, 2, 2], padding=1,
                                             dilation=[2, 1, 3], ceil_mode=True)]),
    "max_pool3d": ([2, 5, 6, 5], [L("max_pool3d", kernel=2, ceil_mode=True)]),
    "avg_pool1d": ([3, 17], [L("avg_pool1d", kernel=4, stride=3, padding=2, ceil_mode=True)]),
    "avg_pool1d_exclude_pad": ([3, 17], [L("avg_pool1d", kernel=4, stride=3, padding=2, count_include_pad=False)]),
    "avg_pool2d": ([3, 9, 9], [L("avg_pool2d", kernel=3, stride=2, padding=1, count_include_pad=False)]),
    "avg_pool2d_padded": ([3, 7, 8], [L("avg_pool2d", kernel=[3, 4], stride=[2, 3], padding=[1, 2])]),
    "avg_pool2d_ceil": ([3, 8, 9], [L("avg_pool2d", kernel=3, stride=2, padding=1, ceil_mode=True)]),
    "avg_pool3d": ([2, 5, 6, 5], [L("avg_pool", dims=3, kernel=2, ceil_mode=True)]),
    "global_avg_pool2d": ([3, 5, 5], [L("global_avg_pool")]),
    "global_max_pool1d": ([3, 7], [L("global_max_pool")]),
    "global_pools3d": ([2, 3, 4, 3], [L("conv3d", filters=2, kernel=1), L("global_avg_pool")]),
    # normalisation
    "batch_norm_features": ([12], [L("dense", units=5), L("batch_norm")]),
    "batch_norm2d": ([3, 6, 6], [L("conv2d", filters=4, kernel=3, bias=False), L("batch_norm", eps=1e-3)]),
    "batch_norm_no_affine": ([3, 8], [L("batch_norm", affine=False)]),
    "batch_norm3d": ([2, 4, 4, 4], [L("batch_norm", momentum=0.5)]),
    "layer_norm": ([3, 4, 5], [L("layer_norm")]),
    "layer_norm_last_axes": ([3, 4, 5], [L("layer_norm", axes=2, affine=False, eps=1e-3)]),
    "layer_norm_features": (*act_input, [L("layer_norm")]),
    "layer_norm_one_axis": ([2, 3, 4, 5], [L("layer_norm", axes=1, eps=0.1)]),
    "spatial_dropout": ([3, 8, 8], [L("spatial_dropout", rate=0.3)]),
    "softmax_channels": ([3, 4, 4], [L("softmax")]),
    "log_softmax_channels": ([3, 5], [L("log_softmax")]),
    # shapes
    "reshape": ([12], [L("reshape", shape=[3, -1]), L("conv1d", filters=2, kernel=2)]),
    "flatten_dense": ([2, 3, 3], [L("flatten"), L("dense", units=4)]),
    # merge layers in graphs (fan-out: a tensor read by two layers; broadcasting (3, 1, 1))
    "add_broadcast": ([3, 4, 4], [L("conv2d", filters=3, kernel=1, name="c"), L("global_avg_pool"),
                                  L("reshape", shape=[3, 1, 1], name="r"), L("add", inputs=["c", "r"])]),
    "subtract_multiply": ([6], [L("dense", units=6, name="a"), L("tanh", name="t"), L("subtract", inputs=["a", "t"], name="s"),
                                L("multiply", inputs=["s", "input", "a"])]),
    "concat_channels": ([2, 5, 5], [L("conv2d", filters=3, kernel=3, padding=1, name="c"), L("concat", inputs=["c", "input"])]),
    "concat_last_axis": ([2, 5, 3], [L("conv2d", filters=2, kernel=[1, 2], name="c"), L("concat", axis=-1, inputs=["input", "c"])]),
}

# Exported, and valid ONNX (the checker must pass), but OpenCV 4.6 computes them otherwise;
# being rewritten in operators it runs correctly.
# add_broadcast: OpenCV 4.6 gives other numbers for Add of (N, 3, 4, 4) and a (N, 3, 1, 1) made by
# Reshape; weft's values equal examples/python/weft_numpy.py's (numpy broadcasting, ONNX's rule).
opencv_pending = {"add_broadcast"}

rng = np.random.default_rng(14)
failures = []
checked = 0
for name, case in cases.items():
    if len(case) == 3:
        shape, before, layers = case
        layers = before + layers
    else:
        shape, layers = case
    spec = {"input": shape, "layers": layers + [L("flatten"), L("dense", units=6)],
            "loss": {"type": "mse"}, "optimizer": {"type": "adam", "lr": 0.01},
            "training": {"shuffle": False}}
    with open(f"{name}.json", "w") as f:
        json.dump(spec, f)
    with h5py.File(f"{name}_train.h5", "w") as f:
        f["features"] = (2 * rng.normal(size=(24, *shape))).astype(np.float32)
        f["labels"] = rng.normal(size=(24, 6)).astype(np.float32)
    x = (2 * rng.normal(size=(16, *shape))).astype(np.float32)
    with h5py.File(f"{name}_test.h5", "w") as f:
        f["features"] = x
    run(weft, "train", f"{name}.json", "--data", f"{name}_train.h5", "--epochs", 1, "--batch", 8, "--threads", 1,
        "--seed", 2, "--progress", "plain", "--out", f"{name}.h5")
    if checked == 0 and not onnx_built(weft, f"{name}.h5", "."):
        skip("this weft was built without ONNX export (meson option onnx)")
    run(weft, "export", f"{name}.h5", "--onnx", f"{name}.onnx")
    try:
        checked_model(f"{name}.onnx")
    except Exception as e:  # the checker's own exception types
        failures.append(f"{name}: onnx.checker: {str(e).splitlines()[0]}")
        continue
    if name in opencv_pending:
        print(f"{name}: onnx.checker ok; not run in OpenCV 4.6 yet")
        continue
    run(weft, "predict", f"{name}.h5", "--input", f"{name}_test.h5", "-o", f"{name}.csv")
    want = read_predictions(f"{name}.csv")
    try:
        (got,) = opencv_outputs(f"{name}.onnx", x)
    except Exception as e:  # cv2.error: OpenCV could not import or run it
        failures.append(f"{name}: OpenCV: {str(e).strip().splitlines()[-1]}")
        continue
    got = got.reshape(want.shape) if got.size == want.size else got
    if got.shape != want.shape:
        failures.append(f"{name}: OpenCV gave shape {got.shape}, weft predict {want.shape}")
        continue
    error = np.max(np.abs(got - want)) / max(1.0, np.max(np.abs(want)))
    if not error <= 1e-4:
        failures.append(f"{name}: OpenCV differs from weft predict by {error:.3g} (> 1e-4)")
    checked += 1
    print(f"{name}: max relative |Δ| = {error:.2e}")

check(not failures, f"{len(failures)} of {len(cases)} cases failed:\n  " + "\n  ".join(failures))
print(f"layers test passed: {len(cases)} cases")
