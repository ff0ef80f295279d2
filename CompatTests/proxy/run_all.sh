#!/usr/bin/env bash
# bert-serving-proxy suite (issue 11) against OUR release binaries in $BSS_BIN_DIR
# (bert-serving-start, bert-serving-proxy), the rig's MiniLM and stock clients (py311, py27):
#   1. cli            -h text, exit codes, a bad -backend (no backend needed)
#   2. failover.py    3 backends + proxy, 16 stock clients, one backend killed and restarted
#   3. k8s:<file>     each deploy/kubernetes manifest passes kubernetes-validate --strict
#                     (installed from PyPI into a venv under ~/.cache/bert-serving-swift/), and a
#                     deliberately broken copy is rejected (the validator really validates)
# Closes with "N passed, N failed"; exits non-zero on any failure.
# Env: BSS_BIN_DIR, BSS_RIG_DIR, BSS_PROXY_PORT_BASE (default 18600), BSS_PROXY_PHASE_SECONDS (6).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
RIG="${BSS_RIG_DIR:-$HOME/.cache/bert-serving-swift/rig}"
py="$RIG/py311/bin/python"
if [ -z "${BSS_BIN_DIR:-}" ]; then
  BSS_BIN_DIR=$(cd "$repo" && swift build -c release -Xswiftc -enable-testing --show-bin-path 2>/dev/null)
  export BSS_BIN_DIR
fi
passed=0; failed=0
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }

for f in bert-serving-start bert-serving-proxy; do
  if [ ! -x "$BSS_BIN_DIR/$f" ]; then
    echo "BSS_BIN_DIR does not hold $f: '$BSS_BIN_DIR'"
    echo "0 passed, 1 failed"
    exit 1
  fi
done
proxy="$BSS_BIN_DIR/bert-serving-proxy"

echo "== cli"
out=$("$proxy" -h 2>&1); rc=$?
if [ "$rc" -eq 0 ] && grep -q "^usage: bert-serving-proxy \[-h\] -backend HOST:PORT:PORT_OUT" <<< "$out" \
   && grep -q "^optional arguments:" <<< "$out" && grep -q "\-health_interval HEALTH_INTERVAL" <<< "$out"; then
  pass cli_help_argparse_style
else
  fail cli_help_argparse_style "rc $rc: $(head -n 3 <<< "$out")"
fi
err=$("$proxy" -port 1 2>&1 >/dev/null); rc=$?
if [ "$rc" -eq 2 ] && grep -q "error: the following arguments are required: -backend" <<< "$err"; then
  pass cli_missing_backend_exit_2
else
  fail cli_missing_backend_exit_2 "rc $rc: $err"
fi
err=$("$proxy" -backend localhost:5555 2>&1 >/dev/null); rc=$?
if [ "$rc" -eq 1 ] && grep -q "expected HOST:PORT:PORT_OUT" <<< "$err"; then
  pass cli_bad_backend_exit_1
else
  fail cli_bad_backend_exit_1 "rc $rc: $err"
fi
out=$("$proxy" -version 2>&1); rc=$?
if [ "$rc" -eq 0 ] && [ "$out" = "bert-serving-proxy 1.10.0" ]; then pass cli_version; else fail cli_version "rc $rc: $out"; fi

echo "== failover"
if [ ! -x "$py" ]; then
  fail failover "rig missing: $py (build it with CompatTests/reference/setup.sh)"
else
  log=$(mktemp)
  t0=$(date +%s)
  (cd "$here" && timeout 600 "$py" failover.py) 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  line=$(grep -E "^[0-9]+ passed, [0-9]+ failed$" "$log" | tail -n 1)
  p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<< "$line"); f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<< "$line")
  p=${p:-0}; f=${f:-0}
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  [ -z "$line" ] && f=$((f + 1))
  passed=$((passed + p)); failed=$((failed + f))
  echo "-- failover: $p passed, $f failed in $(( $(date +%s) - t0 )) s"
  rm -f "$log"
fi

echo "== kubernetes manifests"
venv="$HOME/.cache/bert-serving-swift/kubernetes-validate-venv"
validator="$venv/bin/kubernetes-validate"
if [ ! -x "$validator" ]; then
  { python3 -m venv "$venv" && "$venv/bin/pip" install -q "kubernetes-validate==1.37.0"; } 2>&1 | tail -n 5
fi
if [ ! -x "$validator" ]; then
  fail k8s_validator_installed "pip install kubernetes-validate into $venv failed"
else
  for manifest in "$repo"/deploy/kubernetes/*.yaml; do
    name=$(basename "$manifest")
    if out=$("$validator" --strict "$manifest" 2>&1) && ! grep -qiE "fail|error" <<< "$out"; then
      pass "k8s:$name ($(grep -c passed <<< "$out") resources)"
    else
      fail "k8s:$name" "$out"
    fi
  done
  broken=$(mktemp --suffix=.yaml)
  sed -e 's/containerPort: 5555/containerPort: "five"/' -e 's/periodSeconds:/periodSecs:/' "$repo/deploy/kubernetes/bert-serving.yaml" > "$broken"
  if "$validator" --strict "$broken" > /dev/null 2>&1; then
    fail k8s_validator_rejects_broken_manifest
  else
    pass k8s_validator_rejects_broken_manifest
  fi
  rm -f "$broken"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
