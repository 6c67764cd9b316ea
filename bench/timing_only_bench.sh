#!/usr/bin/env bash
# Timing-only speed (issue #12): CPU seconds (user + sys, best of 3) of `trnsim run MODEL.onnx
# --chip trn1 --timing-only`, compile and simulation in one process, on ResNet-18 and BERT-base
# (tests/models/make_models.py builders, real-size weights that a timing-only run must leave
# unread). CPU time rather than wall time, as this machine is shared; the baseline, measured in
# the same run, is the smallest trace (process start-up, chip config, a tiny simulation).
# Goals: ResNet-18 <= 0.15 s, BERT-base <= 0.5 s.
#   Usage: bench/timing_only_bench.sh [path/to/trnsim] [MODEL...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
trnsim=$(readlink -f "${1:-$root/build/trnsim}")
shift || true
models=("$@")
((${#models[@]})) || models=(bench_resnet18 bench_bert_base resnet50)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SC_COPYRIGHT_MESSAGE=DISABLE

cpu() {  # best user+sys seconds of 3 runs of the command
  local best=999 t
  for _ in 1 2 3; do
    /usr/bin/time -f "%U %S" -o "$work/t" "$@" >/dev/null 2>"$work/err" ||
      { echo "failed: $* ($(tail -1 "$work/err"))" >&2; return 1; }
    t=$(awk '{print $1 + $2}' "$work/t")
    best=$(awk -v a="$t" -v b="$best" 'BEGIN {print (a < b) ? a : b}')
  done
  echo "$best"
}

base=$(cpu "$trnsim" run "$root/traces/01_matmul/matmul.tasm" --timing-only)
printf 'baseline: run --timing-only traces/01_matmul: %.3f s CPU\n\n' "$base"
printf '%-16s %10s %8s %8s %8s\n' model weights_MB cpu_s x_base goal_s
for m in "${models[@]}"; do
  /usr/bin/python3 "$root/tests/models/make_models.py" "$work" "$m" >/dev/null
  mb=$(du -m "$work/$m.onnx" | cut -f1)
  t=$(cpu "$trnsim" run "$work/$m.onnx" --chip trn1 --timing-only)
  case $m in bench_resnet18) goal=0.15 ;; bench_bert_base) goal=0.5 ;; *) goal=- ;; esac
  printf '%-16s %10s %8.3f %8.1f %8s\n' "$m" "$mb" "$t" "$(awk -v a="$t" -v b="$base" 'BEGIN {print a / b}')" "$goal"
  rm -f "$work/$m.onnx"
done
