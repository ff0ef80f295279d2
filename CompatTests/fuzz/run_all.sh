#!/usr/bin/env bash
# CI's short fuzzing run (issue 8): each libFuzzer target of Fuzz/ for BSS_FUZZ_SECONDS (default
# 45 s) from the committed seed corpus, under AddressSanitizer. A crash, leak, timeout or OOM fails.
# The long runs (>= 10 minutes each) use the same script: scripts/fuzz.sh TARGET 600.
# Closes with "N passed, N failed".
set -uo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
seconds="${BSS_FUZZ_SECONDS:-45}"
passed=0; failed=0
for target in FuzzWire FuzzTokenizer; do
  log=$(mktemp)
  if bash "$repo/scripts/fuzz.sh" "$target" "$seconds" > "$log" 2>&1; then
    passed=$((passed + 1)); echo "ok   $target ${seconds}s: $(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)"
  else
    failed=$((failed + 1)); echo "FAIL $target"; tail -n 30 "$log"
  fi
  rm -f "$log"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
