#!/usr/bin/env bash
# Times `trnsim scalesim` on SCALE-Sim's ResNet-50 topology at 128x128 for the three dataflows and
# prints wall time and peak RSS (GNU time -v). Usage: bench/scalesim_bench.sh [path/to/trnsim]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
trnsim="${1:-$root/build/trnsim}"
topo="$root/tests/scalesim/data/Resnet50_8col.csv"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time, Debian package 'time')" >&2; exit 1; }
printf '%-4s %10s %12s %14s\n' df wall_s peak_rss_kb total_cycles
for df in os ws is; do
  cat > "$work/$df.cfg" <<CFG
[general]
run_name = resnet50_128x128_$df

[architecture_presets]
ArrayHeight:    128
ArrayWidth:     128
IfmapSramSzkB:    6144
FilterSramSzkB:   6144
OfmapSramSzkB:    2048
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : $df
MemoryBanks: 1

[run_presets]
InterfaceBandwidth: CALC
CFG
  /usr/bin/time -v "$trnsim" scalesim -q -c "$work/$df.cfg" -t "$topo" -o "$work/out_$df" \
    2> "$work/time_$df.txt"
  wall=$(grep "Elapsed (wall clock)" "$work/time_$df.txt" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$work/time_$df.txt" | awk '{print $NF}')
  cycles=$(awk -F', ' 'NR > 1 { s += $2 } END { print s }' "$work/out_$df/COMPUTE_REPORT.csv")
  printf '%-4s %10s %12s %14s\n' "$df" "$wall" "$rss" "$cycles"
done
