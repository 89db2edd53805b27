# Sourced by the shell tests of the weft command line, before they make any file: strict mode, a
# scratch directory that the test runs in and that is removed however it ends, and expect_error.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# expect_error NAME TEXT COMMAND...: the command fails with one stderr line containing TEXT, or
# the test stops here showing what it printed.
expect_error() {
  local name=$1 text=$2
  shift 2
  if "$@" >out 2>err; then echo "FAIL $name: succeeded"; exit 1; fi
  [ "$(wc -l <err)" -eq 1 ] && grep -qF -- "$text" err || { echo "FAIL $name: expected '$text' in one line; stderr:"; cat err; exit 1; }
}
