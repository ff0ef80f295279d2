#!/usr/bin/env bash
# Checks of docker/ that need no Docker engine (none is available in CI; the image build itself
# is not exercised here):
#  1. hadolint (Dockerfile) and shellcheck (entrypoint and these scripts) report nothing;
#  2. the entry point, run from a temporary root laid out like the image, builds the original's
#     command line (`-http_port 8125 -num_worker=$1 -model_dir /model`), passes extra flags
#     through and execs the server (same PID);
#  3. with the real release executables: the entry point starts our server on the model, the
#     HEALTHCHECK probe answers 0, SIGTERM stops the server with exit 0, the probe then answers 1;
#  4. every library `ldd` lists for the executables comes from the runtime stage's packages (or
#     what they depend on); the Swift runtime itself is linked in (--static-swift-stdlib).
# Env: BSS_BIN_DIR (release executables, required), BSS_RIG_DIR. Ports 17950-17959.
# Last line: "N passed, N failed"; non-zero exit status on failure.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rig="${BSS_RIG_DIR:-$HOME/.cache/bert-serving-swift/rig}"
bin_dir="${BSS_BIN_DIR:-}"
passed=0; failed=0
tmp="$(mktemp -d /tmp/bss-docker.XXXXXX)"
server_pid=""
# On exit: a server still running from step 3 is killed, then the temporary root is removed.
trap 'if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -9 "$server_pid"; fi; rm -rf "$tmp"' EXIT

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

if [ -z "$bin_dir" ] || [ ! -x "$bin_dir/bert-serving-start" ] || [ ! -x "$bin_dir/bert-serving-healthcheck" ]; then
  fail "BSS_BIN_DIR must name the release executables (got '${bin_dir}')"; finish
fi

# --- 1. lint ---------------------------------------------------------------------------------------
if bash "$root/docker/lint.sh" > "$tmp/lint.log" 2>&1; then
  ok "hadolint and shellcheck clean ($(head -n 1 "$tmp/lint.log" | cut -c1-40); $(sed -n 2p "$tmp/lint.log"))"
else
  fail "hadolint and shellcheck clean"; cat "$tmp/lint.log"
fi

# --- 2. entry point command line, with a stand-in server ----------------------------------------
fake_root="$tmp/fake-root"
mkdir -p "$fake_root/usr/local/bin"
cp "$root/docker/entrypoint.sh" "$fake_root/usr/local/bin/bert-serving-entrypoint"
cat > "$fake_root/usr/local/bin/bert-serving-start" <<'SH'
#!/bin/sh
{ echo "pid=$$"; for a in "$@"; do echo "$a"; done; } > "$RECORD"
SH
chmod +x "$fake_root/usr/local/bin/"*
entry_case() { # name, expected args (one per line), env assignments..., --, entry point args...
  local name="$1" want="$2"; shift 2
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  local record="$tmp/record"
  rm -f "$record"
  env -i PATH="$fake_root/usr/local/bin:/usr/bin:/bin" RECORD="$record" "${envs[@]}" \
    bert-serving-entrypoint "$@" &
  local pid=$!
  wait "$pid"
  local got
  got=$(sed 1d "$record" 2>/dev/null)
  if [ "$got" = "$want" ] && [ "$(head -n 1 "$record")" = "pid=$pid" ]; then
    ok "entrypoint: $name"
  else
    fail "entrypoint: $name"; echo "  want: $(tr '\n' ' ' <<< "$want")"; echo "  got:  $(tr '\n' ' ' < "$record") (entry point pid $pid)"
  fi
}
nl=$'\n'
entry_case "no argument: one worker, /model, HTTP on 8125" \
  "-http_port${nl}8125${nl}-num_worker=1${nl}-model_dir${nl}/model" --
entry_case "README form: docker run ... IMAGE 4" \
  "-http_port${nl}8125${nl}-num_worker=4${nl}-model_dir${nl}/model" -- 4
entry_case "extra flags pass through in order, spaces kept" \
  "-http_port${nl}8125${nl}-num_worker=2${nl}-model_dir${nl}/model${nl}-max_seq_len${nl}NONE${nl}-pooling_layer${nl}-4${nl}-1${nl}-cors${nl}a b" \
  -- 2 -max_seq_len NONE -pooling_layer -4 -1 -cors "a b"
entry_case "BERT_SERVING_HTTP_PORT empty: ZeroMQ only" \
  "-num_worker=3${nl}-model_dir${nl}/model" BERT_SERVING_HTTP_PORT= -- 3
entry_case "BERT_SERVING_MODEL_DIR and BERT_SERVING_HTTP_PORT" \
  "-http_port${nl}9000${nl}-num_worker=1${nl}-model_dir${nl}/models/x" BERT_SERVING_MODEL_DIR=/models/x BERT_SERVING_HTTP_PORT=9000 -- 1

# --- 3. the real server through the entry point, probed by the HEALTHCHECK executable -----------
image_root="$tmp/image-root"
mkdir -p "$image_root/usr/local/bin"
for exe in bert-serving-start bert-serving-terminate bert-serving-benchmark bert-serving-healthcheck bert-serving-proxy; do
  ln -s "$bin_dir/$exe" "$image_root/usr/local/bin/$exe"
done
cp "$root/docker/entrypoint.sh" "$image_root/usr/local/bin/bert-serving-entrypoint"
ln -s "$rig/minilm-tf1" "$image_root/model"
probe() { "$image_root/usr/local/bin/bert-serving-healthcheck" -port 17950 -port_out 17951 -timeout "${1:-5000}"; }
if probe 300 2> /dev/null; then fail "ports 17950/17951 are free before the test"; fi
env PATH="$image_root/usr/local/bin:/usr/bin:/bin" HOME="$tmp" BERT_SERVING_MODEL_DIR="$image_root/model" \
  BERT_SERVING_HTTP_PORT=17952 bert-serving-entrypoint 1 -port 17950 -port_out 17951 -cpu \
  > "$tmp/server.out" 2> "$tmp/server.err" &
server_pid=$!
for _ in $(seq 1 240); do
  grep -qs "all set, ready to serve request!" "$tmp/server.err" && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.5
done
if grep -q "all set, ready to serve request!" "$tmp/server.err"; then
  ok "entrypoint starts bert-serving-start on the model (ready line seen)"
  if [ "$(tr '\0' ' ' < "/proc/$server_pid/cmdline" 2>/dev/null)" = "bert-serving-start -http_port 17952 -num_worker=1 -model_dir $image_root/model -port 17950 -port_out 17951 -cpu " ]; then
    ok "the server replaced the entry point shell (exec, same PID)"
  else
    fail "the server replaced the entry point shell (cmdline: $(tr '\0' ' ' < "/proc/$server_pid/cmdline" 2>/dev/null))"
  fi
  if probe 5000; then ok "healthcheck exits 0 against a ready server"; else fail "healthcheck exits 0 against a ready server"; fi
  # Probes use the identity bert-serving-healthcheck, which the server leaves out of SHOW_STATUS
  # statistics: between two status requests of a stock client, three probes change nothing.
  # (ServerStatistic.probeIdentity.)
  stats_checks=1
  if [ "$stats_checks" != 1 ]; then
    echo "PENDING (not run, not counted): probes left out of SHOW_STATUS statistics"
  elif "$rig/py311/bin/python" - > "$tmp/stats.log" 2>&1 <<PY
import subprocess
from bert_serving.client import BertClient
bc = BertClient(port=17950, port_out=17951, timeout=10000)
before = bc.server_status['statistic']
for _ in range(3):
    subprocess.run(['$image_root/usr/local/bin/bert-serving-healthcheck', '-port', '17950', '-port_out', '17951'], check=True)
after = bc.server_status['statistic']
print(before, after, sep='\n')
assert after['num_sys_request'] == before['num_sys_request'] + 1, 'probes counted as requests'
assert after['num_total_client'] == before['num_total_client'], 'probe counted as a client'
PY
  then
    ok "healthcheck probes are left out of SHOW_STATUS statistics"
  else
    fail "healthcheck probes are left out of SHOW_STATUS statistics"; tail -n 5 "$tmp/stats.log"
  fi
  kill -TERM "$server_pid"
  rc=124
  for _ in $(seq 1 60); do
    if ! kill -0 "$server_pid" 2>/dev/null; then wait "$server_pid"; rc=$?; break; fi
    sleep 0.5
  done
  if [ "$rc" -eq 0 ]; then ok "SIGTERM (docker stop) ends the server with exit 0"; else fail "SIGTERM (docker stop) ends the server with exit 0 (status $rc)"; fi
  server_pid=""
  left=$(pgrep -f -- "-port 17950 -port_out 17951" || true)
  if [ -z "$left" ]; then
    ok "no server process left behind"
  else
    fail "no server process left behind (still running: $(tr '\n' ' ' <<< "$left"))"
    xargs -r kill -9 <<< "$left"
  fi
  if probe 1000 2> /dev/null; then fail "healthcheck exits 1 once the server is gone"; else ok "healthcheck exits 1 once the server is gone"; fi
else
  fail "entrypoint starts bert-serving-start on the model (no ready line within 120 s)"
  tail -n 20 "$tmp/server.err"
fi

# --- 4. runtime libraries ------------------------------------------------------------------------
# Packages of the runtime stage, as the Dockerfile lists them (the last stage's `name=version`s).
mapfile -t runtime_pkgs < <(awk '/^FROM /{stage++; delete pk; n=0} stage && /^ +[a-z0-9.+-]+=[^ ]+ *\\?$/ {sub(/^ +/, ""); sub(/=.*/, ""); pk[n++]=$0} END {for (i = 0; i < n; i++) print pk[i]}' "$root/docker/Dockerfile")
if [ "${#runtime_pkgs[@]}" -eq 0 ]; then
  fail "runtime package list found in docker/Dockerfile"; finish
fi
# Everything those packages pull in (what apt-get install brings into bookworm-slim).
apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
  --no-enhances "${runtime_pkgs[@]}" 2> /dev/null | grep -vE '^ |^<' | sed 's/:.*//' | sort -u > "$tmp/allowed"
package_of() { # library path -> Debian package
  local path="$1" real candidates c
  real=$(readlink -f "$path")
  candidates=("$path" "$real" "${real#/usr}" "/usr${path}")
  for c in "${candidates[@]}"; do
    dpkg -S "$c" 2> /dev/null | head -n 1 | sed 's/:.*//;s/, .*//' | grep . && return 0
  done
  return 1
}
# The Swift runtime: <toolchain>/usr/lib/swift/linux (libswiftCore, Foundation, dispatch, ICU).
toolchain_lib="$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")/lib/swift/linux"
check_libs() { # label, executable, strict (1: Swift runtime must be linked in)
  local label="$1" exe="$2" strict="$3" bad="" swift_libs="" lib path pkg
  local listing
  listing=$(ldd "$exe" 2> /dev/null)  # whole output first: `ldd | grep -q` can SIGPIPE ldd under pipefail
  if ! grep -q "libc.so" <<< "$listing"; then
    fail "ldd $label: not a dynamically linked executable"; return
  fi
  while read -r lib path; do
    case "$path" in
      "$toolchain_lib"/*) swift_libs="$swift_libs $lib"; continue ;;
    esac
    case "$lib" in
      libswift*|libFoundation*|lib_Foundation*|libdispatch*|libBlocksRuntime*) swift_libs="$swift_libs $lib"; continue ;;
    esac
    pkg=$(package_of "$path") || { bad="$bad $lib(no package)"; continue; }
    grep -qx "$pkg" "$tmp/allowed" || bad="$bad $lib($pkg)"
  done < <(awk '/=>/ {print $1, $3; next} /^\t\// {print $1, $1}' <<< "$listing")
  if [ "$strict" = 1 ] && [ -n "$swift_libs" ]; then bad="$bad Swift runtime linked dynamically:$swift_libs"; fi
  if [ -z "$bad" ]; then ok "ldd $label: only libraries of [${runtime_pkgs[*]}] and their dependencies"; else fail "ldd $label:$bad"; fi
}
for exe in bert-serving-start bert-serving-terminate bert-serving-benchmark bert-serving-healthcheck bert-serving-proxy; do
  check_libs "$exe (BSS_BIN_DIR; toolchain libraries excluded: --static-swift-stdlib links them in)" "$bin_dir/$exe" 0
done
# One executable built exactly as the image builds them, checked strictly.
static_scratch="$root/.build-docker-static"
if (cd "$root" && swift build -c release --static-swift-stdlib --scratch-path "$static_scratch" \
      --product bert-serving-healthcheck > "$tmp/static.log" 2>&1); then
  static_bin="$(cd "$root" && swift build -c release --static-swift-stdlib --scratch-path "$static_scratch" --show-bin-path)"
  check_libs "bert-serving-healthcheck built with --static-swift-stdlib" "$static_bin/bert-serving-healthcheck" 1
else
  fail "static build of bert-serving-healthcheck"; tail -n 20 "$tmp/static.log"
fi
if [ -n "${BSS_STATIC_BIN_DIR:-}" ]; then
  for exe in bert-serving-start bert-serving-terminate bert-serving-benchmark; do
    check_libs "$exe built with --static-swift-stdlib (BSS_STATIC_BIN_DIR)" "$BSS_STATIC_BIN_DIR/$exe" 1
  done
fi
finish
