#!/usr/bin/env bash
# weft from the outside: install it into a temporary prefix, build examples/plugin and
# examples/consumer against it with Meson through dependency('weft') only (pkg-config), train a
# model that uses the plugin's layer and optimizer with the installed `weft` command, save it,
# load it back, and run the consumer. Then configure the consumer with weft as a subproject.
# Usage: install_test.sh SOURCE_ROOT BUILD_ROOT HAVE_ONNX (true/false: built with ONNX export)
set -euo pipefail
src=$1
build=$2
have_onnx=$3
tmp=$(mktemp -d /tmp/weft-install-test-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
data=/usr/share/datasets/fashion-mnist

step() { echo "== $*"; }
fail() {
  echo "FAIL: $*"
  exit 1
}

step "install into $tmp/stage"
meson install -C "$build" --no-rebuild --quiet --destdir "$tmp/stage" >/dev/null
prefix=$(meson introspect "$build" --buildoptions | python3 -c \
  'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
root=$tmp/stage$prefix
pc=$(find "$root" -name weft.pc)
[ -n "$pc" ] || fail "no weft.pc installed"
# The .pc file names the configured prefix; point it at where --destdir put the files.
sed -i "s|^prefix=.*|prefix=$root|" "$pc"
export PKG_CONFIG_PATH=$(dirname "$pc")
libdir=$(pkg-config --variable=libdir weft)
export LD_LIBRARY_PATH=$libdir
weft=$root/bin/weft

step "installed headers include only installed headers"
include=$(pkg-config --variable=includedir weft)
for header in $(cd "$include" && find weft -name '*.hpp'); do
  for wanted in $(sed -n 's|^#include "\(.*\)"|\1|p' "$include/$header"); do
    [ -f "$include/$wanted" ] || fail "installed $header includes \"$wanted\", which is not installed"
  done
done
[ -f "$include/weft/weft.hpp" ] || fail "no umbrella header weft/weft.hpp"

build_example() {  # NAME: configure and build examples/NAME against the installed weft
  meson setup "$tmp/$1" "$src/examples/$1" >"$tmp/$1.log" 2>&1 || { cat "$tmp/$1.log"; fail "meson setup of examples/$1"; }
  grep -q "Run-time dependency weft found: YES" "$tmp/$1.log" || { cat "$tmp/$1.log"; fail "examples/$1 did not find weft through pkg-config"; }
  meson compile -C "$tmp/$1" >>"$tmp/$1.log" 2>&1 || { cat "$tmp/$1.log"; fail "building examples/$1"; }
  if grep -q "warning:" "$tmp/$1.log"; then grep "warning:" "$tmp/$1.log"; fail "warnings building examples/$1"; fi
}

step "build examples/plugin"
build_example plugin
plugin=$tmp/plugin/libweft_example.so
[ -f "$plugin" ] || fail "the plugin was not built as libweft_example.so"

step "the plugin's layer passes weft's gradient checker"
"$tmp/plugin/gradient_check" "$plugin"

step "weft list shows the plugin's modules with their provider and defaults"
WEFT_PLUGIN_PATH=$tmp/plugin "$weft" list layer >"$tmp/list.txt"
grep -E "^  scaled_tanh +\[" "$tmp/list.txt" | grep -qF "[$plugin]" || { cat "$tmp/list.txt"; fail "scaled_tanh not listed"; }
grep -qF 'alpha_init: "ones"' "$tmp/list.txt" || fail "scaled_tanh's default not listed"
"$weft" list optimizers --json --plugin "$plugin" >"$tmp/list.json"
python3 - "$tmp/list.json" "$plugin" <<'PY'
import json, sys
catalogue = json.load(open(sys.argv[1]))
signum = [m for m in catalogue["optimizer"] if m["name"] == "signum"]
assert list(catalogue) == ["optimizer"], list(catalogue)
assert signum and signum[0]["provider"] == sys.argv[2], signum
assert signum[0]["settings"] == {"lr": 0.001, "beta": 0.9}, signum[0]["settings"]
PY

step "train with the plugin's layer and optimizer, save, evaluate"
"$weft" train "$src/examples/plugin/model.json" --plugin "$plugin" --data "$data" --epochs 1 --threads 2 \
  --seed 3 --out "$tmp/model.h5" | tee "$tmp/train.txt"
trained=$(sed -n 's/^test accuracy \([0-9.]*\)$/\1/p' "$tmp/train.txt")
python3 -c "import sys; sys.exit(0 if float('$trained') >= 0.75 else 1)" || fail "test accuracy $trained < 0.75"
"$weft" evaluate "$tmp/model.h5" --plugin "$plugin" --data "$data" | tee "$tmp/evaluate.txt"
grep -qF "test accuracy $trained" "$tmp/evaluate.txt" || fail "the loaded model does not reproduce accuracy $trained"

step "the plugin's layer exports to ONNX through its hook; OpenCV runs it as weft predict does"
if [ "$have_onnx" = true ]; then
  "$weft" export "$tmp/model.h5" --plugin "$plugin" --onnx "$tmp/model.onnx"
  /usr/bin/python3 - "$tmp/model.onnx" "$data" "$weft" "$tmp/model.h5" "$plugin" <<'PY'
import gzip, subprocess, sys
import cv2, numpy as np, onnx
model, data, weft, h5, plugin = sys.argv[1:]
onnx.checker.check_model(model, full_check=True)
ops = [n.op_type for n in onnx.load(model).graph.node]
assert "Tanh" in ops, f"scaled_tanh's nodes are missing: {ops}"
raw = gzip.open(f"{data}/t10k-images-idx3-ubyte.gz").read()
x = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 784)[:1000].astype(np.float32) / 255
want = np.loadtxt(subprocess.run([weft, "predict", h5, "--plugin", plugin, "--input", f"{data}/t10k-images-idx3-ubyte.gz"],
                                 capture_output=True, text=True, check=True).stdout.splitlines()[1:1001], delimiter=",")
net = cv2.dnn.readNetFromONNX(model)
net.setInput(x)
got = net.forward("probabilities")
error = np.max(np.abs(got - want))
assert error <= 1e-4, f"OpenCV differs from weft predict by {error}"
print(f"scaled_tanh model: onnx.checker ok, OpenCV vs weft predict on 1000 images: max |dp| = {error:.2e}")
PY
else
  echo "(weft built without ONNX export: the onnx_* tests report this as a skip)"
fi

step "without the plugin, loading the model names the type and the fix"
if "$weft" evaluate "$tmp/model.h5" --data "$data" 2>"$tmp/err.txt"; then fail "evaluate without the plugin succeeded"; fi
[ "$(wc -l <"$tmp/err.txt")" -eq 1 ] || fail "more than one error line: $(cat "$tmp/err.txt")"
grep -qF "unknown layer type 'scaled_tanh'" "$tmp/err.txt" || fail "error does not name scaled_tanh: $(cat "$tmp/err.txt")"
grep -qF -- "--plugin or WEFT_PLUGIN_PATH" "$tmp/err.txt" || fail "error gives no hint: $(cat "$tmp/err.txt")"

step "build and run examples/consumer"
build_example consumer
"$tmp/consumer/consumer"

step "configure examples/consumer with weft as a subproject"
mkdir -p "$tmp/consumer-sub/subprojects"
cp "$src/examples/consumer/meson.build" "$src/examples/consumer/main.cpp" "$tmp/consumer-sub/"
ln -s "$src" "$tmp/consumer-sub/subprojects/weft"
env -u PKG_CONFIG_PATH meson setup "$tmp/consumer-sub/build" "$tmp/consumer-sub" --force-fallback-for=weft \
  >"$tmp/sub.log" 2>&1 || { cat "$tmp/sub.log"; fail "meson setup with weft as a subproject"; }
grep -q "Executing subproject weft" "$tmp/sub.log" && grep -q "Dependency weft found: YES .*(overridden)" "$tmp/sub.log" ||
  { cat "$tmp/sub.log"; fail "weft was not taken from the subproject"; }

echo "install test passed"
