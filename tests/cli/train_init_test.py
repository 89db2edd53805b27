"""weft train --init-from and --partial, by the weights they leave:
 1. --init-from a model of the same spec starts from its weights: the run equals reference.py's
    loop started from the weights read out of that file;
 2. a model whose head has another shape: refused without --partial (naming the tensor),
    with --partial the matching layer is copied (frozen here, so it must still hold the source's
    weights bit for bit after training) and the mismatched head is reported skipped;
 3. the same on a graph model with two named inputs, a fan-out and merge layers: tensors map by
    layer name (the target lists its layers in another order), and a renamed layer or a layer of
    another shape is refused without --partial, naming the tensor, and skipped with it.
Usage: train_init_test.py WEFT"""
import json
import os
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import check, close, linear_spec, run, train, weights, grid_values, write_idx_folder

weft = sys.argv[1]
os.chdir(tempfile.mkdtemp())
rng = np.random.default_rng(14)
x, xt = grid_values(rng, (64, 4)), grid_values(rng, (16, 4))
rule = rng.normal(size=(4, 3))
y, yt = np.argmax(x @ rule, axis=1), np.argmax(xt @ rule, axis=1)
write_idx_folder("data", x, y, xt, yt)
common = ["--data", "data", "--batch", 16, "--progress", "plain"]

# 1. Same spec: the second run continues from the first one's weights.
linear_spec("linear.json", 4, 3, "cross_entropy", lr=0.1)
run(weft, "train", "linear.json", *common, "--epochs", 2, "--out", "source.h5")
start_w, start_b = weights("source.h5")
check(np.max(np.abs(start_w)) > 0.01, "the source model is still at its zero initialisation")
out, _ = run(weft, "train", "linear.json", *common, "--epochs", 1, "--init-from", "source.h5", "--out", "continued.h5")
check("initialised 2 tensors from source.h5\n" in out, f"--init-from did not report 2 tensors:\n{out}")
want = train(x, y, loss="cross_entropy", lr=0.1, batch=16, epochs=1, w=start_w, b=start_b)
got = weights("continued.h5")
check(close(got[0], want["w"]) and close(got[1], want["b"]), "--init-from: not the reference loop started from source.h5")

# 2. A body of 5 units and a head of 3 (source) or 2 (target) classes.
def two_layer(path, classes, frozen_body):
    spec = {"input": [4],
            "layers": [{"type": "dense", "units": 5, "name": "body", "frozen": frozen_body}, {"type": "relu"},
                       {"type": "dense", "units": classes, "name": "head"}],
            "loss": "cross_entropy", "optimizer": {"type": "sgd", "lr": 0.1}}
    with open(path, "w") as f:
        json.dump(spec, f)


two_layer("three.json", 3, False)
two_layer("two.json", 2, True)
run(weft, "train", "three.json", *common, "--epochs", 1, "--seed", 1, "--out", "three.h5")
_, err = run(weft, "train", "two.json", *common, "--epochs", 1, "--init-from", "three.h5", "--seed", 2, expect_ok=False)
check("head/weight" in err and len(err.strip().splitlines()) == 1, f"strict --init-from did not name head/weight:\n{err}")
# The labels of data are 0..2; the 2-class model trains on the examples of classes 0 and 1.
keep = y < 2
write_idx_folder("binary", x[keep], y[keep], xt[yt < 2], yt[yt < 2])
common[1] = "binary"
out, _ = run(weft, "train", "two.json", *common, "--epochs", 1, "--init-from", "three.h5", "--partial", "--seed", 2,
             "--out", "partial.h5")
check("initialised 2 tensors from three.h5 (2 skipped)" in out, f"--partial did not report 2 loaded, 2 skipped:\n{out}")
run(weft, "train", "two.json", *common, "--epochs", 1, "--seed", 2, "--out", "fresh.h5")
with h5py.File("three.h5") as source, h5py.File("partial.h5") as partial, h5py.File("fresh.h5") as fresh:
    for name in ("weights/body/weight", "weights/body/bias"):
        check(partial[name][...].tobytes() == source[name][...].tobytes(), f"--partial did not copy {name}")
        check(fresh[name][...].tobytes() != source[name][...].tobytes(), f"{name}: the fresh model equals the source anyway")

# 3. A graph: the image through conv, batch_norm, relu and pooling; the table through a dense
# layer; their sum (the meta branch broadcast when it has one unit) concatenated with the table
# again. Frozen layers and a batch_norm with momentum 0 keep every loaded tensor as it was read,
# so after a training epoch the target must still hold the source's tensors bit for bit.
def graph(path, *, meta_first=False, meta_name="meta_dense", meta_units=4, frozen=False):
    image = [{"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1, "inputs": ["image"], "name": "conv"},
             {"type": "batch_norm", "name": "bn", "momentum": 0.0 if frozen else 0.1}, {"type": "relu", "name": "act"},
             {"type": "global_avg_pool", "name": "pooled"}]
    meta = [{"type": "dense", "units": meta_units, "inputs": ["meta"], "name": meta_name}]
    layers = (meta + image if meta_first else image + meta) + [
        {"type": "add", "inputs": ["pooled", meta_name], "name": "sum"},
        {"type": "concat", "inputs": ["sum", "meta"], "name": "joined"},
        {"type": "dense", "units": 3, "name": "head"}]
    for layer in layers:
        layer["frozen"] = frozen
    spec = {"inputs": {"image": [1, 6, 6], "meta": [3]}, "layers": layers, "loss": "cross_entropy",
            "optimizer": {"type": "adam", "lr": 0.05}}
    with open(path, "w") as f:
        json.dump(spec, f)


image = grid_values(rng, (64, 1, 6, 6)).astype(np.float32)
table = grid_values(rng, (64, 3)).astype(np.float32)
with h5py.File("graph_data.h5", "w") as f:
    f["pixels"], f["table"] = image, table
    f["labels"] = ((image[:, 0, :3].mean(axis=(1, 2)) > 0) + (table[:, 0] > 0)).astype(np.int32)
graph_common = ["--data", "graph_data.h5", "--input", "image=pixels", "--input", "meta=table", "--batch", 16,
                "--epochs", 1, "--progress", "plain"]
graph("graph.json")
run(weft, "train", "graph.json", *graph_common, "--seed", 1, "--out", "graph_source.h5")


def tensors(path):
    with h5py.File(path) as f:
        return {f"{group}/{layer}/{name}": values[...] for group in ("weights", "buffers")
                for layer, members in f[group].items() for name, values in members.items()}


source = tensors("graph_source.h5")
check(len(source) == 10, f"the graph source should hold 10 tensors, has {sorted(source)}")


def same_as_source(path, names, why):
    mine = tensors(path)
    for name in names:
        check(mine[name].tobytes() == source[name].tobytes(), f"{why}: {name} is not the source's")


# Same graph, layers in another order (the meta branch first), frozen: mapped by name, all 10.
graph("graph_reordered.json", meta_first=True, frozen=True)
out, _ = run(weft, "train", "graph_reordered.json", *graph_common, "--seed", 2, "--init-from", "graph_source.h5",
             "--out", "graph_loaded.h5")
check("initialised 10 tensors from graph_source.h5\n" in out, f"graph --init-from did not report 10 tensors:\n{out}")
same_as_source("graph_loaded.h5", source, "graph --init-from")
run(weft, "train", "graph_reordered.json", *graph_common, "--seed", 2, "--out", "graph_fresh.h5")
fresh = tensors("graph_fresh.h5")
for name in source:
    if "running" not in name and not name.endswith("bn/weight"):  # batch_norm starts at 1 / 0 either way
        check(fresh[name].tobytes() != source[name].tobytes(), f"{name}: the fresh graph equals the source anyway")

# A renamed layer, then a layer of another shape (one unit, broadcast by the add): strict names
# the tensor; --partial loads the rest and leaves these at the target's own draw.
unchanged = [name for name in source if "meta_dense" not in name]
for label, changes, message, skipped in (
        ("renamed", {"meta_name": "meta_proj"}, "cannot initialise 'meta_proj/weight' from 'graph_source.h5': not in", 4),
        ("reshaped", {"meta_units": 1},
         "cannot initialise 'meta_dense/weight' from 'graph_source.h5': shape (4, 3) in 'graph_source.h5', (1, 3)", 2)):
    graph(f"graph_{label}.json", meta_first=True, frozen=True, **changes)
    _, err = run(weft, "train", f"graph_{label}.json", *graph_common, "--init-from", "graph_source.h5", expect_ok=False)
    check(message in err and len(err.strip().splitlines()) == 1, f"strict --init-from, {label} layer:\n{err}")
    out, _ = run(weft, "train", f"graph_{label}.json", *graph_common, "--seed", 2, "--init-from", "graph_source.h5",
                 "--partial", "--out", f"graph_{label}.h5")
    check(f"initialised 8 tensors from graph_source.h5 ({skipped} skipped)" in out,
          f"--partial, {label} layer: not 8 loaded, {skipped} skipped:\n{out}")
    same_as_source(f"graph_{label}.h5", unchanged, f"--partial, {label} layer")
    run(weft, "train", f"graph_{label}.json", *graph_common, "--seed", 2, "--out", f"graph_{label}_fresh.h5")
    partial, own = tensors(f"graph_{label}.h5"), tensors(f"graph_{label}_fresh.h5")
    for name in own:
        if name not in source or own[name].shape != source[name].shape:
            check(partial[name].tobytes() == own[name].tobytes(), f"--partial, {label} layer: {name} is not its own draw")
print("train_init_test: all passed")
