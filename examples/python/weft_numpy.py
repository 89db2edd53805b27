#!/usr/bin/python3
"""Runs a weft model in plain NumPy, from the HDF5 file alone (model file or checkpoint).

The file's layout (see the README, "Checkpoints"): the root attribute "spec" is the resolved
model spec as JSON; /weights/<layer>/<param> and /buffers/<layer>/<buffer> hold the tensors in
PyTorch's layouts; /data holds how inputs were normalised. This script rebuilds the forward pass
in inference mode and is both the proof and the documentation of that layout.

    weft_numpy.py MODEL.h5 INPUT.csv [--compare PREDICTIONS.csv]

prints the model's outputs (probabilities for a classifier, as `weft predict` writes them) or,
with --compare, checks them against weft's own predictions and exits non-zero on a mismatch.
"""
import argparse
import json
import sys

import h5py
import numpy as np


def pair(value, dims):
    return [value] * dims if isinstance(value, (int, float)) else list(value)


def conv(x, w, b, cfg):
    """N-d convolution (cross-correlation as PyTorch) by explicit im2col; x (N, C, spatial...)."""
    dims = w.ndim - 2
    stride, pad, dil = (pair(cfg.get(k, d), dims) for k, d in (("stride", 1), ("padding", 0), ("dilation", 1)))
    groups = cfg.get("groups", 1)
    x = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    n, c = x.shape[:2]
    k = w.shape[2:]
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


def pool(x, cfg, kind):
    dims = x.ndim - 2
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


ELEMENTWISE = {
    "identity": lambda x, c: x,
    "relu": lambda x, c: np.maximum(x, 0),
    "tanh": lambda x, c: np.tanh(x),
    "sigmoid": lambda x, c: 1 / (1 + np.exp(-x)),
    "leaky_relu": lambda x, c: np.where(x >= 0, x, c["slope"] * x),
    "elu": lambda x, c: np.where(x > 0, x, c["alpha"] * np.expm1(np.minimum(x, 0))),
    "softplus": lambda x, c: np.logaddexp(0, x),
    "silu": lambda x, c: x / (1 + np.exp(-x)),
    "dropout": lambda x, c: x,           # identity at inference (inverted dropout)
    "spatial_dropout": lambda x, c: x,
}


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def forward(f, spec, x):
    """x: (N, *input) float64. Returns the model's raw outputs."""
    for layer in spec["layers"]:
        kind, name = layer["type"], layer["name"]
        p = lambda key: f[f"weights/{name}/{key}"][...].astype(np.float64)
        if kind in ELEMENTWISE:
            x = ELEMENTWISE[kind](x, layer)
        elif kind == "dense":
            x = x.reshape(len(x), -1) @ p("weight").T + (p("bias") if layer.get("bias", True) else 0)
        elif kind in ("flatten",):
            x = x.reshape(len(x), -1)
        elif kind == "reshape":
            x = x.reshape((len(x), *layer["shape"]))
        elif kind == "softmax":
            x = softmax(x)
        elif kind == "log_softmax":
            x = np.log(softmax(x))
        elif kind.startswith("conv") and not kind.startswith("conv_transpose"):
            x = conv(x, p("weight"), p("bias") if layer.get("bias", True) else None, layer)
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
    return x


def load_inputs(f, path):
    """Reads a CSV (header row) and prepares it as weft did during training (/data)."""
    with open(path) as text:
        header = [h.strip() for h in text.readline().split(",")]
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    settings = json.loads(f["data"].attrs["settings"]) if "data" in f else {}
    if "features" in settings:
        table = table[:, [header.index(name) for name in settings["features"]]]
    kind = settings.get("normalize", "none")
    if kind == "scale":
        table = table * settings["scale"]
    elif kind == "standardize":
        table = (table - f["data/mean"][...]) / f["data/std"][...]
    # weft holds inputs as float32.
    return table.astype(np.float32).astype(np.float64)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("input")
    parser.add_argument("--compare", help="weft predict's CSV output to check against")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()
    with h5py.File(args.model, "r") as f:
        spec = json.loads(f.attrs["spec"])
        x = load_inputs(f, args.input).reshape((-1, *spec["input"]))
        y = forward(f, spec, x)
    loss = spec.get("loss", {}).get("type")
    if loss == "cross_entropy":
        y = softmax(y)
    elif loss == "binary_cross_entropy":
        y = 1 / (1 + np.exp(-y))
    elif loss == "nll":
        y = np.exp(y)
    y = y.reshape(len(y), -1)
    if not args.compare:
        np.savetxt(sys.stdout, y, delimiter=",", fmt="%.9g")
        return 0
    theirs = np.loadtxt(args.compare, delimiter=",", skiprows=1, ndmin=2)
    if theirs.shape != y.shape:
        print(f"shape mismatch: weft {theirs.shape}, NumPy {y.shape}")
        return 1
    worst = float(np.max(np.abs(theirs - y)))
    print(f"{len(y)} samples, {y.shape[1]} outputs: largest difference between weft and NumPy {worst:.3g}")
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
