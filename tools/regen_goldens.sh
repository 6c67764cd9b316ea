#!/usr/bin/env bash
# Regenerate the golden stats of the example traces (tests/traces/golden/NAME.CHIP.json): runs
# every trace in traces/ on trn1 and tiny through the test_traces binary (which extracts the
# golden counters from the full stats) and rewrites the files.
# Usage: tools/regen_goldens.sh [BUILD_DIR]   (default: build)
# A changed golden needs a reason in the commit message.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
cmake --build "$build_dir" --target trnsim test_traces -- -j2
TRNSIM_REGEN_GOLDENS=1 SC_COPYRIGHT_MESSAGE=DISABLE "$build_dir/tests/test_traces" "[golden]"
git --no-pager diff --stat -- tests/traces/golden || true
