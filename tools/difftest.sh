#!/usr/bin/env bash
# Differential testing of trnsim against ONNX Runtime on fresh random graphs (tools/difftest/,
# docs/robustness.md "Differential testing"), for MINUTES minutes; prints the summary (counts per
# class, refusals by message pattern, failures) and minimises every failure.
#   tools/difftest.sh MINUTES [--dtype bf16] [--jobs N] [--seed-base B] [--trnsim BIN] [--out DIR]
# Seeds start at --seed-base (default: from the clock, so each run tries new graphs). Failing
# graphs are kept in DIR/cases/, minimised ones in DIR/min/ (DIR defaults to difftest-out/).
# Needs tests/ort/node_modules (cd tests/ort && npm install) and a built trnsim (build/trnsim).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:?usage: tools/difftest.sh MINUTES [--dtype bf16] [--jobs N] [--seed-base B] [--trnsim BIN] [--out DIR]}
shift
trnsim=build/trnsim
out=difftest-out
args=()
while (($#)); do
  case $1 in
    --trnsim) trnsim=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ -x $trnsim ]] || { echo "difftest: $trnsim not found (build first, or --trnsim BIN)" >&2; exit 2; }
# A copy, so that a rebuild during the run does not change the binary under test.
bin=$(mktemp -d)/trnsim
cp "$trnsim" "$bin"
trap 'rm -rf "$(dirname "$bin")"' EXIT
/usr/bin/python3 tools/difftest/run.py --trnsim "$bin" --minutes "$minutes" --jobs 2 --out "$out" \
  --minimise "${args[@]}"
