#!/usr/bin/env bash
# Builds and runs one libFuzzer target of Fuzz/ (a separate package that depends on the root one
# by path, so the normal build never sees the sanitizer flags).
#   scripts/fuzz.sh TARGET SECONDS        TARGET: FuzzWire | FuzzTokenizer
# Recipe (Swift 6.3, Linux): swift build -c release --package-path Fuzz --product TARGET
#   -Xswiftc -sanitize=fuzzer,address  (instruments ServerCore/WordPiece too; the targets add
#   -parse-as-library so libFuzzer's main() is the program's entry point).
# The run starts from the committed seeds Fuzz/Corpus/TARGET (copied to a temp dir: the repo is
# not written unless BSS_FUZZ_MERGE=1, which merges new coverage-increasing inputs into it).
# Prints libFuzzer's final "cov:" (edges) and "ft:" (features); exits non-zero on a crash, leak,
# timeout (> 10 s for one input) or OOM (> 4 GB), leaving the input as /tmp/bss-fuzz-TARGET-crash-*.
# Env: BSS_FUZZ_SCRATCH (build dir, default <repo>/.build-fuzz), BSS_RIG_DIR (FuzzTokenizer's vocab),
#      BSS_FUZZ_JOBS (parallel fuzzing processes, default 1).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
target="${1:?usage: scripts/fuzz.sh FuzzWire|FuzzTokenizer SECONDS}"
seconds="${2:?usage: scripts/fuzz.sh TARGET SECONDS}"
case "$target" in FuzzWire|FuzzTokenizer) ;; *) echo "unknown target $target" >&2; exit 2;; esac
scratch="${BSS_FUZZ_SCRATCH:-$repo/.build-fuzz}"

echo "== build $target ($scratch)"
t0=$(date +%s)
swift build -c release --package-path "$repo/Fuzz" --scratch-path "$scratch" --product "$target" \
  -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -vE "prohibited flag\(s\)|^\[[0-9]+/[0-9]+\] (Compiling|Write|Emitting)" || true
bin="$scratch/release/$target"
[ -x "$bin" ] || { echo "build failed: no $bin"; exit 1; }
echo "built in $(( $(date +%s) - t0 )) s"

seeds="$repo/Fuzz/Corpus/$target"
work=$(mktemp -d "/tmp/bss-fuzz-$target-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
cp "$seeds"/* "$work/corpus/" 2>/dev/null || true
log="$work/fuzz.log"
echo "== run $target for $seconds s ($(find "$work/corpus" -type f | wc -l) seeds)"
jobs=()
# -jobs (even -jobs=1) switches libFuzzer to child processes logging to ./fuzz-N.log: only when asked.
[ "${BSS_FUZZ_JOBS:-1}" != 1 ] && jobs=(-jobs="$BSS_FUZZ_JOBS" -workers="$BSS_FUZZ_JOBS")
set +e
(cd "$work" && ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" "$bin" "$work/corpus" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=16384 -print_final_stats=1 \
  "${jobs[@]}" -artifact_prefix="/tmp/bss-fuzz-$target-" > "$log" 2>&1)
rc=$?
set -e
if [ "${#jobs[@]}" -gt 0 ]; then cat "$work"/fuzz-*.log >> "$log" 2>/dev/null || true; fi
grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|ERROR|SUMMARY|Test unit written|stat::" "$log" | tail -n 20
last=$(grep -oE "cov: [0-9]+ ft: [0-9]+" "$log" | tail -n 1)
echo "$target: ${last:-no coverage line} after $seconds s, corpus $(find "$work/corpus" -type f | wc -l) inputs, exit $rc"
if [ "$rc" -ne 0 ]; then
  tail -n 60 "$log"
  exit "$rc"
fi
if [ "${BSS_FUZZ_MERGE:-0}" = 1 ]; then
  "$bin" -merge=1 -max_len=16384 "$seeds" "$work/corpus" > "$work/merge.log" 2>&1
  echo "merged into $seeds: $(find "$seeds" -type f | wc -l) inputs"
fi
