#!/usr/bin/env bash
# `trnsim scalesim` against SCALE-Sim on ResNet-50 (tests/scalesim/data/Resnet50_8col.csv), 128x128,
# 64 kB SRAMs, CALC bandwidth, for the three dataflows: the golden cases r50__c128x128_64k_{os,ws,is}
# of tests/scalesim/golden/real/ (SCALE-Sim v2's current code, commit in SOURCE.txt there).
#
# For each dataflow it prints trnsim's CPU time (user + sys, best of 3) and peak RSS, and whether
# its three reports are identical to the golden ones. With a scale-sim-v2 checkout given as
# SCALESIM_V2=DIR, SCALE-Sim itself runs the same inputs in the same script (unmodified,
# `python3 DIR/scalesim/scale.py -c CFG -t TOPOLOGY -p OUT`; minutes and gigabytes per dataflow),
# and the ratio SCALE-Sim / trnsim is printed; without it only trnsim runs.
#   Usage: [SCALESIM_V2=DIR] [DATAFLOWS="ws"] bench/scalesim_bench.sh [path/to/trnsim]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
trnsim="$(readlink -f "${1:-$root/build/trnsim}")"
topo="$root/tests/scalesim/data/Resnet50_8col.csv"
golden="$root/tests/scalesim/golden/real"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time, Debian package 'time')" >&2; exit 1; }

cpu_rss() {  # runs "$@" under GNU time; prints "CPU_SECONDS PEAK_RSS_KB"
  /usr/bin/time -f "%U %S %M" -o "$work/t" "$@" > /dev/null 2>&1
  awk '{ printf "%.3f %d\n", $1 + $2, $3 }' "$work/t"
}
same_reports() {  # golden dir, output dir
  for r in COMPUTE_REPORT BANDWIDTH_REPORT DETAILED_ACCESS_REPORT; do
    cmp -s "$1/$r.csv" "$2/$r.csv" || { echo "DIFFERENT($r)"; return; }
  done
  echo identical
}

printf '%-4s %12s %11s %-10s %14s %11s %-10s %8s\n' df trnsim_cpu_s rss_kb reports \
  scalesim_cpu_s rss_kb reports ratio
for df in ${DATAFLOWS:-os ws is}; do
  case_dir="$golden/r50__c128x128_64k_$df"
  best=1e9 rss=0
  for _ in 1 2 3; do
    rm -rf "$work/t_$df"
    read -r cpu kb < <(cpu_rss "$trnsim" scalesim -q -c "$case_dir/scale.cfg" -t "$topo" \
                                -o "$work/t_$df")
    best=$(awk -v a="$cpu" -v b="$best" 'BEGIN { print (a < b) ? a : b }')
    rss=$kb
  done
  mine=$(same_reports "$case_dir" "$work/t_$df")
  if [[ -n ${SCALESIM_V2:-} ]]; then
    mkdir -p "$work/s_$df"
    read -r scpu skb < <(cd "$work/s_$df" && PYTHONPATH="$SCALESIM_V2" cpu_rss /usr/bin/python3 \
      "$SCALESIM_V2/scalesim/scale.py" -c "$case_dir/scale.cfg" -t "$topo" -p "$work/s_$df")
    theirs=$(same_reports "$case_dir" "$(dirname "$(find "$work/s_$df" -name COMPUTE_REPORT.csv | head -1)")")
    ratio=$(awk -v a="$scpu" -v b="$best" 'BEGIN { printf "%.0fx", a / (b > 0 ? b : 1e-3) }')
  else
    scpu=- skb=- theirs=- ratio=-
  fi
  printf '%-4s %12s %11s %-10s %14s %11s %-10s %8s\n' "$df" "$best" "$rss" "$mine" "$scpu" "$skb" \
    "$theirs" "$ratio"
done
