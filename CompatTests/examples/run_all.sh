#!/usr/bin/env bash
# The original README's client examples that need no TensorFlow, as scripts (CompatTests/examples/*.py,
# each naming its README section), run with the stock client on Python 3.11 and Python 2.7 against
# OUR server on the default ports 5555/5556, as the README's readers run them. Two servers: the
# default flags, then -pooling_strategy NONE -show_tokens_to_client for the token-level examples.
# Closes with "N passed, N failed".
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
RIG="${BSS_RIG_DIR:-$HOME/.cache/bert-serving-swift/rig}"
BIN="${BSS_BIN_DIR:-$here/../../.build/release}"
passed=0; failed=0

serve() { # flags... ; starts the server on 5555/5556 and waits for it
  log=$(mktemp)
  "$BIN/bert-serving-start" -model_dir "$RIG/minilm-tf1" -num_worker 1 "$@" > /dev/null 2> "$log" &
  server=$!
  for _ in $(seq 1 240); do grep -q "all set, ready to serve request!" "$log" && return 0; sleep 0.25; done
  echo "server did not start:"; tail -n 5 "$log"; return 1
}
stop() {
  "$BIN/bert-serving-terminate" -port 5555 > /dev/null 2>&1 || kill "$server" 2>/dev/null
  wait "$server" 2>/dev/null
  rm -f "$log"
}
run() { # python, script
  if timeout 180 "$1" "$here/$2" > "$here/.last.log" 2>&1; then
    passed=$((passed + 1)); echo "ok   $(basename "$(dirname "$(dirname "$1")")") $2"
  else
    failed=$((failed + 1)); echo "FAIL $(basename "$(dirname "$(dirname "$1")")") $2"; tail -n 15 "$here/.last.log"
  fi
}

if serve; then
  for py in "$RIG/py311/bin/python" "$RIG/py27/bin/python"; do
    for s in getting_started.py remote.py async_encoding.py broadcasting.py concurrent_clients.py monitoring.py; do
      run "$py" "$s"
    done
  done
  stop
else
  failed=$((failed + 1))
fi
if serve -pooling_strategy NONE -show_tokens_to_client; then
  for py in "$RIG/py311/bin/python" "$RIG/py27/bin/python"; do
    for s in elmo_like.py own_tokenizer.py; do run "$py" "$s"; done
  done
  stop
else
  failed=$((failed + 1))
fi
rm -f "$here/.last.log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
