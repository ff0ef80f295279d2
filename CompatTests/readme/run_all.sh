#!/usr/bin/env bash
# The README's two commands, taken from README.md itself ("## Two commands": the first two bash
# blocks), as a new user would run them:
#   1. the run command, verbatim: it must build, fetch the default model and start a server that a
#      stock bert-serving-client (Python 3.11, default ports) gets vectors from;
#   2. the test command: CI is running it right now; check that .ci/run calls exactly it.
# Closes with "N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
RIG="${BSS_RIG_DIR:-$HOME/.cache/bert-serving-swift/rig}"
passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

mapfile -t cmds < <(awk '/^## Two commands/{on=1; next} /^## /{on=0} on && /^```bash/{inb=1; next} on && /^```/{inb=0; next} on && inb' README.md)
if [ "${#cmds[@]}" -eq 2 ]; then ok "README has exactly two set-up commands: ${cmds[*]}"; else fail "README set-up commands: ${#cmds[@]} found"; fi
run_cmd="${cmds[0]:-}"; test_cmd="${cmds[1]:-}"

if grep -qxF "bash $test_cmd" .ci/run || grep -qxF "$test_cmd" .ci/run; then ok "the test command is what .ci/run calls"; else fail "the test command '$test_cmd' is not in .ci/run"; fi

log=$(mktemp)
setsid bash -c "$run_cmd" > "$log" 2>&1 &
pid=$!
ready=0
for _ in $(seq 1 1200); do
  if grep -q "all set, ready to serve request!" "$log"; then ready=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
if [ "$ready" = 1 ]; then ok "the run command builds and starts the server on the default model"; else fail "the run command did not get ready"; tail -n 20 "$log"; fi
if [ "$ready" = 1 ] && "$RIG/py311/bin/python" - <<'PY'
from bert_serving.client import BertClient
bc = BertClient(timeout=30000)          # the README's client: default ip and ports
vecs = bc.encode(['First do it', 'then do it right', 'then do it better'])
assert vecs.shape == (3, 384), vecs.shape
print('vectors', vecs.shape)
PY
then ok "a stock client with default settings gets vectors"; else fail "a stock client with default settings gets vectors"; fi
"$root/.build/release/bert-serving-terminate" -port 5555 > /dev/null 2>&1 || kill -TERM -- -"$pid" 2>/dev/null
for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$pid" 2>/dev/null; then fail "server stopped by bert-serving-terminate"; kill -KILL -- -"$pid" 2>/dev/null; else ok "server stopped by bert-serving-terminate"; fi
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
