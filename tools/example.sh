#!/usr/bin/env bash
# The main job on a bundled example: the best end-to-end path that exists in this build.
set -euo pipefail
build_dir=${1:-build}
trnsim="$build_dir/trnsim"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
example=traces/01_matmul/matmul.tasm
echo "== trnsim asm $example"
"$trnsim" asm "$example" -o "$out/matmul.tbin"
echo "== trnsim disasm (round trip must be byte-identical)"
"$trnsim" disasm "$out/matmul.tbin" -o "$out/matmul.tasm"
cmp "$example" "$out/matmul.tasm" && echo "round trip: identical"
