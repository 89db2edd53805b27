#!/usr/bin/python3
"""Checks that the PyTorch rebuild benchmarks/compare trains computes what weft computes, step by
step. `weft train` runs on the first SAMPLES Fashion-MNIST training images (default 1,000: 7 full
batches of 128 and a partial one of 104) for EPOCHS epochs, writing a checkpoint after every
step. For each step k, PyTorch starts from weft's state before it (the initial weights of
build/benchmarks/initial_model for k = 1, else checkpoint k − 1: weights and Adam's moments),
takes one step (pytorch_workload.py's train_step) on the batch weft took (weft_order.py), and its
weights are compared with checkpoint k. A difference in the model, the input scaling, the loss or
its batch mean, Adam's rule or settings, the order or the last partial batch moves most weights
apart by about the learning rate (Adam moves each by ≈ lr per step); float rounding moves almost
none by a tenth of it. Starting every step from weft's state keeps the one-step comparison exact:
over many steps, rounding alone makes the runs drift apart (a ReLU input within rounding of 0
switches one way in one framework and the other way in the other, and Adam's steps, about lr
whatever the gradient's size, carry that into the weights of pixels only that image has).
The control run takes PyTorch's own shuffle instead of weft's and must fail.

Usage: benchmarks/same_steps_check.py [--build DIR] [--samples N] [--batch B] [--epochs E]
                                      [--seed S] MODEL.json...
Prints per model the share of weights that differ by more than lr / 10 after a step (over all
steps) and the largest difference in learning rates, for weft's order and for the control; exits
1 unless weft's order gives a share below 1e-3 and the control one above 0.1.
Needs Debian's python3-torch and python3-h5py.
"""
import argparse
import gzip
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch

from idx_data import FASHION_MNIST, images_and_labels, read_idx
from pytorch_workload import optimizer_for, train_step
from weft_order import shuffled_indices
from weft_spec_in_pytorch import network
from weft_weights import load_into, read_model_file

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_idx(path, array):
    """array (uint8) as an IDX file (big-endian header: 0, 0, type 0x08, rank; then each extent)."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with open(path, "wb") as f:
        f.write(header + array.tobytes())


def subset_folder(folder, samples):
    """An IDX folder with the first `samples` training images and the whole test set."""
    for kind, ext in (("images", "idx3"), ("labels", "idx1")):
        write_idx(f"{folder}/train-{kind}-{ext}-ubyte", read_idx(FASHION_MNIST, f"train-{kind}-{ext}-ubyte")[:samples])
        with gzip.open(f"{FASHION_MNIST}/t10k-{kind}-{ext}-ubyte.gz") as source, \
                open(f"{folder}/t10k-{kind}-{ext}-ubyte", "wb") as out:
            out.write(source.read())


def read_state(path):
    """{"<layer>/<tensor>": (weight, exp_avg, exp_avg_sq)} of a checkpoint (no moments: None)."""
    with h5py.File(path, "r") as f:
        state = {}
        for layer, tensors in f["weights"].items():
            for name, values in tensors.items():
                moments = f.get(f"optimizer/{layer}/{name}")
                state[f"{layer}/{name}"] = (values[()], *((moments["exp_avg"][()], moments["exp_avg_sq"][()])
                                                          if moments is not None else (None, None)))
    return state


def one_step(spec, state, step, x, y):
    """PyTorch's weights after one Adam step (the step-th) on (x, y) from weft's state."""
    net, modules = network(spec)
    load_into(spec, modules, {k: w for k, (w, _, _) in state.items()})
    optimizer = optimizer_for(spec, net.parameters())
    by_name = {layer["name"]: module for layer, module in zip(spec["layers"], modules)}
    for key, (_, m, v) in state.items():
        if m is not None:
            layer, name = key.rsplit("/", 1)
            p = getattr(by_name[layer], name)
            optimizer.state[p] = {"step": torch.tensor(float(step - 1)), "exp_avg": torch.from_numpy(m).reshape(p.shape),
                                  "exp_avg_sq": torch.from_numpy(v).reshape(p.shape)}
    train_step(net, optimizer, x, y)
    return {f"{layer['name']}/{name}": p.detach().numpy().ravel()
            for layer, module in zip(spec["layers"], modules) for name, p in module.named_parameters(recurse=False)}


def compare(spec, states, x, y, a, order):
    """(share of weights off by more than lr / 10, largest difference in lr) over every step."""
    lr, n = spec["optimizer"]["lr"], len(x)
    rng = torch.Generator().manual_seed(a.seed)
    batches = -(-n // a.batch)
    off, total, largest = 0, 0, 0.0
    for epoch in range(a.epochs):
        visit = torch.from_numpy(shuffled_indices(n, a.seed, epoch)) if order == "weft" else torch.randperm(n, generator=rng)
        for b in range(batches):
            step = epoch * batches + b + 1
            chosen = visit[b * a.batch:(b + 1) * a.batch]
            mine = one_step(spec, states[step - 1], step, x[chosen], y[chosen])
            for key, values in mine.items():
                d = np.abs(states[step][key][0].ravel() - values) / lr
                off, total, largest = off + int((d > 0.1).sum()), total + d.size, max(largest, float(d.max()))
    return off / total, largest


def check(model_path, a, folder):
    name = os.path.basename(model_path)
    init, checkpoints = f"{folder}/{name}.init.h5", f"{folder}/{name}.checkpoints"
    subprocess.run([f"{a.build}/benchmarks/initial_model", model_path, str(a.seed), init], check=True)
    subprocess.run([f"{a.build}/examples/weft", "train", model_path, "--data", folder, "--epochs", str(a.epochs),
                    "--batch", str(a.batch), "--seed", str(a.seed), "--threads", "1", "--progress", "plain",
                    "--checkpoint-dir", checkpoints, "--checkpoint-every", "1"], check=True, stdout=subprocess.DEVNULL)
    spec, _ = read_model_file(init)
    steps = a.epochs * -(-a.samples // a.batch)
    states = [read_state(init)] + [read_state(f"{checkpoints}/step-{k:08d}.h5") for k in range(1, steps + 1)]
    x, y = (torch.from_numpy(v) for v in images_and_labels(folder, "train", spec["input"]))
    same, control = compare(spec, states, x, y, a, "weft"), compare(spec, states, x, y, a, "torch")
    print(f"{name}: {steps} steps; weights off by more than lr/10 after a step (largest difference in lr): "
          f"weft's order {same[0]:.2g} ({same[1]:.3g}), control in PyTorch's own order {control[0]:.2g} ({control[1]:.3g})")
    return same[0] < 1e-3 and control[0] > 0.1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("models", nargs="+")
    p.add_argument("--build", default=f"{SOURCE}/build")
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="weft-same-steps-") as folder:
        subset_folder(folder, a.samples)
        results = [check(m, a, folder) for m in a.models]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
