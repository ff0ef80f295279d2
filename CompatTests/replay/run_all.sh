#!/usr/bin/env bash
# The replay suite, as scripts/test-all.sh runs it:
#   1. self-tests of the runner (test_replay.py: seeded corruption must fail, a faithful server must pass);
#   2. every committed capture of the original (CompatTests/capture/captures) replayed against OUR
#      server, $BSS_BIN_DIR/bert-serving-start, with the rig's MiniLM TF1 checkpoint.
# Closes with "N passed, N failed" (self-tests + captures); exits non-zero on any failure.
# Env: BSS_BIN_DIR (release binaries), BSS_RIG_DIR (rig; default ~/.cache/bert-serving-swift/rig).
# Self-check against the original instead: BSS_REPLAY_ORIGINAL=1 bash run_all.sh
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
RIG="${BSS_RIG_DIR:-$HOME/.cache/bert-serving-swift/rig}"
py="$RIG/py311/bin/python"
if [ ! -x "$py" ]; then
  echo "rig missing: $py (build it with CompatTests/reference/setup.sh)"
  echo "0 passed, 1 failed"
  exit 1
fi
cd "$here"

passed=0; failed=0

echo "== runner self-tests (seeded corruption)"
log=$(mktemp)
"$py" -m unittest -v test_replay > "$log" 2>&1
rc=$?
grep -E " \.\.\. " "$log"
ran=$(grep -oE "^Ran [0-9]+ test" "$log" | grep -oE "[0-9]+" || echo 0)
bad=$(grep -E " \.\.\. (FAIL|ERROR)" "$log" | wc -l)
if [ "$rc" -ne 0 ]; then
  sed -n '/^=====/,$p' "$log" | head -n 60
  [ "$bad" -eq 0 ] && bad=1
fi
[ "$ran" -eq 0 ] && bad=$((bad + 1))
ok=$((ran - bad)); [ "$ok" -lt 0 ] && ok=0
passed=$((passed + ok)); failed=$((failed + bad))
rm -f "$log"

echo "== replay of the captures"
if [ "${BSS_REPLAY_ORIGINAL:-0}" = "1" ]; then
  target=(--original)
else
  target=(--bin-dir "${BSS_BIN_DIR:-}")
fi
log=$(mktemp)
"$py" replay.py "${target[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
line=$(grep -E "^[0-9]+ passed, [0-9]+ failed$" "$log" | tail -n 1)
p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<< "$line"); f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<< "$line")
p=${p:-0}; f=${f:-0}
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
[ -z "$line" ] && f=$((f + 1))
passed=$((passed + p)); failed=$((failed + f))
rm -f "$log"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
