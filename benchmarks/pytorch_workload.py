#!/usr/bin/python3
"""The PyTorch side of benchmarks/compare: one measurement of a weft model spec built in PyTorch
(weft_spec_in_pytorch.py), with cross-entropy and the spec's Adam learning rate, printed as one
JSON line. benchmarks/compare runs it as a fresh process per measurement, with the thread split
under test in the environment (OMP_NUM_THREADS for PyTorch's own OpenMP threads, OPENBLAS_NUM_THREADS
/ MKL_NUM_THREADS for its BLAS) before torch is imported.

  speed SPEC BATCH STEPS INFER_STEPS   training samples/s over STEPS Adam steps after 3 warm-up
                                       steps on one fixed batch of uniform [0, 1) inputs and random
                                       labels (as benchmarks/training_step_bench does for weft); with
                                       INFER_STEPS > 0 also inference samples/s at batch 1000
  accuracy SPEC BATCH EPOCHS DATA_DIR  trains EPOCHS epochs of Fashion-MNIST (shuffled, seed 1) and
                                       prints the test accuracy
"""
import json
import os
import sys
import time

import torch

from idx_data import images_and_labels
from weft_spec_in_pytorch import network

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
torch.set_num_interop_threads(1)
torch.manual_seed(1)


def build(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    net, _ = network(spec)
    optimizer = spec.get("optimizer", {})
    lr = optimizer.get("lr", 1e-3) if isinstance(optimizer, dict) else 1e-3
    return spec, net, torch.optim.Adam(net.parameters(), lr=lr)


def train_step(net, opt, x, y):
    opt.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(net(x), y)
    loss.backward()
    opt.step()
    return loss


def speed(spec_path, batch, steps, infer_steps):
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


def accuracy(spec_path, batch, epochs, data):
    spec, net, opt = build(spec_path)
    x_train, y_train = (torch.from_numpy(a) for a in images_and_labels(data, "train", spec["input"]))
    x_test, y_test = (torch.from_numpy(a) for a in images_and_labels(data, "t10k", spec["input"]))
    order_rng = torch.Generator().manual_seed(1)
    for _ in range(epochs):
        order = torch.randperm(len(x_train), generator=order_rng)
        for begin in range(0, len(order), batch):
            chosen = order[begin:begin + batch]
            train_step(net, opt, x_train[chosen], y_train[chosen])
    net.eval()
    with torch.no_grad():
        hits = sum((net(x_test[i:i + 1000]).argmax(1) == y_test[i:i + 1000]).sum().item() for i in range(0, len(x_test), 1000))
    return {"accuracy": hits / len(x_test)}


if __name__ == "__main__":
    mode, spec_path, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "speed":
        print(json.dumps(speed(spec_path, batch, int(sys.argv[4]), int(sys.argv[5]))))
    elif mode == "accuracy":
        print(json.dumps(accuracy(spec_path, batch, int(sys.argv[4]), sys.argv[5])))
    else:
        raise SystemExit(f"unknown mode {mode!r}: speed or accuracy")
