#!/usr/bin/env bash
# Reruns the sweep example of docs/sweeps.md: builds the encoder model, sweeps the Tensor Engine
# array size and SBUF size on trn1, and writes the table, Pareto plot and summary into
# docs/examples/sweep_encoder/.   Usage: docs/examples/sweep_encoder.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
trnsim=$(readlink -f "${1:-$top/build}/trnsim")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$top/tests/models/make_models.py" "$work" sweep_encoder > /dev/null
cp "$here/sweep_encoder.yaml" "$work/"
out="$here/sweep_encoder"
mkdir -p "$out"
rm -f "$out/results.csv" "$out/results.csv.jsonl"
SC_COPYRIGHT_MESSAGE=DISABLE "$trnsim" sweep "$work/sweep_encoder.yaml" -o "$out/results.csv"
rm -f "$out/results.csv.jsonl"   # full stats per point: large, not committed
"$trnsim" sweep report "$out/results.csv" -o "$out"
echo "see $out/summary.md and $out/pareto.svg"
