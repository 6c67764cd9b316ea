#!/usr/bin/python3
"""Seeded random ONNX graphs for differential testing of trnsim against ONNX Runtime.

usage: gen.py SEED OUTDIR          writes OUTDIR/model.onnx, OUTDIR/in_<name>.npy, OUTDIR/meta.json
       gen.py --ops                lists the ops the generator covers

Deterministic per seed (Python's and NumPy's generators seeded from SEED). Each graph: opset
13..17, 3..12 nodes drawn from every op of trnsim's op table (compiler/ops/op_table.cpp) with
random attributes, shapes from rank 0 to 4 (size-1 dims, odd sizes, tile edges 127/128/129,
rows > 8k elements), numpy broadcasting, float32 / float16 / int64 / bool tensors, constant
subgraphs (initializers and Constant nodes that trnsim folds), negative indices, int64 values
beyond 2^24 and 2^53, ties for ArgMax/Round, values from 1e-4 to 1e4. Graph outputs are the
tensors nobody consumes plus a few intermediate ones. Every graph passes onnx.checker; one
that ONNX Runtime rejects is a generator bug (the runner counts those apart).
meta.json: seed, opset, the node list (one line each), graph inputs and outputs.
"""
import json
import os
import random
import sys

import numpy as np
import onnx
from onnx import helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from graph import BOOL, F16, F32, I64, ONNX_TYPE, Builder, Skip  # noqa: E402
import gen_ops as E  # noqa: E402
import gen_ops_move as M  # noqa: E402
import gen_ops_nn as N  # noqa: E402

GEN_VERSION = 3   # bump when a change alters the graph of an existing seed (2: Xor, 3: no
                  # AveragePool with negative SAME pads)


def _table():
    """op name -> (weight, builder). Weights favour the ops with more lowering paths."""
    t = {}
    for op in E.UNARY:
        t[op] = (1.0, lambda b, op=op: E.b_unary(b, op))
    for op in ("Add", "Sub", "Mul", "Div", "Pow"):
        t[op] = (2.0 if op != "Pow" else 1.0, lambda b, op=op: E.b_binary(b, op))
    for op in ("Max", "Min", "Sum", "Mean"):
        t[op] = (1.0, lambda b, op=op: E.b_variadic(b, op))
    for op in ("Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"):
        t[op] = (0.8, lambda b, op=op: E.b_compare(b, op))
    for op in ("And", "Or", "Xor"):
        t[op] = (0.5, lambda b, op=op: E.b_logic(b, op))
    t["Not"] = (0.4, E.b_not)
    t["Where"] = (1.5, E.b_where)
    t["Clip"] = (1.0, E.b_clip)
    t["PRelu"] = (0.7, E.b_prelu)
    t["Mod"] = (0.8, E.b_mod)
    t["Cast"] = (1.5, E.b_cast)
    t["MatMul"] = (3.0, N.b_matmul)
    t["Gemm"] = (2.0, N.b_gemm)
    t["Einsum"] = (0.8, N.b_einsum)
    t["Conv"] = (3.0, N.b_conv)
    t["ConvTranspose"] = (1.5, N.b_conv_transpose)
    for op in ("MaxPool", "AveragePool"):
        t[op] = (1.5, lambda b, op=op: N.b_pool(b, op))
    for op in ("GlobalAveragePool", "GlobalMaxPool"):
        t[op] = (0.5, lambda b, op=op: N.b_global_pool(b, op))
    t["InstanceNormalization"] = (0.8, N.b_instance_norm)
    t["LRN"] = (0.6, N.b_lrn)
    t["LayerNormalization"] = (1.0, N.b_layernorm)
    t["BatchNormalization"] = (0.8, N.b_batchnorm)
    for op in ("Softmax", "LogSoftmax"):
        t[op] = (1.2, lambda b, op=op: N.b_softmax(b, op))
    for op in N.REDUCE:
        t[op] = (0.8, lambda b, op=op: N.b_reduce(b, op))
    for op in ("ArgMax", "ArgMin"):
        t[op] = (0.8, lambda b, op=op: N.b_argreduce(b, op))
    t["LSTM"] = (0.6, N.b_lstm)
    for op, fn, w in [("Identity", M.b_identity, 0.4), ("Dropout", M.b_dropout, 0.4),
                      ("Reshape", M.b_reshape, 1.5), ("Flatten", M.b_flatten, 0.8),
                      ("Squeeze", M.b_squeeze, 0.8), ("Unsqueeze", M.b_unsqueeze, 0.8),
                      ("Transpose", M.b_transpose, 1.5), ("Concat", M.b_concat, 1.5),
                      ("Split", M.b_split, 1.0), ("Slice", M.b_slice, 1.5),
                      ("Expand", M.b_expand, 1.0), ("Gather", M.b_gather, 1.5),
                      ("GatherElements", M.b_gather_elements, 1.0), ("Tile", M.b_tile, 0.8),
                      ("DepthToSpace", M.b_depth_to_space, 0.5),
                      ("SpaceToDepth", M.b_space_to_depth, 0.5), ("Trilu", M.b_trilu, 0.7),
                      ("ScatterND", M.b_scatter_nd, 0.7), ("CumSum", M.b_cumsum, 0.8),
                      ("Pad", M.b_pad, 1.2), ("Resize", M.b_resize, 1.5),
                      ("Shape", M.b_shape, 0.5), ("Size", M.b_size, 0.3),
                      ("Range", M.b_range, 0.4), ("If", M.b_if, 0.3)]:
        t[op] = (w, fn)
    return t


TABLE = _table()


def generate(seed, n_nodes=None):
    """Builds the graph of `seed`: (onnx.ModelProto, {input name: array}, meta dict)."""
    rng = random.Random(seed)
    b = Builder(rng=rng, nrng=np.random.default_rng(seed), opset=rng.choice([13, 14, 15, 16, 17]))
    target = n_nodes or rng.randint(3, 12)
    ops = list(TABLE)
    weights = [TABLE[o][0] for o in ops]
    # A graph leans on a few ops (so they meet each other) plus the whole table.
    focus = rng.sample(ops, 3)
    weights = [w * (4.0 if o in focus else 1.0) for o, w in zip(ops, weights)]
    tries = 0
    while sum(1 for n in b.nodes if n.op_type != "Constant") < target and tries < 400:
        tries += 1
        op = rng.choices(ops, weights)[0]
        snapshot = (len(b.nodes), len(b.pool), len(b.inputs), len(b.initializers), len(b.desc),
                    [t.uses for t in b.pool])
        try:
            TABLE[op][1](b)
        except Skip:
            _restore(b, snapshot)
    return finish(b, seed)


def _restore(b, snap):
    n_nodes, n_pool, n_in, n_init, n_desc, uses = snap
    del b.nodes[n_nodes:], b.pool[n_pool:], b.inputs[n_in:], b.initializers[n_init:]
    del b.desc[n_desc:]
    for t, u in zip(b.pool, uses):
        t.uses = u


def finish(b, seed):
    rng = b.rng
    produced = {o for n in b.nodes if n.op_type != "Constant" for o in n.output}
    # outputs: computed tensors nobody uses, plus some intermediate ones (a folded constant that is
    # also an output is a case of its own); narrow-typed casts are never outputs
    outs = [t for t in b.pool if t.name in produced and t.dtype in (F32, F16, I64, BOOL) and
            (t.uses == 0 or rng.random() < 0.12)]
    if not outs:
        raise SystemExit(f"seed {seed}: no outputs")
    vi = helper.make_tensor_value_info
    graph = helper.make_graph(
        b.nodes, f"difftest_{seed}",
        [vi(t.name, ONNX_TYPE[t.dtype], list(t.shape)) for t, _ in b.inputs],
        [vi(t.name, ONNX_TYPE[t.dtype], list(t.shape)) for t in outs],
        initializer=b.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", b.opset)],
                              producer_name="trnsim-difftest")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    meta = {"seed": seed, "gen_version": GEN_VERSION, "opset": b.opset, "nodes": b.desc,
            "inputs": {t.name: {"shape": list(t.shape), "dtype": t.dtype} for t, _ in b.inputs},
            "outputs": {t.name: {"shape": list(t.shape), "dtype": t.dtype, "exact": t.exact}
                        for t in outs},
            "const": sorted(t.name for t in b.pool if t.const)}
    return model, {t.name: a for t, a in b.inputs}, meta


def write(outdir, model, inputs, meta):
    os.makedirs(outdir, exist_ok=True)
    onnx.save(model, os.path.join(outdir, "model.onnx"))
    for name, arr in inputs.items():
        np.save(os.path.join(outdir, f"in_{name}.npy"), arr)
    with open(os.path.join(outdir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--ops":
        print("\n".join(sorted(TABLE)))
        return
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    seed = int(sys.argv[1])
    write(sys.argv[2], *generate(seed))


if __name__ == "__main__":
    main()
