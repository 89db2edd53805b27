"""Reads IDX files (Fashion-MNIST's format) as numpy arrays, for the PyTorch side of the comparisons."""
import gzip
import os
import struct

import numpy as np

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


def read_idx(folder, name):
    """folder/name.gz (or folder/name) as a uint8 array of the shape its header gives."""
    path = f"{folder}/{name}.gz"
    raw = gzip.open(path).read() if os.path.exists(path) else open(f"{folder}/{name}", "rb").read()
    rank = raw[3]
    shape = struct.unpack(f">{rank}I", raw[4:4 + 4 * rank])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * rank).reshape(shape)


def images_and_labels(folder, part, input_shape):
    """part "train" or "t10k": float32 images scaled to [0, 1] as (n, *input_shape), int64 labels.
    Scaled as weft's IDX reader does (io/idx.cpp), times the float 1/255, for the same bits."""
    x = read_idx(folder, f"{part}-images-idx3-ubyte").astype(np.float32) * np.float32(1 / 255)
    y = read_idx(folder, f"{part}-labels-idx1-ubyte").astype(np.int64)
    return x.reshape([-1] + list(input_shape)), y
