#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, makes the release build (with
# -enable-testing, the flags scripts/serve.sh uses too), runs the compatibility suites that drive
# the release binary with the stock Python clients, then the Swift tests. The suites come first:
# `swift test` puts its own -enable-testing at another place on every compiler command line, so
# after it SwiftPM recompiles every module for a plain `swift build` (measured: the README suite's
# serve.sh spent 400 s rebuilding when it ran after the unit tests).
# Prints what ran and closes with "N passed, N failed". A skipped test is a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export BSS_RIG_DIR="${BSS_RIG_DIR:-$HOME/.cache/bert-serving-swift/rig}"
logdir="${BSS_TEST_LOG_DIR:-$root/.build-test-logs}"
mkdir -p "$logdir"
start=$(date +%s)
stamp() { printf '[test-all +%4ss] %s\n' "$(( $(date +%s) - start ))" "$*"; }

stamp "installing dependencies"
bash scripts/install-deps.sh || { echo "dependency install failed"; exit 1; }

build_flags=(-c release -Xswiftc -enable-testing)
stamp "release build"
swift build "${build_flags[@]}" 2>&1 | grep -vE "prohibited flag\(s\)" | tail -n 20
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
bin_dir=$(swift build "${build_flags[@]}" --show-bin-path)
export BSS_BIN_DIR="$bin_dir"

passed=0; failed=0
record() { # name, passed, failed
  passed=$((passed + $2)); failed=$((failed + $3))
  stamp "$1: $2 passed, $3 failed"
}

# End-to-end suites: each prints "N passed, N failed" as its last such line.
for suite in CompatTests/*/run_all.sh; do
  [ -f "$suite" ] || continue
  name=$(basename "$(dirname "$suite")")
  stamp "suite $name"
  log="$logdir/$name.log"
  bash "$suite" > "$log" 2>&1
  rc=$?
  tail -n 40 "$log"
  line=$(grep -E "^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed" "$log" | tail -n 1)
  p=$(sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed.*/\2/' <<< "$line"); f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<< "$line")
  p=${p:-0}; f=${f:-0}
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  [ -z "$line" ] && f=$((f + 1))
  record "$name" "$p" "$f"
done

stamp "swift test"
swift test "${build_flags[@]}" 2>&1 | grep -vE "prohibited flag\(s\)" > "$logdir/swift-test.log"
swift_rc=${PIPESTATUS[0]}
grep -E "^✘|^➜|error:" "$logdir/swift-test.log" | head -n 60
tail -n 3 "$logdir/swift-test.log"
n_run=$(grep -oE "Test run with [0-9]+ test" "$logdir/swift-test.log" | grep -oE "[0-9]+" | tail -n 1)
n_fail=$(grep -E "^✘ Test .* failed after" "$logdir/swift-test.log" | grep -cv "^✘ Test run with" || true)
n_skip=$(grep -cE "^➜ Test .* skipped" "$logdir/swift-test.log" || true)
n_run=${n_run:-0}
if [ "$n_skip" -gt 0 ]; then
  echo "skipped tests are failures in CI:"; grep -E "[Ss]kipped" "$logdir/swift-test.log"
fi
swift_fail=$(( n_fail + n_skip ))
[ "$swift_rc" -ne 0 ] && [ "$swift_fail" -eq 0 ] && swift_fail=1
[ "$n_run" -eq 0 ] && swift_fail=$((swift_fail + 1))
ok=$(( n_run - n_fail - n_skip )); [ "$ok" -lt 0 ] && ok=0
record "swift test ($n_run tests)" "$ok" "$swift_fail"

stamp "done"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
