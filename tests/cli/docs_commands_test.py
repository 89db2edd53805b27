"""Every shell block in README.md and docs/*.md that runs `weft` runs against the current build.

The blocks of one page run in order in one fresh folder (a page's later block may use what an
earlier one wrote), each as written, with these replacements so that it takes seconds:
- the Fashion-MNIST folder (/usr/share/datasets/fashion-mnist) and the placeholders DATA and DIR
  become a copy of its first 640 training and 320 test images (5 steps of 128 per epoch);
- `build/examples/weft` and a bare `weft` become the weft under test, `examples/` and
  `benchmarks/` the source's;
- the synopsis placeholders become real values: SPEC.json and OTHER.json fashion_mlp.json,
  MODEL.h5 model.h5, N 1, B 128, T 2, S 1; a checkpoint named by its step number
  (runs/a/step-00001500.h5) becomes the newest one in runs/a, since the step count of the small
  data differs; new.csv is written with 8 test images.
A block fails when any of its commands exits non-zero. Blocks that load examples/plugin need its
build; tests/install/install_test.sh builds it and runs those commands, so they are listed here as
covered there rather than run twice. The test also fails when it finds fewer blocks than the
pages hold today, so a parser that stops seeing blocks cannot pass by running nothing.
Usage: docs_commands_test.py WEFT SOURCE_DIR"""
import glob
import gzip
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

weft, source = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
FASHION = "/usr/share/datasets/fashion-mnist"
COVERED_ELSEWHERE = {"libweft_example.so": "tests/install/install_test.sh builds examples/plugin and runs these",
                     "mpirun": "tests/mpi runs weft train under mpirun on loopback (a hostfile needs other hosts)"}
EXPECTED_BLOCKS = 5


def read_idx(path):
    with gzip.open(path) as f:
        data = f.read()
    rank = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def write_idx(path, array):
    with gzip.open(path, "wb") as f:  # compressed, under the same names as Debian's files
        f.write(bytes([0, 0, 0x08, array.ndim]))
        for extent in array.shape:
            f.write(int(extent).to_bytes(4, "big"))
        f.write(array.tobytes())


def small_fashion(folder):
    os.makedirs(folder)
    for part, count in (("train", 640), ("t10k", 320)):
        for kind in ("images-idx3", "labels-idx1"):
            write_idx(f"{folder}/{part}-{kind}-ubyte.gz", read_idx(f"{FASHION}/{part}-{kind}-ubyte.gz")[:count])
    images = read_idx(f"{FASHION}/t10k-images-idx3-ubyte.gz")[:8].reshape(8, -1) / 255.0
    return images


def blocks():
    """(page, block text) for every ```sh block that runs weft."""
    pages = [os.path.join(source, "README.md")] + sorted(glob.glob(os.path.join(source, "docs", "*.md")))
    for page in pages:
        for block in re.findall(r"```sh\n(.*?)```", open(page).read(), re.S):
            if re.search(r"(^|\s|/)weft\s", block):
                yield os.path.relpath(page, source), block


def runnable(block, data):
    text = block.replace(FASHION, data)
    text = re.sub(r"(?<![\w/.-])build/examples/weft\b", weft, text)
    text = re.sub(r"(?m)^(\s*(?:\w+=\S+\s+)*)weft\b", lambda m: m.group(1) + weft, text)
    text = re.sub(r"(?<![\w/.-])(examples|benchmarks)/", source + r"/\1/", text)
    for placeholder, value in (("SPEC.json", f"{source}/examples/models/fashion_mlp.json"),
                               ("OTHER.json", f"{source}/examples/models/fashion_mlp.json"),
                               ("MODEL.h5", "model.h5"), ("DATA", data), ("DIR", data),
                               ("N", "1"), ("B", "128"), ("T", "2"), ("S", "1")):
        text = re.sub(rf"(?<![\w/.-]){re.escape(placeholder)}(?![\w/-])", value, text)
    newest = '"$(ls runs/a/step-*.h5 | tail -n 1)"'
    return re.sub(r"runs/a/step-\d{8}\.h5", newest, text)


def main():
    failures, ran = [], 0
    found = list(blocks())
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "fashion-small")
        images = small_fashion(data)
        for number, (page, block) in enumerate(found):
            reason = next((why for marker, why in COVERED_ELSEWHERE.items() if marker in block), None)
            if reason:
                print(f"{page}: block {number} not run here: {reason}")
                continue
            work = os.path.join(tmp, re.sub(r"\W", "_", page))
            if not os.path.isdir(work):
                os.makedirs(work)
                with open(os.path.join(work, "new.csv"), "w") as f:
                    f.write(",".join(f"p{i}" for i in range(784)) + "\n")
                    for row in images:
                        f.write(",".join(f"{v:.6f}" for v in row) + "\n")
            script = "set -euo pipefail\n" + runnable(block, data)
            p = subprocess.run(["bash", "-c", script], cwd=work, capture_output=True, text=True)
            ran += 1
            if p.returncode != 0:
                failures.append(f"{page}: this block failed (exit {p.returncode}):\n{block}\nas run:\n{script}\n"
                                f"{p.stdout[-2000:]}{p.stderr[-2000:]}")
            else:
                print(f"{page}: block {number} ran ({block.strip().splitlines()[0][:80]} ...)")
    if len(found) < EXPECTED_BLOCKS:
        failures.append(f"found only {len(found)} shell blocks running weft, expected at least {EXPECTED_BLOCKS}")
    for f in failures:
        print("FAIL " + f)
    if failures:
        sys.exit(1)
    print(f"docs_commands_test: {ran} blocks ran, {len(found) - ran} covered elsewhere")


main()
