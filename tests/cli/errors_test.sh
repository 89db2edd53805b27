#!/usr/bin/env bash
# Bad input to the weft command gives one line on stderr naming the problem and a non-zero exit.
weft=$1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
passed=0 failed=0

# Every case runs and the count at the end says how many failed; lib.sh's error_case names each.
count_error() {
  if error_case "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

echo '{"input": [4], "layers": [{"type": "dense", "units": 2},' >"$tmp/broken.json"
echo '{"input": [4], "layers": [{"type": "dense", "units": 2}, {"type": "softmaxx"}]}' >"$tmp/unknown.json"
echo '{"input": [784], "layers": [{"type": "dense", "units": 10}], "optimizer": {"type": "sgd"}}' >"$tmp/ok.json"
echo 'plain text' >"$tmp/text.h5"
echo '{"input": [4], "layers": [{"type": "dense", "units": 2}], "training": {"epoch": 3}}' >"$tmp/training.json"
mkdir "$tmp/empty"
mkdir "$tmp/truncated"
printf '\0\0\10\3\0\0\0\12\0\0\0\34\0\0\0\34\1\2\3' >"$tmp/truncated/train-images-idx3-ubyte"
printf '\0\0\10\1\0\0\0\12\1\2\3\4\5\6\7\1\2\3' >"$tmp/truncated/train-labels-idx1-ubyte"

count_error "malformed spec" "is not valid JSON" "$weft" summary "$tmp/broken.json"
count_error "unknown module" "unknown layer type 'softmaxx'" "$weft" summary "$tmp/unknown.json"
count_error "missing spec" "cannot open model spec" "$weft" summary "$tmp/none.json"
count_error "missing data" "missing data file" "$weft" train "$tmp/ok.json" --data "$tmp/empty"
count_error "truncated data" "truncated" "$weft" train "$tmp/ok.json" --data "$tmp/truncated"
count_error "not HDF5" "is not an HDF5 file" "$weft" evaluate "$tmp/text.h5"
count_error "missing model" "no such file" "$weft" evaluate "$tmp/none.h5"
count_error "not a plugin" "cannot be loaded as a shared object" "$weft" list --plugin "$tmp/text.h5"
count_error "missing plugin" "plugin '$tmp/none.so': no such file" "$weft" summary "$tmp/ok.json" --plugin "$tmp/none.so"
count_error "plugin path" "WEFT_PLUGIN_PATH names '$tmp/nowhere'" env WEFT_PLUGIN_PATH="$tmp/nowhere" "$weft" list
count_error "unknown kind" "unknown kind 'layerz'" "$weft" list layerz
count_error "unknown schedule" "unknown schedule type 'cosinus'" "$weft" train "$tmp/ok.json" --schedule '{"type": "cosinus"}'
count_error "bad training key" "training: unknown setting 'epoch'" "$weft" train "$tmp/training.json"
count_error "missing metrics" "cannot open the metrics file '$tmp/none.csv'" "$weft" plot "$tmp/none.csv" -o "$tmp/c.svg"
# Numeric options say what they take, not CLI11's range up to the largest double.
count_error "zero epochs" "--epochs: expected a number > 0, got 0" "$weft" train "$tmp/ok.json" --epochs 0
count_error "infinite rate" "--lr: expected a number > 0, got inf" "$weft" train "$tmp/ok.json" --lr inf
count_error "negative threads" "--threads: expected a number >= 0, got -2" "$weft" evaluate "$tmp/none.h5" --threads -2
printf 'epoch,loss\n1,x\n' >"$tmp/bad.csv"
count_error "bad metrics" "bad.csv' line 2: 'x' is not a number" "$weft" plot "$tmp/bad.csv" -o "$tmp/c.svg"
# Every subcommand (as --help lists them) takes --plugin, so plugin modules work everywhere.
subcommands=$("$weft" --help | sed -n '/^Subcommands:/,$s/^  \([a-z_-]*\) .*/\1/p')
if [ "$(echo "$subcommands" | wc -w)" -lt 4 ]; then
  failed=$((failed + 1))
  echo "FAIL: found only '$subcommands' in weft --help"
fi
for sub in $subcommands; do
  # The help text whole, then searched: grep -q leaving early could fail the pipe (pipefail).
  if grep -q -- "--plugin" <<<"$("$weft" "$sub" --help)"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: 'weft $sub' has no --plugin option"
  fi
done
# A file some other program wrote: valid HDF5, no weft attributes. Written with h5py, which
# scripts/setup installs and the other CLI tests need anyway, so this case never goes unchecked.
/usr/bin/python3 -c 'import sys, h5py; h5py.File(sys.argv[1], "w")["data"] = [1.0, 2.0]' "$tmp/foreign.h5"
count_error "foreign HDF5" "not a weft model" "$weft" evaluate "$tmp/foreign.h5"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
