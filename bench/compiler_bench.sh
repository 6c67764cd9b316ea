#!/usr/bin/env bash
# Compiler benchmark: builds the benchmark models with tests/models/make_models.py, then for each
# prints `trnsim compile` and `trnsim run --timing-only` wall times, the instruction count, the
# simulated latency, MFU and PE utilisation on trn1 (--dtype bf16). The baseline, measured in
# the same run, is `trnsim run --timing-only` of traces/01_matmul (process start-up + a tiny
# simulation); ratios are wall time / baseline. Not a timed test: figures only.
# Usage: bench/compiler_bench.sh [path/to/trnsim] [MODEL...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
trnsim="${1:-$root/build/trnsim}"
shift || true
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(bench_gemm_large bench_bert_base resnet50)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export SC_COPYRIGHT_MESSAGE=DISABLE
py=/usr/bin/python3

now() { date +%s.%N; }
stat_of() {  # stats.json dotted key (core0.pe.utilization) -> value
  "$py" -c "
import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split('.'):
    d = d[k]
print(d['value'])" "$1" "$2"
}

# Baseline: the smallest trace, timing-only (best of 3).
base=999
for _ in 1 2 3; do
  t0=$(now); "$trnsim" run "$root/traces/01_matmul/matmul.tasm" --timing-only >/dev/null; t1=$(now)
  base=$(echo "$t1 - $t0" | bc -l | awk -v b="$base" '{print ($1 < b) ? $1 : b}')
done
printf 'baseline: trnsim run --timing-only traces/01_matmul = %.3f s\n\n' "$base"
printf '%-18s %9s %7s %9s %7s %10s %12s %7s %7s\n' model compile_s x_base run_s x_base \
  instrs sim_latency_us mfu pe_util
for m in "${models[@]}"; do
  if ! "$py" "$root/tests/models/make_models.py" "$work" "$m" >/dev/null 2>"$work/$m.err"; then
    printf '%-18s not built: %s\n' "$m" "$(tail -1 "$work/$m.err")"
    continue
  fi
  t0=$(now)
  if ! "$trnsim" compile "$work/$m.onnx" --chip trn1 --dtype bf16 -o "$work/$m.tbin" \
      2>"$work/$m.cerr"; then
    printf '%-18s compile failed: %s\n' "$m" "$(tail -1 "$work/$m.cerr")"
    continue
  fi
  t1=$(now)
  "$trnsim" run "$work/$m.tbin" --chip trn1 --timing-only --stats "$work/$m.json" >/dev/null
  t2=$(now)
  c=$(echo "$t1 - $t0" | bc -l); r=$(echo "$t2 - $t1" | bc -l)
  printf '%-18s %9.3f %7.1f %9.3f %7.1f %10s %12.1f %7.4f %7.4f\n' "$m" "$c" \
    "$(echo "$c / $base" | bc -l)" "$r" "$(echo "$r / $base" | bc -l)" \
    "$(stat_of "$work/$m.json" instructions)" \
    "$(echo "$(stat_of "$work/$m.json" sim_time_ns) / 1000" | bc -l)" \
    "$(stat_of "$work/$m.json" mfu)" "$(stat_of "$work/$m.json" core0.pe.utilization)"
done
