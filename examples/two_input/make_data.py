"""Builds the HDF5 files of the two-input example from Fashion-MNIST: each sample is the image
and a small table of 8 features measured on it, in two datasets of one file.

  images  (n, 1, 28, 28) float32, pixels scaled to [0, 1]
  meta    (n, 8) float32: ink mean, share of pixels above 0.5, bounding-box height and width,
          top-minus-bottom and left-minus-right ink, centroid row and column (all scaled to ~[0, 1])
  labels  (n,) int32, the class

Writes OUT/train.h5 (the training images) and OUT/test.h5 (the t10k images).
Usage: /usr/bin/python3 make_data.py --data /usr/share/datasets/fashion-mnist --out DIR [--train N --test N]"""
import argparse
import gzip
import os
import struct

import h5py
import numpy as np


def read_idx(path):
    """An IDX file of bytes (Fashion-MNIST's images or labels) as an array."""
    with gzip.open(path) as f:
        rank = f.read(4)[3]
        shape = struct.unpack(f">{rank}I", f.read(4 * rank))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(shape)


def features(images):
    """The 8 table features of each image (n, 28, 28) in [0, 1]."""
    n = len(images)
    rows = np.arange(28, dtype=np.float32)
    ink = images.sum(axis=(1, 2)) + 1e-6
    inked = images > 0.2
    any_row, any_col = inked.any(axis=2), inked.any(axis=1)

    def extent(mask):  # rows (or columns) from the first to the last inked one, over 28
        first = np.where(mask.any(axis=1), mask.argmax(axis=1), 0)
        last = np.where(mask.any(axis=1), 27 - mask[:, ::-1].argmax(axis=1), -1)
        return (last - first + 1) / 28.0

    return np.stack([
        images.mean(axis=(1, 2)),
        (images > 0.5).mean(axis=(1, 2)),
        extent(any_row),
        extent(any_col),
        (images[:, :14].sum(axis=(1, 2)) - images[:, 14:].sum(axis=(1, 2))) / ink,
        (images[:, :, :14].sum(axis=(1, 2)) - images[:, :, 14:].sum(axis=(1, 2))) / ink,
        (images.sum(axis=2) * rows).sum(axis=1) / ink / 27.0,
        (images.sum(axis=1) * rows).sum(axis=1) / ink / 27.0,
    ], axis=1).astype(np.float32).reshape(n, 8)


def write(path, images, labels):
    x = images.astype(np.float32) / 255.0
    with h5py.File(path, "w") as f:
        f["images"] = x.reshape(len(x), 1, 28, 28)
        f["meta"] = features(x)
        f["labels"] = labels.astype(np.int32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist", help="the Fashion-MNIST IDX folder")
    parser.add_argument("--out", default=".", help="where to write train.h5 and test.h5")
    parser.add_argument("--train", type=int, default=0, help="use only the first N training images (0: all)")
    parser.add_argument("--test", type=int, default=0, help="use only the first N test images (0: all)")
    a = parser.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for part, count, name in (("train", a.train, "train.h5"), ("t10k", a.test, "test.h5")):
        images = read_idx(f"{a.data}/{part}-images-idx3-ubyte.gz")
        labels = read_idx(f"{a.data}/{part}-labels-idx1-ubyte.gz")
        keep = slice(0, count or len(images))
        write(os.path.join(a.out, name), images[keep], labels[keep])
        print(f"wrote {os.path.join(a.out, name)}: {len(images[keep])} samples (images, meta, labels)")


if __name__ == "__main__":
    main()
