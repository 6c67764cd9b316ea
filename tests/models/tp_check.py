#!/usr/bin/env python3
"""Tensor parallelism against ONNX Runtime: a model compiled with `trnsim compile --tp N` and
run on the N NeuronCores of one chip (`trnsim run --system`, a one-chip system) must give ONNX
Runtime's outputs (fp32: within 1e-4 of max |ref|; summation order only), the KV cache included
(each rank writes its heads into the shared present tensors). Models: a two-layer MLP with
biases, and Llama- and GPT-2-style decoders with a past (tests/models/llm_models.py, random
weights). Exit 77 (skip) without ONNX Runtime.
usage: tp_check.py TRNSIM mlp|llama|gpt2|heads3 TP CHIP WORKDIR
(heads3: a model whose 4 heads --tp 3 cannot split must be refused in one line naming the node)"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import llm_models  # noqa: E402
from generate_check import ort_step  # noqa: E402  (ONNX Runtime on a model and its feeds)

# One chip of the system's kind, so that the N ranks are the chip's cores.
SYSTEMS = {"trn1": "trn1.32xlarge", "trn2": "trn2.48xlarge", "tiny": "tiny4"}


def mlp(rng):
    W1 = (rng.standard_normal((64, 256)) * 0.1).astype(np.float32)
    W2 = (rng.standard_normal((256, 64)) * 0.1).astype(np.float32)
    b1 = rng.standard_normal(256).astype(np.float32)
    b2 = rng.standard_normal(64).astype(np.float32)
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], name="fc1"),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("MatMul", ["r", "W2"], ["o"], name="fc2"),
             helper.make_node("Add", ["o", "b2"], ["y"], name="fc2_bias")]
    g = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [6, 64])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [6, 64])],
                          [numpy_helper.from_array(a, n) for a, n in
                           ((W1, "W1"), (W2, "W2"), (b1, "b1"), (b2, "b2"))])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    return m, {"x": rng.standard_normal((6, 64)).astype(np.float32)}


def main():
    trnsim, kind, tp, chip, work = sys.argv[1:]
    if not os.path.isdir(os.path.join(HERE, "..", "ort", "node_modules")):
        print("ONNX Runtime not installed (tests/ort/node_modules): skipped")
        return 77
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(3)
    if kind == "mlp":
        m, feeds = mlp(rng)
    elif kind == "heads3":  # 4 heads of 24 (Dm 96): --tp 3 splits the projections, not the heads
        m, feeds = llm_models.llama("llama_tp", B=1, S=2, P=1, H=4, KVH=4, Dm=96, FF=96, L=1)(rng)
    elif kind == "llama":  # 8 query heads, 4 KV heads: splits for --tp 2 and 4
        m, feeds = llm_models.llama("llama_tp", B=2, S=3, P=4, H=8, KVH=4, Dm=64, FF=128)(rng)
    else:
        m, feeds = llm_models.gpt2("gpt2_tp", B=2, S=3, P=4, H=4, Dm=64)(rng)
    model = os.path.join(work, kind + ".onnx")
    onnx.save(m, model)
    refs = ort_step(model, work, feeds)  # writes WORK/NAME.npy for every input
    args = [f"{name}={os.path.join(work, name + '.npy')}" for name in feeds]
    prog = os.path.join(work, "prog.tbin")
    r = subprocess.run([trnsim, "compile", model, "--chip", chip, "--dtype", "fp32", "--tp", tp,
                        "-o", prog], capture_output=True, text=True)
    if kind == "heads3":  # a one-line refusal naming the node, exit 2, no program written
        lines = r.stderr.strip().splitlines()
        print(r.stderr)
        ok = (r.returncode == 2 and len(lines) == 1 and "layers.0_q_view" in lines[0] and
              "head count must be divisible by --tp" in lines[0] and not os.path.exists(prog))
        return 0 if ok else 1
    if r.returncode != 0:
        print(r.stdout + r.stderr)
        return 1
    out = os.path.join(work, "trnsim")
    cmd = [trnsim, "run", prog, "--system", SYSTEMS[chip], "--set", "system.chips=1",
           "--set", "system.dims=1x1" if chip != "tiny" else "system.dims=1", "--output-dir", out]
    for a in args:
        cmd += ["--input", a]
    r = subprocess.run(cmd, capture_output=True, text=True)
    print(r.stdout[-1500:] + r.stderr)
    if r.returncode != 0:
        return 1
    bad = 0
    for name in sorted(refs):
        ref, f = refs[name], name + ".npy"
        got = np.load(os.path.join(out, "chip0", f))
        err = float(np.abs(got.astype(np.float64) - ref).max()) if ref.size else 0.0
        scale = float(np.abs(ref).max()) if ref.size else 1.0
        ok = got.shape == ref.shape and err <= 1e-4 * max(scale, 1e-30)
        print(f"{f[:-4]}: max err {err:.3g} (max |ref| {scale:.3g}) {'ok' if ok else 'WRONG'}")
        bad += not ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
