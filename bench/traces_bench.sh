#!/usr/bin/env bash
# Wall time of every traces/ example (numerics on), on tiny and trn1, beside the wall time of
# `trnsim chips` (process start-up, the baseline measured in the same run).
# Usage: bench/traces_bench.sh [BUILD_DIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
trnsim=$(readlink -f "${1:-$top/build}/trnsim")
export SC_COPYRIGHT_MESSAGE=DISABLE
wall() { local t0 t1; t0=$(date +%s%N); "$@" > /dev/null 2>&1 || true; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
base=$(wall "$trnsim" chips)
printf '%-60s %8s %8s\n' "trace" "tiny ms" "trn1 ms"
for t in "$top"/traces/*/*.tasm; do
  case "$t" in *_small.tasm) ;; */1[0-3]_mm_*) continue ;; esac
  rel=${t#"$top"/}
  tiny=$( [[ $rel == traces/1* ]] && echo - || wall "$trnsim" run "$t" --chip tiny)
  printf '%-60s %8s %8s\n' "$rel" "$tiny" "$(wall "$trnsim" run "$t" --chip trn1)"
done
echo "baseline: trnsim chips (process start-up) ${base} ms"
