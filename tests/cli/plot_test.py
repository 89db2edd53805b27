"""weft plot writes well-formed SVG whose curves are the metrics file's series:
 1. a metrics file written here with known values (one validation value missing): a "loss" and an
    "accuracy" panel, one <polyline> per series present, each point inside its plot frame, x
    increasing with the epoch, and y an affine, decreasing map of the values (the same map for
    the training and validation curves of a panel), so the drawn shape is the data's shape;
 2. the log of a real `weft train --log` run of a regression model (no accuracy columns): only
    the loss panel, with training and validation curves of one point per logged epoch.
Usage: plot_test.py WEFT"""
import os
import sys
import tempfile
import xml.etree.ElementTree as ET

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import check, grid_values, linear_spec, read_log, run, write_csv

weft = sys.argv[1]
os.chdir(tempfile.mkdtemp())
SVG = "{http://www.w3.org/2000/svg}"


def curves(path):
    """{(panel, class): [(x, y), ...]} and {panel: (left, top, right, bottom)} of weft's SVG."""
    root = ET.parse(path).getroot()  # raises on malformed XML
    check(root.tag == SVG + "svg", f"the root element is {root.tag}, not svg")
    lines, frames = {}, {}
    for panel in root.iter(SVG + "g"):
        name = panel.get("data-series")
        rect = panel.find(SVG + "rect")
        left, top = float(rect.get("x")), float(rect.get("y"))
        frames[name] = (left, top, left + float(rect.get("width")), top + float(rect.get("height")))
        for line in panel.iter(SVG + "polyline"):
            check(line.get("data-series") == name, "a polyline outside its panel")
            points = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
            lines[(name, line.get("class"))] = points
    return lines, frames


def check_series(points, frame, epochs, values, what):
    """points plot (epochs, values) with finite values: inside the frame, in epoch order, and on
    an affine map; returns the map's (scale, offset) of y = offset − scale · value."""
    keep = np.isfinite(values)
    epochs, values = np.asarray(epochs)[keep], np.asarray(values)[keep]
    check(len(points) == len(values), f"{what}: {len(points)} points for {len(values)} values")
    xs, ys = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    left, top, right, bottom = frame
    check(np.all((xs >= left) & (xs <= right) & (ys >= top) & (ys <= bottom)), f"{what}: a point outside the plot frame")
    check(np.all(np.diff(xs) > 0), f"{what}: x does not increase with the epoch")
    x_scale = np.polyfit(epochs, xs, 1)
    check(np.max(np.abs(np.polyval(x_scale, epochs) - xs)) < 0.5, f"{what}: x is not proportional to the epoch")
    slope, offset = np.polyfit(values, ys, 1)
    check(slope < 0 and np.max(np.abs(slope * values + offset - ys)) < 0.5,
          f"{what}: y is not a decreasing affine map of the values (higher values must be drawn higher)")
    return slope, offset


# 1. Known values; epoch 3 has no val_accuracy (an empty field).
epochs = np.arange(1, 6)
table = {"epoch": epochs, "loss": [2.0, 1.2, 0.9, 0.7, 0.65], "accuracy": [0.3, 0.55, 0.7, 0.78, 0.8],
         "val_loss": [1.8, 1.3, 1.1, 1.15, 1.3], "val_accuracy": [0.35, 0.5, np.nan, 0.66, 0.64], "lr": [0.1] * 5}
with open("known.csv", "w") as f:
    f.write(",".join(table) + "\n")
    for i in range(5):
        f.write(",".join("" if np.isnan(table[c][i]) else repr(float(table[c][i])) for c in table) + "\n")
out, _ = run(weft, "plot", "known.csv", "-o", "known.svg")
check("wrote known.svg (5 epochs)" in out, out)
lines, frames = curves("known.svg")
check(sorted(lines) == [("accuracy", "train"), ("accuracy", "validation"), ("loss", "train"), ("loss", "validation")],
      f"series drawn: {sorted(lines)}")
for panel, train_column, validation_column in (("loss", "loss", "val_loss"), ("accuracy", "accuracy", "val_accuracy")):
    a = check_series(lines[(panel, "train")], frames[panel], epochs, table[train_column], f"{panel} train")
    b = check_series(lines[(panel, "validation")], frames[panel], epochs, table[validation_column], f"{panel} validation")
    check(np.allclose(a, b, rtol=1e-3, atol=0.5), f"{panel}: the training and validation curves use different scales")

# 2. A real log: regression, so loss and val_loss but no accuracy panel.
rng = np.random.default_rng(15)
x = grid_values(rng, (40, 2))
write_csv("data.csv", [x[:, 0], x[:, 1], x[:, 0] - x[:, 1]], ["a", "b", "y"])
linear_spec("spec.json", 2, 1, "mse", lr=0.05)
run(weft, "train", "spec.json", "--data", "data.csv", "--regression", "--validation-split", 0.25, "--batch", 10,
    "--epochs", 4, "--progress", "plain", "--log", "log.csv")
columns, log = read_log("log.csv")
run(weft, "plot", "log.csv", "-o", "log.svg")
lines, frames = curves("log.svg")
check(sorted(lines) == [("loss", "train"), ("loss", "validation")] and list(frames) == ["loss"],
      f"a log without accuracy columns ({columns}) drew {sorted(lines)}")
check_series(lines[("loss", "train")], frames["loss"], log["epoch"], log["loss"], "logged loss")
check_series(lines[("loss", "validation")], frames["loss"], log["epoch"], log["val_loss"], "logged val_loss")
print("plot_test: all passed")
