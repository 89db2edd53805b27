#!/usr/bin/python3
"""Rebuilds a weft model file (written by `weft train --out`) as a PyTorch network from the spec
stored in the file, copies its weights and batch-norm running statistics, and evaluates it on the
Fashion-MNIST test set in PyTorch's eval mode. The same accuracy as `weft evaluate` shows that
weft's tensors, layouts and evaluation semantics (batch_norm's running estimates and eps, inverted
dropout) are PyTorch's.
Usage: benchmarks/weft_model_in_pytorch.py MODEL.h5 [DATA_DIR]
Handles conv2d, batch_norm, layer_norm, dense, flatten, max/avg pooling, dropout and the
elementwise activations. Needs Debian's python3-torch and python3-h5py.
"""
import gzip
import json
import struct
import sys

import h5py
import numpy as np
import torch

path = sys.argv[1]
data = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"
nn = torch.nn

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "identity": nn.Identity, "selu": nn.SELU,
               "silu": nn.SiLU, "swish": nn.SiLU, "hard_sigmoid": nn.Hardsigmoid}


def read_idx(name):
    raw = gzip.open(f"{data}/{name}.gz").read()
    rank = raw[3]
    shape = struct.unpack(f">{rank}I", raw[4:4 + 4 * rank])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * rank).reshape(shape)


def module_for(layer, in_shape):
    kind = layer["type"]
    if kind in ACTIVATIONS:
        return ACTIVATIONS[kind]()
    if kind == "conv2d":
        return nn.Conv2d(in_shape[0], layer["filters"], layer["kernel"], stride=layer["stride"],
                         padding=layer["padding"], dilation=layer["dilation"], groups=layer["groups"], bias=layer["bias"])
    if kind == "dense":
        return nn.Linear(in_shape[0], layer["units"], bias=layer["bias"])
    if kind == "batch_norm":
        norm = {1: nn.BatchNorm1d, 2: nn.BatchNorm1d, 3: nn.BatchNorm2d, 4: nn.BatchNorm3d}[len(in_shape)]
        return norm(in_shape[0], eps=layer["eps"], momentum=layer["momentum"], affine=layer["affine"])
    if kind == "layer_norm":
        axes = layer["axes"] or len(in_shape)
        return nn.LayerNorm(in_shape[len(in_shape) - axes:], eps=layer["eps"], elementwise_affine=layer["affine"])
    if kind in ("max_pool2d", "avg_pool2d"):
        stride = layer["kernel"] if layer["stride"] == "kernel" else layer["stride"]
        pool = nn.MaxPool2d if kind == "max_pool2d" else nn.AvgPool2d
        return pool(layer["kernel"], stride=stride, padding=layer["padding"])
    if kind == "flatten":
        return nn.Flatten()
    if kind in ("dropout", "spatial_dropout"):
        return nn.Identity()  # inverted dropout is the identity in evaluation
    raise SystemExit(f"{kind}: no PyTorch counterpart in this script")


with h5py.File(path, "r") as f:
    spec = json.loads(f.attrs["spec"])
    shape = spec["input"]
    modules = []
    for layer in spec["layers"]:
        probe = torch.zeros([1] + shape)
        module = module_for(layer, shape)
        for group in ("weights", "buffers"):
            if f"{group}/{layer['name']}" in f:
                for tensor, values in f[f"{group}/{layer['name']}"].items():
                    getattr(module, tensor).data = torch.from_numpy(values[()]).reshape(getattr(module, tensor).shape)
        if layer.get("activation", "none") == "relu":  # conv's and dense's fused activation
            module = nn.Sequential(module, nn.ReLU())
        shape = list(module.eval()(probe).shape[1:])
        modules.append(module)
    model = nn.Sequential(*modules).eval()

x = torch.from_numpy(read_idx("t10k-images-idx3-ubyte").astype(np.float32) / 255).reshape([-1] + spec["input"])
y = torch.from_numpy(read_idx("t10k-labels-idx1-ubyte").astype(np.int64))
with torch.no_grad():
    accuracy = (model(x).argmax(1) == y).float().mean().item()
print(f"{path} rebuilt in PyTorch from its spec: test accuracy {accuracy:.4f}")
