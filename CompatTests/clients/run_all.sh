#!/usr/bin/env bash
# Stock bert-serving-client 1.10.0 (Python 3.11 and 2.7 from the rig) against our release
# bert-serving-start. CI entry point; exits non-zero when any scenario fails.
#   BSS_RIG_DIR   rig directory (default ~/.cache/bert-serving-swift/rig)
#   BSS_BIN_DIR   directory holding bert-serving-start/-terminate (default: swift build -c release)
#   BSS_PORT_BASE first of 20 consecutive free ports (default 17600)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
RIG="${BSS_RIG_DIR:-$HOME/.cache/bert-serving-swift/rig}"
for d in "$RIG/py311" "$RIG/py27" "$RIG/minilm-tf1"; do
  [ -e "$d" ] || { echo "rig incomplete: $d missing (run CompatTests/reference/setup.sh)" >&2; exit 1; }
done
if [ -z "${BSS_BIN_DIR:-}" ]; then
  (cd "$root" && swift build -c release --product bert-serving-start >&2 && swift build -c release --product bert-serving-terminate >&2)
  BSS_BIN_DIR="$(cd "$root" && swift build -c release --show-bin-path)"
fi
base="${BSS_PORT_BASE:-17600}"
logs="$(mktemp -d)"
export BSS_COMPAT_LOG_DIR="$logs"
status=0
"$RIG/py311/bin/python" "$here/compat_client.py" --bin "$BSS_BIN_DIR" --rig "$RIG" --port-base "$base" || status=1
"$RIG/py27/bin/python" "$here/compat_client.py" --bin "$BSS_BIN_DIR" --rig "$RIG" --port-base "$((base + 10))" || status=1
if [ "$status" -ne 0 ]; then
  for f in "$logs"/*.log; do echo "=== $f (last 40 lines)"; tail -n 40 "$f"; done >&2
fi
rm -rf "$logs"
exit "$status"
