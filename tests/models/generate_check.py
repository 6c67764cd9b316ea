#!/usr/bin/env python3
"""trnsim generate against ONNX Runtime: a Llama- or GPT-2-style decoder with a KV cache and
symbolic dims (tests/models/llm_models.py, random weights), greedy generation with trnsim
(`generate --dtype fp32`, every step simulated with numerics) and the same greedy loop with
ONNX Runtime (prefill with an empty past, then one token per step, present fed back as past).
The generated tokens must be equal. Exit 77 (skip) without ONNX Runtime.
With TP (> 1), trnsim generates with tensor parallelism on the TP cores of one trn1 chip
(`--system trn1.32xlarge --set system.chips=1 --set system.dims=1x1 --tp TP`).
usage: generate_check.py TRNSIM llama|gpt2 WORKDIR [TP]"""
import json
import os
import subprocess
import sys

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
ORT = os.path.join(HERE, "..", "ort", "run_ort.js")
sys.path.insert(0, HERE)
import llm_models  # noqa: E402


def ort_step(model, work, feeds):
    os.makedirs(work, exist_ok=True)
    args = []
    for name, arr in feeds.items():
        f = os.path.join(work, name + ".npy")
        np.save(f, arr)
        args.append(f"{name}={f}")
    out = os.path.join(work, "out")
    subprocess.run(["node", ORT, model, out] + args, check=True, capture_output=True)
    return {f[:-4]: np.load(os.path.join(out, f)) for f in os.listdir(out)}


def main():
    trnsim, kind, work = sys.argv[1:4]
    tp = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    if not os.path.isdir(os.path.join(HERE, "..", "ort", "node_modules")):
        print("ONNX Runtime not installed (tests/ort/node_modules): skipped")
        return 77
    os.makedirs(work, exist_ok=True)
    B, P, T = 2, 5, 4
    build = (llm_models.llama(f"{kind}_gen", B=1, S=P, P=0, dynamic=True) if kind == "llama"
             else llm_models.gpt2(f"{kind}_gen", B=1, S=P, P=0, dynamic=True))
    m, _ = build(np.random.default_rng(42))
    model = os.path.join(work, f"{kind}_gen.onnx")
    onnx.save(m, model)
    stats = os.path.join(work, "gen.json")
    where = ["--chip", "tiny"] if tp == 1 else [
        "--system", "trn1.32xlarge", "--set", "system.chips=1", "--set", "system.dims=1x1",
        "--tp", str(tp)]
    r = subprocess.run([trnsim, "generate", model] + where + [
                        "--dtype", "fp32", "--batch", str(B), "--prompt-len", str(P),
                        "--new-tokens", str(T), "--stats", stats], capture_output=True, text=True)
    print(r.stdout + r.stderr)
    if r.returncode != 0:
        return 1
    got = json.load(open(stats))
    ids = np.array(got["prompt"], dtype=np.int64)
    pasts = [i for i in m.graph.input if i.name.startswith("past_key_values")]
    kv = {i.name: np.zeros([B] + [d.dim_value for d in i.type.tensor_type.shape.dim][1:2] + [0] +
                           [d.dim_value for d in i.type.tensor_type.shape.dim][3:], np.float32)
          for i in pasts}
    past, want = 0, [[] for _ in range(B)]
    for t in range(T):
        S = ids.shape[1]
        feeds = {"input_ids": ids, "attention_mask": np.ones((B, past + S), np.int64)}
        if any(i.name == "position_ids" for i in m.graph.input):
            feeds["position_ids"] = np.tile(np.arange(past, past + S, dtype=np.int64), (B, 1))
        feeds.update(kv)
        out = ort_step(model, os.path.join(work, f"ort{t}"), feeds)
        nxt = out["logits"][:, -1, :].argmax(axis=-1)
        for b in range(B):
            want[b].append(int(nxt[b]))
        kv = {"past_key_values" + k[len("present"):]: v for k, v in out.items()
              if k.startswith("present")}
        past += S
        ids = nxt.reshape(B, 1).astype(np.int64)
    print("trnsim tokens:", got["tokens"])
    print("ORT tokens:   ", want)
    if got["tokens"] != want:
        print("MISMATCH")
        return 1
    for key in ("ttft_ms", "tpot_ms_mean"):
        if not got[key] > 0:
            print(f"{key} is not positive")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
