#!/usr/bin/env bash
# Hardware comparison benchmark (not a CTest): builds models with the shapes of published ones
# (tests/models/make_models.py, random weights), compiles them for trn1 and inf2 at batch 1
# (--dtype bf16) and simulates them timing-only, stock and with a per-run DMA cost
# (--set dma.descriptor_ns=2, a proxy for honest small-transfer costs). Prints a markdown table:
# simulated latency next to every published figure of ../shared/reference/hw-measured.md §2
# (host-measured NeuronPerf P50, so a device-only prediction should sit a little below), the
# ratio, and the share of DMA bytes moved in contiguous runs <= 512 B.
# Usage: bench/hw_bench.sh BUILD_DIR [MODEL...]   (models are cached in $HW_BENCH_DIR if set)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:?usage: bench/hw_bench.sh BUILD_DIR [MODEL...]}"
shift
trnsim="$(cd "$build" && pwd)/trnsim"
[ -x "$trnsim" ] || { echo "hw_bench: no trnsim in $build" >&2; exit 2; }
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(bench_bert_base bench_bert_large bench_distilbert bench_gpt2
  bench_vit_b16 bench_resnet18 bench_resnet34 resnet50 bench_resnet101 bench_unet)
work="${HW_BENCH_DIR:-}"
if [ -z "$work" ]; then work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work"
export SC_COPYRIGHT_MESSAGE=DISABLE
py=/usr/bin/python3

# Published batch-1 P50 latencies in ms (hw-measured.md §2): MODEL:CHIP -> figure.
declare -A published=(
  [bench_bert_base:trn1]=0.943  # bert-base-uncased seq 128, trn1.2xlarge, SDK 2.26
  [bench_bert_base:inf2]=0.999  # bert-base-uncased seq 128, inf2.xlarge, SDK 2.26
  [resnet50:inf2]=0.830         # torchvision resnet50 224x224, inf2.xlarge, SDK 2.21
)
describe() {
  case "$1" in
    bench_bert_base) echo "BERT-base, seq 128" ;;
    bench_bert_large) echo "BERT-large, seq 128" ;;
    bench_distilbert) echo "DistilBERT, seq 128" ;;
    bench_gpt2) echo "GPT-2 124M, seq 128, no cache" ;;
    bench_vit_b16) echo "ViT-B/16, 224x224" ;;
    bench_resnet18) echo "ResNet-18, 224x224" ;;
    bench_resnet34) echo "ResNet-34, 224x224" ;;
    resnet50) echo "ResNet-50, 224x224" ;;
    bench_resnet101) echo "ResNet-101, 224x224" ;;
    bench_unet) echo "UNet, 3x256x256" ;;
    *) echo "$1" ;;
  esac
}
stats() {  # stats.json -> "latency_ms small_run_pct"
  "$py" -c "
import json, sys
d = json.load(open(sys.argv[1]))
h = d['core0']['dma_runs']
small = sum(h[k + '_bytes']['value'] for k in ('le4B', 'le64B', 'le512B'))
total = small + sum(h[k + '_bytes']['value'] for k in ('le2KiB', 'gt2KiB'))
print('%.3f %.0f' % (d['sim_time_ns']['value'] / 1e6, 100.0 * small / max(total, 1)))" "$1"
}

echo "| model | chip | simulated ms | at dma.descriptor_ns=2 | published P50 ms | ratio | ratio at 2 ns | DMA bytes in runs <= 512 B |"
echo "|---|---|---|---|---|---|---|---|"
for m in "${models[@]}"; do
  if [ ! -f "$work/$m.onnx" ] &&
      ! "$py" "$root/tests/models/make_models.py" "$work" "$m" >/dev/null 2>"$work/$m.err"; then
    echo "| $(describe "$m") | - | not built: $(tail -1 "$work/$m.err") |"
    continue
  fi
  for chip in trn1 inf2; do
    prog="$work/$m.$chip.tbin"
    if ! "$trnsim" compile "$work/$m.onnx" --chip "$chip" --dtype bf16 -o "$prog" \
        2>"$work/$m.$chip.cerr"; then
      echo "| $(describe "$m") | $chip | compile failed: $(tail -1 "$work/$m.$chip.cerr") |"
      continue
    fi
    "$trnsim" run "$prog" --chip "$chip" --timing-only --stats "$work/$m.$chip.json" >/dev/null
    "$trnsim" run "$prog" --chip "$chip" --timing-only --set dma.descriptor_ns=2 \
      --stats "$work/$m.$chip.d2.json" >/dev/null
    read -r lat small < <(stats "$work/$m.$chip.json")
    read -r lat2 _ < <(stats "$work/$m.$chip.d2.json")
    pub="${published[$m:$chip]:-}"
    if [ -n "$pub" ]; then
      r1=$(awk -v a="$lat" -v b="$pub" 'BEGIN{printf "%.2f", a / b}')
      r2=$(awk -v a="$lat2" -v b="$pub" 'BEGIN{printf "%.2f", a / b}')
    else
      pub="-"; r1="-"; r2="-"
    fi
    echo "| $(describe "$m") | $chip | $lat | $lat2 | $pub | $r1 | $r2 | $small% |"
  done
done
