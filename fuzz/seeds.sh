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
# Known bugs of the bad-input suite (manifest lines with a fifth field) would be re-reported by
# every run: leave them out (and out of corpora seeded before they were known).
known=" $(awk -F'\t' '!/^#/ && NF == 5 {printf "tests/bad_inputs/%s ", $1}' \
  tests/bad_inputs/manifest.tsv) "
n=0
while IFS= read -r -d '' f; do
  seed="$out/seed_$(echo "${f#./}" | tr '/' '_')"
  if [[ $known == *" $f "* ]]; then
    rm -f "$seed"
    continue
  fi
  # Skip seeds above 8 KiB (fuzz.sh's -max_len); copies are named by path to keep them unique.
  (( $(stat -c %s "$f") <= 8192 )) || continue
  cp -n "$f" "$seed"
  n=$((n + 1))
done < <(find tests traces config/presets fuzz/seeds -name "$pat" -type f -print0 2>/dev/null)
exit 0
