#!/usr/bin/python3
"""Rebuilds a weft model file (written by `weft train --out`) as a PyTorch network from the spec
stored in the file, copies its weights and batch-norm running statistics, and evaluates it on the
Fashion-MNIST test set in PyTorch's eval mode. The same accuracy as `weft evaluate` shows that
weft's tensors, layouts and evaluation semantics (batch_norm's running estimates and eps, inverted
dropout) are PyTorch's.
Usage: benchmarks/weft_model_in_pytorch.py MODEL.h5 [DATA_DIR]
The network comes from weft_spec_in_pytorch.py (the layers it handles are listed there).
Needs Debian's python3-torch and python3-h5py.
"""
import json
import sys

import h5py
import torch

from idx_data import FASHION_MNIST, images_and_labels
from weft_spec_in_pytorch import network

path = sys.argv[1]
data = sys.argv[2] if len(sys.argv) > 2 else FASHION_MNIST

with h5py.File(path, "r") as f:
    spec = json.loads(f.attrs["spec"])
    model, modules = network(spec)
    for layer, module in zip(spec["layers"], modules):
        for group in ("weights", "buffers"):
            if f"{group}/{layer['name']}" in f:
                for tensor, values in f[f"{group}/{layer['name']}"].items():
                    getattr(module, tensor).data = torch.from_numpy(values[()]).reshape(getattr(module, tensor).shape)
    model.eval()

if "input" not in spec:
    sys.exit(f"{path}: a model with several inputs; this script feeds Fashion-MNIST images to one")
x, y = (torch.from_numpy(a) for a in images_and_labels(data, "t10k", spec["input"]))
with torch.no_grad():
    accuracy = (model(x).argmax(1) == y).float().mean().item()
print(f"{path} rebuilt in PyTorch from its spec: test accuracy {accuracy:.4f}")
