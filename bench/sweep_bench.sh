#!/usr/bin/env bash
# Sweep throughput: ResNet-50 design points per hour on trn1, timing-only, a PE clock x DMA
# bandwidth grid (timing parameters only, so the model is compiled once and every point runs the
# cached program), with every core of this machine. The baseline, measured in the same run, is
# the same grid on the smallest trace (fork, chip config, program load, a tiny simulation).
#   Usage: bench/sweep_bench.sh [BUILD_DIR] [CLOCKS] [BANDWIDTHS]   (default 8 x 6 = 48 points)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
trnsim=$(readlink -f "${1:-$top/build}/trnsim")
nclk=${2:-8}
nbw=${3:-6}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SC_COPYRIGHT_MESSAGE=DISABLE

/usr/bin/python3 "$top/tests/models/make_models.py" "$work" resnet50 > /dev/null
clocks=$(/usr/bin/python3 -c "n=$nclk; print(', '.join(str(round(1.0 + 2.0*i/max(n-1,1), 4)) for i in range(n)))")
bws=$(/usr/bin/python3 -c "n=$nbw; print(', '.join(str(8 * 2**i) for i in range(n)))")
for w in resnet overhead; do
  if [[ $w == resnet ]]; then
    load="  - name: resnet50
    model: resnet50.onnx
    shapes: {x: [1, 3, 224, 224]}"
  else
    load="  - program: $top/traces/01_matmul/matmul.tasm"
  fi
  cat > "$work/$w.yaml" <<SPEC
chip: trn1
axes:
  pe.clock_ghz: [$clocks]
  dma.engine_gbps: [$bws]
workloads:
$load
SPEC
done
now() { date +%s.%N; }
t0=$(now); "$trnsim" sweep "$work/overhead.yaml" -o "$work/o.csv" > /dev/null; t1=$(now)
"$trnsim" sweep "$work/resnet.yaml" -o "$work/r.csv" > "$work/r.log"; t2=$(now)
ok=$(grep -c ',ok,' "$work/r.csv" || true)
t_one=$(/usr/bin/time -f %e "$trnsim" run "$work/resnet50.onnx" --chip trn1 --timing-only 2>&1 >/dev/null | tail -1)
python3 - "$t0" "$t1" "$t2" "$((nclk * nbw))" "$ok" "$(nproc)" <<'PY'
import sys
t0, t1, t2, n, ok, cores = map(float, sys.argv[1:])
over, res = t1 - t0, t2 - t1
print(f"machine: {int(cores)} cores; {int(n)} design points per sweep (PE clock x DMA bandwidth)")
print(f"baseline: the same grid on traces/01_matmul: {over:.1f} s, {n / over * 3600:.0f} points per hour")
print(f"ResNet-50 sweep: {int(ok)}/{int(n)} ok in {res:.1f} s (one compile, then one run per point)")
print(f"throughput: {n / res * 3600:.0f} design points per hour "
      f"(goal 10,000: {n / res * 3600 / 10000:.2f}x the goal; {over / res:.2f}x the baseline's rate)")
PY
grep -o '[0-9]* model compilation(s)' "$work/r.log" || true
echo "one ResNet-50 compile+run by hand (trnsim run model.onnx --timing-only): ${t_one} s"
