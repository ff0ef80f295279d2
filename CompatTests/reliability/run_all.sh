#!/usr/bin/env bash
# Reliability suite (issue 8) against OUR release binary, $BSS_BIN_DIR/bert-serving-start, with the
# rig's MiniLM (all-MiniLM-L6-v2 HF folder) and the stock Python client (rig py311):
#   1. bad_inputs.py --skip-known-gaps   malformed requests: ERROR reply or drop, server keeps serving
#   2. soak.py --requests N              32 stock clients, checked replies, 1 % malformed, RSS growth
#   3. drain.py                          terminate / SIGTERM / SIGINT with 8 requests in flight
#   4. limits_and_faults.py              limits, deadline + cancellation, backpressure, worker restart
#                                        (fail points), bind address, wildcard subscriber
#   5. broken_models.py                  a broken model: exit non-zero before any port is opened
# Behaviours the server does not have yet are listed in KNOWN_GAPS.md and printed as GAP, never
# counted as passed. Closes with "N passed, N failed"; exits non-zero on any failure.
# Env: BSS_BIN_DIR, BSS_RIG_DIR, BSS_SOAK_REQUESTS (default 500, ~60 s on 2 busy cores),
#      BSS_REL_PORT_BASE (default 18400).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
RIG="${BSS_RIG_DIR:-$HOME/.cache/bert-serving-swift/rig}"
py="$RIG/py311/bin/python"
if [ ! -x "$py" ]; then
  echo "rig missing: $py (build it with CompatTests/reference/setup.sh)"
  echo "0 passed, 1 failed"
  exit 1
fi
if [ ! -x "${BSS_BIN_DIR:-}/bert-serving-start" ]; then
  echo "BSS_BIN_DIR does not hold bert-serving-start: '${BSS_BIN_DIR:-}'"
  echo "0 passed, 1 failed"
  exit 1
fi
cd "$here" || exit 1
passed=0; failed=0

run() { # name, command...
  local name="$1"; shift
  echo "== $name"
  local log; log=$(mktemp)
  local t0; t0=$(date +%s)
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line; line=$(grep -E "^[0-9]+ passed, [0-9]+ failed$" "$log" | tail -n 1)
  local p f
  p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<< "$line"); f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<< "$line")
  p=${p:-0}; f=${f:-0}
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  [ -z "$line" ] && f=$((f + 1))
  passed=$((passed + p)); failed=$((failed + f))
  echo "-- $name: $p passed, $f failed in $(( $(date +%s) - t0 )) s"
  rm -f "$log"
}

run bad_inputs timeout 1200 "$py" bad_inputs.py --skip-known-gaps
run soak timeout 900 "$py" soak.py --requests "${BSS_SOAK_REQUESTS:-500}" --max-seconds 600
run limits_and_faults timeout 600 "$py" limits_and_faults.py
run broken_models timeout 600 "$py" broken_models.py
run drain timeout 900 "$py" drain.py --gaps  # --gaps: second_signal too (fixed: exit 128+signal at once)

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
