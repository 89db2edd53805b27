#!/usr/bin/python3
"""Training speed from an HDF5 file streamed from disk versus read whole, on fashion_mlp.

Writes Fashion-MNIST's training set as HDF5 (h5py: "features" uint8 (60000, 784), "labels"
(60000,)), then trains examples/models/fashion_mlp.json for one epoch from it, alternating
in memory (the file fits the default budget) and streamed (--stream --memory-budget 16: windows
of 5,343 rows, 12 windows), and prints the median training samples/s of each and their ratio.
Both runs scale the bytes by 1/255 (streamed: per window, inside the timed epoch).
Usage: benchmarks/stream_vs_memory.py [BUILD_DIR] [REPETITIONS] [THREADS]
"""
import gzip
import os
import re
import statistics
import subprocess
import sys
import tempfile

import h5py
import numpy as np

build = sys.argv[1] if len(sys.argv) > 1 else "build"
repetitions = int(sys.argv[2]) if len(sys.argv) > 2 else 3
threads = sys.argv[3] if len(sys.argv) > 3 else "2"
source = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
data = "/usr/share/datasets/fashion-mnist"


def idx(name, offset):
    with gzip.open(f"{data}/{name}", "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def samples_per_second(path, extra):
    out = subprocess.run(
        [f"{build}/examples/weft", "train", f"{source}/examples/models/fashion_mlp.json", "--data", path,
         "--epochs", "1", "--threads", threads, "--seed", "1", "--progress", "plain",
         "--normalize", "scale:0.00392156862745098"] + extra,
        check=True, capture_output=True, text=True).stdout
    return float(re.search(r"epoch 1/1 .* (\d+) samples/s", out).group(1)), out


with tempfile.TemporaryDirectory() as tmp:
    path = f"{tmp}/fashion.h5"
    with h5py.File(path, "w") as f:
        f["features"] = idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784)
        f["labels"] = idx("train-labels-idx1-ubyte.gz", 8)
    memory, streamed = [], []
    for _ in range(repetitions):
        memory.append(samples_per_second(path, [])[0])
        rate, out = samples_per_second(path, ["--stream", "--memory-budget", "16"])
        streamed.append(rate)
    print(re.search(r"streaming .*", out).group(0))
    m, s = statistics.median(memory), statistics.median(streamed)
    print(f"in memory: {m:.0f} samples/s (runs {memory})")
    print(f"streamed:  {s:.0f} samples/s (runs {streamed})")
    print(f"streamed / in memory: {s / m:.3f}")
