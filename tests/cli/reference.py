"""What a `weft train` run should produce, worked out with NumPy, for the CLI tests.

The reference model is one dense layer (the "fc" layer of the specs below) trained by plain SGD
with the training loop README.md documents: batches in file order (the spec turns shuffling
off), K accumulated batches weighted by their share of the step's samples, L2-norm clipping
with PyTorch's 1e-6, then value clipping, a learning rate per epoch. Everything is computed in
float64 from the data the test wrote, never from anything weft printed or saved, so a weft run
that agrees with it to float32 rounding did what its flags say.

Also: writers for the small datasets (IDX with float32 features, CSV, HDF5) and readers for the
saved weights, shared by the tests in this folder.
"""
import json
import math
import struct
import subprocess
import sys

import h5py
import numpy as np


def check(condition, message):
    if not condition:
        sys.exit("FAIL: " + message)


def run(weft, *args, expect_ok=True):
    """Runs weft; returns (stdout, stderr). A failure that was not expected ends the test."""
    p = subprocess.run([weft, *map(str, args)], capture_output=True, text=True)
    if expect_ok and p.returncode != 0:
        sys.exit(f"FAIL: weft {' '.join(map(str, args))} exited {p.returncode}:\n{p.stdout}{p.stderr}")
    if not expect_ok and p.returncode == 0:
        sys.exit(f"FAIL: weft {' '.join(map(str, args))} succeeded; it should have failed")
    return p.stdout, p.stderr


# --- data ---------------------------------------------------------------------------------

def grid_values(rng, shape):
    """Random multiples of 1/64 in [-4, 4): exact in float32 and in a CSV's decimal text, so
    every reader of the same numbers sees the same bits."""
    return rng.integers(-256, 256, size=shape) / 64.0


def classes(x, k, rng):
    """Labels 0..k-1 from a random linear rule, so a linear model can learn them."""
    return np.argmax(x @ rng.normal(size=(x.shape[1], k)), axis=1)


def write_idx(path, array, type_code):
    """IDX: two zero bytes, the element type, the rank, big-endian sizes, big-endian data."""
    formats = {0x08: ">u1", 0x0D: ">f4"}
    with open(path, "wb") as f:
        f.write(bytes([0, 0, type_code, array.ndim]))
        f.write(struct.pack(f">{array.ndim}I", *array.shape))
        f.write(np.asarray(array, dtype=formats[type_code]).tobytes())


def write_idx_folder(folder, train_x, train_y, test_x, test_y):
    """An IDX folder whose t10k part (the test set) is weft's validation data. Features are
    float32 images of one row, so they are used as they are (bytes would be scaled by 1/255)."""
    import os
    os.makedirs(folder, exist_ok=True)
    for prefix, x, y in (("train", train_x, train_y), ("t10k", test_x, test_y)):
        write_idx(f"{folder}/{prefix}-images-idx3-ubyte", x.reshape(len(x), 1, -1), 0x0D)
        write_idx(f"{folder}/{prefix}-labels-idx1-ubyte", y, 0x08)


def write_csv(path, columns, names):
    """columns: a list of 1-d arrays (numbers or strings), written in that order under `names`."""
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for row in zip(*columns):
            f.write(",".join(v if isinstance(v, str) else repr(float(v)) for v in row) + "\n")


def linear_spec(path, inputs, outputs, loss, lr=0.1, training=None):
    """A one-layer model ("fc", zero-initialised, so the reference needs no weft RNG) with SGD."""
    spec = {"input": [inputs],
            "layers": [{"type": "dense", "units": outputs, "name": "fc", "init": "zeros", "bias_init": "zeros"}],
            "loss": loss, "optimizer": {"type": "sgd", "lr": lr},
            "training": {"shuffle": False, **(training or {})}}
    with open(path, "w") as f:
        json.dump(spec, f)


def weights(path, layer="fc"):
    with h5py.File(path) as f:
        return f[f"weights/{layer}/weight"][...].astype(np.float64), f[f"weights/{layer}/bias"][...].astype(np.float64)


def read_log(path):
    """The --log CSV as (columns, {column: float array}); empty fields are NaN."""
    with open(path) as f:
        lines = f.read().splitlines()
    columns = lines[0].split(",")
    rows = [[float(v) if v else math.nan for v in line.split(",")] for line in lines[1:] if line]
    return columns, {c: np.array([r[i] for r in rows]) for i, c in enumerate(columns)}


def close(a, b, tolerance=2e-5):
    """Equal to float32 rounding accumulated over a few dozen steps, relative to the scale."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and np.max(np.abs(a - b), initial=0) <= tolerance * max(1.0, np.max(np.abs(b), initial=0))


# --- the reference training loop -------------------------------------------------------------

def loss_and_gradient(w, b, x, y, loss):
    """Mean loss of the batch and its gradients, PyTorch's definitions (cross_entropy on logits
    with integer labels, mse over every output element); also how many predictions were right."""
    z = x @ w.T + b
    if loss == "cross_entropy":
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        value = -np.mean(np.log(p[np.arange(len(y)), y]))
        dz = p.copy()
        dz[np.arange(len(y)), y] -= 1
        dz /= len(y)
        correct = int(np.sum(np.argmax(z, axis=1) == y))
    else:
        d = z - y.reshape(z.shape)
        value = np.mean(d * d)
        dz = 2 * d / d.size
        correct = 0
    return value, dz.T @ x, dz.sum(axis=0), correct


def evaluate(w, b, x, y, loss):
    """The validation metrics weft's log reports for these outputs."""
    value, _, _, correct = loss_and_gradient(w, b, x, y, loss)
    out = {"val_loss": value}
    if loss == "cross_entropy":
        z = x @ w.T + b
        out["val_accuracy"] = correct / len(y)
        if z.shape[1] > 5:  # top-5 accuracy: the label's logit among the five largest
            higher = (z > z[np.arange(len(y)), y][:, None]).sum(axis=1)
            out["val_top5_accuracy"] = np.mean(higher < 5)
    else:
        d = (x @ w.T + b) - y.reshape(len(y), -1)
        out["val_mse"] = np.mean(d * d)
        out["val_mae"] = np.mean(np.abs(d))
    return out


def train(x, y, *, loss, lr, batch, epochs, accumulate=1, clip_norm=0.0, clip_value=0.0, rate=None, w=None, b=None,
          outputs=None, validation=None):
    """SGD as weft documents it. Returns the final (w, b), the per-epoch history (what --log
    should hold, timings aside) and the largest gradient L2 norm and element seen before clipping
    (so a test can tell that clipping had something to do)."""
    n, inputs = x.shape
    outputs = outputs or (int(y.max()) + 1 if loss == "cross_entropy" else 1)
    w = np.zeros((outputs, inputs)) if w is None else w.copy()
    b = np.zeros(outputs) if b is None else b.copy()
    batch = batch or n
    batches = math.ceil(n / batch)
    history, largest_norm, largest_element = [], 0.0, 0.0
    for epoch in range(epochs):
        lr_now = rate(epoch) if rate else lr
        step_losses, correct = [], 0
        for first in range(0, batches, accumulate):
            group = range(first, min(first + accumulate, batches))
            begin, end = group[0] * batch, min(n, (group[-1] + 1) * batch)
            gw, gb, step_loss = np.zeros_like(w), np.zeros_like(b), 0.0
            for k in group:
                xs, ys = x[k * batch:min(n, (k + 1) * batch)], y[k * batch:min(n, (k + 1) * batch)]
                share = 1.0 if len(group) == 1 else len(xs) / (end - begin)
                value, dw, db, right = loss_and_gradient(w, b, xs, ys, loss)
                gw, gb, step_loss, correct = gw + share * dw, gb + share * db, step_loss + share * value, correct + right
            norm = math.sqrt(np.sum(gw * gw) + np.sum(gb * gb))
            largest_norm = max(largest_norm, norm)
            largest_element = max(largest_element, np.max(np.abs(gw)), np.max(np.abs(gb)))
            if clip_norm and norm > clip_norm:
                gw, gb = gw * (clip_norm / (norm + 1e-6)), gb * (clip_norm / (norm + 1e-6))
            if clip_value:
                gw, gb = np.clip(gw, -clip_value, clip_value), np.clip(gb, -clip_value, clip_value)
            w, b = w - lr_now * gw, b - lr_now * gb
            step_losses.append(step_loss)
        row = {"epoch": epoch + 1, "loss": np.mean(step_losses), "lr": lr_now}
        if loss == "cross_entropy":
            row["accuracy"] = correct / n
        if validation is not None:
            row.update(evaluate(w, b, *validation, loss))
        history.append(row)
    return {"w": w, "b": b, "history": history, "largest_norm": largest_norm, "largest_element": largest_element}
