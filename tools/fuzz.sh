#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang in their own build dir and runs each one for
# SECONDS (default 60), one after the other, one job each (the machine is shared).
#   tools/fuzz.sh [SECONDS] [TARGET...]      targets: asm tbin chip npy onnx (default: all)
#   tools/fuzz.sh 10                         CI smoke mode: 10 s per target
# Crashes, leaks and timeouts are kept in fuzz/crashes/<target>/ and make the script exit 1.
# Each target's corpus grows in $FUZZ_BUILD_DIR/corpus/<target> (seeded from fuzz/seeds.sh's
# picks of tests/ and traces/); FUZZ_BUILD_DIR defaults to build-fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(asm tbin chip npy onnx)
build=${FUZZ_BUILD_DIR:-build-fuzz}
[[ $build == /* ]] || build=$root/$build

source tools/need_clang.sh
need_clang

# An existing build dir is reused as it is: tools/sanitize.sh with SANITIZE_WITH_FUZZ=1 leaves one
# configured this way (.ci/run shares it between the sanitizer suite and this smoke run).
if [[ ! -f $build/build.ninja ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRNSIM_FUZZ=ON \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
fi
ninja -C "$build" -j "${FUZZ_JOBS:-2}" $(printf 'fuzz_%s ' "${targets[@]}")

status=0
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t
  crashes=$root/fuzz/crashes/$t
  mkdir -p "$corpus" "$crashes"
  bash fuzz/seeds.sh "$t" "$corpus"
  dict=()
  [[ -f fuzz/dict/$t.dict ]] && dict=(-dict="$root/fuzz/dict/$t.dict")
  echo "fuzz: $t for ${secs}s (corpus $(ls "$corpus" | wc -l) files)"
  # -timeout: one input taking longer than 10 s is a hang; -rss_limit_mb: a 2 GiB input-driven
  # allocation is a bug (inputs here are at most -max_len bytes).
  log=$build/fuzz_$t.log
  started=$(date +%s)
  # -fork=1: one worker process that libFuzzer restarts after a finding, so one run collects
  # every distinct problem instead of stopping at the first.
  before=$(ls "$crashes" | wc -l)
  # Run inside the build dir: fork mode writes its worker logs (fuzz-N.log) to the cwd.
  (cd "$build" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=print_stacktrace=1 \
    SC_COPYRIGHT_MESSAGE=DISABLE "$build/fuzz/fuzz_$t" "$corpus" "${dict[@]}" \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -max_len=8192 -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -artifact_prefix="$crashes/" >"$log" 2>&1) || true
  found=$(($(ls "$crashes" | wc -l) - before))
  # Fork mode prints "#N: cov: ..." progress lines; the last one holds the execution count.
  execs=$(grep -oE "^#[0-9]+" "$log" | tail -1 | tr -d '#')
  echo "fuzz: $t ran ${execs:-0} inputs, $found new finding(s)"
  if ((found > 0)); then
    status=1
    echo "fuzz: $t FOUND A PROBLEM (log: $log, inputs: $crashes/)"
    grep -E "ERROR:|runtime error|deadly signal|Timeout|out-of-memory" "$log" | sort | uniq -c |
      sort -rn | head -5 || true
  fi
  # Running tally of fuzzing effort (target, seconds, executions) across runs.
  printf '%s\t%s\t%s\n' "$t" "$(($(date +%s) - started))" "${execs:-0}" >>"$build/fuzz_tally.tsv"
done
exit $status
