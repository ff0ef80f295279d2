#!/usr/bin/env bash
# HTTP front suite against OUR release binary: starts $BSS_BIN_DIR/bert-serving-start with -http_port on the
# rig's MiniLM TF1 checkpoint, then runs test_http.py (goldens recorded from the original Flask proxy, the
# official openai client, prometheus_client's parser, msgpack, mixed ZeroMQ + HTTP clients, headless Chromium
# on the dashboard). Closes with "N passed, N failed"; exits non-zero on any failure.
# Env: BSS_BIN_DIR, BSS_RIG_DIR, BSS_HTTP_PORT_BASE (default 18100), BSS_HTTP_LOAD_SECONDS (0 = no load run).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
RIG="${BSS_RIG_DIR:-$HOME/.cache/bert-serving-swift/rig}"
py="$RIG/py311/bin/python"
fail() { echo "$1"; echo "0 passed, 1 failed"; exit 1; }
[ -x "$py" ] || fail "rig missing: $py (build it with CompatTests/reference/setup.sh)"
[ -x "${BSS_BIN_DIR:-}/bert-serving-start" ] || fail "BSS_BIN_DIR does not hold bert-serving-start: '${BSS_BIN_DIR:-}'"
[ -f "$RIG/minilm-tf1/bert_model.ckpt.index" ] || fail "rig model missing: $RIG/minilm-tf1"
"$py" -c "import openai, prometheus_client, msgpack" 2>/dev/null || fail "rig py311 lacks openai / prometheus_client (CompatTests/reference/requirements-py311.txt)"

base=${BSS_HTTP_PORT_BASE:-18100}
port=$base; port_out=$((base + 1)); http_port=$((base + 2))
log=$(mktemp)
"$BSS_BIN_DIR/bert-serving-start" -cpu -model_dir "$RIG/minilm-tf1" -num_worker 1 -port "$port" -port_out "$port_out" \
  -http_port "$http_port" -http_max_connect 3 > "$log" 2>&1 &
server=$!
stop() {
  kill "$server" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$server" 2>/dev/null
  rm -f "$log"
}
trap stop EXIT

ready=0
for _ in $(seq 1 240); do
  kill -0 "$server" 2>/dev/null || break
  if "$py" -c "import requests,sys; sys.exit(0 if requests.get('http://127.0.0.1:$http_port/ready', timeout=2).status_code == 200 else 1)" 2>/dev/null; then
    ready=1; break
  fi
  sleep 0.5
done
if [ "$ready" -ne 1 ]; then
  echo "our server did not answer GET /ready on :$http_port within 120 s; its log:"
  tail -n 40 "$log"
  echo "0 passed, 1 failed"
  exit 1
fi

cd "$here" || exit 1
timeout 1200 "$py" test_http.py --base "http://127.0.0.1:$http_port" --zmq-port "$port" --zmq-port-out "$port_out" \
  --max-connect 3 --vec-tol 1e-4
rc=$?
if [ "${BSS_HTTP_LOAD_SECONDS:-0}" -gt 0 ]; then
  timeout $((BSS_HTTP_LOAD_SECONDS + 120)) "$py" load.py --base "http://127.0.0.1:$http_port" --zmq-port "$port" \
    --zmq-port-out "$port_out" --seconds "$BSS_HTTP_LOAD_SECONDS" --max-connect 3 || rc=1
fi
exit $rc
