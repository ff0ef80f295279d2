#!/usr/bin/env bash
# The rig's own check: the converted TF1 checkpoint, served by the ORIGINAL server, is the HF model.
set -euo pipefail
cd "$(dirname "$0")"
RIG="${BSS_RIG_DIR:-$HOME/.cache/bert-serving-swift/rig}"
exec "$RIG/py311/bin/python" verify_checkpoint.py
