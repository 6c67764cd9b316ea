#!/usr/bin/env bash
# The README's main job on the bundled examples: compile and simulate an ONNX CNN (conv, batch
# norm, relu, pooling, residual add) on trn1 with real numerics and print its summary; then run
# a hand-written trace on the tiny chip with a Perfetto timeline, and show that .tasm -> .tbin
# -> .tasm round-trips byte for byte.
set -euo pipefail
build_dir=${1:-build}
trnsim="$build_dir/trnsim"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export SC_COPYRIGHT_MESSAGE=DISABLE

echo "== trnsim run examples/cnn_small.onnx --chip trn1 (compile + simulate, numerics on)"
"$trnsim" run examples/cnn_small.onnx --chip trn1 --input x=examples/cnn_small_x.npy \
  --output-dir "$out/cnn" --stats "$out/cnn.json" --check
echo "outputs: $(ls "$out/cnn")"

trace=traces/02_matmul_bias_gelu/matmul_bias_gelu.tasm
echo
echo "== trnsim run $trace --chip tiny --trace (open the .json in https://ui.perfetto.dev)"
"$trnsim" run "$trace" --chip tiny --trace "$out/timeline.json" |
  grep -E "^(simulated time|core0 utilisation|bottleneck|slowest nodes)"

example=traces/01_matmul/matmul.tasm
echo
echo "== trnsim asm/disasm $example"
"$trnsim" asm "$example" -o "$out/matmul.tbin"
"$trnsim" disasm "$out/matmul.tbin" -o "$out/matmul.tasm"
cmp "$example" "$out/matmul.tasm" && echo "round trip: byte-identical"
