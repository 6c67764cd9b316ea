#!/usr/bin/python3
"""End-to-end check of one model: trnsim (compile + simulate) against ONNX Runtime.

usage: e2e_check.py TRNSIM_BINARY MODEL_NAME fp32|bf16 WORK_DIR

Builds the model with make_models.py, runs it with tests/ort/run_ort.js (ONNX Runtime for
Node.js, installed by `npm install` in tests/ort) and with `trnsim run`, and compares every
output: max|diff| <= tol * max|ref|, tol = 1e-4 (fp32) or 3e-2 (bf16); bool/int outputs must
match exactly. Exit 0 pass, 1 mismatch or failure, 77 skipped (ONNX Runtime not installed).
"""
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ORT_DIR = os.path.join(os.path.dirname(HERE), "ort")
TOL = {"fp32": 1e-4, "bf16": 3e-2}


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True,
                       env=dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE"))
    if r.returncode != 0:
        sys.stderr.write(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}{r.stderr}")
        sys.exit(1)
    return r.stdout


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    trnsim, name, dtype, work = sys.argv[1:]
    if not os.path.isdir(os.path.join(ORT_DIR, "node_modules", "onnxruntime-node")):
        print(f"SKIP: ONNX Runtime not installed (cd {ORT_DIR} && npm install)")
        sys.exit(77)
    work = os.path.join(work, f"{name}.{dtype}")
    os.makedirs(work, exist_ok=True)
    run([sys.executable, os.path.join(HERE, "make_models.py"), work, name])
    model = os.path.join(work, name + ".onnx")
    in_dir = os.path.join(work, name + ".inputs")
    inputs = [f"{f[:-4]}={os.path.join(in_dir, f)}" for f in sorted(os.listdir(in_dir))]
    ref_dir, sim_dir = os.path.join(work, "ort"), os.path.join(work, "sim")
    run(["node", os.path.join(ORT_DIR, "run_ort.js"), model, ref_dir] + inputs)
    cmd = [trnsim, "run", model, "--dtype", dtype, "--output-dir", sim_dir]
    for i in inputs:  # each .npy gives its input's shape: no --shape, also for symbolic dims
        cmd += ["--input", i]
    # Extra `trnsim run` options of this model (e.g. --cores 2), from make_models.py.
    extra = subprocess.run([sys.executable, os.path.join(HERE, "make_models.py"), "--run-args", name],
                           capture_output=True, text=True, check=True).stdout.split()
    run(cmd + extra)
    ok = True
    for f in sorted(os.listdir(ref_dir)):
        ref = np.load(os.path.join(ref_dir, f))
        path = os.path.join(sim_dir, f)
        if not os.path.exists(path):
            print(f"{name}: output {f} missing from trnsim's outputs")
            ok = False
            continue
        got = np.load(path)
        if got.shape != ref.shape:
            print(f"{name}: {f}: shape {got.shape}, expected {ref.shape}")
            ok = False
            continue
        if ref.dtype.kind in "bi":
            bad = int(np.sum(got.astype(np.int64) != ref.astype(np.int64)))
            print(f"{name} [{dtype}] {f}: {bad} of {ref.size} elements differ (exact match required)")
            ok = ok and bad == 0
            continue
        err = float(np.max(np.abs(got.astype(np.float64) - ref))) if ref.size else 0.0
        scale = float(np.max(np.abs(ref))) if ref.size else 0.0
        # A float16 output cannot be closer than its own rounding (2^-11 relative).
        tol = max(TOL[dtype], 2.0 ** -10) if ref.dtype == np.float16 else TOL[dtype]
        limit = tol * max(scale, 1e-30)
        print(f"{name} [{dtype}] {f}: max|diff| {err:.3g}, max|ref| {scale:.3g}, limit {limit:.3g}")
        ok = ok and err <= limit
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
