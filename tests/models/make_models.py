#!/usr/bin/python3
"""Writes the end-to-end test models and their random inputs.

usage: make_models.py OUT_DIR [NAME...]
       make_models.py --list

For each model NAME: OUT_DIR/NAME.onnx and OUT_DIR/NAME.inputs/<input>.npy (seeded, so the
files are reproducible). Uses onnx.helper and numpy only (/usr/bin/python3 on Debian 12).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
F = TensorProto.FLOAT
I64 = TensorProto.INT64


def model(name, nodes, inputs, outputs, inits=(), opset=OPSET):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="trnsim-tests")
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def vi(name, shape, t=F):
    return helper.make_tensor_value_info(name, t, shape)


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def rnd(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def mlp(rng):
    w1, b1 = rnd(rng, 64, 256, scale=0.1), rnd(rng, 256, scale=0.1)
    w2, b2 = rnd(rng, 256, 10, scale=0.1), rnd(rng, 10, scale=0.1)
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h0"], name="fc1"),
        helper.make_node("Add", ["h0", "b1"], ["h1"], name="fc1_bias"),
        helper.make_node("Relu", ["h1"], ["h2"], name="relu1"),
        helper.make_node("Gemm", ["h2", "w2", "b2"], ["y"], name="fc2"),
    ]
    m = model("mlp", nodes, [vi("x", [8, 64])], [vi("y", [8, 10])],
              [const("w1", w1), const("b1", b1), const("w2", w2), const("b2", b2)])
    return m, {"x": rnd(rng, 8, 64)}


def mlp_dynamic(rng):
    """Symbolic batch (pinned with --shape) and a PyTorch-style Shape/Gather/Concat reshape."""
    w = rnd(rng, 48, 16, scale=0.2)
    nodes = [
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "zero"], ["b"], axis=0, name="batch"),
        helper.make_node("Unsqueeze", ["b", "axes0"], ["b1"], name="batch_1d"),
        helper.make_node("Concat", ["b1", "minus1"], ["target"], axis=0, name="target"),
        helper.make_node("Reshape", ["x", "target"], ["flat"], name="flatten"),
        helper.make_node("MatMul", ["flat", "w"], ["h"], name="fc"),
        helper.make_node("Tanh", ["h"], ["y"], name="tanh"),
    ]
    m = model("mlp_dynamic", nodes, [vi("x", ["batch", 4, 12])], [vi("y", ["batch", 16])],
              [const("w", w), const("zero", np.array(0, dtype=np.int64)),
               const("axes0", np.array([0], dtype=np.int64)),
               const("minus1", np.array([-1], dtype=np.int64))])
    return m, {"x": rnd(rng, 5, 4, 12)}


def transformer(rng):
    S, D, H, FF = 16, 64, 4, 128
    dh = D // H
    inits = [
        const("wq", rnd(rng, D, D, scale=0.1)), const("wk", rnd(rng, D, D, scale=0.1)),
        const("wv", rnd(rng, D, D, scale=0.1)), const("wo", rnd(rng, D, D, scale=0.1)),
        const("bq", rnd(rng, D, scale=0.1)),
        const("g1", 1 + rnd(rng, D, scale=0.1)), const("be1", rnd(rng, D, scale=0.1)),
        const("w1", rnd(rng, D, FF, scale=0.1)), const("b1", rnd(rng, FF, scale=0.1)),
        const("w2", rnd(rng, FF, D, scale=0.1)), const("b2", rnd(rng, D, scale=0.1)),
        const("heads_shape", np.array([1, S, H, dh], dtype=np.int64)),
        const("merge_shape", np.array([1, S, D], dtype=np.int64)),
        const("scale", np.array(1.0 / np.sqrt(dh), dtype=np.float32)),
        const("half", np.array(0.5, dtype=np.float32)),
        const("one", np.array(1.0, dtype=np.float32)),
        const("sqrt2", np.array(np.sqrt(2.0), dtype=np.float32)),
        const("two", np.array(2.0, dtype=np.float32)),
        const("eps", np.array(1e-5, dtype=np.float32)),
        const("axes_last", np.array([-1], dtype=np.int64)),
    ]
    n = helper.make_node
    nodes = [
        # Attention.
        n("MatMul", ["x", "wq"], ["q0"], name="q_proj"),
        n("Add", ["q0", "bq"], ["q1"], name="q_bias"),
        n("MatMul", ["x", "wk"], ["k0"], name="k_proj"),
        n("MatMul", ["x", "wv"], ["v0"], name="v_proj"),
        n("Reshape", ["q1", "heads_shape"], ["q2"], name="q_heads"),
        n("Reshape", ["k0", "heads_shape"], ["k2"], name="k_heads"),
        n("Reshape", ["v0", "heads_shape"], ["v2"], name="v_heads"),
        n("Transpose", ["q2"], ["q3"], perm=[0, 2, 1, 3], name="q_t"),
        n("Transpose", ["k2"], ["k3"], perm=[0, 2, 3, 1], name="k_t"),
        n("Transpose", ["v2"], ["v3"], perm=[0, 2, 1, 3], name="v_t"),
        n("MatMul", ["q3", "k3"], ["s0"], name="scores"),
        n("Mul", ["s0", "scale"], ["s1"], name="scores_scale"),
        n("Softmax", ["s1"], ["p"], axis=-1, name="softmax"),
        n("MatMul", ["p", "v3"], ["o0"], name="context"),
        n("Transpose", ["o0"], ["o1"], perm=[0, 2, 1, 3], name="o_t"),
        n("Reshape", ["o1", "merge_shape"], ["o2"], name="o_merge"),
        n("MatMul", ["o2", "wo"], ["o3"], name="o_proj"),
        n("Add", ["x", "o3"], ["r1"], name="residual1"),
        n("LayerNormalization", ["r1", "g1", "be1"], ["ln1"], axis=-1, epsilon=1e-5, name="ln1"),
        # Feed-forward with GELU via Erf.
        n("MatMul", ["ln1", "w1"], ["f0"], name="ff1"),
        n("Add", ["f0", "b1"], ["f1"], name="ff1_bias"),
        n("Div", ["f1", "sqrt2"], ["ge0"], name="gelu_div"),
        n("Erf", ["ge0"], ["ge1"], name="gelu_erf"),
        n("Add", ["ge1", "one"], ["ge2"], name="gelu_add"),
        n("Mul", ["f1", "ge2"], ["ge3"], name="gelu_mul"),
        n("Mul", ["ge3", "half"], ["ge4"], name="gelu_half"),
        n("MatMul", ["ge4", "w2"], ["f2"], name="ff2"),
        n("Add", ["f2", "b2"], ["f3"], name="ff2_bias"),
        n("Add", ["ln1", "f3"], ["r2"], name="residual2"),
        # Decomposed layer norm (ReduceMean/Sub/Pow/Sqrt/Div).
        n("ReduceMean", ["r2"], ["mu"], axes=[-1], keepdims=1, name="ln2_mean"),
        n("Sub", ["r2", "mu"], ["d"], name="ln2_sub"),
        n("Pow", ["d", "two"], ["d2"], name="ln2_pow"),
        n("ReduceMean", ["d2"], ["var"], axes=[-1], keepdims=1, name="ln2_var"),
        n("Add", ["var", "eps"], ["ve"], name="ln2_eps"),
        n("Sqrt", ["ve"], ["sd"], name="ln2_sqrt"),
        n("Div", ["d", "sd"], ["y"], name="ln2_div"),
    ]
    m = model("transformer", nodes, [vi("x", [1, S, D])], [vi("y", [1, S, D])], inits)
    return m, {"x": rnd(rng, 1, S, D)}


def unary_op(op, positive=False, **attrs):
    def build(rng):
        x = rnd(rng, 4, 200)
        if positive:
            x = np.abs(x) + 0.1
        m = model("op_" + op.lower(), [helper.make_node(op, ["x"], ["y"], name=op.lower(), **attrs)],
                  [vi("x", [4, 200])], [vi("y", [4, 200])])
        return m, {"x": x}
    return build


def binary_op(op, shape_b=(200,), out_type=F, positive=False):
    def build(rng):
        a, b = rnd(rng, 4, 200), rnd(rng, *shape_b)
        if positive:
            a, b = np.abs(a) + 0.5, np.abs(b) * 0 + rng.integers(1, 3, size=shape_b).astype(np.float32)
        if out_type != F:  # comparisons: make some ties
            b = np.round(b)
            a = np.round(a)
        m = model("op_" + op.lower(), [helper.make_node(op, ["a", "b"], ["y"], name=op.lower())],
                  [vi("a", [4, 200]), vi("b", list(shape_b))], [vi("y", [4, 200], out_type)])
        return m, {"a": a, "b": b}
    return build


def single(name, nodes, inputs, outputs, inits=()):
    def build(rng):
        m = model(name, nodes, [vi(k, list(v.shape), I64 if v.dtype == np.int64 else F)
                                for k, v in inputs(rng).items()], outputs, inits)
        return m, inputs(np.random.default_rng(1234 + len(name)))
    return build


def single_opset(name, opset, nodes, inputs, outputs, inits=()):
    def build(rng):
        ins = inputs(rng)
        m = model(name, nodes, [vi(k, list(v.shape)) for k, v in ins.items()], outputs, inits,
                  opset=opset)
        return m, ins
    return build


def fixed_inputs(**shapes):
    def gen(rng):
        return {k: rnd(np.random.default_rng(len(k) * 7 + 1), *s) for k, s in shapes.items()}
    return gen


n = helper.make_node
MODELS = {
    "mlp": mlp,
    "mlp_dynamic": mlp_dynamic,
    "transformer": transformer,
    "op_relu": unary_op("Relu"),
    "op_sigmoid": unary_op("Sigmoid"),
    "op_tanh": unary_op("Tanh"),
    "op_exp": unary_op("Exp"),
    "op_log": unary_op("Log", positive=True),
    "op_sqrt": unary_op("Sqrt", positive=True),
    "op_erf": unary_op("Erf"),
    "op_neg": unary_op("Neg"),
    "op_abs": unary_op("Abs"),
    "op_add": binary_op("Add"),
    "op_sub": binary_op("Sub", (4, 1)),
    "op_mul": binary_op("Mul", (4, 200)),
    "op_div": binary_op("Div", (200,), positive=True),
    "op_pow": binary_op("Pow", (1,), positive=True),
    "op_max": binary_op("Max"),
    "op_min": binary_op("Min"),
    "op_equal": binary_op("Equal", out_type=TensorProto.BOOL),
    "op_less": binary_op("Less", out_type=TensorProto.BOOL),
    "op_greater": binary_op("Greater", out_type=TensorProto.BOOL),
    "op_softmax": single("op_softmax", [n("Softmax", ["x"], ["y"], axis=-1, name="softmax")],
                         fixed_inputs(x=(3, 5, 40)), [vi("y", [3, 5, 40])]),
    "op_softmax_axis1": single("op_softmax_axis1", [n("Softmax", ["x"], ["y"], axis=1, name="softmax")],
                               fixed_inputs(x=(3, 5, 40)), [vi("y", [3, 5, 40])]),
    "op_layernorm": single("op_layernorm",
                           [n("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1, name="ln")],
                           fixed_inputs(x=(2, 10, 96)), [vi("y", [2, 10, 96])],
                           [const("g", np.linspace(0.5, 1.5, 96).astype(np.float32)),
                            const("b", np.linspace(-1, 1, 96).astype(np.float32))]),
    "op_reducemean": single("op_reducemean",
                            [n("ReduceMean", ["x"], ["y"], axes=[1], keepdims=0, name="rm")],
                            fixed_inputs(x=(3, 50, 7)), [vi("y", [3, 7])]),
    "op_reducesum": single("op_reducesum",
                           [n("ReduceSum", ["x", "ax"], ["y"], keepdims=1, name="rs")],
                           fixed_inputs(x=(6, 300)), [vi("y", [6, 1])],
                           [const("ax", np.array([-1], dtype=np.int64))]),
    "op_matmul_batched": single("op_matmul_batched", [n("MatMul", ["a", "b"], ["y"], name="mm")],
                                fixed_inputs(a=(2, 3, 150, 140), b=(3, 140, 600)),
                                [vi("y", [2, 3, 150, 600])]),
    "op_gemm": single("op_gemm", [n("Gemm", ["a", "b", "c"], ["y"], alpha=0.5, beta=2.0,
                                    transA=1, transB=1, name="gemm")],
                      fixed_inputs(a=(40, 30), b=(20, 40), c=(1, 20)), [vi("y", [30, 20])]),
    "op_transpose": single("op_transpose", [n("Transpose", ["x"], ["y"], perm=[2, 0, 1], name="t")],
                           fixed_inputs(x=(4, 6, 10)), [vi("y", [10, 4, 6])]),
    "op_reshape": single("op_reshape",
                         [n("Reshape", ["x", "s"], ["r"], name="reshape"),
                          n("Relu", ["r"], ["y"], name="relu")],
                         fixed_inputs(x=(4, 6, 10)), [vi("y", [24, 10])],
                         [const("s", np.array([-1, 10], dtype=np.int64))]),
    "op_flatten_squeeze": single("op_flatten_squeeze",
                                 [n("Unsqueeze", ["x", "ax"], ["u"], name="unsq"),
                                  n("Squeeze", ["u", "ax"], ["s"], name="sq"),
                                  n("Flatten", ["s"], ["y"], axis=1, name="flat")],
                                 fixed_inputs(x=(4, 6, 10)), [vi("y", [4, 60])],
                                 [const("ax", np.array([0], dtype=np.int64))]),
    "op_concat": single("op_concat", [n("Concat", ["a", "b"], ["y"], axis=1, name="cat")],
                        fixed_inputs(a=(4, 3, 5), b=(4, 2, 5)), [vi("y", [4, 5, 5])]),
    "op_split": single("op_split", [n("Split", ["x", "sp"], ["y0", "y1"], axis=-1, name="split")],
                       fixed_inputs(x=(4, 10)), [vi("y0", [4, 3]), vi("y1", [4, 7])],
                       [const("sp", np.array([3, 7], dtype=np.int64))]),
    "op_slice": single("op_slice", [n("Slice", ["x", "st", "en", "ax", "stp"], ["y"], name="slice")],
                       fixed_inputs(x=(6, 20)), [vi("y", [3, 6])],
                       [const("st", np.array([1, 2], dtype=np.int64)),
                        const("en", np.array([6, 20], dtype=np.int64)),
                        const("ax", np.array([0, 1], dtype=np.int64)),
                        const("stp", np.array([2, 3], dtype=np.int64))]),
    "op_cast": single("op_cast", [n("Cast", ["x"], ["c"], to=TensorProto.INT64, name="cast"),
                                  n("Cast", ["c"], ["y"], to=TensorProto.FLOAT, name="cast_back")],
                      lambda rng: {"x": (np.random.default_rng(5).standard_normal((4, 30)) * 5).astype(np.float32)},
                      [vi("y", [4, 30])]),
    "op_gather_const": single("op_gather_const", [n("Gather", ["x", "i"], ["y"], axis=0, name="gather")],
                              fixed_inputs(x=(50, 16)), [vi("y", [2, 3, 16])],
                              [const("i", np.array([[3, 0, 49], [-1, 7, 7]], dtype=np.int64))]),
    "op_gather_runtime": single("op_gather_runtime",
                                [n("Gather", ["x", "i"], ["y"], axis=1, name="gather")],
                                lambda rng: {"x": rnd(np.random.default_rng(3), 3, 40, 8),
                                             "i": np.random.default_rng(4).integers(0, 40, size=(5,)).astype(np.int64)},
                                [vi("y", [3, 5, 8])]),
    "op_where": single("op_where", [n("Greater", ["a", "b"], ["c"], name="gt"),
                                    n("Not", ["c"], ["nc"], name="not"),
                                    n("Where", ["nc", "a", "b"], ["y"], name="where")],
                       fixed_inputs(a=(4, 30), b=(30,)), [vi("y", [4, 30])]),
    "op_expand": single("op_expand", [n("Expand", ["x", "s"], ["y"], name="expand")],
                        fixed_inputs(x=(3, 1)), [vi("y", [2, 3, 5])],
                        [const("s", np.array([2, 3, 5], dtype=np.int64))]),
    # Older opsets: attribute forms and pre-13 Softmax (flattens from `axis`).
    "op_softmax_opset11": single_opset("op_softmax_opset11", 11,
                                       [n("Softmax", ["x"], ["y"], axis=1, name="softmax")],
                                       fixed_inputs(x=(3, 5, 8)), [vi("y", [3, 5, 8])]),
    "op_squeeze_opset11": single_opset("op_squeeze_opset11", 11,
                                       [n("Unsqueeze", ["x"], ["u"], axes=[0, 3], name="unsq"),
                                        n("Squeeze", ["u"], ["y"], axes=[0], name="sq")],
                                       fixed_inputs(x=(4, 6, 10)), [vi("y", [4, 6, 1, 10])]),
    "op_slice_opset9": single_opset("op_slice_opset9", 9,
                                    [n("Slice", ["x"], ["y"], starts=[1, -5], ends=[3, 1000],
                                       axes=[0, 1], name="slice")],
                                    fixed_inputs(x=(4, 20)), [vi("y", [2, 5])]),
    "op_split_opset11": single_opset("op_split_opset11", 11,
                                     [n("Split", ["x"], ["y0", "y1"], axis=0, split=[1, 3],
                                        name="split")],
                                     fixed_inputs(x=(4, 10)), [vi("y0", [1, 10]), vi("y1", [3, 10])]),
    "op_batchnorm": single("op_batchnorm",
                           [n("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"],
                              epsilon=1e-5, name="bn")],
                           fixed_inputs(x=(2, 3, 4, 5)), [vi("y", [2, 3, 4, 5])],
                           [const("s", np.array([1.0, 0.5, 2.0], dtype=np.float32)),
                            const("b", np.array([0.1, -0.2, 0.3], dtype=np.float32)),
                            const("m", np.array([0.0, 1.0, -1.0], dtype=np.float32)),
                            const("v", np.array([1.0, 4.0, 0.25], dtype=np.float32))]),
}


def matmul_model(name, M, K, N, const_a=False, const_b=False, scale=0.1, feeds=True):
    """One MatMul [M, K] x [K, N]; each operand a runtime input or an initializer.
    feeds=False writes no input files (timing-only benchmarks of huge runtime inputs)."""
    def build(rng):
        inputs, inits, fd = [], [], {}
        for nm, shape, is_const in (("a", (M, K), const_a), ("b", (K, N), const_b)):
            if is_const:
                inits.append(const(nm, rnd(rng, *shape, scale=scale)))
            else:
                inputs.append(vi(nm, list(shape)))
                if feeds:
                    fd[nm] = rnd(rng, *shape, scale=scale)
        m = model(name, [helper.make_node("MatMul", ["a", "b"], ["y"], name="mm")], inputs,
                  [vi("y", [M, N])], inits)
        return m, fd
    return build


def encoder(name, L, S, D, H, FF):
    """A BERT-style encoder: L post-LN layers (attention, GELU feed-forward), batch 1."""
    def build(rng):
        dh = D // H
        n = helper.make_node
        inits = [
            const("heads_shape", np.array([1, S, H, dh], dtype=np.int64)),
            const("merge_shape", np.array([1, S, D], dtype=np.int64)),
            const("scale", np.array(1.0 / np.sqrt(dh), dtype=np.float32)),
            const("half", np.array(0.5, dtype=np.float32)),
            const("one", np.array(1.0, dtype=np.float32)),
            const("sqrt2", np.array(np.sqrt(2.0), dtype=np.float32)),
        ]
        nodes = []
        x = "x"
        for i in range(L):
            p = f"l{i}_"
            sd = 1.0 / np.sqrt(D)
            for w, shape in (("wq", (D, D)), ("wk", (D, D)), ("wv", (D, D)), ("wo", (D, D)),
                             ("w1", (D, FF)), ("w2", (FF, D))):
                inits.append(const(p + w, rnd(rng, *shape, scale=sd)))
            for bname, sz in (("bq", D), ("bk", D), ("bv", D), ("bo", D), ("b1", FF), ("b2", D),
                              ("be1", D), ("be2", D)):
                inits.append(const(p + bname, rnd(rng, sz, scale=0.02)))
            inits += [const(p + "g1", 1 + rnd(rng, D, scale=0.02)),
                      const(p + "g2", 1 + rnd(rng, D, scale=0.02))]
            for t in ("q", "k", "v"):
                nodes += [n("MatMul", [x, p + "w" + t], [p + t + "0"], name=p + t + "_proj"),
                          n("Add", [p + t + "0", p + "b" + t], [p + t + "1"], name=p + t + "_bias"),
                          n("Reshape", [p + t + "1", "heads_shape"], [p + t + "2"],
                            name=p + t + "_heads")]
            nodes += [
                n("Transpose", [p + "q2"], [p + "q3"], perm=[0, 2, 1, 3], name=p + "q_t"),
                n("Transpose", [p + "k2"], [p + "k3"], perm=[0, 2, 3, 1], name=p + "k_t"),
                n("Transpose", [p + "v2"], [p + "v3"], perm=[0, 2, 1, 3], name=p + "v_t"),
                n("MatMul", [p + "q3", p + "k3"], [p + "s0"], name=p + "scores"),
                n("Mul", [p + "s0", "scale"], [p + "s1"], name=p + "scores_scale"),
                n("Softmax", [p + "s1"], [p + "pr"], axis=-1, name=p + "softmax"),
                n("MatMul", [p + "pr", p + "v3"], [p + "o0"], name=p + "context"),
                n("Transpose", [p + "o0"], [p + "o1"], perm=[0, 2, 1, 3], name=p + "o_t"),
                n("Reshape", [p + "o1", "merge_shape"], [p + "o2"], name=p + "o_merge"),
                n("MatMul", [p + "o2", p + "wo"], [p + "o3"], name=p + "o_proj"),
                n("Add", [p + "o3", p + "bo"], [p + "o4"], name=p + "o_bias"),
                n("Add", [x, p + "o4"], [p + "r1"], name=p + "residual1"),
                n("LayerNormalization", [p + "r1", p + "g1", p + "be1"], [p + "ln1"], axis=-1,
                  epsilon=1e-5, name=p + "ln1"),
                n("MatMul", [p + "ln1", p + "w1"], [p + "f0"], name=p + "ff1"),
                n("Add", [p + "f0", p + "b1"], [p + "f1"], name=p + "ff1_bias"),
                n("Div", [p + "f1", "sqrt2"], [p + "ge0"], name=p + "gelu_div"),
                n("Erf", [p + "ge0"], [p + "ge1"], name=p + "gelu_erf"),
                n("Add", [p + "ge1", "one"], [p + "ge2"], name=p + "gelu_add"),
                n("Mul", [p + "f1", p + "ge2"], [p + "ge3"], name=p + "gelu_mul"),
                n("Mul", [p + "ge3", "half"], [p + "ge4"], name=p + "gelu_half"),
                n("MatMul", [p + "ge4", p + "w2"], [p + "f2"], name=p + "ff2"),
                n("Add", [p + "f2", p + "b2"], [p + "f3"], name=p + "ff2_bias"),
                n("Add", [p + "ln1", p + "f3"], [p + "r2"], name=p + "residual2"),
                n("LayerNormalization", [p + "r2", p + "g2", p + "be2"],
                  ["y" if i == L - 1 else p + "out"], axis=-1, epsilon=1e-5, name=p + "ln2"),
            ]
            x = p + "out"
        m = model(name, nodes, [vi("x", [1, S, D])], [vi("y", [1, S, D])], inits)
        return m, {"x": rnd(rng, 1, S, D)}
    return build


# Benchmark models (bench/compiler_bench.sh): built by name, not e2e tests (not in --list).
BENCH_MODELS = {
    "bench_gemm_large": matmul_model("bench_gemm_large", 4096, 8192, 8192, feeds=False),
    "bench_bert_base": encoder("bench_bert_base", 12, 128, 768, 12, 3072),
}


# Models with Tensor Engine work, also checked with --dtype bf16.
MODELS.update({
    "op_matmul_blocked": matmul_model("op_matmul_blocked", 300, 520, 700),
    "op_matmul_const_lhs": matmul_model("op_matmul_const_lhs", 200, 300, 260, const_a=True),
    "op_matmul_const_rhs": matmul_model("op_matmul_const_rhs", 136, 392, 600, const_b=True),
    "encoder_small": encoder("encoder_small", 2, 32, 64, 4, 128),
})

BF16_MODELS = {"mlp", "mlp_dynamic", "transformer", "op_matmul_batched", "op_gemm",
               "op_matmul_blocked", "op_matmul_const_lhs", "op_matmul_const_rhs",
               "encoder_small"}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] == "--list":  # NAME DTYPES per line, for tests/CMakeLists.txt
        for name in MODELS:
            print(name, "fp32,bf16" if name in BF16_MODELS else "fp32")
        return
    out = sys.argv[1]
    names = sys.argv[2:] or list(MODELS)
    os.makedirs(out, exist_ok=True)
    for name in names:
        m, inputs = {**MODELS, **BENCH_MODELS}[name](np.random.default_rng(42))
        onnx.save(m, os.path.join(out, name + ".onnx"))
        d = os.path.join(out, name + ".inputs")
        os.makedirs(d, exist_ok=True)
        for k, v in inputs.items():
            np.save(os.path.join(d, k + ".npy"), v)
    print("\n".join(names))


if __name__ == "__main__":
    main()
