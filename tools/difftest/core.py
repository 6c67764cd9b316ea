"""The differential tester's core: run one graph in ONNX Runtime and in trnsim, compare,
arbitrate small mismatches against a float64 evaluation, and classify.

Classes (docs/robustness.md, "Differential testing"):
  match      every output within tolerance (or a mismatch judged rounding noise, `arbitrated`)
  refusal    trnsim exit 2: a clean one-line "not supported / bad input" error
  fault      trnsim exit 1 (internal error), 3 (simulation fault), any other code, or a signal
  wrong      trnsim exit 0 but an output is missing, has the wrong shape, or differs
  timeout    trnsim did not exit within the time limit (60 s of CPU time; 180 s wall backstop)
  nan_order  differs only where trnsim has NaN and ONNX Runtime a number, in a graph with a
             max/min reduction or pool: ONNX Runtime's NaN result there depends on the NaN's
             position (NAN_ORDER_OPS); trnsim keeps NaN as numpy does. Listed, not counted wrong.
  gen_invalid  ONNX Runtime rejected the graph: a generator bug, never counted against trnsim

Comparison: float outputs max|got - ref| <= tol * max|ref| (tol 1e-4 fp32, 3e-2 bf16; float16
outputs at least 2^-10), inf/NaN positions must agree; int and bool outputs exactly.
Arbitration of a float mismatch: ref64 = the graph run in float64 (f64.py); the mismatch is
rounding noise iff max|got - ref64| <= tol * S + K * max|ref - ref64| with K = 4 and
S = max(max|ref64|, the largest |operand| of the node that produced the output), i.e. trnsim is
within tolerance of the exact answer (an output that cancels to ~0 judged against what
cancelled), or no worse than 4x ONNX Runtime's own fp32 error on an ill-conditioned output.
An int/bool mismatch is noise iff ONNX Runtime's fp32 and float64 runs themselves disagree on
that output (a discontinuous op fed a value on its edge), or trnsim equals the float64 evaluation
where it uses a numpy kernel for an op ONNX Runtime gets wrong (f64.INT_NUMPY: int64 Sign). A bf16 run's float mismatch that this
does not clear is bf16 rounding iff trnsim is within the bf16 tolerance of a float64 evaluation
that stores every tensor in bf16 (bf16_storage_noise).
"""
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
ORT_DIR = os.environ.get("TRNSIM_ORT_DIR", os.path.join(REPO, "tests", "ort"))
TOL = {"fp32": 1e-4, "bf16": 3e-2}
K_ARBITRATION = 4.0
TIMEOUT_S = 60.0      # CPU seconds of one trnsim run
WALL_FACTOR = 3.0
MEM_LIMIT = 8 << 30    # address space of one trnsim run: an absurd allocation is a fault


def ort_available():
    return os.path.isdir(os.path.join(ORT_DIR, "node_modules", "onnxruntime-node"))


class OrtWorker:
    """A persistent `node ort_worker.js` process (restarted if it dies or hangs)."""

    def __init__(self, timeout=120.0):
        self.timeout = timeout
        self.proc = None

    def _start(self):
        env = dict(os.environ, TRNSIM_ORT_DIR=ORT_DIR)
        self.proc = subprocess.Popen(["node", os.path.join(HERE, "ort_worker.js")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, env=env,
                                     start_new_session=True)

    def close(self):
        if self.proc:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except Exception:
                self.proc.kill()
            self.proc = None

    def run(self, model, inputs, out_dir):
        """inputs: {name: npy path}. Returns the worker's reply dict."""
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        req = json.dumps({"model": model, "inputs": inputs, "out_dir": out_dir})
        try:
            self.proc.stdin.write(req + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            self.proc = None
            return {"ok": False, "stage": "worker", "error": "ONNX Runtime worker died"}
        import select
        r, _, _ = select.select([self.proc.stdout], [], [], self.timeout)
        line = self.proc.stdout.readline() if r else ""
        if not line:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None
            return {"ok": False, "stage": "worker", "error": "ONNX Runtime worker died or hung"}
        return json.loads(line)


def _limit_memory():
    # Not under AddressSanitizer (tools/sanitize.sh sets ASAN_OPTIONS): its shadow memory
    # reserves terabytes of address space.
    if "ASAN_OPTIONS" not in os.environ:
        resource.setrlimit(resource.RLIMIT_AS, (MEM_LIMIT, MEM_LIMIT))
    # The time limit counts CPU seconds (SIGXCPU), so that a loaded machine does not turn slow
    # runs into timeouts; wall time is only a backstop (WALL_FACTOR x).
    cpu = int(TIMEOUT_S)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))


def run_trnsim(trnsim, model, inputs, out_dir, dtype, timeout=TIMEOUT_S):
    """Returns (rc or None on timeout, stderr text, seconds)."""
    cmd = [trnsim, "run", model, "--chip", "trn1", "--dtype", dtype, "--output-dir", out_dir]
    for name, path in sorted(inputs.items()):
        cmd += ["--input", f"{name}={path}"]
    env = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                         preexec_fn=_limit_memory, start_new_session=True)
    try:
        _, err = p.communicate(timeout=timeout * WALL_FACTOR)
        rc = p.returncode
        if rc == -signal.SIGXCPU:   # the CPU limit
            rc = None
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        _, err = p.communicate()
        rc = None
    return rc, err.decode(errors="replace"), time.time() - t0


def repro_command(model, inputs, dtype):
    args = " ".join(f"--input {n}={os.path.basename(p)}" for n, p in sorted(inputs.items()))
    return f"$TRNSIM run {model} --chip trn1 --dtype {dtype} {args} --output-dir out"


def compare(got, ref, dtype, exact_ok=True):
    """Per-output comparison record (JSON-ready); record['ok'] says whether it passes."""
    rec = {"n": int(ref.size), "dtype": str(ref.dtype), "got_dtype": str(got.dtype)}
    if got.shape != ref.shape:
        rec.update(kind="shape", ok=False, expected=list(ref.shape), got=list(got.shape))
        return rec
    if ref.dtype.kind in "biu":
        bad = got.astype(np.int64) != ref.astype(np.int64)
        rec.update(kind="exact", bad=int(bad.sum()), ok=not bad.any())
        if bad.any():
            i = np.unravel_index(np.argmax(bad), bad.shape)
            rec.update(first_index=[int(v) for v in i], expected=ref[i].item(), got=got[i].item())
        return rec
    g, r = got.astype(np.float64), ref.astype(np.float64)
    fin = np.isfinite(r)
    nonfinite_bad = int(np.sum(~fin & ~((g == r) | (np.isnan(g) & np.isnan(r)))))
    nonfinite_bad += int(np.sum(fin & ~np.isfinite(g)))
    err = np.where(fin & np.isfinite(g), np.abs(g - r), 0.0)
    scale = float(np.max(np.abs(r[fin]))) if fin.any() else 0.0
    tol = TOL[dtype]
    if ref.dtype == np.float16:
        tol = max(tol, 2.0 ** -10)
    limit = tol * scale
    max_err = float(err.max()) if err.size else 0.0
    rec.update(kind="float", max_abs_err=max_err, max_abs_ref=scale,
               rel=max_err / scale if scale else (0.0 if max_err == 0 else float("inf")),
               nonfinite_bad=nonfinite_bad, n_bad=int(np.sum(err > limit)) + nonfinite_bad,
               ok=nonfinite_bad == 0 and max_err <= limit)
    if not rec["ok"] and err.size:
        i = np.unravel_index(np.argmax(err + (fin & ~np.isfinite(g)) * 1e300), err.shape)
        rec.update(worst_index=[int(v) for v in i], expected=float(r[i]), got=float(g[i]))
    return rec


def arbitrate(rec, got, ref, ref64, dtype, operand_scale=0.0):
    """Decides whether a failing comparison is rounding noise (see the module doc)."""
    if ref64 is None:
        rec["arbitration"] = "no float64 reference"
        return False
    if rec["kind"] == "exact":
        r64 = np.asarray(ref64).astype(np.int64)
        if np.array_equal(np.asarray(got).astype(np.int64), r64):
            # trnsim equals the independent evaluation (numpy kernels where ONNX Runtime is
            # wrong: f64.INT_NUMPY), which ONNX Runtime does not.
            rec["arbitration"] = "trnsim equals the float64/numpy reference; ONNX Runtime differs"
            return True
        ort_disagrees = not np.array_equal(np.asarray(ref).astype(np.int64), r64)
        rec["arbitration"] = ("fp32 and float64 ONNX Runtime disagree: ill-conditioned"
                              if ort_disagrees else "fp32 and float64 ONNX Runtime agree")
        return ort_disagrees
    if rec["kind"] != "float" or rec["nonfinite_bad"]:
        return False
    g, r, r64 = (a.astype(np.float64) for a in (got, ref, ref64))
    fin = np.isfinite(r64) & np.isfinite(g) & np.isfinite(r)
    if not fin.any():
        return False
    err_t = float(np.max(np.abs(g - r64)[fin]))
    err_o = float(np.max(np.abs(r - r64)[fin]))
    # An output that cancels to (nearly) 0 is judged against the size of what cancelled.
    scale = max(float(np.max(np.abs(r64[fin]))), operand_scale)
    bound = TOL[dtype] * scale + K_ARBITRATION * err_o
    rec["arbitration"] = {"trnsim_err_vs_f64": err_t, "ort_err_vs_f64": err_o,
                          "bound": bound, "noise": err_t <= bound}
    return err_t <= bound


def bf16_storage_noise(rec, got, ref_bf, operand_scale=0.0):
    """A bf16 run's float mismatch is bf16 rounding iff trnsim is within the bf16 tolerance of a
    float64 evaluation that rounds every tensor to bf16 after every node (f64.py, bf16=True):
    steep functions (HardSigmoid of a large matmul output) amplify that rounding beyond any
    tolerance relative to the output alone."""
    if ref_bf is None or rec.get("kind") != "float" or rec.get("nonfinite_bad"):
        return False
    g, r = got.astype(np.float64), np.asarray(ref_bf, dtype=np.float64)
    if g.shape != r.shape:
        return False
    fin = np.isfinite(r) & np.isfinite(g)
    if not fin.any():
        return False
    err = float(np.max(np.abs(g - r)[fin]))
    scale = max(float(np.max(np.abs(r[fin]))), operand_scale)
    rec["bf16_arbitration"] = {"trnsim_err_vs_bf16_storage": err, "bound": TOL["bf16"] * scale,
                               "noise": err <= TOL["bf16"] * scale}
    return err <= TOL["bf16"] * scale


def refusal_pattern(msg):
    """A refusal message with names, numbers and shapes replaced, for grouping."""
    m = re.sub(r"^trnsim: (error: )?", "", msg.strip())
    m = re.sub(r"\S*model\.onnx:?", "MODEL:", m)
    m = re.sub(r"'[^']*'", "'_'", m)
    m = re.sub(r"\[[-0-9, ]*\]", "[..]", m)
    m = re.sub(r"\b[A-Za-z]+_\d+\b", "NODE", m)
    m = re.sub(r"\b[tcxks]\d+\b", "T", m)
    m = re.sub(r"(?<![A-Za-z_])-?\d+(\.\d+)?(e[-+]?\d+)?", "N", m)
    return m[:160]


def last_line(text):
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def evaluate(ort, trnsim, model, inputs, work, dtype, exact_outputs=None, f64=None):
    """Runs one graph both ways and classifies it. `inputs` {name: npy path}; `work` a scratch
    directory (ort/, ort64/, sim/ inside). Returns a JSON-ready result dict."""
    res = {"class": None}
    ref_dir, sim_dir = os.path.join(work, "ort"), os.path.join(work, "sim")
    for d in (ref_dir, sim_dir):
        shutil.rmtree(d, ignore_errors=True)
    rep = ort.run(model, inputs, ref_dir)
    if not rep["ok"]:
        res.update({"class": "gen_invalid", "message": f"{rep['stage']}: {rep['error'][:400]}"})
        return res
    rc, err, secs = run_trnsim(trnsim, model, inputs, sim_dir, dtype)
    res["seconds"] = round(secs, 2)
    res["rc"] = rc
    if rc is None:
        res.update({"class": "timeout", "message": f"no exit within {TIMEOUT_S:.0f} s (CPU)"})
        return res
    if rc == 2:
        res.update({"class": "refusal", "message": last_line(err)[:400],
                    "pattern": refusal_pattern(last_line(err))})
        return res
    if rc != 0:
        what = f"signal {-rc}" if rc < 0 else f"exit {rc}"
        res.update({"class": "fault", "message": f"{what}: {last_line(err)[:400]}",
                    "pattern": refusal_pattern(last_line(err))})
        return res
    outs, failed = {}, []
    refs = {}
    for name, info in rep["outputs"].items():
        ref = np.load(info["file"])
        refs[name] = ref
        path = os.path.join(sim_dir, os.path.basename(info["file"]))
        if not os.path.exists(path):
            outs[name] = {"kind": "missing", "ok": False}
            failed.append(name)
            continue
        got = np.load(path)
        outs[name] = compare(got, ref, dtype)
        if not outs[name]["ok"]:
            failed.append(name)
    res["outputs"] = outs
    if not failed:
        res["class"] = "match"
        return res
    # Arbitrate against float64 (only shape-correct float/exact mismatches can be noise).
    arbitrable = [n for n in failed if outs[n]["kind"] in ("float", "exact")]
    refs64, scales = f64(model, inputs, work) if (f64 and arbitrable) else ({}, {})
    real = []
    refs_bf = None
    for n in failed:
        if n in arbitrable:
            got = np.load(os.path.join(sim_dir, os.path.basename(rep["outputs"][n]["file"])))
            if arbitrate(outs[n], got, refs[n], refs64.get(n), dtype, scales.get(n, 0.0)):
                continue
            if dtype == "bf16" and f64 is not None:
                if refs_bf is None:
                    refs_bf = f64(model, inputs, work, True)[0]
                if bf16_storage_noise(outs[n], got, refs_bf.get(n), scales.get(n, 0.0)):
                    continue
        real.append(n)
    if real and nan_order_only(model, sim_dir, rep, real):
        res.update({"class": "nan_order", "failed_outputs": real})
    elif real:
        res.update({"class": "wrong", "failed_outputs": real})
    else:
        res.update({"class": "match", "arbitrated": failed})
    return res


# Ops whose NaN handling in ONNX Runtime depends on where the NaN sits (a running max seeded
# with the first element and updated by `x > m`): ReduceMax([NaN, 1]) is NaN, ReduceMax([1, NaN])
# is 1. trnsim's max/min keep NaN wherever it is (numpy.max, torch.max).
NAN_ORDER_OPS = {"ReduceMax", "ReduceMin", "MaxPool", "GlobalMaxPool", "ArgMax", "ArgMin"}


def nan_order_only(model, sim_dir, rep, names):
    """True iff the graph has a NAN_ORDER_OPS node and every failing float output differs only
    where trnsim has NaN and ONNX Runtime a number (int outputs, e.g. ArgMax's, do not count)."""
    import onnx
    ops = {n.op_type for n in onnx.load(model, load_external_data=False).graph.node}
    if not ops & NAN_ORDER_OPS:
        return False
    for n in names:
        ref = np.load(rep["outputs"][n]["file"])
        path = os.path.join(sim_dir, os.path.basename(rep["outputs"][n]["file"]))
        if ref.dtype.kind != "f" or not os.path.exists(path):
            return False
        got = np.load(path)
        if got.shape != ref.shape:
            return False
        g, r = got.astype(np.float64), ref.astype(np.float64)
        same = (g == r) | (np.isnan(g) & np.isnan(r))
        close = np.isfinite(r) & np.isfinite(g) & (np.abs(g - r) <= TOL["fp32"] * max(1.0, np.max(np.abs(r[np.isfinite(r)]), initial=0.0)))
        if not np.all(same | close | (np.isnan(g) & ~np.isnan(r))):
            return False
    return True
