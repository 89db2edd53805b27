#!/usr/bin/python3
"""The tensors of a weft model file (`weft train --out`, build/benchmarks/initial_model) and their
loading into the PyTorch network weft_spec_in_pytorch.py builds from the same spec: the one loader
of pytorch_workload.py (benchmarks/compare) and weft_model_in_pytorch.py.

As a script it converts a model file into a NumPy .npz (the stored spec as "spec", every tensor as
"<layer>/<tensor>"), so that pytorch_workload.py starts from weft's weights with NumPy alone: h5py
in the measured process would add to the peak memory benchmarks/compare reports for PyTorch.
Usage: benchmarks/weft_weights.py MODEL.h5 OUT.npz   (needs Debian's python3-h5py)
"""
import json
import sys

import numpy as np
import torch


def tensors_in(f):
    """{"<layer>/<tensor>": array} of an open weft model file (h5py.File): parameters and buffers."""
    return {f"{layer}/{name}": values[()] for group in ("weights", "buffers") if group in f
            for layer, members in f[group].items() for name, values in members.items()}


def read_model_file(path):
    """(the stored spec, tensors_in(the file)) of a weft model file."""
    import h5py  # here, not at the top: readers of .npz files need no h5py

    with h5py.File(path, "r") as f:
        return json.loads(f.attrs["spec"]), tensors_in(f)


def read_npz(path):
    """What read_model_file returns, from the .npz this script writes."""
    with np.load(path) as f:
        return json.loads(str(f["spec"])), {k: f[k] for k in f.files if k != "spec"}


def load_into(spec, modules, tensors):
    """Copies every tensor into its layer's module (modules[i] is spec["layers"][i]'s, as
    weft_spec_in_pytorch.network returns them; weft stores PyTorch's layouts). Stops with a message
    when a tensor has no place or the wrong number of values, or a module's parameter gets none."""
    by_name = {layer["name"]: module for layer, module in zip(spec["layers"], modules)}
    loaded = set()
    for key, values in tensors.items():
        layer, name = key.rsplit("/", 1)
        target = getattr(by_name.get(layer), name, None)
        if not isinstance(target, torch.Tensor) or target.numel() != values.size:
            raise SystemExit(f"{key}: no PyTorch tensor of {values.size} values to load it into")
        with torch.no_grad():
            target.copy_(torch.from_numpy(np.ascontiguousarray(values)).reshape(target.shape))
        loaded.add((layer, name))
    for layer, module in by_name.items():
        for name, _ in module.named_parameters(recurse=False):
            if (layer, name) not in loaded:
                raise SystemExit(f"{layer}/{name}: the weft file has no such tensor; PyTorch would keep its own draw")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: weft_weights.py MODEL.h5 OUT.npz")
    spec, tensors = read_model_file(sys.argv[1])
    np.savez(sys.argv[2], spec=json.dumps(spec), **tensors)
