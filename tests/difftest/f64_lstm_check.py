#!/usr/bin/python3
"""The float64 evaluator's LSTM (tools/difftest/f64.py _lstm) against ONNX Runtime's float32 LSTM:
forward, reverse and bidirectional, with and without the optional inputs (bias, sequence_lens,
initial states, peepholes), clip and input_forget. They must agree to float32 rounding (2e-6 on
these sizes). The evaluator replaced ONNX Runtime's float32 result as the LSTM reference, which
could not arbitrate (difftest seed 1604679, docs/robustness.md). Exit 77 without ONNX Runtime.
usage: f64_lstm_check.py"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools", "difftest"))
import f64  # noqa: E402

ORT = os.path.join(ROOT, "tests", "ort", "run_ort.js")


def case(rng, direction, with_opt, clip=None, input_forget=0):
    S, B, I, H = 4, 3, 5, 2
    nd = 2 if direction == "bidirectional" else 1
    arrs = {"X": rng.standard_normal((S, B, I)), "W": rng.standard_normal((nd, 4 * H, I)),
            "R": rng.standard_normal((nd, 4 * H, H)), "B": rng.standard_normal((nd, 8 * H)),
            "sl": np.array([4, 2, 3], np.int32), "h0": rng.standard_normal((nd, B, H)),
            "c0": rng.standard_normal((nd, B, H)), "P": rng.standard_normal((nd, 3 * H))}
    arrs = {k: v.astype(np.float32) if v.dtype == np.float64 else v for k, v in arrs.items()}
    names = ["X", "W", "R"] + (["B", "sl", "h0", "c0", "P"] if with_opt else [])
    kw = dict(hidden_size=H, direction=direction, input_forget=input_forget)
    if clip:
        kw["clip"] = clip
    node = h.make_node("LSTM", names, ["Y", "Yh", "Yc"], **kw)
    g = h.make_graph([node], "t", [h.make_tensor_value_info(n, T.INT32 if n == "sl" else T.FLOAT,
                                                            arrs[n].shape) for n in names],
                     [h.make_tensor_value_info(o, T.FLOAT, None) for o in ("Y", "Yh", "Yc")])
    d = tempfile.mkdtemp()
    onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 14)]), os.path.join(d, "m.onnx"))
    args = []
    for n in names:
        np.save(os.path.join(d, n + ".npy"), arrs[n])
        args.append(f"{n}={os.path.join(d, n + '.npy')}")
    subprocess.run(["node", ORT, os.path.join(d, "m.onnx"), os.path.join(d, "o")] + args,
                   check=True, capture_output=True)
    got = f64._lstm(node, [arrs[n].astype(np.float64) if arrs[n].dtype == np.float32 else arrs[n]
                          for n in names])
    worst = max(float(np.abs(np.load(os.path.join(d, "o", o + ".npy")) - v).max())
                for o, v in zip(("Y", "Yh", "Yc"), got))
    print(f"{direction} optional={with_opt} clip={clip} input_forget={input_forget}: {worst:.2g}")
    return worst <= 2e-6


def main():
    if not os.path.isdir(os.path.join(ROOT, "tests", "ort", "node_modules")):
        print("ONNX Runtime not installed (tests/ort/node_modules): skipped")
        return 77
    rng = np.random.default_rng(0)
    ok = all([case(rng, d, o) for d in ("forward", "reverse", "bidirectional") for o in (True, False)]
             + [case(rng, "forward", True, clip=0.5), case(rng, "forward", True, input_forget=1)])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
