#!/usr/bin/env bash
# Builds trnsim and its tests with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DTRNSIM_SANITIZE=ON) in a separate build dir and runs the whole CTest suite under them.
#   tools/sanitize.sh [CTEST ARGS...]     e.g. tools/sanitize.sh -R 'isa:|robustness:'
# SANITIZE_BUILD_DIR (default build-asan) and SANITIZE_JOBS (default nproc) adjust it. Prints the
# build and test wall times; exits non-zero if any test fails or a sanitizer reports anything
# (UBSan is built with -fno-sanitize-recover, so every report aborts its process).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${SANITIZE_BUILD_DIR:-build-asan}
jobs=${SANITIZE_JOBS:-$(nproc)}

t0=$(date +%s)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRNSIM_SANITIZE=ON >/dev/null
ninja -C "$build" -j "$jobs"
t1=$(date +%s)

# LeakSanitizer is on. SystemC keeps its simulation context in objects that live until exit;
# tools/lsan.supp lists exactly those (and nothing of ours).
export ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:detect_invalid_pointer_pairs=0
export LSAN_OPTIONS=suppressions=$root/tools/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export SC_COPYRIGHT_MESSAGE=DISABLE
status=0
(cd "$build" && ctest --output-on-failure -j "$jobs" --timeout 900 "$@") || status=$?
t2=$(date +%s)
echo "sanitize: build $((t1 - t0)) s, tests $((t2 - t1)) s, total $((t2 - t0)) s"
exit $status
