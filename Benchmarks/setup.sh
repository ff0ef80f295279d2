#!/usr/bin/env bash
# Builds what the peer benchmarks (Benchmarks/peers/run.py) need, idempotently:
#   * the benchmark venv $BENCH_DIR (default ~/.cache/bert-serving-swift/bench), pyenv Python 3.11:
#     onnx, onnxruntime (PyPI), numpy, safetensors, matplotlib, the stock client, pyzmq;
#     with BENCH_TORCH=1 also the CPU-only torch wheel (no CUDA packages) for the bf16 peer;
#   * the BERT-base-sized random model (Benchmarks/make_random_bert.py) as an HF folder in the rig
#     ($RIG_DIR/bertbase-hf) and, when the rig's py37 (TensorFlow 1.15.5) exists, its TF1 twin
#     ($RIG_DIR/bertbase-tf1, CompatTests/reference/convert_minilm.py), which e2e_bench.py serves.
# Needs the reference rig for all-MiniLM-L6-v2 and its vocabulary (CompatTests/reference/setup.sh).
# Each step leaves a marker and is skipped when the marker exists (delete it to redo the step).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
BENCH_DIR="${BENCH_DIR:-$HOME/.cache/bert-serving-swift/bench}"
RIG_DIR="${RIG_DIR:-${BSS_RIG_DIR:-$HOME/.cache/bert-serving-swift/rig}}"
PYENV_ROOT="${PYENV_ROOT:-$HOME/.pyenv}"
log() { printf '[bench-setup] %s\n' "$*" >&2; }

pyenv_python() { # version prefix -> interpreter path
  local v
  v=$(ls -1 "$PYENV_ROOT/versions" 2>/dev/null | grep -E "^$1(\.|$)" | sort -V | tail -n 1 || true)
  if [ -z "$v" ]; then
    log "installing Python $1 with pyenv"
    "$PYENV_ROOT/bin/pyenv" install -s "$1"
    v=$(ls -1 "$PYENV_ROOT/versions" | grep -E "^$1(\.|$)" | sort -V | tail -n 1)
  fi
  echo "$PYENV_ROOT/versions/$v/bin/python"
}

# --- the venv ---------------------------------------------------------------------------------
req="$here/peers/requirements.txt"
if [ ! -f "$BENCH_DIR/.venv-done" ]; then
  log "creating the benchmark venv in $BENCH_DIR"
  rm -rf "$BENCH_DIR/venv"
  mkdir -p "$BENCH_DIR"
  "$(pyenv_python 3.11)" -m venv "$BENCH_DIR/venv"
  touch "$BENCH_DIR/.venv-done"
fi
sum=$(sha256sum "$req" | cut -d' ' -f1)
if [ "$(cat "$BENCH_DIR/.requirements.sha256" 2>/dev/null)" != "$sum" ]; then
  log "installing $req"
  "$BENCH_DIR/venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$sum" > "$BENCH_DIR/.requirements.sha256"
fi

# --- optional: PyTorch for the bf16 autocast peer, CPU build only ----------------------------
# PyPI's default torch wheel depends on several GB of nvidia-* packages; the CPU build from the
# PyTorch index (or a local wheel in pip's find-links, e.g. /opt/wheels) does not.
if [ "${BENCH_TORCH:-0}" = 1 ] && ! "$BENCH_DIR/venv/bin/python" -c 'import torch' 2>/dev/null; then
  local_wheel=$(ls -1 /opt/wheels/torch-*+cpu-cp311-*.whl 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$local_wheel" ]; then
    log "installing $local_wheel"
    "$BENCH_DIR/venv/bin/pip" install -q --disable-pip-version-check "$local_wheel"
  else
    log "installing torch (CPU build) from download.pytorch.org"
    "$BENCH_DIR/venv/bin/pip" install -q --disable-pip-version-check torch \
      --index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple
  fi
fi

# --- the BERT-base-sized random model --------------------------------------------------------
if [ ! -f "$RIG_DIR/minilm-hf/.done" ]; then
  log "the reference rig is missing ($RIG_DIR/minilm-hf): run CompatTests/reference/setup.sh first"
  exit 1
fi

if [ ! -f "$RIG_DIR/bertbase-hf/.done" ]; then
  log "writing the BERT-base-sized random model to $RIG_DIR/bertbase-hf"
  rm -rf "$RIG_DIR/bertbase-hf"
  BSS_RIG_DIR="$RIG_DIR" "$BENCH_DIR/venv/bin/python" "$here/make_random_bert.py" "$RIG_DIR/bertbase-hf"
  touch "$RIG_DIR/bertbase-hf/.done"
fi
if [ ! -f "$RIG_DIR/bertbase-tf1/.done" ]; then
  if [ -x "$RIG_DIR/py37/bin/python" ] && "$RIG_DIR/py37/bin/python" -c 'import tensorflow' 2>/dev/null; then
    log "converting it to a TF1 checkpoint in $RIG_DIR/bertbase-tf1 (TensorFlow 1.15.5)"
    rm -rf "$RIG_DIR/bertbase-tf1"
    "$RIG_DIR/py37/bin/python" "$here/../CompatTests/reference/convert_minilm.py" \
      "$RIG_DIR/bertbase-hf" "$RIG_DIR/bertbase-tf1"
    touch "$RIG_DIR/bertbase-tf1/.done"
  else
    log "no TensorFlow in $RIG_DIR/py37: skipped the TF1 twin (only the original server needs it)"
  fi
fi
log "ready: $BENCH_DIR/venv/bin/python Benchmarks/peers/run.py"
