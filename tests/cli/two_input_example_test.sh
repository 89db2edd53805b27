#!/usr/bin/env bash
# examples/two_input end to end, as docs/datasets.md shows it: make_data.py builds train.h5 and
# test.h5 from Fashion-MNIST (the image and 8 features measured on it), weft trains the two-input
# spec on a part of it for two epochs, and the evaluated test accuracy must be far above chance
# (0.1 for ten classes); predict gives the same accuracy from the saved model's own mapping.
# Usage: two_input_example_test.sh WEFT SOURCE_DIR
set -euo pipefail
weft=$1 source=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

/usr/bin/python3 "$source/examples/two_input/make_data.py" --data /usr/share/datasets/fashion-mnist --out data \
  --train 3000 --test 1000 >/dev/null
"$weft" train "$source/examples/two_input/fashion_two_input.json" --data data/train.h5 --epochs 2 --threads 2 \
  --seed 1 --progress plain --out model.h5 >train.log
"$weft" evaluate model.h5 --data data/test.h5 >eval.log
accuracy=$(sed -n 's/.*test accuracy \([0-9.]*\).*/\1/p' eval.log)
"$weft" predict model.h5 --input data/test.h5 -o predictions.csv
/usr/bin/python3 - "$accuracy" <<'PY'
import sys, h5py, numpy as np
evaluated = float(sys.argv[1])
p = np.loadtxt("predictions.csv", delimiter=",", skiprows=1)
with h5py.File("data/test.h5") as f:
    y = f["labels"][...]
predicted = (p.argmax(1) == y).mean()
assert abs(predicted - evaluated) < 1e-4, (predicted, evaluated)
assert evaluated > 0.7, f"test accuracy {evaluated}: the two-input model did not learn (chance: 0.1)"
print(f"two-input example: test accuracy {evaluated:.4f} after 2 epochs on 3000 images")
PY
