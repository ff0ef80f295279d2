#!/usr/bin/env bash
# Address-sanitizer pass (issue 8): one debug build of the whole package with -sanitize=address,
#   1. the unit tests: swift test --sanitize=address
#   2. the reliability bad-input table (CompatTests/reliability/bad_inputs.py --skip-known-gaps)
#      against the ASan-built bert-serving-start; any AddressSanitizer report of the server fails.
# Closes with "N passed, N failed" (the swift test run counts as its test total / failures).
# Env: BSS_ASAN_SCRATCH (default <repo>/.build-asan), BSS_RIG_DIR, ASAN_TEST_FILTER (swift test --filter).
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo" || exit 1
scratch="${BSS_ASAN_SCRATCH:-$repo/.build-asan}"
RIG="${BSS_RIG_DIR:-$HOME/.cache/bert-serving-swift/rig}"
export BSS_RIG_DIR="$RIG"
logdir=$(mktemp -d /tmp/bss-asan-XXXXXX)
passed=0; failed=0
t0=$(date +%s)

echo "== build (debug, -sanitize=address) in $scratch"
swift build --sanitize=address --scratch-path "$scratch" 2>&1 | grep -vE "prohibited flag\(s\)|^\[[0-9]+/[0-9]+\]" | tail -n 20
if [ "${PIPESTATUS[0]}" -ne 0 ]; then echo "asan build failed"; echo "0 passed, 1 failed"; exit 1; fi
echo "built in $(( $(date +%s) - t0 )) s"

echo "== swift test --sanitize=address"
filter=()
[ -n "${ASAN_TEST_FILTER:-}" ] && filter=(--filter "$ASAN_TEST_FILTER")
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" swift test --sanitize=address --scratch-path "$scratch" "${filter[@]}" \
  > "$logdir/swift-test.log" 2>&1
rc=$?
grep -E "^✘|AddressSanitizer|SUMMARY" "$logdir/swift-test.log" | head -n 40
tail -n 3 "$logdir/swift-test.log"
n_run=$(grep -oE "Test run with [0-9]+ test" "$logdir/swift-test.log" | grep -oE "[0-9]+" | tail -n 1)
n_fail=$(grep -E "^✘ Test .* failed after" "$logdir/swift-test.log" | grep -cv "^✘ Test run with" || true)
n_run=${n_run:-0}
if grep -q "AddressSanitizer" "$logdir/swift-test.log"; then n_fail=$((n_fail + 1)); fi
[ "$rc" -ne 0 ] && [ "$n_fail" -eq 0 ] && n_fail=1
[ "$n_run" -eq 0 ] && n_fail=$((n_fail + 1))
passed=$((passed + n_run - (n_fail > n_run ? n_run : n_fail))); failed=$((failed + n_fail))
echo "-- swift test: $n_run run, $n_fail failed"

echo "== bad-input table against the ASan server"
bin_dir=$(swift build --sanitize=address --scratch-path "$scratch" --show-bin-path)
# The debug + ASan server is slower: time bounds x10; its ASan reports go to files we check.
BSS_BIN_DIR="$bin_dir" BSS_REL_TIME_SCALE=10 \
  ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:log_path=$logdir/server-asan" \
  "$RIG/py311/bin/python" CompatTests/reliability/bad_inputs.py --skip-known-gaps 2>&1 | tee "$logdir/bad.log"
rc=${PIPESTATUS[0]}
line=$(grep -E "^[0-9]+ passed, [0-9]+ failed$" "$logdir/bad.log" | tail -n 1)
p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<< "$line"); f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<< "$line")
p=${p:-0}; f=${f:-0}
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
if ls "$logdir"/server-asan* > /dev/null 2>&1; then
  echo "AddressSanitizer reports from the server:"; head -n 60 "$logdir"/server-asan*
  f=$((f + 1))
fi
passed=$((passed + p)); failed=$((failed + f))
echo "-- bad inputs (ASan): $p passed, $f failed"
echo "logs: $logdir; total $(( $(date +%s) - t0 )) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
