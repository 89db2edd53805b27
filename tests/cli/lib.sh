# Sourced by the shell tests of the weft command line, before they make any file: strict mode, a
# scratch directory that the test runs in and that is removed however it ends, error_case and
# expect_error.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# error_case NAME TEXT COMMAND...: true when the command fails with one stderr line containing
# TEXT; otherwise prints "FAIL NAME" with what went wrong and the command's stderr, and is false.
error_case() {
  local name=$1 text=$2 status=0
  shift 2
  "$@" >out 2>err || status=$?
  if [ "$status" -ne 0 ] && [ "$(wc -l <err)" -eq 1 ] && grep -qF -- "$text" err; then return 0; fi
  if [ "$status" -eq 0 ]; then
    echo "FAIL $name: succeeded; expected an error with '$text'"
  else
    echo "FAIL $name: exit $status, $(wc -l <err) stderr lines; expected '$text' in one line; stderr:"
  fi
  cat err
  return 1
}

# expect_error NAME TEXT COMMAND...: error_case, stopping the test at the first failure.
expect_error() {
  error_case "$@" || exit 1
}
