#!/usr/bin/python3
"""Loads a fashion_cnn model file written by `weft train --out` into the same network built in
PyTorch and evaluates it on the Fashion-MNIST test set: the same accuracy (to float rounding)
shows that weft's conv and dense weights use PyTorch's layouts and semantics. With --train, also
trains the PyTorch network with weft's settings (Adam 1e-3, batch 128) for the given epochs.
Usage: benchmarks/fashion_cnn_in_pytorch.py MODEL.h5 [DATA_DIR] [--train EPOCHS]
Needs Debian's python3-torch and python3-h5py.
"""
import gzip
import json
import sys

import h5py
import numpy as np
import torch

path = sys.argv[1]
data = sys.argv[2] if len(sys.argv) > 2 and not sys.argv[2].startswith("--") else "/usr/share/datasets/fashion-mnist"
train_epochs = int(sys.argv[sys.argv.index("--train") + 1]) if "--train" in sys.argv else 0


def idx(name):
    with gzip.open(f"{data}/{name}.gz") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def network():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(1600, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


x_test = torch.from_numpy(idx("t10k-images-idx3-ubyte").astype(np.float32) / 255).unsqueeze(1)
y_test = torch.from_numpy(idx("t10k-labels-idx1-ubyte").astype(np.int64))

model = network()
with h5py.File(path, "r") as f:
    # The file's conv and dense layers, in order, are the network's modules 0, 3, 7 and 9 (their
    # names depend on whether the spec fuses relu into them).
    weighted = [layer["name"] for layer in json.loads(f.attrs["spec"])["layers"] if layer["type"] in ("conv2d", "dense")]
    for i, name in zip((0, 3, 7, 9), weighted):
        model[i].weight.data = torch.from_numpy(f[f"weights/{name}/weight"][()])
        model[i].bias.data = torch.from_numpy(f[f"weights/{name}/bias"][()])
print(f"weft's weights in PyTorch: test accuracy {accuracy(model, x_test, y_test):.4f}")

if train_epochs:
    torch.manual_seed(1)
    torch.set_num_threads(2)
    x_train = torch.from_numpy(idx("train-images-idx3-ubyte").astype(np.float32) / 255).unsqueeze(1)
    y_train = torch.from_numpy(idx("train-labels-idx1-ubyte").astype(np.int64))
    model = network()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(train_epochs):
        order = torch.randperm(len(x_train))
        for start in range(0, len(order), 128):
            batch = order[start:start + 128]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x_train[batch]), y_train[batch]).backward()
            opt.step()
        print(f"PyTorch epoch {epoch + 1}: test accuracy {accuracy(model, x_test, y_test):.4f}")
