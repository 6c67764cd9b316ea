#!/usr/bin/env bash
# Collective simulation speed (issue #14): CPU seconds (user + sys, best of 3) of `trnsim
# collectives` runs, timing-only (no --check), and simulated transfers per CPU second. CPU time,
# not wall time: this machine is shared. The baseline, measured in the same run, is a 4-chip
# 8-byte all-reduce on tiny4 (process start-up and one tiny simulation).
# Goals: trn2u all-reduce of 1 GiB < 1 s; a full sweep 8 B .. 1 GiB on trn1.32xlarge < 10 s.
#   Usage: bench/collectives_bench.sh [path/to/trnsim]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
trnsim=$(readlink -f "${1:-$root/build/trnsim}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SC_COPYRIGHT_MESSAGE=DISABLE

cpu() {  # best user+sys seconds of 3 runs; the last run's rows in $work/rows.json
  local best=999 t
  for _ in 1 2 3; do
    /usr/bin/time -f "%U %S" -o "$work/t" "$trnsim" collectives --json "$work/rows.json" "$@" \
      >/dev/null 2>"$work/err" || { echo "failed: $* ($(tail -1 "$work/err"))" >&2; return 1; }
    t=$(awk '{print $1 + $2}' "$work/t")
    best=$(awk -v a="$t" -v b="$best" 'BEGIN {print (a < b) ? a : b}')
  done
  echo "$best"
}
transfers() { /usr/bin/python3 -c "import json,sys; print(sum(r['transfers'] for r in json.load(open(sys.argv[1]))))" "$work/rows.json"; }

base=$(cpu --system tiny4 --op all_reduce --bytes 8)
printf 'baseline: tiny4 all_reduce 8 B: %.3f s CPU\n\n' "$base"
printf '%-44s %8s %8s %12s %14s %6s\n' run cpu_s x_base transfers transfers/s goal_s
run() {  # label goal args...
  local label=$1 goal=$2
  shift 2
  local t n
  t=$(cpu "$@")
  n=$(transfers)
  printf '%-44s %8.3f %8.1f %12s %14.0f %6s\n' "$label" "$t" \
    "$(awk -v a="$t" -v b="$base" 'BEGIN {print a / b}')" "$n" \
    "$(awk -v a="$n" -v b="$t" 'BEGIN {print (b > 0) ? a / b : 0}')" "$goal"
}
run "trn1.32xlarge all_reduce sweep 8 B..1 GiB" 10 --system trn1.32xlarge --op all_reduce --min 8 --max 1G
run "trn1.32xlarge all_gather sweep 8 B..1 GiB" 10 --system trn1.32xlarge --op all_gather --min 8 --max 1G
run "trn2u all_reduce 1 GiB (auto: hierarchical)" 1 --system trn2u --op all_reduce --bytes 1G
run "trn2u all_reduce 1 GiB (ring, 6 channels)" 1 --system trn2u --op all_reduce --algo ring --bytes 1G
