#!/usr/bin/python3
"""One real model from npm, one dtype: `trnsim run` against ONNX Runtime, outcome vs expectation.

usage: check.py TRNSIM MODEL_ID fp32|bf16 WORK_DIR
       check.py --list          one line per model: "ID fp32,bf16" (for tests/CMakeLists.txt)

Makes the model's inputs (seeded, realistic ranges; see corpus.make_input), runs ONNX Runtime
(tests/ort/run_ort.js, graph optimisation off) and `trnsim run MODEL --chip trn1 --dtype DT
--input NAME=FILE --shape NAME=DIMS --output-dir DIR` the way a user would, and compares every
output: max|diff| <= tol * max|ref|, tol 1e-4 (fp32) or 3e-2 (bf16); int/bool outputs exactly.

The outcome is one of
  pass           every output found under its ONNX name and within tolerance
  error          trnsim exited non-zero (message: its one-line error)
  timeout        trnsim ran longer than TRNSIM_REALMODEL_TIMEOUT seconds (default 600)
  output-name    right values, but written under another file name than DIR/<output name>.npy
  shape          an output has another shape than ONNX Runtime's
  mismatch       an output is outside the tolerance
and is checked against the model's "expect" entry in models.json: "pass", or a status with an
optional substring of the message ("error: (op If): the condition"). Exit 0 when they agree,
1 when they differ (including a known failure that now passes: flip its expectation to "pass"),
77 (skip) when ONNX Runtime or the corpus is not installed. WORK_DIR/<id>.<dtype>/result.json
keeps the outcome and the trnsim run time for run_all.py.
"""
import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import onnx

import corpus

ORT_DIR = os.path.join(os.path.dirname(corpus.HERE), "ort")
TOL = {"fp32": 1e-4, "bf16": 3e-2}


def safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def first_error_line(text, model_path):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    pick = next((l for l in lines if "error" in l.lower()), lines[-1] if lines else "(no output)")
    return pick.replace(model_path + ": ", "").replace("trnsim: error: ", "")


def compare(ref, got, dtype):
    """(ok, text) for one output."""
    if got.shape != ref.shape:
        return None, f"shape {got.shape}, expected {ref.shape}"
    if ref.dtype.kind in "biu":
        bad = int(np.sum(got.astype(np.int64) != ref.astype(np.int64)))
        return bad == 0, f"{bad} of {ref.size} elements differ (exact match required)"
    err = float(np.max(np.abs(got.astype(np.float64) - ref))) if ref.size else 0.0
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    limit = TOL[dtype] * max(scale, 1e-30)
    if not np.isfinite(err):
        return False, f"non-finite values (max|ref| {scale:.3g})"
    return err <= limit, f"max|diff| {err:.3g}, max|ref| {scale:.3g}, limit {limit:.3g}"


def run_trnsim(cmd, timeout):
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           env=dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE"))
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - t0
    return r, time.monotonic() - t0


def outcome(trnsim, manifest, model, dtype, work):
    """Runs everything; returns the result dict (status, message, seconds, outputs)."""
    path = corpus.model_path(manifest, model)
    in_dir, ref_dir, sim_dir = (os.path.join(work, d) for d in ("inputs", "ort", "sim"))
    for d in (in_dir, ref_dir, sim_dir):
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
    args, shapes = [], []
    for spec in model["inputs"]:
        f = os.path.join(in_dir, safe(spec["name"]) + ".npy")
        np.save(f, corpus.make_input(model["id"], spec))
        args.append(f"{spec['name']}={f}")
        if spec["shape"]:
            shapes.append(f"{spec['name']}=" + "x".join(str(d) for d in spec["shape"]))
    r = subprocess.run(["node", os.path.join(ORT_DIR, "run_ort.js"), path, ref_dir] + args,
                       capture_output=True, text=True)
    if r.returncode != 0:
        return dict(status="reference-error", message=(r.stderr or r.stdout).strip(), seconds=0.0)
    cmd = [trnsim, "run", path, "--chip", "trn1", "--dtype", dtype, "--output-dir", sim_dir]
    for a in args:
        cmd += ["--input", a]
    for s in shapes:
        cmd += ["--shape", s]
    timeout = float(os.environ.get("TRNSIM_REALMODEL_TIMEOUT", "600"))
    print("$ " + " ".join(f"'{c}'" if re.search(r"[^\w@%+=:,./-]", c) else c for c in cmd))
    r, secs = run_trnsim(cmd, timeout)
    res = dict(seconds=round(secs, 1))
    if r is None:
        return dict(res, status="timeout", message=f"no result after {timeout:.0f} s")
    if r.returncode != 0:
        code = f"exit {r.returncode}" if r.returncode > 0 else f"signal {-r.returncode}"
        return dict(res, status="error", message=f"{code}: {first_error_line(r.stderr + r.stdout, path)}")
    # trnsim prints "output NAME: PATH" per output, in graph order like ONNX Runtime's outputs.
    printed = re.findall(r"^output (.*): (\S+\.npy)$", r.stdout, re.M)
    names = [o.name for o in onnx.load(path, load_external_data=False).graph.output]
    lines, bad, renamed, status = [], [], [], "pass"
    for i, name in enumerate(names):
        ref = np.load(os.path.join(ref_dir, safe(name) + ".npy"))
        got_path = os.path.join(sim_dir, safe(name) + ".npy")
        if not os.path.exists(got_path):
            if len(printed) != len(names):
                bad.append(f"{name}: missing from trnsim's outputs")
                status = "output-name"
                continue
            got_path = printed[i][1]  # compare the values anyway, to tell naming from numerics
            renamed.append(f"'{name}' written as {os.path.basename(got_path)}")
        ok, text = compare(ref, np.load(got_path), dtype)
        lines.append(f"{name}: {text}")
        if not ok:
            bad.append(f"{name}: {text}")
            status = "shape" if ok is None else ("mismatch" if status != "shape" else status)
    if status == "pass" and renamed:
        status = "output-name"
    msg = "; ".join(renamed + bad) if status == "output-name" else "; ".join(bad)
    return dict(res, status=status, message=msg, outputs=lines)


def expected_ok(expect, res):
    if expect == "pass":
        return res["status"] == "pass"
    status, _, needle = expect.partition(":")
    return res["status"] == status.strip() and needle.strip() in res.get("message", "")


def main():
    if sys.argv[1:] == ["--list"]:
        for m in corpus.load()["models"]:
            print(m["id"], ",".join(corpus.DTYPES))
        return
    if len(sys.argv) != 5 or sys.argv[3] not in corpus.DTYPES:
        sys.exit(__doc__)
    trnsim, model_id, dtype, work = sys.argv[1:]
    manifest = corpus.load()
    model = corpus.find(manifest, model_id)
    if not os.path.isdir(os.path.join(ORT_DIR, "node_modules", "onnxruntime-node")):
        print(f"SKIP: ONNX Runtime not installed (cd {ORT_DIR} && npm install)")
        sys.exit(77)
    if not os.path.exists(corpus.model_path(manifest, model)):
        print(f"SKIP: {corpus.model_path(manifest, model)} not fetched "
              f"(/usr/bin/python3 {os.path.join(corpus.HERE, 'fetch.py')})")
        sys.exit(77)
    work = os.path.join(work, f"{model_id}.{dtype}")
    os.makedirs(work, exist_ok=True)
    res = dict(id=model_id, dtype=dtype, **outcome(trnsim, manifest, model, dtype, work))
    with open(os.path.join(work, "result.json"), "w") as f:
        json.dump(res, f, indent=1)
    for line in res.get("outputs", []):
        print(f"{model_id} [{dtype}] {line}")
    print(f"{model_id} [{dtype}]: {res['status']} in {res.get('seconds', 0)} s"
          + (f": {res['message']}" if res.get("message") else ""))
    expect = model["expect"][dtype]
    if expected_ok(expect, res):
        if expect != "pass":
            print(f"known failure, as expected by models.json: {expect}")
        sys.exit(0)
    if res["status"] == "pass":
        print(f"UNEXPECTED PASS: models.json expects '{expect}'; set it to \"pass\"")
    else:
        print(f"FAIL: models.json expects '{expect}'")
    sys.exit(1)


if __name__ == "__main__":
    main()
