#!/usr/bin/python3
"""Python overhead per run (issue #17: under 20 ms beyond the command-line run of the same
program). Times N runs of the same program through trnsim.run() and through `trnsim run` as a
subprocess, interleaved in one process so that both see the same machine load, and prints the
per-run wall times and their difference.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_overhead.py [--n 30] [--trnsim build/trnsim]

Both sides do the same work: the CLI writes its outputs (.npy) and stats (JSON) to files, the
module returns them as NumPy arrays and a dict. Workloads: traces/01_matmul on the tiny chip
(the smallest program: the difference is almost all overhead) and examples/cnn_small.onnx with
its input (compile + simulate in the run).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import trnsim

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def workloads():
    x = os.path.join(REPO, "examples", "cnn_small_x.npy")
    return [
        ("01_matmul trace, tiny", os.path.join(REPO, "traces", "01_matmul", "matmul.tasm"),
         ["--chip", "tiny"], dict(chip="tiny")),
        ("cnn_small.onnx + input, tiny", os.path.join(REPO, "examples", "cnn_small.onnx"),
         ["--chip", "tiny", "--input", f"x={x}"], dict(chip="tiny", inputs={"x": np.load(x)})),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30, help="runs of each kind per workload")
    ap.add_argument("--trnsim", default=None, help="the CLI (default: trnsim.executable())")
    args = ap.parse_args()
    exe = args.trnsim or trnsim.executable()
    env = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
    tmp = tempfile.mkdtemp(prefix="trnsim_bench_")
    print(f"{args.n} runs of each, interleaved; wall time per run in ms (median / mean / min)")
    print(f"{'workload':30} {'trnsim.run':>22} {'trnsim run (CLI)':>22} {'overhead (median)':>18}")
    try:
        for name, path, cli_args, kwargs in workloads():
            py_t, cli_t = [], []
            cmd = [exe, "run", path, *cli_args, "--output-dir", os.path.join(tmp, "out"),
                   "--stats", os.path.join(tmp, "stats.json")]
            for i in range(args.n + 2):  # the first two of each warm the caches, not counted
                t0 = time.perf_counter()
                res = trnsim.run(path, **kwargs)
                t1 = time.perf_counter()
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
                t2 = time.perf_counter()
                assert res.sim_time_ns > 0
                if i >= 2:
                    py_t.append((t1 - t0) * 1e3)
                    cli_t.append((t2 - t1) * 1e3)

            def fmt(t):
                return f"{statistics.median(t):6.1f} / {statistics.mean(t):6.1f} / {min(t):5.1f}"

            diff = statistics.median(py_t) - statistics.median(cli_t)
            print(f"{name:30} {fmt(py_t):>22} {fmt(cli_t):>22} {diff:+15.1f} ms")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("overhead = trnsim.run - trnsim run; negative: the module is faster (a fork of the "
          "loaded Python process instead of exec and dynamic loading of the CLI)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
