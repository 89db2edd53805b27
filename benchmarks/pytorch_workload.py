#!/usr/bin/python3
"""The PyTorch side of benchmarks/compare: one measurement of a weft model spec built in PyTorch
(weft_spec_in_pytorch.py), with mean cross-entropy and the spec's Adam settings (weft's defaults for
those unset: the same as torch.optim.Adam's), printed as one JSON line. benchmarks/compare runs it
as a fresh process per measurement, with the thread split under test in the environment
(OMP_NUM_THREADS for PyTorch's own OpenMP threads, OPENBLAS_NUM_THREADS / MKL_NUM_THREADS for its
BLAS) before torch is imported.

  speed SPEC BATCH STEPS INFER_STEPS   training samples/s over STEPS Adam steps after 3 warm-up
                                       steps on one fixed batch of uniform [0, 1) inputs and random
                                       labels (as benchmarks/training_step_bench does for weft); with
                                       INFER_STEPS > 0 also inference samples/s at batch 1000
  accuracy SPEC BATCH EPOCHS DATA_DIR SEED [--init INIT.npz] [--order torch|weft]
                                       trains EPOCHS epochs of Fashion-MNIST and prints the test
                                       accuracy. Like `weft train`: images times 1/255, each epoch
                                       a shuffle, batches of BATCH with the last partial batch kept,
                                       one Adam step per batch on the batch's mean loss. The shuffle
                                       is torch.randperm seeded SEED (--order torch, the default) or
                                       the very order `weft train --seed SEED` takes (--order weft,
                                       weft_order.py). Starts from the weights in INIT.npz
                                       (weft_weights.py: weft's initial draw for the seed, from
                                       benchmarks/initial_model) when given, else from PyTorch's own
                                       draw by the spec's initializers.
"""
import argparse
import json
import os
import sys
import time

import torch

from idx_data import images_and_labels
from weft_order import shuffled_indices
from weft_spec_in_pytorch import network
from weft_weights import load_into, read_npz

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
torch.set_num_interop_threads(1)


# weft's Adam settings and defaults (modules/optimizers/adam.cpp), as torch.optim.Adam's arguments.
ADAM_DEFAULTS = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False}


def optimizer_for(spec, parameters):
    """torch.optim.Adam (or AdamW) with the spec's settings; other optimizers stop with a message."""
    settings = spec.get("optimizer", {"type": "adam"})
    settings = {"type": settings} if isinstance(settings, str) else settings
    kind = settings.get("type")
    if kind not in ("adam", "adamw"):
        raise SystemExit(f"optimizer {kind!r}: pytorch_workload.py handles adam and adamw")
    s = dict(ADAM_DEFAULTS, weight_decay=0.01 if kind == "adamw" else 0.0)
    s.update({k: v for k, v in settings.items() if k != "type"})
    unknown = set(s) - set(ADAM_DEFAULTS)
    if unknown:
        raise SystemExit(f"optimizer {kind}: settings {sorted(unknown)} have no PyTorch counterpart here")
    adam = torch.optim.AdamW if kind == "adamw" else torch.optim.Adam
    return adam(parameters, lr=s["lr"], betas=(s["beta1"], s["beta2"]), eps=s["eps"], weight_decay=s["weight_decay"],
                amsgrad=s["amsgrad"])


def build(spec_path, init_path=None):
    """(spec, network, optimizer); with init_path, the network holds that file's weights (its
    stored spec must describe the same layers)."""
    with open(spec_path) as f:
        spec = json.load(f)
    net, modules = network(spec)
    if init_path:
        stored, tensors = read_npz(init_path)
        if [layer["type"] for layer in stored["layers"]] != [layer["type"] for layer in spec["layers"]]:
            raise SystemExit(f"{init_path}: its layers are not those of {spec_path}")
        load_into(stored, modules, tensors)
    return spec, net, optimizer_for(spec, net.parameters())


def train_step(net, opt, x, y):
    opt.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(net(x), y)
    loss.backward()
    opt.step()
    return loss


def speed(spec_path, batch, steps, infer_steps):
    torch.manual_seed(1)
    spec, net, opt = build(spec_path)
    x, y = torch.rand([batch] + spec["input"]), torch.randint(0, 10, (batch,))
    for _ in range(3):
        train_step(net, opt, x, y)
    start = time.perf_counter()
    for _ in range(steps):
        train_step(net, opt, x, y)
    result = {"train": batch * steps / (time.perf_counter() - start)}
    if infer_steps:
        net.eval()
        x = torch.rand([1000] + spec["input"])
        with torch.no_grad():
            for _ in range(2):
                net(x)
            start = time.perf_counter()
            for _ in range(infer_steps):
                net(x)
            result["infer"] = 1000 * infer_steps / (time.perf_counter() - start)
    return result


def train_epochs(net, opt, x, y, batch, epochs, seed, order):
    """Trains as `weft train` does (see the module's docstring), in `order`'s shuffle."""
    order_rng = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        if order == "weft":
            visit = torch.from_numpy(shuffled_indices(len(x), seed, epoch))
        else:
            visit = torch.randperm(len(x), generator=order_rng)
        for begin in range(0, len(visit), batch):  # the last, partial batch too, as weft
            chosen = visit[begin:begin + batch]
            train_step(net, opt, x[chosen], y[chosen])


def accuracy(spec_path, batch, epochs, data, seed, init_path=None, order="torch"):
    torch.manual_seed(seed)
    spec, net, opt = build(spec_path, init_path)
    x_train, y_train = (torch.from_numpy(a) for a in images_and_labels(data, "train", spec["input"]))
    x_test, y_test = (torch.from_numpy(a) for a in images_and_labels(data, "t10k", spec["input"]))
    train_epochs(net, opt, x_train, y_train, batch, epochs, seed, order)
    net.eval()
    with torch.no_grad():
        hits = sum((net(x_test[i:i + 1000]).argmax(1) == y_test[i:i + 1000]).sum().item() for i in range(0, len(x_test), 1000))
    return {"accuracy": hits / len(x_test)}


if __name__ == "__main__":
    mode, spec_path, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "speed":
        print(json.dumps(speed(spec_path, batch, int(sys.argv[4]), int(sys.argv[5]))))
    elif mode == "accuracy":
        p = argparse.ArgumentParser(prog="pytorch_workload.py accuracy")
        for name, kind in (("spec", str), ("batch", int), ("epochs", int), ("data", str), ("seed", int)):
            p.add_argument(name, type=kind)
        p.add_argument("--init", help="start from the weights in this .npz (weft_weights.py)")
        p.add_argument("--order", choices=("torch", "weft"), default="torch", help="whose shuffle to follow")
        a = p.parse_args(sys.argv[2:])
        print(json.dumps(accuracy(a.spec, a.batch, a.epochs, a.data, a.seed, a.init, a.order)))
    else:
        raise SystemExit(f"unknown mode {mode!r}: speed or accuracy")
