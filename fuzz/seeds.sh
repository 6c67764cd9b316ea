#!/usr/bin/env bash
# Copies seed inputs for fuzz target $1 into corpus dir $2 from tests/ and traces/ (good and bad
# inputs alike: the bad ones reach the error paths). Cheap and idempotent: run before each run.
set -euo pipefail
cd "$(dirname "$0")/.."
t=$1
out=$2
mkdir -p "$out"
case $t in
  asm) pat='*.tasm' ;;
  tbin) pat='*.tbin' ;;
  chip) pat='*.yaml' ;;
  npy) pat='*.npy' ;;
  onnx) pat='*.onnx' ;;
  *) echo "seeds.sh: unknown target $t" >&2; exit 2 ;;
esac
n=0
while IFS= read -r -d '' f; do
  # Skip seeds above 8 KiB (fuzz.sh's -max_len) and name copies by path to keep them unique.
  (( $(stat -c %s "$f") <= 8192 )) || continue
  cp -n "$f" "$out/seed_$(echo "${f#./}" | tr '/' '_')"
  n=$((n + 1))
done < <(find tests traces config/presets fuzz/seeds -name "$pat" -type f -print0 2>/dev/null)
# Presets are chip YAML seeds too.
exit 0
