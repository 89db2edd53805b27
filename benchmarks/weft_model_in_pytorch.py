#!/usr/bin/python3
"""Rebuilds a weft model file (written by `weft train --out`) as a PyTorch network from the spec
stored in the file, copies its weights and batch-norm running statistics, and runs it in PyTorch's
eval mode. Matching weft shows that weft's tensors, layouts and evaluation semantics (batch_norm's
running estimates and eps, inverted dropout, the graph's merges) are PyTorch's.

    weft_model_in_pytorch.py MODEL.h5 [DATA_DIR]
        the test accuracy on Fashion-MNIST's t10k images (DATA_DIR: its IDX folder), to set
        next to `weft evaluate`'s;
    weft_model_in_pytorch.py MODEL.h5 DATA.h5 [--input NAME=DATASET ...] [--compare PREDICTIONS.csv]
        (or INPUT.csv) the outputs for the samples `weft predict --input` would read, prepared the
        same way (examples/python/weft_numpy.py's loader: the stored dataset mapping of a model
        with several inputs, --input overriding it), printed or checked against `weft predict`'s
        CSV within --tolerance (exit 1 beyond it).

A model with several named inputs becomes a module whose forward takes one tensor per input, in
the model's order (by name). The network comes from weft_spec_in_pytorch.py (the layers it
handles are listed there). Needs Debian's python3-torch and python3-h5py.
"""
import json
import os
import sys

import h5py
import torch

from idx_data import FASHION_MNIST, images_and_labels
from weft_spec_in_pytorch import network
from weft_weights import load_into, tensors_in

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "python"))
import weft_numpy  # noqa: E402 (the loader and the comparison, shared with the NumPy rebuild)


def rebuilt(f, spec):
    """The PyTorch network of spec with the file's weights and buffers, in eval mode."""
    model, modules = network(spec)
    load_into(spec, modules, tensors_in(f))
    return model.eval()


def main():
    args = weft_numpy.arguments(__doc__.split("\n")[0], default_input=FASHION_MNIST)
    with h5py.File(args.model, "r") as f:
        spec = json.loads(f.attrs["spec"])
        model = rebuilt(f, spec)
        if os.path.isdir(args.input):
            if "input" not in spec:
                sys.exit(f"{args.model}: a model with several inputs; give its HDF5 file (DATA.h5 --input NAME=DATASET)")
            x, y = (torch.from_numpy(a) for a in images_and_labels(args.input, "t10k", spec["input"]))
            with torch.no_grad():
                accuracy = (model(x).argmax(1) == y).float().mean().item()
            print(f"{args.model} rebuilt in PyTorch from its spec: test accuracy {accuracy:.4f}")
            return 0
        inputs = weft_numpy.load_inputs(f, spec, args.input, args.datasets)
    with torch.no_grad():  # float32, as weft computes
        y = model(*(torch.from_numpy(x).float() for x in inputs.values())).double().numpy()
    return weft_numpy.report(weft_numpy.probabilities(spec, y), args.compare, args.tolerance, "PyTorch")


if __name__ == "__main__":
    sys.exit(main())
