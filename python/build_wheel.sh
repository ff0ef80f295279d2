#!/usr/bin/env bash
# Builds the bert-serving-server wheel with the Swift executables bundled in it.
#   python/build_wheel.sh [BIN_DIR] [OUT_DIR]
# BIN_DIR: folder with bert-serving-{start,terminate,benchmark}; default: a release build with
#   the Swift runtime linked in (--static-swift-stdlib), so the wheel needs only libzmq5,
#   libopenblas0-pthread and libmsgpackc2 on the target machine.
# OUT_DIR: where the .whl goes (default: python/dist). PYTHON: interpreter with pip (default python3);
#   the build backend (setuptools) is fetched by pip into an isolated environment.
# The source folder is copied first, so the build leaves nothing behind in the repository.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="${2:-$here/dist}"
py="${PYTHON:-python3}"
if [ -n "${1:-}" ]; then
  bin_dir="$(cd "$1" && pwd)"
else
  flags=(-c release --static-swift-stdlib --scratch-path "$root/.build-wheel")
  (cd "$root" && swift build "${flags[@]}" --product bert-serving-start \
    && swift build "${flags[@]}" --product bert-serving-terminate \
    && swift build "${flags[@]}" --product bert-serving-benchmark)
  bin_dir="$(cd "$root" && swift build "${flags[@]}" --show-bin-path)"
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -R "$here" "$work/src"
rm -rf "$work/src/dist" "$work/src/build" "$work/src"/*.egg-info
# Stripped copies: release builds keep debug info (about 15 MB per executable).
mkdir -p "$work/bin"
for exe in bert-serving-start bert-serving-terminate bert-serving-benchmark; do
  cp "$bin_dir/$exe" "$work/bin/$exe"
  if command -v strip > /dev/null; then strip "$work/bin/$exe"; fi
done
BSS_WHEEL_BIN_DIR="$work/bin" "$py" -m pip wheel -q --disable-pip-version-check --no-deps -w "$out" "$work/src"
ls -1 "$out"/bert_serving_server-*.whl
