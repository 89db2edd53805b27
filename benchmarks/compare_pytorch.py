#!/usr/bin/python3
"""Side-by-side training-step speed of weft and PyTorch (CPU) for examples/models/fashion_mlp.json.

Runs build/benchmarks/training_step_bench (Google Benchmark) and the same model, optimizer and
batch in PyTorch, alternating, each several times, and prints the medians and their ratio.
Usage: benchmarks/compare_pytorch.py [BUILD_DIR] [REPETITIONS]
Needs Debian's python3-torch (scripts/setup python3-torch).
"""
import json
import statistics
import subprocess
import sys
import time

import torch

build = sys.argv[1] if len(sys.argv) > 1 else "build"
repetitions = int(sys.argv[2]) if len(sys.argv) > 2 else 5


def weft_step_ms(threads):
    out = subprocess.run(
        [f"{build}/benchmarks/training_step_bench", f"--benchmark_filter=BM_FashionMlpStep/{threads}/",
         "--benchmark_format=json", "--benchmark_min_time=1"],
        check=True, capture_output=True, text=True).stdout
    bench = json.loads(out)["benchmarks"][0]
    return bench["real_time"] * {"ms": 1, "us": 1e-3, "ns": 1e-6}[bench["time_unit"]]


def torch_step_ms(threads, steps=100):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256),
                                torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    x, y = torch.rand(128, 784), torch.randint(0, 10, (128,))
    for _ in range(10):  # warm-up
        opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    start = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    return (time.perf_counter() - start) / steps * 1e3


print(f"fashion_mlp training step, batch 128; medians of {repetitions} alternating runs")
print(f"{'threads':>7} {'weft ms':>9} {'torch ms':>9} {'torch/weft':>10} {'weft samples/s':>15}")
for threads in (1, 2):
    w, t = [], []
    for _ in range(repetitions):
        w.append(weft_step_ms(threads))
        t.append(torch_step_ms(threads))
    mw, mt = statistics.median(w), statistics.median(t)
    print(f"{threads:>7} {mw:>9.2f} {mt:>9.2f} {mt / mw:>10.2f} {128 / mw * 1e3:>15.0f}")
