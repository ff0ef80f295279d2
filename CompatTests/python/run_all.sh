#!/usr/bin/env bash
# Acceptance tests of the pip package (python/): builds the wheel with the release executables,
# installs it with the stock bert-serving-client 1.10.0 into fresh Python 3.7 and 3.11 venvs, and
#  - compares get_args_parser / get_benchmark_parser / get_shutdown_parser results with the
#    ORIGINAL package ($BSS_RIG_DIR/py37) over cases.json (namespace, exit code, help and errors);
#  - checks BertServer's process handling with stand-in executables (lifecycle_tests.py);
#  - runs the README's "Starting BertServer from Python" example against our server with the stock
#    client, then checks the process table for leftovers.
# Env: BSS_BIN_DIR (release executables, required), BSS_RIG_DIR (rig). Ports 17900-17999.
# Last line: "N passed, N failed"; exit status non-zero on any failure.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rig="${BSS_RIG_DIR:-$HOME/.cache/bert-serving-swift/rig}"
bin_dir="${BSS_BIN_DIR:-}"
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
passed=0; failed=0
tmp="$(mktemp -d /tmp/bss-python.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { # name, command...
  local name="$1"; shift
  if "$@" > "$tmp/out" 2>&1; then ok "$name"; else fail "$name"; tail -n 30 "$tmp/out"; fi
}
add_counts() { # a "N passed, N failed" line from a sub-script's log
  local line p f
  line=$(grep -E "^[0-9]+ passed, [0-9]+ failed$" "$1" | tail -n 1)
  if [ -z "$line" ]; then fail "$2 (no summary line)"; return; fi
  p=${line%% passed*}; f=${line##*, }; f=${f%% failed}
  passed=$((passed + p)); failed=$((failed + f))
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
pyenv_python() { # version prefix -> newest installed interpreter of that version
  local found=() d
  for d in "$pyenv_root/versions/$1" "$pyenv_root/versions/$1".*; do
    [ -x "$d/bin/python" ] && found+=("$d/bin/python")
  done
  [ "${#found[@]}" -gt 0 ] && printf '%s\n' "${found[@]}" | sort -V | tail -n 1
}

if [ -z "$bin_dir" ] || [ ! -x "$bin_dir/bert-serving-start" ]; then
  fail "BSS_BIN_DIR must name the release executables (got '${bin_dir}')"; finish
fi
for need in "$rig/py37/bin/python" "$rig/py311/bin/python" "$rig/minilm-tf1/bert_config.json"; do
  [ -e "$need" ] || { fail "rig incomplete: $need missing (run CompatTests/reference/setup.sh)"; finish; }
done

# --- the wheel ---------------------------------------------------------------------------------
check "wheel builds with the executables bundled" \
  env PYTHON="$rig/py311/bin/python" bash "$root/python/build_wheel.sh" "$bin_dir" "$tmp/dist"
wheel=""
for w in "$tmp"/dist/bert_serving_server-*.whl; do [ -f "$w" ] && wheel="$w"; done
[ -n "$wheel" ] || finish
check "wheel ships bert_serving/__init__.py identical to the original's" \
  bash -c "unzip -p '$wheel' '*/bert_serving/__init__.py' | cmp - '$rig/py37/lib/python3.7/site-packages/bert_serving/__init__.py'"

# Stand-in executables for lifecycle_tests.py.
fake="$tmp/fake-bin"; mkdir -p "$fake/early-exit"
for name in bert-serving-start bert-serving-terminate bert-serving-benchmark; do
  cat > "$fake/$name" <<'SH'
#!/bin/sh
if [ -n "${FAKE_RECORD:-}" ]; then
  { echo $$; for a in "$@"; do echo "$a"; done; } > "$FAKE_RECORD.tmp" && mv "$FAKE_RECORD.tmp" "$FAKE_RECORD"
  echo 'I:VENTILATOR:[__i:_ru:164]:all set, ready to serve request!' >&2
  exec sleep 300
fi
printf 'stand-in %s|' "$(basename "$0")"; for a in "$@"; do printf '%s|' "$a"; done; echo
exit 7
SH
  chmod +x "$fake/$name"
done
printf '#!/bin/sh\necho "E:VENTILATOR:stand-in cannot load the model" >&2\nexit 3\n' > "$fake/early-exit/bert-serving-start"
chmod +x "$fake/early-exit/bert-serving-start"

# --- the original's parse results (once; the rebuilt command lines come from our py37 run) -----
export COLUMNS=80
port=17920
for ver in 3.7 3.11; do
  tag=${ver/./}
  venv="$tmp/venv$tag"
  interp=$(pyenv_python "$ver")
  if [ -z "$interp" ]; then fail "python $ver not installed under $pyenv_root"; continue; fi
  check "py$tag: fresh venv, pip install our wheel + bert-serving-client==1.10.0" \
    bash -c "'$interp' -m venv '$venv' && '$venv/bin/pip' install -q --disable-pip-version-check '$wheel' bert-serving-client==1.10.0"
  [ -x "$venv/bin/bert-serving-start" ] || continue
  check "py$tag: server and client share the bert_serving namespace, no TensorFlow" \
    "$venv/bin/python" -c "import sys, bert_serving.server as s, bert_serving.client as c; assert s.__version__ == c.__version__ == '1.10.0'; assert 'tensorflow' not in sys.modules"
  "$venv/bin/python" "$here/parse_table.py" "$here/cases.json" "$tmp/ours$tag.json" || fail "py$tag: parse_table.py crashed"
  "$venv/bin/python" "$here/lifecycle_tests.py" "$fake" > "$tmp/lifecycle$tag.log" 2>&1
  sed "s/^/[py$tag] /" "$tmp/lifecycle$tag.log" | grep -E "^\[py$tag\] (ok|FAIL)|Error|assert" | head -n 60
  add_counts "$tmp/lifecycle$tag.log" "py$tag lifecycle_tests.py"

  # The console scripts run the bundled Swift executables with argv[0] intact (prog name).
  for script in bert-serving-start bert-serving-benchmark; do
    if [ "$("$venv/bin/$script" -version 2>&1)" = "$script 1.10.0" ]; then
      ok "py$tag: $script -version runs the bundled executable ('$script 1.10.0', as the original)"
    else
      fail "py$tag: $script -version runs the bundled executable (got: $("$venv/bin/$script" -version 2>&1 | head -n 3))"
    fi
  done

  # The README example against our server, with the stock client in the same venv.
  p_in=$port; p_out=$((port + 1)); port=$((port + 2))
  if timeout 300 "$venv/bin/python" "$here/readme_example.py" "$rig/minilm-tf1" "$p_in" "$p_out" > "$tmp/readme$tag.log" 2>&1; then
    ok "py$tag: README 'Starting BertServer from Python' + stock client encode + BertServer.shutdown"
  else
    fail "py$tag: README 'Starting BertServer from Python' + stock client encode + BertServer.shutdown"
    tail -n 30 "$tmp/readme$tag.log"
  fi
  p_ctx=$port; port=$((port + 2))
  if timeout 300 "$venv/bin/python" "$here/context_manager.py" "$rig/minilm-tf1" "$p_ctx" "$((p_ctx + 1))" > "$tmp/ctx$tag.log" 2>&1; then
    ok "py$tag: with BertServer(args): ready on enter, stock client encodes, TERMINATION on exit, exit 0"
  else
    fail "py$tag: with BertServer(args): ready on enter, stock client encodes, TERMINATION on exit, exit 0"
    tail -n 20 "$tmp/ctx$tag.log"
  fi
  child=$(sed -n 's/^child-pid \([0-9]*\)$/\1/p' "$tmp/readme$tag.log")
  sleep 1
  left=$(pgrep -f -- "bert-serving-start .*-port=($p_in|$p_ctx)( |$)" || true)
  if [ -n "$child" ] && [ -z "$left" ] && ! kill -0 "$child" 2>/dev/null; then
    ok "py$tag: no server process left behind"
  else
    fail "py$tag: no server process left behind (child pid '${child}'; still running: ${left:-none})"
    [ -n "$left" ] && xargs -r kill -9 <<< "$left"
  fi
done

if [ -f "$tmp/ours37.json" ]; then
  # The original parses the table, and our rebuilt command lines, which must give the same namespaces.
  "$rig/py311/bin/python" - "$here/cases.json" "$tmp/ours37.json" "$tmp/cases-orig.json" <<'PY'
import json, sys
cases = json.load(open(sys.argv[1]))
ours = {r['name']: r for r in json.load(open(sys.argv[2]))}
extra = [{'name': c['name'] + '#rebuilt', 'parser': c['parser'], 'argv': ours[c['name']]['rebuilt']}
         for c in cases if ours.get(c['name'], {}).get('rebuilt') is not None]
json.dump(cases + extra, open(sys.argv[3], 'w'))
PY
  if (cd "$tmp" && "$rig/py37/bin/python" "$here/parse_table.py" "$tmp/cases-orig.json" "$tmp/orig.json" 2> "$tmp/orig.err"); then
    "$rig/py311/bin/python" "$here/compare.py" "$tmp/orig.json" "$tmp/ours37.json" "$tmp/ours311.json" > "$tmp/compare.log" 2>&1
    grep -E "^FAIL" -A3 "$tmp/compare.log" | head -n 80
    add_counts "$tmp/compare.log" "parser comparison"
    echo "parser comparison: $(tail -n 1 "$tmp/compare.log")"
  else
    fail "the original's parse_table.py run"; tail -n 20 "$tmp/orig.err"
  fi
fi
finish
