#!/usr/bin/env bash
# Runs race_canary (a layer racing on purpose) and passes only if ThreadSanitizer reported that
# race in the layer's forward: a TSan build blind to races in shard code fails here.
set -uo pipefail
log=$("$1" 2>&1)
status=$?
if [ $status -eq 0 ]; then
  echo "race_canary exited 0: ThreadSanitizer did not report the race it contains"; exit 1
fi
if ! grep -q "WARNING: ThreadSanitizer: data race" <<<"$log" || ! grep -qE "#0 .*forward.* [^ ]*tsan/race_canary.cpp:" <<<"$log"; then
  echo "race_canary failed (status $status) without a TSan data-race report whose first frame is RacyIdentity::forward:"
  echo "$log" | head -40; exit 1
fi
echo "ThreadSanitizer reported the planted race in RacyIdentity::forward"
