#!/usr/bin/env bash
# bert-serving-benchmark end to end: ours against our bert-serving-start on the rig's MiniLM, and
# the original 1.10.0 benchmark on the same small plan for comparison (check_benchmark.py).
# CI entry point; prints "N passed, N failed" last and exits non-zero when a check fails.
#   BSS_RIG_DIR   rig directory (default ~/.cache/bert-serving-swift/rig)
#   BSS_BIN_DIR   directory holding bert-serving-benchmark and bert-serving-start (default: swift build -c release)
#   BSS_PORT_BASE first of 6 consecutive free ports (default 18200)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
RIG="${BSS_RIG_DIR:-$HOME/.cache/bert-serving-swift/rig}"
for d in "$RIG/py311" "$RIG/py37/bin/bert-serving-benchmark" "$RIG/minilm-hf" "$RIG/minilm-tf1"; do
  [ -e "$d" ] || { echo "rig incomplete: $d missing (run CompatTests/reference/setup.sh)" >&2; echo "0 passed, 1 failed"; exit 1; }
done
if [ -z "${BSS_BIN_DIR:-}" ]; then
  (cd "$root" && swift build -c release --product bert-serving-start >&2 && swift build -c release --product bert-serving-benchmark >&2)
  BSS_BIN_DIR="$(cd "$root" && swift build -c release --show-bin-path)"
fi
exec "$RIG/py311/bin/python" "$here/check_benchmark.py" --bin "$BSS_BIN_DIR" --rig "$RIG" --port-base "${BSS_PORT_BASE:-18200}"
