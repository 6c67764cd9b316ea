#!/usr/bin/env bash
# Sweep throughput: design points per hour for a ResNet-50-sized CNN on trn1, timing-only,
# with every core of this machine, and the per-point overhead (fork, chip config, program load)
# measured in the same run on the smallest trace.   Usage: bench/sweep_bench.sh [BUILD_DIR] [POINTS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
trnsim=$(readlink -f "${1:-$top/build}/trnsim")
points=${2:-24}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SC_COPYRIGHT_MESSAGE=DISABLE

/usr/bin/python3 "$top/tests/models/make_models.py" "$work" resnet50 > /dev/null
# Timing parameters only (clocks, bandwidths), so the model is compiled once and reused.
clocks=$(/usr/bin/python3 -c "n=$points; print(', '.join(str(round(1.0 + 2.0*i/(n-1), 4)) for i in range(n)))")
cat > "$work/resnet.yaml" <<SPEC
chip: trn1
axes:
  pe.clock_ghz: [$clocks]
workloads:
  - name: resnet50
    model: resnet50.onnx
    shapes: {x: [1, 3, 224, 224]}
SPEC
cat > "$work/overhead.yaml" <<SPEC
chip: trn1
axes:
  pe.clock_ghz: [$clocks]
workloads:
  - program: $top/traces/01_matmul/matmul.tasm
SPEC
now() { date +%s.%N; }
t0=$(now); "$trnsim" sweep "$work/overhead.yaml" -o "$work/o.csv" > /dev/null; t1=$(now)
"$trnsim" sweep "$work/resnet.yaml" -o "$work/r.csv" > /dev/null; t2=$(now)
ok=$(grep -c ',ok,' "$work/r.csv" || true)
t_one=$(/usr/bin/time -f %e "$trnsim" run "$work/resnet50.onnx" --chip trn1 --timing-only 2>&1 >/dev/null | tail -1)
python3 - "$t0" "$t1" "$t2" "$points" "$ok" "$(nproc)" <<'PY'
import sys
t0, t1, t2, n, ok, cores = map(float, sys.argv[1:])
over, res = t1 - t0, t2 - t1
print(f"machine: {int(cores)} cores; {int(n)} design points per sweep")
print(f"per-point overhead (fork + config + load + run of the 01_matmul trace): {over / n * cores * 1000:.0f} ms of a worker")
print(f"ResNet-50 sweep: {int(ok)}/{int(n)} ok in {res:.1f} s (one compile, then one run per point)")
print(f"throughput: {n / res * 3600:.0f} design points per hour "
      f"(goal 1,000; ratio {n / res * 3600 / 1000:.1f}x)")
PY
echo "one ResNet-50 compile+run by hand (trnsim run model.onnx): ${t_one} s"
