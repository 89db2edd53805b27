#!/usr/bin/python3
"""Runs a weft model in plain NumPy, from the HDF5 file alone (model file or checkpoint).

The file's layout (see the README, "Checkpoints"): the root attribute "spec" is the resolved
model spec as JSON; /weights/<layer>/<param> and /buffers/<layer>/<buffer> hold the tensors in
PyTorch's layouts; /data holds how inputs were prepared (normalisation, the datasets of several
inputs; with several, each input's statistics as /data/mean/<input> and /data/std/<input>). This script rebuilds the forward pass in inference mode, graphs included, and is both
the proof and the documentation of that layout.

    weft_numpy.py MODEL.h5 INPUT.csv [--compare PREDICTIONS.csv]
    weft_numpy.py MODEL.h5 DATA.h5 [--input NAME=DATASET ...] [--compare PREDICTIONS.csv]

prints the model's outputs (probabilities for a classifier, as `weft predict` writes them) or,
with --compare, checks them against weft's own predictions and exits non-zero on a mismatch.
The samples come as `weft predict --input` takes them: a CSV file, or an HDF5 file. A model with
several named inputs reads one dataset of the HDF5 file per input: the mapping stored with the
model (or its spec's "training": {"datasets": ...}), each --input NAME=DATASET overriding it for
its input; a one-input model reads --input input=DATASET, by default the dataset "features".
"""
import argparse
import json
import math
import os
import sys

import h5py
import numpy as np


def pair(value, dims):
    return [value] * dims if isinstance(value, (int, float)) else list(value)


def spatial_padding(cfg, dims, kernel, stride, dilation, spatial):
    """Padding (before, after) per spatial axis: integers, "valid", or "same" as weft resolves it
    (output ceil(in / stride), the odd pixel of the total padding after)."""
    padding = cfg.get("padding", 0)
    if padding == "valid":
        return [(0, 0)] * dims
    if padding == "same":
        out = []
        for i in range(dims):
            span = dilation[i] * (kernel[i] - 1) + 1
            total = max((-(-spatial[i] // stride[i]) - 1) * stride[i] + span - spatial[i], 0)
            out.append((total // 2, total - total // 2))
        return out
    return [(p, p) for p in pair(padding, dims)]


def conv(x, w, b, cfg):
    """N-d convolution (cross-correlation as PyTorch) by explicit im2col; x (N, C, spatial...)."""
    dims = w.ndim - 2
    k = w.shape[2:]
    stride, dil = (pair(cfg.get(key, 1), dims) for key in ("stride", "dilation"))
    groups = cfg.get("groups", 1)
    x = np.pad(x, [(0, 0), (0, 0)] + spatial_padding(cfg, dims, k, stride, dil, x.shape[2:]))
    n, c = x.shape[:2]
    out_sp = [(x.shape[2 + i] - dil[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(dims)]
    out = np.zeros((n, w.shape[0], *out_sp), dtype=np.float64)
    cg, fg = c // groups, w.shape[0] // groups
    for g in range(groups):
        xg, wg = x[:, g * cg:(g + 1) * cg], w[g * fg:(g + 1) * fg]
        for offset in np.ndindex(*k):
            idx = tuple(slice(offset[i] * dil[i], offset[i] * dil[i] + stride[i] * (out_sp[i] - 1) + 1, stride[i])
                        for i in range(dims))
            patch = xg[(slice(None), slice(None)) + idx]  # (N, cg, out...)
            out[:, g * fg:(g + 1) * fg] += np.einsum("nc...,fc->nf...", patch, wg[(slice(None), slice(None)) + offset])
    if b is not None:
        out += b.reshape((1, -1) + (1,) * dims)
    return out


def conv_transpose(x, w, b, cfg):
    """PyTorch's ConvTransposeNd: every input pixel scatters its kernel-weighted copy into the
    output at stride steps; weight (C_in, filters / groups, kernel...). Output extent per axis:
    (in - 1)·stride - 2·padding + dilation·(kernel - 1) + output_padding + 1."""
    dims = w.ndim - 2
    k = w.shape[2:]
    stride, dil, pad, out_pad = (pair(cfg.get(key, d), dims) for key, d in
                                 (("stride", 1), ("dilation", 1), ("padding", 0), ("output_padding", 0)))
    groups = cfg.get("groups", 1)
    n, c, spatial = x.shape[0], x.shape[1], x.shape[2:]
    out_sp = [(spatial[i] - 1) * stride[i] - 2 * pad[i] + dil[i] * (k[i] - 1) + out_pad[i] + 1 for i in range(dims)]
    # The uncropped result, long enough for the output window [pad, pad + out).
    full_sp = [max((spatial[i] - 1) * stride[i] + dil[i] * (k[i] - 1) + 1, pad[i] + out_sp[i]) for i in range(dims)]
    cg, fg = c // groups, w.shape[1]
    full = np.zeros((n, fg * groups, *full_sp), dtype=np.float64)
    for g in range(groups):
        xg, wg = x[:, g * cg:(g + 1) * cg], w[g * cg:(g + 1) * cg]
        for offset in np.ndindex(*k):
            idx = tuple(slice(offset[i] * dil[i], offset[i] * dil[i] + stride[i] * (spatial[i] - 1) + 1, stride[i])
                        for i in range(dims))
            contribution = np.einsum("nc...,cf->nf...", xg, wg[(slice(None), slice(None)) + offset])
            full[(slice(None), slice(g * fg, (g + 1) * fg)) + idx] += contribution
    out = full[(slice(None), slice(None)) + tuple(slice(pad[i], pad[i] + out_sp[i]) for i in range(dims))]
    if b is not None:
        out = out + b.reshape((1, -1) + (1,) * dims)
    return out


def layer_norm(x, cfg, weight, bias):
    """PyTorch's LayerNorm over the last `axes` per-sample axes (0: all of them), biased variance."""
    axes = cfg.get("axes", 0) or x.ndim - 1
    over = tuple(range(x.ndim - axes, x.ndim))
    mean = x.mean(axis=over, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=over, keepdims=True)
    y = (x - mean) / np.sqrt(var + cfg["eps"])
    return y * weight + bias if cfg.get("affine", True) else y


def pool(x, cfg, kind):
    dims = x.ndim - 2
    if cfg.get("ceil_mode", False) or any(d != 1 for d in pair(cfg.get("dilation", 1), dims)):
        sys.exit("weft_numpy.py: pooling with ceil_mode or dilation is not implemented here")
    k = pair(cfg["kernel"], dims)
    stride = k if cfg.get("stride", "kernel") == "kernel" else pair(cfg["stride"], dims)
    pad = pair(cfg.get("padding", 0), dims)
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad], constant_values=fill)
    out_sp = [(xp.shape[2 + i] - k[i]) // stride[i] + 1 for i in range(dims)]
    windows = []
    for offset in np.ndindex(*k):
        idx = tuple(slice(offset[i], offset[i] + stride[i] * (out_sp[i] - 1) + 1, stride[i]) for i in range(dims))
        windows.append(xp[(slice(None), slice(None)) + idx])
    stack = np.stack(windows)
    if kind == "max":
        return stack.max(axis=0)
    if cfg.get("count_include_pad", True) or not any(pad):
        return stack.mean(axis=0)
    ones = np.pad(np.ones_like(x), [(0, 0), (0, 0)] + [(p, p) for p in pad])
    counts = np.stack([ones[(slice(None), slice(None)) + tuple(
        slice(o[i], o[i] + stride[i] * (out_sp[i] - 1) + 1, stride[i]) for i in range(dims))] for o in np.ndindex(*k)])
    return stack.sum(axis=0) / counts.sum(axis=0)


def logistic(x):
    return 1 / (1 + np.exp(-x))


def softplus(x, c):
    beta, threshold = c.get("beta", 1.0), c.get("threshold", 20.0)
    return np.where(beta * x > threshold, x, np.logaddexp(0, beta * x) / beta)


def gelu(x, c):
    if c.get("approximate", "none") == "tanh":
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / np.sqrt(2)))


SELU_ALPHA, SELU_SCALE = 1.6732632423543772848, 1.0507009873554804934

# Every activation weft registers (modules/layers/activations.cpp, smooth_activations.cpp), and
# the layers that are the identity at inference.
ELEMENTWISE = {
    "identity": lambda x, c: x,
    "relu": lambda x, c: np.maximum(x, 0),
    "tanh": lambda x, c: np.tanh(x),
    "sigmoid": lambda x, c: logistic(x),
    "hard_sigmoid": lambda x, c: np.clip(x / 6 + 0.5, 0, 1),
    "leaky_relu": lambda x, c: np.where(x >= 0, x, c["slope"] * x),
    "elu": lambda x, c: np.where(x > 0, x, c["alpha"] * np.expm1(np.minimum(x, 0))),
    "selu": lambda x, c: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
    "gelu": gelu,
    "softplus": softplus,
    "silu": lambda x, c: x * logistic(x),
    "swish": lambda x, c: x * logistic(x),
    "dropout": lambda x, c: x,           # identity at inference (inverted dropout)
    "spatial_dropout": lambda x, c: x,
}


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def fused_activation(x, layer):
    """conv's and dense's "activation" setting ("none" or "relu")."""
    return np.maximum(x, 0) if layer.get("activation", "none") == "relu" else x


def forward(f, spec, inputs):
    """inputs: {model input name: (N, *shape) float64}. Returns the model's raw outputs.
    Each layer reads the tensors its "inputs" name (default: the previous layer's output)."""
    values = dict(inputs)
    previous = next(iter(inputs))
    for layer in spec["layers"]:
        kind, name = layer["type"], layer["name"]
        p = lambda key: f[f"weights/{name}/{key}"][...].astype(np.float64)
        reads = [values[r] for r in layer.get("inputs", [previous])]
        x = reads[0]
        if kind in ("add", "subtract", "multiply"):  # numpy broadcasts as weft (and PyTorch) do
            for other in reads[1:]:
                x = x + other if kind == "add" else x - other if kind == "subtract" else x * other
        elif kind == "concat":
            axis = layer.get("axis", 0)
            x = np.concatenate(reads, axis=axis + 1 if axis >= 0 else axis)  # after the batch axis
        elif kind in ELEMENTWISE:
            x = ELEMENTWISE[kind](x, layer)
        elif kind == "dense":
            x = x.reshape(len(x), -1) @ p("weight").T + (p("bias") if layer.get("bias", True) else 0)
            x = fused_activation(x, layer)
        elif kind in ("flatten",):
            x = x.reshape(len(x), -1)
        elif kind == "reshape":
            x = x.reshape((len(x), *layer["shape"]))
        elif kind == "softmax":  # over the features, or the channels at each position (axis 1)
            x = softmax(x, axis=1)
        elif kind == "log_softmax":
            x = np.log(softmax(x, axis=1))
        elif kind.startswith("conv_transpose"):
            x = conv_transpose(x, p("weight"), p("bias") if layer.get("bias", True) else None, layer)
        elif kind.startswith("conv"):
            x = conv(x, p("weight"), p("bias") if layer.get("bias", True) else None, layer)
            x = fused_activation(x, layer)
        elif kind == "layer_norm":
            affine = layer.get("affine", True)
            x = layer_norm(x, layer, p("weight") if affine else None, p("bias") if affine else None)
        elif kind.startswith("max_pool") or kind.startswith("avg_pool"):
            x = pool(x, layer, "max" if kind.startswith("max") else "avg")
        elif kind in ("global_avg_pool", "global_max_pool"):
            axes = tuple(range(2, x.ndim))
            x = x.mean(axis=axes) if kind == "global_avg_pool" else x.max(axis=axes)
        elif kind == "batch_norm":
            shape = (1, -1) + (1,) * (x.ndim - 2)
            mean = f[f"buffers/{name}/running_mean"][...].reshape(shape)
            var = f[f"buffers/{name}/running_var"][...].reshape(shape)
            x = (x - mean) / np.sqrt(var + layer["eps"])
            if layer.get("affine", True):
                x = x * p("weight").reshape(shape) + p("bias").reshape(shape)
        else:
            sys.exit(f"weft_numpy.py: layer type '{kind}' is not implemented here")
        values[name] = x
        previous = name
    return values[spec.get("output", previous)]


def fail(message):
    """Stops with a one-line error named after the running script (this one or the PyTorch rebuild)."""
    sys.exit(f"{os.path.basename(sys.argv[0])}: {message}")


def model_inputs(spec):
    """{name: per-sample shape} of the model's inputs in weft's order: "input", or the keys of the
    spec's "inputs" ordered by name (the first layer without "inputs" reads the first)."""
    return {"input": list(spec["input"])} if "input" in spec else dict(sorted(spec["inputs"].items()))


def data_settings(f):
    return json.loads(f["data"].attrs["settings"]) if "data" in f else {}


def normalised(f, table, input_name=None):
    """Samples (N, ...) prepared with the stored normalisation (/data): for one of several inputs
    (input_name) by that input's own statistics, /data/mean/<input> and /data/std/<input>."""
    settings = data_settings(f)
    kind = settings.get("normalize", "none")
    suffix = f"/{input_name}" if input_name else ""
    if kind == "scale":
        table = table * settings["scale"]
    elif kind == "standardize":
        shape = table.shape
        table = ((table.reshape(len(table), -1) - f["data/mean" + suffix][...]) / f["data/std" + suffix][...]).reshape(shape)
    # weft holds inputs as float32.
    return table.astype(np.float32).astype(np.float64)


def load_csv(f, path):
    """Reads a CSV (header row) and prepares it as weft did during training (/data)."""
    with open(path) as text:
        header = [h.strip() for h in text.readline().split(",")]
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    settings = data_settings(f)
    if "features" in settings:
        table = table[:, [header.index(name) for name in settings["features"]]]
    return normalised(f, table)


def dataset_mapping(f, spec, flags):
    """{model input: HDF5 dataset} as `weft predict` chooses them: for several inputs the mapping
    stored with the model (/data), else the spec's "training": {"datasets"}; for one input the
    dataset "features"; then each --input NAME=DATASET for its input."""
    names = list(model_inputs(spec))
    if len(names) == 1:
        chosen = {"input": "features"}
    else:
        chosen = dict(data_settings(f).get("datasets") or spec.get("training", {}).get("datasets", {}))
    given = set()
    for flag in flags:
        name, eq, dataset = flag.partition("=")
        if not (name and eq and dataset):
            fail(f"--input '{flag}': expected NAME=DATASET")
        if name not in names:
            fail(f"--input {flag}: the model has no input '{name}' (its inputs: {', '.join(names)})")
        if name in given:
            fail(f"--input {name}=...: given twice")
        given.add(name)
        chosen[name] = dataset
    missing = [name for name in names if name not in chosen]
    if missing:
        fail(f"model input '{missing[0]}' has no dataset: map one with --input {missing[0]}=DATASET")
    return {name: chosen[name] for name in names}


def load_hdf5(f, spec, path, flags):
    """{model input: (N, *shape) float64} from one dataset of an HDF5 file per input, read as
    float32 like weft and normalised as stored (several inputs: each by its own statistics)."""
    shapes = model_inputs(spec)
    inputs = {}
    with h5py.File(path, "r") as data:
        for name, dataset in dataset_mapping(f, spec, flags).items():
            if dataset not in data:
                fail(f"HDF5 file '{path}' has no dataset '{dataset}' (mapped to model input '{name}')")
            x = data[dataset][...].astype(np.float32).astype(np.float64)
            if x[0].size != math.prod(shapes[name]):
                fail(f"dataset '{dataset}' has samples of shape {x.shape[1:]}; "
                         f"model input '{name}' takes {tuple(shapes[name])}")
            inputs[name] = x.reshape((len(x), *shapes[name]))
    counts = {name: len(x) for name, x in inputs.items()}
    if len(set(counts.values())) > 1:
        fail(f"the datasets of '{path}' hold different numbers of samples: {counts}")
    return {name: normalised(f, x, name if len(inputs) > 1 else None) for name, x in inputs.items()}


def load_inputs(f, spec, path, flags):
    """{model input: (N, *shape) float64}, prepared as `weft predict --input PATH` prepares them."""
    if path.endswith((".h5", ".hdf5")):
        return load_hdf5(f, spec, path, flags)
    if len(model_inputs(spec)) > 1:
        fail(f"the model has several inputs: give an HDF5 file with one dataset per input, not '{path}'")
    if flags:
        fail(f"--input {flags[0]} names a dataset of an HDF5 file; '{path}' is not one")
    return {"input": load_csv(f, path).reshape((-1, *spec["input"]))}


def probabilities(spec, y):
    """The raw outputs as `weft predict` writes them: probabilities as the loss reads them, one
    row per sample."""
    loss = spec.get("loss", {}).get("type")
    if loss == "cross_entropy":
        y = softmax(y)
    elif loss == "binary_cross_entropy":
        y = 1 / (1 + np.exp(-y))
    elif loss == "nll":
        y = np.exp(y)
    return y.reshape(len(y), -1)


def report(y, compare, tolerance, who):
    """Prints y (N, outputs), or with compare checks it against weft predict's CSV; the exit code."""
    if not compare:
        np.savetxt(sys.stdout, y, delimiter=",", fmt="%.9g")
        return 0
    theirs = np.loadtxt(compare, delimiter=",", skiprows=1, ndmin=2)
    if theirs.shape != y.shape:
        print(f"shape mismatch: weft {theirs.shape}, {who} {y.shape}")
        return 1
    worst = float(np.max(np.abs(theirs - y)))
    print(f"{len(y)} samples, {y.shape[1]} outputs: largest difference between weft and {who} {worst:.3g}")
    return 0 if worst <= tolerance else 1


def arguments(description, default_input=None):
    """The command line both this script and benchmarks/weft_model_in_pytorch.py take (the latter
    with a default for the samples: the Fashion-MNIST folder)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("model")
    parser.add_argument("input", nargs="?" if default_input else None, default=default_input,
                        help="a CSV file, or an HDF5 file (one dataset per model input)")
    parser.add_argument("--input", dest="datasets", action="append", default=[], metavar="NAME=DATASET",
                        help="HDF5: the dataset model input NAME reads (repeatable), as in weft predict")
    parser.add_argument("--compare", help="weft predict's CSV output to check against")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    return parser.parse_args()


def main():
    args = arguments(__doc__.split("\n")[0])
    with h5py.File(args.model, "r") as f:
        spec = json.loads(f.attrs["spec"])
        y = forward(f, spec, load_inputs(f, spec, args.input, args.datasets))
    return report(probabilities(spec, y), args.compare, args.tolerance, "NumPy")


if __name__ == "__main__":
    sys.exit(main())
