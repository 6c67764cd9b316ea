#!/usr/bin/python3
"""Writes the end-to-end test models and their random inputs.

usage: make_models.py OUT_DIR [NAME...]
       make_models.py --list
       make_models.py --run-args [NAME]

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


def hf_style(kind, batch=1, name=None):
    """One layer of a HuggingFace-exported encoder ("bert") or decoder ("gpt2") as torch.onnx
    writes it: int64 token ids through Gather embeddings, the attention mask broadcast with
    Unsqueeze/Cast/Sub/Mul (bert) or a causal mask Sliced from a constant and applied with Where
    (gpt2), head reshapes whose shapes come from Shape/Gather/Concat, a fused QKV Split (gpt2),
    decomposed LayerNorm, GELU (erf for bert, the tanh form with Pow 3 for gpt2), and the pooler
    (Gather of token 0, Gemm, Tanh) for bert."""
    def build(rng):
        n = helper.make_node
        V, S, D, H, FF = 50, 12, 32, 4, 64
        dh = D // H
        i64 = lambda *v: np.array(v, dtype=np.int64)
        f = lambda v: np.array(v, dtype=np.float32)
        inits = [const("wte", rnd(rng, V, D, scale=0.5)), const("wpe", rnd(rng, S, D, scale=0.5)),
                 const("pos_ids", i64(*range(S)).reshape(1, S)),
                 const("w_o", rnd(rng, D, D, scale=0.2)), const("b_o", rnd(rng, D, scale=0.1)),
                 const("w_1", rnd(rng, D, FF, scale=0.2)), const("b_1", rnd(rng, FF, scale=0.1)),
                 const("w_2", rnd(rng, FF, D, scale=0.2)), const("b_2", rnd(rng, D, scale=0.1)),
                 const("ln_g", 1 + rnd(rng, D, scale=0.1)), const("ln_b", rnd(rng, D, scale=0.1)),
                 const("i0", np.array(0, dtype=np.int64)), const("i1", np.array(1, dtype=np.int64)),
                 const("ax0", i64(0)), const("ax12", i64(1, 2)), const("ax_last", i64(-1)),
                 const("heads", i64(H)), const("dhead", i64(dh)), const("dmodel", i64(D)),
                 const("one", f(1.0)), const("two", f(2.0)), const("half", f(0.5)),
                 const("eps", f(1e-5)), const("inv_sqrt_dh", f(1.0 / np.sqrt(dh)))]
        nodes = [n("Gather", ["wte", "ids"], ["tok"], axis=0, name="wte"),
                 n("Gather", ["wpe", "pos_ids"], ["pos"], axis=0, name="wpe"),
                 n("Add", ["tok", "pos"], ["x"], name="embed_add")]
        # Shapes the way torch.onnx writes them: Shape -> Gather -> Unsqueeze -> Concat.
        nodes += [n("Shape", ["x"], ["xs"], name="x_shape"),
                  n("Gather", ["xs", "i0"], ["bsz"], axis=0, name="bsz"),
                  n("Gather", ["xs", "i1"], ["seq"], axis=0, name="seq"),
                  n("Unsqueeze", ["bsz", "ax0"], ["bsz1"], name="bsz_1d"),
                  n("Unsqueeze", ["seq", "ax0"], ["seq1"], name="seq_1d"),
                  n("Concat", ["bsz1", "seq1", "heads", "dhead"], ["split_shape"], axis=0,
                    name="split_shape"),
                  n("Concat", ["bsz1", "seq1", "dmodel"], ["merge_shape"], axis=0, name="merge_shape")]
        if kind == "gpt2":
            inits += [const("w_qkv", rnd(rng, D, 3 * D, scale=0.2)), const("b_qkv", rnd(rng, 3 * D, scale=0.1)),
                      const("split3", i64(D, D, D)),
                      const("causal", np.tril(np.ones((1, 1, 16, 16), dtype=bool))),
                      const("neg", f(-3.4028234663852886e38)),
                      const("c0", f(0.044715)), const("c1", f(np.sqrt(2 / np.pi))), const("three", f(3.0))]
            nodes += [n("MatMul", ["x", "w_qkv"], ["qkv0"], name="c_attn"),
                      n("Add", ["qkv0", "b_qkv"], ["qkv"], name="c_attn_bias"),
                      n("Split", ["qkv", "split3"], ["q", "k", "v"], axis=2, name="qkv_split")]
        else:
            for w in "qkv":
                inits += [const("w_" + w, rnd(rng, D, D, scale=0.2)), const("b_" + w, rnd(rng, D, scale=0.1))]
                nodes += [n("MatMul", ["x", "w_" + w], [w + "0"], name=w + "_proj"),
                          n("Add", [w + "0", "b_" + w], [w], name=w + "_bias")]
        for w in "qkv":
            nodes += [n("Reshape", [w, "split_shape"], [w + "h"], name=w + "_heads"),
                      n("Transpose", [w + "h"], [w + "t"], perm=[0, 2, 3, 1] if w == "k" else [0, 2, 1, 3],
                        name=w + "_t")]
        nodes += [n("MatMul", ["qt", "kt"], ["sc0"], name="scores"),
                  n("Mul", ["sc0", "inv_sqrt_dh"], ["sc1"], name="scores_scale")]
        if kind == "gpt2":
            inits += [const("zero_1d", i64(0))]
            nodes += [n("Slice", ["causal", "zero_1d", "seq1", "two_i", "one_i"], ["cm0"], name="causal_rows"),
                      n("Slice", ["cm0", "zero_1d", "seq1", "three_i", "one_i"], ["cm"], name="causal_cols"),
                      n("Where", ["cm", "sc1", "neg"], ["sc2"], name="causal_where")]
            inits += [const("two_i", i64(2)), const("three_i", i64(3)), const("one_i", i64(1))]
        else:
            nodes += [n("Unsqueeze", ["mask", "ax12"], ["m0"], name="mask_unsqueeze"),
                      n("Cast", ["m0"], ["m1"], to=F, name="mask_cast"),
                      n("Sub", ["one", "m1"], ["m2"], name="mask_invert"),
                      n("Mul", ["m2", "neg_big"], ["m3"], name="mask_scale"),
                      n("Add", ["sc1", "m3"], ["sc2"], name="scores_mask")]
            inits += [const("neg_big", f(-10000.0))]
        nodes += [n("Softmax", ["sc2"], ["pr"], axis=-1, name="softmax"),
                  n("MatMul", ["pr", "vt"], ["ctx0"], name="context"),
                  n("Transpose", ["ctx0"], ["ctx1"], perm=[0, 2, 1, 3], name="ctx_t"),
                  n("Reshape", ["ctx1", "merge_shape"], ["ctx"], name="ctx_merge"),
                  n("MatMul", ["ctx", "w_o"], ["o0"], name="o_proj"),
                  n("Add", ["o0", "b_o"], ["o1"], name="o_bias"),
                  n("Add", ["x", "o1"], ["r1"], name="residual1"),
                  # Decomposed LayerNorm.
                  n("ReduceMean", ["r1"], ["mu"], axes=[-1], name="ln_mean"),
                  n("Sub", ["r1", "mu"], ["dv"], name="ln_sub"),
                  n("Pow", ["dv", "two"], ["dv2"], name="ln_pow"),
                  n("ReduceMean", ["dv2"], ["var"], axes=[-1], name="ln_var"),
                  n("Add", ["var", "eps"], ["ve"], name="ln_eps"),
                  n("Sqrt", ["ve"], ["sd"], name="ln_sqrt"),
                  n("Div", ["dv", "sd"], ["nrm"], name="ln_div"),
                  n("Mul", ["nrm", "ln_g"], ["nrm1"], name="ln_scale"),
                  n("Add", ["nrm1", "ln_b"], ["h"], name="ln_shift"),
                  n("MatMul", ["h", "w_1"], ["f0"], name="ff1"),
                  n("Add", ["f0", "b_1"], ["f1"], name="ff1_bias")]
        if kind == "gpt2":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            nodes += [n("Pow", ["f1", "three"], ["g0"], name="gelu_pow"),
                      n("Mul", ["g0", "c0"], ["g1"], name="gelu_mul_c0"),
                      n("Add", ["f1", "g1"], ["g2"], name="gelu_add"),
                      n("Mul", ["g2", "c1"], ["g3"], name="gelu_mul_c1"),
                      n("Tanh", ["g3"], ["g4"], name="gelu_tanh"),
                      n("Add", ["g4", "one"], ["g5"], name="gelu_add1"),
                      n("Mul", ["f1", "g5"], ["g6"], name="gelu_mul_x"),
                      n("Mul", ["g6", "half"], ["gl"], name="gelu_half")]
        else:
            inits += [const("sqrt2", f(np.sqrt(2.0)))]
            nodes += [n("Div", ["f1", "sqrt2"], ["g0"], name="gelu_div"),
                      n("Erf", ["g0"], ["g1"], name="gelu_erf"),
                      n("Add", ["g1", "one"], ["g2"], name="gelu_add"),
                      n("Mul", ["f1", "g2"], ["g3"], name="gelu_mul"),
                      n("Mul", ["g3", "half"], ["gl"], name="gelu_half")]
        nodes += [n("MatMul", ["gl", "w_2"], ["f2"], name="ff2"),
                  n("Add", ["f2", "b_2"], ["f3"], name="ff2_bias"),
                  n("Add", ["h", "f3"], ["y"], name="residual2")]
        B = "batch" if batch > 1 else 1  # symbolic batch: pinned by --shape (data parallel)
        inputs = [vi("ids", [B, S], I64)]
        feeds = {"ids": np.random.default_rng(11).integers(0, V, size=(batch, S)).astype(np.int64)}
        outputs = [vi("y", [B, S, D])]
        if kind == "bert":
            inputs.append(vi("mask", [B, S], I64))
            feeds["mask"] = np.array([[1] * (S - 1 - b % 4) + [0] * (1 + b % 4) for b in range(batch)],
                                     dtype=np.int64)
            inits += [const("w_pool", rnd(rng, D, D, scale=0.2)), const("b_pool", rnd(rng, D, scale=0.1))]
            nodes += [n("Gather", ["y", "i0"], ["cls"], axis=1, name="pooler_first"),
                      n("Gemm", ["cls", "w_pool", "b_pool"], ["pl0"], name="pooler_dense"),
                      n("Tanh", ["pl0"], ["pooled"], name="pooler_tanh")]
            outputs.append(vi("pooled", [B, D]))
        m = model(name or "hf_" + kind, nodes, inputs, outputs, inits, opset=14)
        return m, feeds
    return build


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
    "hf_bert": hf_style("bert"),
    "hf_gpt2": hf_style("gpt2"),
    # Data parallel over the two cores of trn1 (--cores 2): batch 4 split into 2 x 2.
    "dp_hf_bert": hf_style("bert", batch=4, name="dp_hf_bert"),
    "dp_mlp": lambda rng: (lambda m_in: (m_in[0], {"x": rnd(rng, 6, 4, 12)}))(mlp_dynamic(rng)),
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
    # A table of more than 65,535 rows (Llama 3's vocabulary has 128,256): the dma_gather table's
    # row count once wrapped at 2^16 and valid indices beyond it faulted.
    "op_gather_large_vocab": single(
        "op_gather_large_vocab", [n("Gather", ["emb", "i"], ["y"], axis=0, name="embed")],
        lambda rng: {"i": np.array([[0, 65535, 65536], [69999, -1, 1234]], dtype=np.int64)},
        [vi("y", [2, 3, 8])], [const("emb", rnd(np.random.default_rng(6), 70000, 8))]),
    "op_where": single("op_where", [n("Greater", ["a", "b"], ["c"], name="gt"),
                                    n("Not", ["c"], ["nc"], name="not"),
                                    n("Where", ["nc", "a", "b"], ["y"], name="where")],
                       fixed_inputs(a=(4, 30), b=(30,)), [vi("y", [4, 30])]),
    "op_xor": single("op_xor", [n("Greater", ["a", "b"], ["c"], name="gt"),
                                n("Less", ["a", "z"], ["d"], name="lt"),
                                n("Xor", ["c", "d"], ["y"], name="xor")],
                     lambda rng: {**fixed_inputs(a=(4, 30), b=(30,))(rng),
                                  "z": np.zeros((4, 1), np.float32)},
                     [vi("y", [4, 30], TensorProto.BOOL)]),
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


# Activation and arithmetic ops real CNN/transformer exports use (ReLU6 = Clip, MobileNetV3's
# HardSwish/HardSigmoid, PRelu, ...); each lowers to a few act/ts/tt steps per tile.
def scaled_inputs(scale, **shapes):
    def gen(rng):
        return {k: rnd(np.random.default_rng(len(k) * 7 + 3), *s, scale=scale) for k, s in shapes.items()}
    return gen


MODELS.update({
    "op_leakyrelu": unary_op("LeakyRelu", alpha=0.1),
    "op_hardsigmoid": unary_op("HardSigmoid", alpha=0.3, beta=0.4),
    "op_hardswish": single("op_hardswish", [n("HardSwish", ["x"], ["y"], name="hswish")],
                           scaled_inputs(4.0, x=(4, 200)), [vi("y", [4, 200])]),
    "op_elu": unary_op("Elu", alpha=0.7),
    "op_selu": unary_op("Selu"),
    "op_celu": unary_op("Celu", alpha=1.5),
    "op_thresholdedrelu": unary_op("ThresholdedRelu", alpha=0.3),
    "op_softsign": unary_op("Softsign"),
    "op_sign": single("op_sign", [n("Sign", ["r"], ["y"], name="sign")],
                      lambda rng: {"r": np.round(rnd(np.random.default_rng(8), 4, 60))},
                      [vi("y", [4, 60])]),
    "op_floor_ceil": single("op_floor_ceil", [n("Floor", ["x"], ["f"], name="floor"),
                                              n("Ceil", ["x"], ["c"], name="ceil")],
                            scaled_inputs(6.0, x=(4, 200)), [vi("f", [4, 200]), vi("c", [4, 200])]),
    # Clip: opset 13 bounds as constant inputs (ReLU6), only a max, runtime bounds; opset 6 attrs.
    "op_clip_relu6": single("op_clip_relu6", [n("Clip", ["x", "lo", "hi"], ["y"], name="relu6")],
                            scaled_inputs(5.0, x=(2, 8, 6, 6)), [vi("y", [2, 8, 6, 6])],
                            [const("lo", np.array(0.0, dtype=np.float32)),
                             const("hi", np.array(6.0, dtype=np.float32))]),
    "op_clip_max_only": single("op_clip_max_only", [n("Clip", ["x", "", "hi"], ["y"], name="clip")],
                               fixed_inputs(x=(4, 50)), [vi("y", [4, 50])],
                               [const("hi", np.array(0.5, dtype=np.float32))]),
    "op_clip_runtime": single("op_clip_runtime", [n("Clip", ["x", "lo", "hi"], ["y"], name="clip")],
                              lambda rng: {"x": rnd(np.random.default_rng(9), 4, 50),
                                           "lo": np.array(-0.3, dtype=np.float32),
                                           "hi": np.array(0.8, dtype=np.float32)},
                              [vi("y", [4, 50])]),
    "op_clip_opset9": single_opset("op_clip_opset9", 9,
                                   [n("Clip", ["x"], ["y"], min=-0.5, max=0.25, name="clip")],
                                   fixed_inputs(x=(4, 50)), [vi("y", [4, 50])]),
    "op_prelu": single("op_prelu", [n("PRelu", ["x", "slope"], ["y"], name="prelu")],
                       fixed_inputs(x=(2, 6, 5, 5)), [vi("y", [2, 6, 5, 5])],
                       [const("slope", np.linspace(-0.5, 0.5, 6).astype(np.float32).reshape(6, 1, 1))]),
    "op_sum_mean": single("op_sum_mean", [n("Sum", ["a", "b", "c"], ["s"], name="sum"),
                                          n("Mean", ["a", "b", "c"], ["m"], name="mean")],
                          fixed_inputs(a=(4, 30), b=(30,), c=(4, 1)),
                          [vi("s", [4, 30]), vi("m", [4, 30])]),
})


def folding_export_style(rng):
    """Shape arithmetic as PyTorch exports write it, all folded at compile time: Shape -> Gather
    -> Unsqueeze -> Concat -> Reshape, Size -> Cast, ConstantOfShape -> Expand, Equal/Where on
    constants, Slice of a shape, Identity and Dropout (inference)."""
    n = helper.make_node
    i64 = lambda *v: np.array(v, dtype=np.int64)
    inits = [const("i0", np.array(0, dtype=np.int64)), const("ax0", i64(0)),
             const("minus1", np.array(-1, dtype=np.int64)),
             const("s_lo", i64(1)), const("s_hi", i64(3)), const("two", i64(2)),
             const("ratio", np.array(0.25, dtype=np.float32))]
    nodes = [n("Identity", ["x"], ["xi"], name="identity"),
             n("Dropout", ["xi", "ratio"], ["xd"], name="dropout"),
             n("Shape", ["xd"], ["shp"], name="shape"),
             n("Gather", ["shp", "i0"], ["b"], axis=0, name="batch"),
             n("Unsqueeze", ["b", "ax0"], ["b1"], name="batch_1d"),
             n("Unsqueeze", ["minus1", "ax0"], ["m1"], name="minus1_1d"),
             n("Concat", ["b1", "m1"], ["target"], axis=0, name="target"),
             n("Reshape", ["xd", "target"], ["flat"], name="reshape"),
             n("Slice", ["shp", "s_lo", "s_hi"], ["tail"], name="tail_dims"),
             n("Equal", ["tail", "tail"], ["same"], name="same"),
             n("Where", ["same", "tail", "tail"], ["tail2"], name="where_const"),
             n("ConstantOfShape", ["tail2"], ["ones"], value=numpy_helper.from_array(np.array([1.5], dtype=np.float32)), name="ones"),
             n("Expand", ["ones", "shp"], ["ones_full"], name="expand"),
             n("Size", ["xd"], ["sz"], name="size"),
             n("Cast", ["sz"], ["szf"], to=F, name="size_f"),
             n("Mul", ["xd", "ones_full"], ["scaled"], name="scale"),
             n("Div", ["scaled", "szf"], ["scaled_n"], name="norm"),
             n("ReduceMax", ["flat"], ["mx"], axes=[1], keepdims=1, name="reducemax"),
             n("Sub", ["scaled_n", "two_f"], ["y"], name="sub")]
    inits.append(const("two_f", np.array(2.0, dtype=np.float32)))
    m = model("folding_export_style", nodes, [vi("x", [2, 6, 8])],
              [vi("y", [2, 6, 8]), vi("mx", [2, 1])], inits)
    return m, {"x": rnd(rng, 2, 6, 8)}


MODELS["folding_export_style"] = folding_export_style


def exporter_names(rng):
    """Tensor and node names as exporters write them: TF's "input_1:0", PyTorch's "onnx::Add_5"
    and "/layer/Relu_output_0", spaces. Program tensors get identifier forms; `--input` takes the
    ONNX name."""
    n = helper.make_node
    nodes = [n("MatMul", ["input_1:0", "/fc/weight"], ["onnx::Add_5"], name="/fc/MatMul"),
             n("Add", ["onnx::Add_5", "fc.bias"], ["/fc/Add_output_0"], name="/fc/Add"),
             n("Relu", ["/fc/Add_output_0"], ["logits 0"], name="/act/Relu")]
    m = model("exporter_names", nodes, [vi("input_1:0", [3, 8])], [vi("logits 0", [3, 5])],
              [const("/fc/weight", rnd(rng, 8, 5)), const("fc.bias", rnd(rng, 5))])
    return m, {"input_1:0": rnd(rng, 3, 8)}


MODELS["exporter_names"] = exporter_names


def scalar_io(rng):
    """Rank-0 inputs and outputs (a sample rate in, a sum out) and output names that are not
    identifiers: files are DIR/NAME.npy with only [A-Za-z0-9_.-] kept. x has a free batch
    dimension: its .npy gives the shape (no --shape)."""
    n = helper.make_node
    nodes = [n("Mul", ["x", "sr"], ["13"], name="scale"),
             n("ReduceSum", ["x"], ["1 minute timer"], keepdims=0, name="sum"),
             n("Add", ["sr", "one"], ['{"score": 1}'], name="inc")]
    m = model("scalar_io", nodes, [vi("x", ["N", 4]), vi("sr", [])],
              [vi("13", ["N", 4]), vi("1 minute timer", []), vi('{"score": 1}', [])],
              [const("one", np.array(1.0, np.float32))])
    return m, {"x": rnd(rng, 3, 4), "sr": np.array(0.5, np.float32)}


MODELS["scalar_io"] = scalar_io


def fp16_block(rng):
    """A float16 export (half-precision weights, inputs and outputs): MatMul, bias, LayerNorm,
    GELU via Erf, residual. Boundary tensors stay float16; the engines compute in fp32."""
    n = helper.make_node
    H = TensorProto.FLOAT16
    h = lambda a: np.asarray(a, dtype=np.float16)
    inits = [const("w", h(rnd(rng, 32, 32, scale=0.2))), const("b", h(rnd(rng, 32, scale=0.1))),
             const("g", h(1 + rnd(rng, 32, scale=0.1))), const("be", h(rnd(rng, 32, scale=0.1))),
             const("sqrt2", h(np.sqrt(2.0))), const("one", h(1.0)), const("half", h(0.5))]
    nodes = [n("MatMul", ["x", "w"], ["m"], name="fc"),
             n("Add", ["m", "b"], ["mb"], name="fc_bias"),
             n("Div", ["mb", "sqrt2"], ["d"], name="gelu_div"),
             n("Erf", ["d"], ["e"], name="gelu_erf"),
             n("Add", ["e", "one"], ["e1"], name="gelu_add"),
             n("Mul", ["mb", "e1"], ["g0"], name="gelu_mul"),
             n("Mul", ["g0", "half"], ["g1"], name="gelu_half"),
             n("Add", ["x", "g1"], ["r"], name="residual"),
             n("LayerNormalization", ["r", "g", "be"], ["y"], axis=-1, name="ln")]
    m = model("fp16_block", nodes, [vi("x", [8, 32], H)], [vi("y", [8, 32], H)], inits)
    return m, {"x": h(rnd(rng, 8, 32))}


MODELS["fp16_block"] = fp16_block


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


def encoder_layers(rng, nodes, inits, x, L, S, D, H, FF, causal=False, out=None, ln_eps=1e-5):
    """L post-LN transformer layers (attention, erf-GELU feed-forward) on x [1, S, D], appended
    to nodes/inits; causal adds a constant upper-triangle -1e4 to the attention scores. The last
    layer writes `out` (default l{L-1}_out), which is returned."""
    dh = D // H
    n = helper.make_node
    pre, c = "l", ""
    inits += [const(c + "heads_shape", np.array([1, S, H, dh], dtype=np.int64)),
              const(c + "merge_shape", np.array([1, S, D], dtype=np.int64)),
              const(c + "scale", np.array(1.0 / np.sqrt(dh), dtype=np.float32)),
              const(c + "half", np.array(0.5, dtype=np.float32)),
              const(c + "one", np.array(1.0, dtype=np.float32)),
              const(c + "sqrt2", np.array(np.sqrt(2.0), dtype=np.float32))]
    if causal:
        inits.append(const(c + "causal", np.triu(np.full((S, S), -1e4, np.float32), 1)))
    for i in range(L):
        p = f"{pre}{i}_"
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
                      n("Reshape", [p + t + "1", c + "heads_shape"], [p + t + "2"],
                        name=p + t + "_heads")]
        scores = p + "s1"
        nodes += [
            n("Transpose", [p + "q2"], [p + "q3"], perm=[0, 2, 1, 3], name=p + "q_t"),
            n("Transpose", [p + "k2"], [p + "k3"], perm=[0, 2, 3, 1], name=p + "k_t"),
            n("Transpose", [p + "v2"], [p + "v3"], perm=[0, 2, 1, 3], name=p + "v_t"),
            n("MatMul", [p + "q3", p + "k3"], [p + "s0"], name=p + "scores"),
            n("Mul", [p + "s0", c + "scale"], [p + "s1"], name=p + "scores_scale")]
        if causal:
            nodes.append(n("Add", [p + "s1", c + "causal"], [p + "s2"], name=p + "causal"))
            scores = p + "s2"
        nodes += [
            n("Softmax", [scores], [p + "pr"], axis=-1, name=p + "softmax"),
            n("MatMul", [p + "pr", p + "v3"], [p + "o0"], name=p + "context"),
            n("Transpose", [p + "o0"], [p + "o1"], perm=[0, 2, 1, 3], name=p + "o_t"),
            n("Reshape", [p + "o1", c + "merge_shape"], [p + "o2"], name=p + "o_merge"),
            n("MatMul", [p + "o2", p + "wo"], [p + "o3"], name=p + "o_proj"),
            n("Add", [p + "o3", p + "bo"], [p + "o4"], name=p + "o_bias"),
            n("Add", [x, p + "o4"], [p + "r1"], name=p + "residual1"),
            n("LayerNormalization", [p + "r1", p + "g1", p + "be1"], [p + "ln1"], axis=-1,
              epsilon=ln_eps, name=p + "ln1"),
            n("MatMul", [p + "ln1", p + "w1"], [p + "f0"], name=p + "ff1"),
            n("Add", [p + "f0", p + "b1"], [p + "f1"], name=p + "ff1_bias"),
            n("Div", [p + "f1", c + "sqrt2"], [p + "ge0"], name=p + "gelu_div"),
            n("Erf", [p + "ge0"], [p + "ge1"], name=p + "gelu_erf"),
            n("Add", [p + "ge1", c + "one"], [p + "ge2"], name=p + "gelu_add"),
            n("Mul", [p + "f1", p + "ge2"], [p + "ge3"], name=p + "gelu_mul"),
            n("Mul", [p + "ge3", c + "half"], [p + "ge4"], name=p + "gelu_half"),
            n("MatMul", [p + "ge4", p + "w2"], [p + "f2"], name=p + "ff2"),
            n("Add", [p + "f2", p + "b2"], [p + "f3"], name=p + "ff2_bias"),
            n("Add", [p + "ln1", p + "f3"], [p + "r2"], name=p + "residual2"),
            n("LayerNormalization", [p + "r2", p + "g2", p + "be2"],
              [out if out and i == L - 1 else p + "out"], axis=-1, epsilon=ln_eps,
              name=p + "ln2"),
        ]
        x = out if out and i == L - 1 else p + "out"
    return x


def encoder(name, L, S, D, H, FF, causal=False, vocab=0):
    """A BERT-style encoder: L post-LN layers, batch 1, input x [1, S, D]; causal masking and
    an LM head of `vocab` logits make it a GPT-2-shaped decoder without KV cache."""
    def build(rng):
        nodes, inits = [], []
        y = encoder_layers(rng, nodes, inits, "x", L, S, D, H, FF, causal=causal,
                           out=None if vocab else "y")
        if vocab:
            inits.append(const("lm_head", rnd(rng, D, vocab, scale=0.02)))
            nodes.append(helper.make_node("MatMul", [y, "lm_head"], ["y"], name="lm_head"))
        m = model(name, nodes, [vi("x", [1, S, D])], [vi("y", [1, S, vocab or D])], inits)
        return m, {"x": rnd(rng, 1, S, D)}
    return build


def vit(name, size=224, patch=16, L=12, D=768, H=12, FF=3072, classes=1000):
    """ViT (B/16 by default): patch Conv, class token, position embedding, L encoder layers,
    the class token's LayerNorm and linear head."""
    def build(rng):
        n = helper.make_node
        S = (size // patch) ** 2 + 1
        inits = [const("patch_w", rnd(rng, D, 3, patch, patch, scale=0.02)),
                 const("patch_b", np.zeros(D, np.float32)),
                 const("tok_shape", np.array([1, D, S - 1], dtype=np.int64)),
                 const("cls", rnd(rng, 1, 1, D, scale=0.02)),
                 const("pos", rnd(rng, 1, S, D, scale=0.02)),
                 const("i0", np.array(0, dtype=np.int64)),
                 const("lnf_g", np.ones(D, np.float32)), const("lnf_b", np.zeros(D, np.float32)),
                 const("head_w", rnd(rng, D, classes, scale=0.02)),
                 const("head_b", np.zeros(classes, np.float32))]
        nodes = [n("Conv", ["x", "patch_w", "patch_b"], ["pe0"], strides=[patch, patch],
                   name="patch_embed"),
                 n("Reshape", ["pe0", "tok_shape"], ["pe1"], name="patch_flatten"),
                 n("Transpose", ["pe1"], ["pe2"], perm=[0, 2, 1], name="patch_t"),
                 n("Concat", ["cls", "pe2"], ["tok"], axis=1, name="cls_concat"),
                 n("Add", ["tok", "pos"], ["h0"], name="pos_add")]
        y = encoder_layers(rng, nodes, inits, "h0", L, S, D, H, FF, ln_eps=1e-6)
        nodes += [n("Gather", [y, "i0"], ["clsout"], axis=1, name="cls_take"),
                  n("LayerNormalization", ["clsout", "lnf_g", "lnf_b"], ["clsn"], axis=-1,
                    epsilon=1e-6, name="ln_final"),
                  n("Gemm", ["clsn", "head_w", "head_b"], ["y"], name="head")]
        m = model(name, nodes, [vi("x", [1, 3, size, size])], [vi("y", [1, classes])], inits)
        return m, {"x": rnd(rng, 1, 3, size, size)}
    return build


# Benchmark models (bench/compiler_bench.sh): built by name, not e2e tests (not in --list).
BENCH_MODELS = {
    "bench_gemm_large": matmul_model("bench_gemm_large", 4096, 8192, 8192, feeds=False),
    "bench_bert_base": encoder("bench_bert_base", 12, 128, 768, 12, 3072),
    # bench/hw_bench.sh: the shapes of published models, random weights.
    "bench_bert_large": encoder("bench_bert_large", 24, 128, 1024, 16, 4096),
    "bench_distilbert": encoder("bench_distilbert", 6, 128, 768, 12, 3072),
    "bench_gpt2": encoder("bench_gpt2", 12, 128, 768, 12, 3072, causal=True, vocab=50257),
    "bench_vit_b16": vit("bench_vit_b16"),
}


# Models with Tensor Engine work, also checked with --dtype bf16.
MODELS.update({
    "op_matmul_blocked": matmul_model("op_matmul_blocked", 300, 520, 700),
    "op_matmul_const_lhs": matmul_model("op_matmul_const_lhs", 200, 300, 260, const_a=True),
    "op_matmul_const_rhs": matmul_model("op_matmul_const_rhs", 136, 392, 600, const_b=True),
    "encoder_small": encoder("encoder_small", 2, 32, 64, 4, 128),
    "op_matmul_bias_relu": single("op_matmul_bias_relu",
                                  [n("MatMul", ["x", "w"], ["h"], name="mm"),
                                   n("Add", ["h", "b"], ["hb"], name="bias"),
                                   n("Relu", ["hb"], ["y"], name="relu")],
                                  fixed_inputs(x=(40, 300)), [vi("y", [40, 1100])],
                                  [const("w", np.random.default_rng(5).standard_normal(
                                      (300, 1100)).astype(np.float32) * 0.1),
                                   const("b", np.random.default_rng(6).standard_normal(
                                      1100).astype(np.float32) * 0.1)]),
})

# Models for CLI tests only (built by name, not e2e tests): ONNX Runtime's reference would
# write both colliding outputs to one file.
CLI_MODELS = {}


def names_collide(rng):
    """Inputs whose identifier forms collide ("a:b" and "a_b" are both a_b in a program) and
    outputs whose file names collide ("a/b" and "a|b" are both a_b.npy)."""
    n = helper.make_node
    nodes = [n("Relu", ["a:b"], ["a/b"], name="r1"), n("Relu", ["a_b"], ["a|b"], name="r2")]
    m = model("names_collide", nodes, [vi("a:b", [2]), vi("a_b", [2])],
              [vi("a/b", [2]), vi("a|b", [2])])
    return m, {"a:b": np.array([1, 2], np.float32), "a_b": np.array([3, 4], np.float32)}


CLI_MODELS["names_collide"] = names_collide
# examples/cnn_small.onnx: cnn_small with its batch free ("N"; the README runs it at 1, 2 and 8).
CLI_MODELS["cnn_small_example"] = lambda rng: small_cnn(rng, batch="N")

# Extra `trnsim run` options per model (e2e_check.py asks with --run-args NAME).
RUN_ARGS = {"dp_hf_bert": ["--cores", "2"], "dp_mlp": ["--cores", "2"], "dp_cnn": ["--cores", "2"]}
BF16_MODELS = {"mlp", "hf_bert", "hf_gpt2", "dp_hf_bert", "fp16_block", "mlp_dynamic", "transformer", "op_matmul_batched", "op_gemm",
               "op_matmul_blocked", "op_matmul_const_lhs", "op_matmul_const_rhs",
               "encoder_small", "op_matmul_bias_relu"}


# ---- CNN ops (Conv, ConvTranspose, pooling, Pad, Resize) ----

def conv_op(name, x_shape, w_shape, bias=True, op="Conv", **attrs):
    def build(rng):
        w = rnd(rng, *w_shape, scale=0.3)
        ins = ["x", "w"] + (["b"] if bias else [])
        inits = [const("w", w)] + ([const("b", rnd(rng, w_shape[1] * attrs.get("group", 1)
                                                   if op == "ConvTranspose" else w_shape[0],
                                                   scale=0.1))] if bias else [])
        node = helper.make_node(op, ins, ["y"], name=name, **attrs)
        g = helper.make_graph([node], name, [vi("x", list(x_shape))], [vi("y", None)],
                              initializer=inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="trnsim-tests")
        m.ir_version = 8
        m = onnx.shape_inference.infer_shapes(m)
        onnx.checker.check_model(m)
        return m, {"x": rnd(rng, *x_shape)}
    return build


def shape_op(name, nodes, x_shape, inits=()):
    """One input x, one output y whose shape onnx shape inference works out."""
    def build(rng):
        g = helper.make_graph(nodes, name, [vi("x", list(x_shape))], [vi("y", None)],
                              initializer=list(inits))
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="trnsim-tests")
        m.ir_version = 8
        m = onnx.shape_inference.infer_shapes(m)
        onnx.checker.check_model(m)
        return m, {"x": rnd(rng, *x_shape)}
    return build


def small_cnn(rng, batch=2):
    """conv/batch-norm/relu, max pooling, a residual block, global average pooling, a classifier."""
    n = helper.make_node
    inits = []

    def conv_bn(x, y, cin, cout, k, stride=1, relu=True, tag=""):
        inits.extend([const(tag + "w", rnd(rng, cout, cin, k, k, scale=0.5 / np.sqrt(cin * k * k))),
                      const(tag + "g", 1 + rnd(rng, cout, scale=0.1)),
                      const(tag + "be", rnd(rng, cout, scale=0.1)),
                      const(tag + "m", rnd(rng, cout, scale=0.1)),
                      const(tag + "v", 1 + np.abs(rnd(rng, cout, scale=0.1)))])
        out = [n("Conv", [x, tag + "w"], [tag + "c"], pads=[k // 2] * 4, strides=[stride] * 2,
                 name=tag + "conv"),
               n("BatchNormalization", [tag + "c", tag + "g", tag + "be", tag + "m", tag + "v"],
                 [tag + "bn" if relu else y], name=tag + "bn")]
        if relu:
            out.append(n("Relu", [tag + "bn"], [y], name=tag + "relu"))
        return out
    nodes = (conv_bn("x", "a1", 3, 16, 3, 1, tag="c1_")
             + [n("MaxPool", ["a1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2], name="pool1")]
             + conv_bn("p1", "r1", 16, 16, 3, tag="b1_")
             + conv_bn("r1", "r2", 16, 16, 3, relu=False, tag="b2_")
             + [n("Add", ["r2", "p1"], ["s"], name="residual"),
                n("Relu", ["s"], ["a2"], name="relu_res")]
             + conv_bn("a2", "a3", 16, 32, 3, 2, tag="c3_")
             + [n("GlobalAveragePool", ["a3"], ["gp"], name="gap"),
                n("Flatten", ["gp"], ["f"], axis=1, name="flat"),
                n("Gemm", ["f", "fcw", "fcb"], ["y"], transB=1, name="fc")])
    inits += [const("fcw", rnd(rng, 10, 32, scale=0.2)), const("fcb", rnd(rng, 10, scale=0.1))]
    m = model("cnn_small", nodes, [vi("x", [batch, 3, 16, 16])], [vi("y", [batch, 10])], inits)
    return m, {"x": rnd(rng, 2, 3, 16, 16)}


def dw_separable(rng):
    """MobileNet-style block: depthwise 3x3 + BN + Relu, pointwise 1x1 + BN + Relu."""
    n = helper.make_node
    C, K = 24, 40
    inits = [const("dw", rnd(rng, C, 1, 3, 3, scale=0.3)),
             const("pw", rnd(rng, K, C, 1, 1, scale=0.2))]
    for t, c in (("d", C), ("p", K)):
        inits += [const(t + "g", 1 + rnd(rng, c, scale=0.1)), const(t + "b", rnd(rng, c, scale=0.1)),
                  const(t + "m", rnd(rng, c, scale=0.1)), const(t + "v", 1 + np.abs(rnd(rng, c, scale=0.1)))]
    nodes = [n("Conv", ["x", "dw"], ["d0"], group=C, pads=[1, 1, 1, 1], strides=[2, 2], name="dw"),
             n("BatchNormalization", ["d0", "dg", "db", "dm", "dv"], ["d1"], name="dw_bn"),
             n("Relu", ["d1"], ["d2"], name="dw_relu"),
             n("Conv", ["d2", "pw"], ["p0"], name="pw"),
             n("BatchNormalization", ["p0", "pg", "pb", "pm", "pv"], ["p1"], name="pw_bn"),
             n("Relu", ["p1"], ["y"], name="pw_relu")]
    m = model("dw_separable", nodes, [vi("x", [1, C, 20, 20])], [vi("y", [1, K, 10, 10])], inits)
    return m, {"x": rnd(rng, 1, C, 20, 20)}


def mobilenet_v2_block(rng):
    """MobileNetV2 inverted residual (expand 1x1 + ReLU6, depthwise 3x3 + ReLU6, project 1x1,
    residual Add) followed by MobileNetV3's HardSwish and a squeeze-excite HardSigmoid gate."""
    n = helper.make_node
    C, E = 16, 64
    inits = [const("w_exp", rnd(rng, E, C, 1, 1, scale=0.3)), const("b_exp", rnd(rng, E, scale=0.1)),
             const("w_dw", rnd(rng, E, 1, 3, 3, scale=0.3)), const("b_dw", rnd(rng, E, scale=0.1)),
             const("w_prj", rnd(rng, C, E, 1, 1, scale=0.2)), const("b_prj", rnd(rng, C, scale=0.1)),
             const("w_se", rnd(rng, C, C, 1, 1, scale=0.3)),
             const("zero", np.array(0.0, dtype=np.float32)), const("six", np.array(6.0, dtype=np.float32))]
    nodes = [n("Conv", ["x", "w_exp", "b_exp"], ["e0"], name="expand"),
             n("Clip", ["e0", "zero", "six"], ["e1"], name="expand_relu6"),
             n("Conv", ["e1", "w_dw", "b_dw"], ["d0"], group=E, pads=[1, 1, 1, 1], name="dw"),
             n("Clip", ["d0", "zero", "six"], ["d1"], name="dw_relu6"),
             n("Conv", ["d1", "w_prj", "b_prj"], ["p0"], name="project"),
             n("Add", ["p0", "x"], ["r"], name="residual"),
             n("HardSwish", ["r"], ["h"], name="hswish"),
             n("GlobalAveragePool", ["h"], ["g"], name="se_pool"),
             n("Conv", ["g", "w_se"], ["s0"], name="se_fc"),
             n("HardSigmoid", ["s0"], ["s1"], name="se_gate", alpha=1.0 / 6, beta=0.5),
             n("Mul", ["h", "s1"], ["y"], name="se_scale")]
    m = model("mobilenet_v2_block", nodes, [vi("x", [1, C, 14, 14])], [vi("y", [1, C, 14, 14])], inits)
    return m, {"x": rnd(rng, 1, C, 14, 14)}


def zoo_cnn(opset):
    """The op forms of the ONNX model zoo's opset-7/8 CNNs (resnet50-v1-7, mobilenetv2-7,
    squeezenet1.1-7): BatchNormalization with `spatial`, Clip with min/max attributes, Dropout
    with `ratio`, Concat of fire-module branches, MaxPool, Reshape to a constant shape, Gemm,
    Softmax (pre-13: flattened from axis 1)."""
    def build(rng):
        n = helper.make_node
        C = 8
        inits = [const("w1", rnd(rng, C, 3, 3, 3, scale=0.3)),
                 const("bn_s", 1 + rnd(rng, C, scale=0.1)), const("bn_b", rnd(rng, C, scale=0.1)),
                 const("bn_m", rnd(rng, C, scale=0.1)), const("bn_v", 1 + np.abs(rnd(rng, C, scale=0.1))),
                 const("sq", rnd(rng, 4, C, 1, 1, scale=0.3)),
                 const("e1", rnd(rng, 6, 4, 1, 1, scale=0.3)), const("e3", rnd(rng, 6, 4, 3, 3, scale=0.3)),
                 const("shape", np.array([1, -1], dtype=np.int64)),
                 const("fc_w", rnd(rng, 10, 12, scale=0.3)), const("fc_b", rnd(rng, 10, scale=0.1))]
        nodes = [n("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2], name="conv1"),
                 n("BatchNormalization", ["c1", "bn_s", "bn_b", "bn_m", "bn_v"], ["b1"], epsilon=1e-5,
                   **({"spatial": 1} if opset < 9 else {}), name="bn1"),
                 n("Clip", ["b1"], ["r1"], min=0.0, max=6.0, name="relu6"),
                 n("MaxPool", ["r1"], ["p1"], kernel_shape=[3, 3], strides=[2, 2], name="pool1"),
                 n("Conv", ["p1", "sq"], ["s0"], name="squeeze"),
                 n("Relu", ["s0"], ["s1"], name="squeeze_relu"),
                 n("Conv", ["s1", "e1"], ["x1"], name="expand1x1"),
                 n("Conv", ["s1", "e3"], ["x3"], pads=[1, 1, 1, 1], name="expand3x3"),
                 n("Concat", ["x1", "x3"], ["fire"], axis=1, name="fire_concat"),
                 n("Dropout", ["fire"], ["d"], ratio=0.5, name="dropout"),
                 n("GlobalAveragePool", ["d"], ["g"], name="gap"),
                 n("Reshape", ["g", "shape"], ["flat"], name="flatten"),
                 n("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1, name="fc"),
                 n("Softmax", ["logits"], ["y"], name="softmax")]
        name = f"zoo_cnn_opset{opset}"
        m = model(name, nodes, [vi("x", [1, 3, 32, 32])], [vi("y", [1, 10])], inits, opset=opset)
        return m, {"x": rnd(rng, 1, 3, 32, 32)}
    return build


def resnet(depth, batch=1, size=224):
    """torchvision ResNet-18/34 (basic blocks) or -50/101 (bottlenecks, v1.5: stride in the
    3x3) with random weights and BatchNorm folded, for benchmarks only."""
    blocks_of = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}

    def build(rng):
        n = helper.make_node
        nodes, inits = [], []
        cnt = [0]

        def conv(x, cin, cout, k, stride, relu):
            cnt[0] += 1
            t = f"c{cnt[0]}"
            inits.append(const(t + "_w", rnd(rng, cout, cin, k, k, scale=np.sqrt(2.0 / (cin * k * k)))))
            inits.append(const(t + "_b", np.zeros(cout, np.float32)))
            nodes.append(n("Conv", [x, t + "_w", t + "_b"], [t], pads=[k // 2] * 4,
                           strides=[stride] * 2, name=t))
            if not relu:
                return t
            nodes.append(n("Relu", [t], [t + "_r"], name=t + "_relu"))
            return t + "_r"
        x = conv("x", 3, 64, 7, 2, True)
        nodes.append(n("MaxPool", [x], ["pool"], kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4,
                       name="maxpool"))
        x, cin = "pool", 64
        expand = 4 if depth >= 50 else 1
        for stage, (width, blocks) in enumerate(zip((64, 128, 256, 512), blocks_of[depth])):
            for b in range(blocks):
                stride = 2 if b == 0 and stage > 0 else 1
                if expand == 4:
                    h = conv(x, cin, width, 1, 1, True)
                    h = conv(h, width, width, 3, stride, True)
                    h = conv(h, width, width * 4, 1, 1, False)
                else:
                    h = conv(x, cin, width, 3, stride, True)
                    h = conv(h, width, width, 3, 1, False)
                need_sc = b == 0 and (stride != 1 or cin != width * expand)
                sc = conv(x, cin, width * expand, 1, stride, False) if need_sc else x
                out = f"s{stage}b{b}"
                nodes.append(n("Add", [h, sc], [out + "_add"], name=out + "_add"))
                nodes.append(n("Relu", [out + "_add"], [out], name=out + "_relu"))
                x, cin = out, width * expand
        nodes += [n("GlobalAveragePool", [x], ["gap"], name="gap"),
                  n("Flatten", ["gap"], ["flat"], axis=1, name="flatten"),
                  n("Gemm", ["flat", "fc_w", "fc_b"], ["y"], transB=1, name="fc")]
        inits += [const("fc_w", rnd(rng, 1000, cin, scale=0.02)),
                  const("fc_b", np.zeros(1000, np.float32))]
        name = "resnet50" if depth == 50 else f"bench_resnet{depth}"
        m = model(name, nodes, [vi("x", [batch, 3, size, size])], [vi("y", [batch, 1000])], inits)
        return m, {"x": rnd(rng, batch, 3, size, size)}
    return build


def resnet50(rng, batch=1, size=224):
    return resnet(50, batch, size)(rng)


def unet(name, size=256, cin=3, base=64, depth=4, classes=2):
    """The UNet of Ronneberger et al. with same-padded 3x3 convs (as most reimplementations):
    two conv+ReLU per level, MaxPool down, 2x2 stride-2 ConvTranspose up, skip Concat, 1x1
    classifier. Random weights, for benchmarks only."""
    def build(rng):
        n = helper.make_node
        nodes, inits = [], []
        cnt = [0]

        def conv(x, ci, co, k=3, op="Conv", relu=True, **attrs):
            cnt[0] += 1
            t = f"u{cnt[0]}"
            wshape = (ci, co, k, k) if op == "ConvTranspose" else (co, ci, k, k)
            inits.extend([const(t + "_w", rnd(rng, *wshape, scale=np.sqrt(2.0 / (ci * k * k)))),
                          const(t + "_b", np.zeros(co, np.float32))])
            nodes.append(n(op, [x, t + "_w", t + "_b"], [t], name=t, **attrs))
            if relu:
                nodes.append(n("Relu", [t], [t + "_r"], name=t + "_relu"))
                return t + "_r"
            return t

        def double(x, ci, co):
            return conv(conv(x, ci, co, pads=[1] * 4), co, co, pads=[1] * 4)
        skips, x, c = [], "x", cin
        for lv in range(depth):
            x = double(x, c, base << lv)
            c = base << lv
            skips.append((x, c))
            nodes.append(n("MaxPool", [x], [f"p{lv}"], kernel_shape=[2, 2], strides=[2, 2],
                           name=f"pool{lv}"))
            x = f"p{lv}"
        x = double(x, c, base << depth)
        c = base << depth
        for lv in reversed(range(depth)):
            sx, sc = skips[lv]
            up = conv(x, c, c // 2, k=2, op="ConvTranspose", relu=False, strides=[2, 2])
            nodes.append(n("Concat", [sx, up], [f"cat{lv}"], axis=1, name=f"cat{lv}"))
            x, c = double(f"cat{lv}", sc + c // 2, sc), sc
        y = conv(x, c, classes, k=1, relu=False)
        nodes.append(n("Identity", [y], ["y"], name="out"))
        m = model(name, nodes, [vi("x", [1, cin, size, size])], [vi("y", [1, classes, size, size])],
                  inits)
        return m, {"x": rnd(rng, 1, cin, size, size)}
    return build


BENCH_MODELS.update({"bench_resnet18": resnet(18), "bench_resnet34": resnet(34),
                     "bench_resnet101": resnet(101), "bench_unet": unet("bench_unet")})

def resnet18(rng, batch=1, size=224):
    """ResNet-18 as torchvision exports it (batch norm folded into the convolutions' biases),
    random weights (11.7M parameters, 47 MB), for benchmarks only."""
    n = helper.make_node
    nodes, inits = [], []
    cnt = [0]

    def conv(x, cin, cout, k, stride, relu):
        cnt[0] += 1
        t = f"c{cnt[0]}"
        inits.append(const(t + "_w", rnd(rng, cout, cin, k, k, scale=np.sqrt(2.0 / (cin * k * k)))))
        inits.append(const(t + "_b", rnd(rng, cout, scale=0.01)))
        nodes.append(n("Conv", [x, t + "_w", t + "_b"], [t], pads=[k // 2] * 4, strides=[stride] * 2,
                       name=t))
        if not relu:
            return t
        nodes.append(n("Relu", [t], [t + "_r"], name=t + "_relu"))
        return t + "_r"
    x = conv("x", 3, 64, 7, 2, True)
    nodes.append(n("MaxPool", [x], ["pool"], kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4,
                   name="maxpool"))
    x, cin = "pool", 64
    for stage, width in enumerate([64, 128, 256, 512]):
        for b in range(2):
            stride = 2 if b == 0 and stage > 0 else 1
            h = conv(x, cin, width, 3, stride, True)
            h = conv(h, width, width, 3, 1, False)
            sc = conv(x, cin, width, 1, stride, False) if stride != 1 or cin != width else x
            out = f"s{stage}b{b}"
            nodes.append(n("Add", [h, sc], [out + "_add"], name=out + "_add"))
            nodes.append(n("Relu", [out + "_add"], [out], name=out + "_relu"))
            x, cin = out, width
    nodes += [n("GlobalAveragePool", [x], ["gap"], name="gap"),
              n("Flatten", ["gap"], ["flat"], axis=1, name="flatten"),
              n("Gemm", ["flat", "fc_w", "fc_b"], ["y"], transB=1, name="fc")]
    inits += [const("fc_w", rnd(rng, 1000, 512, scale=0.02)), const("fc_b", np.zeros(1000, np.float32))]
    m = model("resnet18", nodes, [vi("x", [batch, 3, size, size])], [vi("y", [batch, 1000])], inits)
    return m, {"x": rnd(rng, batch, 3, size, size)}


def i64(*v):
    return np.array(v, dtype=np.int64)


def f32(*v):
    return np.array(v, dtype=np.float32)


n = helper.make_node
CNN_MODELS = {
    "conv_basic": conv_op("conv_basic", (2, 3, 10, 12), (8, 3, 3, 3)),
    "conv_stride_pad": conv_op("conv_stride_pad", (1, 5, 13, 11), (7, 5, 3, 3), strides=[2, 2],
                               pads=[1, 0, 2, 1]),
    "conv_dilation": conv_op("conv_dilation", (1, 4, 14, 14), (6, 4, 3, 3), dilations=[2, 2],
                             pads=[2, 2, 2, 2], bias=False),
    "conv_same_upper": conv_op("conv_same_upper", (1, 3, 9, 10), (4, 3, 4, 4), strides=[2, 2],
                               auto_pad="SAME_UPPER"),
    "conv_same_lower": conv_op("conv_same_lower", (1, 3, 9, 10), (4, 3, 2, 3),
                               auto_pad="SAME_LOWER"),
    "conv_valid": conv_op("conv_valid", (1, 3, 9, 10), (4, 3, 3, 2), auto_pad="VALID"),
    "conv_groups": conv_op("conv_groups", (1, 8, 9, 9), (12, 4, 3, 3), group=2, pads=[1, 1, 1, 1]),
    "conv_depthwise": conv_op("conv_depthwise", (2, 16, 11, 11), (16, 1, 3, 3), group=16,
                              pads=[1, 1, 1, 1], strides=[2, 2]),
    "conv_1x1_wide": conv_op("conv_1x1_wide", (1, 200, 6, 30), (150, 200, 1, 1)),
    "conv_large_plane": conv_op("conv_large_plane", (1, 2, 40, 40), (3, 2, 3, 3), pads=[1, 1, 1, 1]),
    "conv_1d": conv_op("conv_1d", (2, 4, 30), (5, 4, 5), pads=[2, 2], strides=[3]),
    "conv_relu": shape_op("conv_relu", [n("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv"),
                                        n("Relu", ["c"], ["y"], name="relu")],
                          (1, 6, 8, 8), [const("w", np.random.default_rng(3).standard_normal((10, 6, 3, 3)).astype(np.float32) * 0.3),
                                         const("b", f32(*np.linspace(-1, 1, 10)))]),
    "convt_basic": conv_op("convt_basic", (1, 4, 5, 6), (4, 3, 3, 3), op="ConvTranspose"),
    "convt_stride": conv_op("convt_stride", (2, 3, 5, 5), (3, 4, 3, 3), op="ConvTranspose",
                            strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
    "convt_groups": conv_op("convt_groups", (1, 6, 4, 4), (6, 2, 4, 4), op="ConvTranspose",
                            strides=[2, 2], pads=[1, 1, 1, 1], group=3),
    "convt_dilation": conv_op("convt_dilation", (1, 2, 5, 5), (2, 3, 3, 3), op="ConvTranspose",
                              dilations=[2, 2], bias=False),
    # Strides per axis, pads beyond dilation x (kernel - 1) (the Conv crops), output_shape and
    # auto_pad SAME_UPPER (ONNX Runtime puts floor(total pad / 2) first).
    "convt_strides_hw": conv_op("convt_strides_hw", (1, 3, 4, 5), (3, 2, 3, 2), op="ConvTranspose",
                                strides=[3, 2], pads=[0, 1, 1, 0]),
    "convt_big_pads": conv_op("convt_big_pads", (1, 2, 9, 9), (2, 3, 2, 2), op="ConvTranspose",
                              strides=[2, 2], pads=[3, 2, 4, 3]),
    "convt_output_shape": conv_op("convt_output_shape", (1, 2, 5, 6), (2, 2, 3, 3),
                                  op="ConvTranspose", strides=[2, 2], output_shape=[10, 12]),
    "convt_same_upper": conv_op("convt_same_upper", (1, 2, 5, 6), (2, 3, 3, 4), op="ConvTranspose",
                                strides=[2, 3], auto_pad="SAME_UPPER"),
    "maxpool_basic": shape_op("maxpool_basic", [n("MaxPool", ["x"], ["y"], kernel_shape=[2, 2],
                                                  strides=[2, 2], name="pool")], (2, 3, 10, 12)),
    "maxpool_pad": shape_op("maxpool_pad", [n("MaxPool", ["x"], ["y"], kernel_shape=[3, 3],
                                              strides=[2, 2], pads=[1, 1, 1, 1], name="pool")],
                            (1, 4, 11, 11)),
    "maxpool_ceil_dil": shape_op("maxpool_ceil_dil", [n("MaxPool", ["x"], ["y"], kernel_shape=[2, 3],
                                                        strides=[2, 2], dilations=[2, 1],
                                                        ceil_mode=1, name="pool")], (1, 3, 12, 11)),
    "maxpool_same": shape_op("maxpool_same", [n("MaxPool", ["x"], ["y"], kernel_shape=[3, 3],
                                                strides=[2, 2], auto_pad="SAME_UPPER", name="pool")],
                             (1, 3, 9, 10)),
    "avgpool_basic": shape_op("avgpool_basic", [n("AveragePool", ["x"], ["y"], kernel_shape=[3, 3],
                                                  strides=[2, 2], name="pool")], (2, 3, 11, 12)),
    "avgpool_pad_excl": shape_op("avgpool_pad_excl", [n("AveragePool", ["x"], ["y"], kernel_shape=[3, 3],
                                                        strides=[2, 2], pads=[1, 1, 1, 1], name="pool")],
                                 (1, 4, 10, 9)),
    "avgpool_pad_incl": shape_op("avgpool_pad_incl", [n("AveragePool", ["x"], ["y"], kernel_shape=[3, 3],
                                                        strides=[1, 1], pads=[1, 1, 1, 1],
                                                        count_include_pad=1, name="pool")], (1, 4, 7, 9)),
    "avgpool_ceil": shape_op("avgpool_ceil", [n("AveragePool", ["x"], ["y"], kernel_shape=[3, 3],
                                                strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1,
                                                count_include_pad=1, name="pool")], (1, 2, 10, 10)),
    "global_avgpool": shape_op("global_avgpool", [n("GlobalAveragePool", ["x"], ["y"], name="gap")],
                               (2, 130, 5, 7)),
    "global_maxpool": shape_op("global_maxpool", [n("GlobalMaxPool", ["x"], ["y"], name="gmp")],
                               (2, 10, 5, 7)),
    "pad_constant": shape_op("pad_constant", [n("Pad", ["x", "p", "v"], ["y"], mode="constant", name="pad")],
                             (2, 3, 5, 6), [const("p", i64(0, 0, 1, 2, 0, 0, 3, 1)), const("v", f32(1.5))]),
    "pad_reflect": shape_op("pad_reflect", [n("Pad", ["x", "p"], ["y"], mode="reflect", name="pad")],
                            (2, 3, 5, 6), [const("p", i64(0, 0, 2, 1, 0, 0, 3, 2))]),
    "pad_edge": shape_op("pad_edge", [n("Pad", ["x", "p"], ["y"], mode="edge", name="pad")],
                         (2, 3, 5, 6), [const("p", i64(0, 1, 2, 0, 0, 0, 1, 3))]),
    "resize_nearest_scales": shape_op("resize_nearest_scales",
                                      [n("Resize", ["x", "", "s"], ["y"], mode="nearest",
                                         coordinate_transformation_mode="asymmetric",
                                         nearest_mode="floor", name="resize")],
                                      (1, 3, 5, 6), [const("s", f32(1, 1, 2, 2))]),
    "resize_nearest_half_pixel": shape_op("resize_nearest_half_pixel",
                                          [n("Resize", ["x", "", "s"], ["y"], mode="nearest",
                                             name="resize")],
                                          (1, 3, 5, 6), [const("s", f32(1, 1, 1.5, 2.5))]),
    "resize_linear_half_pixel": shape_op("resize_linear_half_pixel",
                                         [n("Resize", ["x", "", "s"], ["y"], mode="linear", name="resize")],
                                         (1, 3, 5, 6), [const("s", f32(1, 1, 2, 1.5))]),
    "resize_linear_align": shape_op("resize_linear_align",
                                    [n("Resize", ["x", "", "", "sz"], ["y"], mode="linear",
                                       coordinate_transformation_mode="align_corners", name="resize")],
                                    (2, 2, 5, 6), [const("sz", i64(2, 2, 9, 7))]),
    "resize_linear_asym": shape_op("resize_linear_asym",
                                   [n("Resize", ["x", "", "s"], ["y"], mode="linear",
                                      coordinate_transformation_mode="asymmetric", name="resize")],
                                   (1, 3, 4, 6), [const("s", f32(1, 1, 2, 0.5))]),
    "resize_linear_pytorch": shape_op("resize_linear_pytorch",
                                      [n("Resize", ["x", "", "", "sz"], ["y"], mode="linear",
                                         coordinate_transformation_mode="pytorch_half_pixel",
                                         name="resize")],
                                      (1, 3, 6, 5), [const("sz", i64(1, 3, 1, 11))]),
    "cnn_small": small_cnn,
    "dw_separable": dw_separable,
    "mobilenet_v2_block": mobilenet_v2_block,
    "zoo_cnn_opset7": zoo_cnn(7),
    "zoo_cnn_opset8": zoo_cnn(8),
    "zoo_cnn_opset10": zoo_cnn(10),
}
MODELS.update(CNN_MODELS)
# Few input channels per group: the im2col conv path (taps folded into the contraction) and
# pooling with fewer planes than partitions (output rows split over partition groups).
IM2COL_MODELS = {
    "conv_stem_7x7": conv_op("conv_stem_7x7", (1, 3, 40, 36), (20, 3, 7, 7), strides=[2, 2],
                             pads=[3, 3, 3, 3]),
    "conv_stem_wide_cout": conv_op("conv_stem_wide_cout", (2, 3, 16, 18), (150, 3, 5, 5),
                                   strides=[2, 2], pads=[2, 1, 2, 1]),
    "conv_1d_long": conv_op("conv_1d_long", (1, 2, 1200), (6, 2, 7), pads=[3, 3]),
    "conv_1d_dil": conv_op("conv_1d_dil", (1, 3, 50), (4, 3, 3), dilations=[3], pads=[2, 1],
                           strides=[2]),
    "conv_dilated_small": conv_op("conv_dilated_small", (1, 3, 20, 18), (5, 3, 3, 3),
                                  dilations=[2, 3], strides=[2, 1], pads=[3, 1, 2, 2]),
    "conv_groups_few": conv_op("conv_groups_few", (1, 6, 12, 10), (9, 2, 3, 3), group=3,
                               pads=[1, 1, 1, 1], strides=[2, 2]),
    "conv_fold_partial": conv_op("conv_fold_partial", (1, 20, 9, 9), (8, 20, 3, 3),
                                 pads=[1, 1, 1, 1], bias=False),
    "maxpool_stem": shape_op("maxpool_stem", [n("MaxPool", ["x"], ["y"], kernel_shape=[3, 3],
                                                strides=[2, 2], pads=[1, 1, 1, 1], name="pool")],
                             (1, 8, 30, 30)),
    "maxpool_many_planes": shape_op("maxpool_many_planes", [n("MaxPool", ["x"], ["y"],
                                                              kernel_shape=[3, 3], strides=[2, 2],
                                                              pads=[1, 1, 1, 1], name="pool")],
                                    (2, 70, 9, 9)),
    "avgpool_segments": shape_op("avgpool_segments", [n("AveragePool", ["x"], ["y"],
                                                        kernel_shape=[3, 3], strides=[2, 2],
                                                        pads=[1, 1, 1, 1], name="pool")],
                                 (1, 5, 21, 17)),
}
MODELS.update(IM2COL_MODELS)
BF16_MODELS |= {"conv_stem_7x7", "conv_stem_wide_cout"}
MODELS["dp_cnn"] = small_cnn  # batch 2 over 2 cores (RUN_ARGS)
BF16_MODELS |= {"conv_basic", "conv_stride_pad", "conv_groups", "conv_1x1_wide", "convt_stride",
                "cnn_small", "dw_separable", "conv_depthwise", "mobilenet_v2_block", "dp_cnn", "zoo_cnn_opset7"}
# Benchmark only (`make_models.py OUT resnet50`), not an e2e test.
BENCH_MODELS["resnet50"] = resnet50
BENCH_MODELS["resnet18"] = resnet18


def lstm_model(name, T, B, I, H, bias=True, init=True):
    def build(rng):
        inits = [const("W", rnd(rng, 1, 4 * H, I, scale=0.3)), const("R", rnd(rng, 1, 4 * H, H, scale=0.3))]
        ins = ["x", "W", "R", "B" if bias else "", "", "h0" if init else "", "c0" if init else ""]
        if bias:
            inits.append(const("B", rnd(rng, 1, 8 * H, scale=0.2)))
        if init:
            inits += [const("h0", rnd(rng, 1, B, H, scale=0.5)), const("c0", rnd(rng, 1, B, H, scale=0.5))]
        node = helper.make_node("LSTM", ins, ["y", "yh", "yc"], hidden_size=H, name="lstm")
        m = model(name, [node], [vi("x", [T, B, I])],
                  [vi("y", [T, 1, B, H]), vi("yh", [1, B, H]), vi("yc", [1, B, H])], inits)
        return m, {"x": rnd(rng, T, B, I)}
    return build


MODELS.update({"lstm_basic": lstm_model("lstm_basic", 5, 3, 10, 16),
               "lstm_wide": lstm_model("lstm_wide", 4, 2, 200, 32, bias=False, init=False),
               # hidden_size 200: two tiles of gate rows, h in two K tiles.
               "lstm_wide_hidden": lstm_model("lstm_wide_hidden", 4, 3, 150, 200)})
BF16_MODELS |= {"lstm_basic", "lstm_wide", "lstm_wide_hidden"}


def if_const(name, cond_value, as_initializer):
    """`If` whose condition is a compile-time constant: the compiler inlines the branch taken."""
    def build(rng):
        n = helper.make_node
        then_g = helper.make_graph(
            [n("Add", ["x", "one"], ["t0"], name="t_add"), n("Relu", ["t0"], ["t1"], name="t_relu")],
            "then", [], [vi("t1", [4, 30])], initializer=[const("one", f32(1.0))])
        else_g = helper.make_graph([n("Sigmoid", ["x"], ["e0"], name="e_sig")], "else", [],
                                   [vi("e0", [4, 30])])
        nodes, inits = [], []
        cond = np.array(cond_value)
        if as_initializer:
            inits.append(const("cond", cond))
        else:
            nodes.append(n("Constant", [], ["cond"], value=numpy_helper.from_array(cond),
                           name="cond"))
        nodes += [n("If", ["cond"], ["r"], then_branch=then_g, else_branch=else_g, name="if"),
                  n("Mul", ["r", "x"], ["y"], name="mul")]
        m = model(name, nodes, [vi("x", [4, 30])], [vi("y", [4, 30])], inits)
        return m, {"x": rnd(rng, 4, 30)}
    return build


MODELS.update({"if_const_then": if_const("if_const_then", True, False),
               "if_const_else": if_const("if_const_else", False, True)})


def if_runtime(name, cond_value):
    """`If` on a graph input: both branches are compiled and the engines branch at run time.
    The branches yield a computed tensor and a constant (then) or a copy of an input (else); the
    If's second output is a graph output itself. (A tensor yielded twice is not tested here:
    ONNX Runtime 1.30 (onnxruntime-node) then returns zeros for the If's outputs.)"""
    def build(rng):
        n = helper.make_node
        then_g = helper.make_graph(
            [n("Add", ["x", "one"], ["t0"], name="t_add"), n("Relu", ["t0"], ["t1"], name="t_relu")],
            "then", [], [vi("t1", [4, 30]), vi("k", [4, 30])],
            initializer=[const("one", f32(1.0)), const("k", rnd(rng, 4, 30))])
        else_g = helper.make_graph(
            [n("Sigmoid", ["x"], ["e0"], name="e_sig"), n("Identity", ["x"], ["xi"], name="e_id")],
            "else", [], [vi("e0", [4, 30]), vi("xi", [4, 30])])
        nodes = [n("If", ["c"], ["r", "s"], then_branch=then_g, else_branch=else_g, name="if"),
                 n("Mul", ["r", "x"], ["y"], name="mul")]
        m = model(name, nodes, [vi("c", [], TensorProto.BOOL), vi("x", [4, 30])],
                  [vi("y", [4, 30]), vi("s", [4, 30])])
        return m, {"c": np.array(cond_value), "x": rnd(rng, 4, 30)}
    return build


def if_runtime_data(name, shift):
    """`If` whose condition the chip computes (mean(x) > 0): the then branch runs on pe, the
    else branch on pe and act; both write the same tensor, which a later node reads."""
    def build(rng):
        n = helper.make_node
        then_g = helper.make_graph([n("MatMul", ["x", "w1"], ["t0"], name="t_mm")], "then", [],
                                   [vi("t0", [8, 32])])
        else_g = helper.make_graph(
            [n("MatMul", ["x", "w2"], ["e0"], name="e_mm"), n("Tanh", ["e0"], ["e1"], name="e_tanh")],
            "else", [], [vi("e1", [8, 32])])
        nodes = [n("ReduceMean", ["x"], ["m"], keepdims=0, name="mean"),
                 n("Greater", ["m", "zero"], ["c"], name="positive"),
                 n("If", ["c"], ["r"], then_branch=then_g, else_branch=else_g, name="if"),
                 n("Add", ["r", "b"], ["y"], name="bias")]
        inits = [const("w1", rnd(rng, 64, 32, scale=0.1)), const("w2", rnd(rng, 64, 32, scale=0.1)),
                 const("b", rnd(rng, 32)), const("zero", f32(0.0).reshape(()))]
        m = model(name, nodes, [vi("x", [8, 64])], [vi("y", [8, 32])], inits)
        return m, {"x": rnd(rng, 8, 64) + np.float32(shift)}
    return build


def if_runtime_nested(name, sr):
    """Silero-VAD style: the outer condition tests an int64 input (sr == 16000), the then
    branch holds an If on computed data (sum(x) > 0) and the else branch an If whose condition
    is a shape test (folded at compile time)."""
    def build(rng):
        n = helper.make_node
        inner_then = helper.make_graph([n("Neg", ["x"], ["a0"], name="in_neg")], "in_then", [],
                                       [vi("a0", [16, 40])])
        inner_else = helper.make_graph([n("Abs", ["x"], ["a1"], name="in_abs")], "in_else", [],
                                       [vi("a1", [16, 40])])
        then_g = helper.make_graph(
            [n("ReduceSum", ["x"], ["s"], keepdims=0, name="t_sum"),
             n("Greater", ["s", "zero"], ["c2"], name="t_pos"),
             n("If", ["c2"], ["t1"], then_branch=inner_then, else_branch=inner_else, name="t_if"),
             n("Mul", ["t1", "two"], ["t2"], name="t_mul")],
            "then", [], [vi("t2", [16, 40])], initializer=[const("two", f32(2.0))])
        shape_then = helper.make_graph([n("Exp", ["x"], ["b0"], name="sh_exp")], "sh_then", [],
                                       [vi("b0", [16, 40])])
        shape_else = helper.make_graph([n("Erf", ["x"], ["b1"], name="sh_erf")], "sh_else", [],
                                       [vi("b1", [16, 40])])
        else_g = helper.make_graph(
            [n("Shape", ["x"], ["shp"], name="e_shape"),
             n("Gather", ["shp", "one_i"], ["d1"], axis=0, name="e_dim"),
             n("Equal", ["d1", "forty"], ["c3"], name="e_is40"),
             n("If", ["c3"], ["e1"], then_branch=shape_then, else_branch=shape_else, name="e_if")],
            "else", [], [vi("e1", [16, 40])],
            initializer=[const("one_i", np.array(1, dtype=np.int64)),
                         const("forty", np.array(40, dtype=np.int64))])
        nodes = [n("Equal", ["sr", "sr16k"], ["c1"], name="is16k"),
                 n("If", ["c1"], ["r"], then_branch=then_g, else_branch=else_g, name="if"),
                 n("Add", ["r", "x"], ["y"], name="add")]
        inits = [const("sr16k", np.array(16000, dtype=np.int64)), const("zero", f32(0.0).reshape(()))]
        m = model(name, nodes, [vi("sr", [], I64), vi("x", [16, 40])], [vi("y", [16, 40])], inits)
        return m, {"sr": np.array(sr, dtype=np.int64), "x": rnd(rng, 16, 40, scale=0.5)}
    return build


MODELS.update({"if_runtime_then": if_runtime("if_runtime_then", True),
               "if_runtime_else": if_runtime("if_runtime_else", False),
               "if_runtime_data_pos": if_runtime_data("if_runtime_data_pos", 0.5),
               "if_runtime_data_neg": if_runtime_data("if_runtime_data_neg", -0.5),
               "if_runtime_nested_16k": if_runtime_nested("if_runtime_nested_16k", 16000),
               "if_runtime_nested_8k": if_runtime_nested("if_runtime_nested_8k", 8000)})
BF16_MODELS |= {"if_runtime_data_pos", "if_runtime_data_neg"}


# The transformer encoder of the sweep example in docs/sweeps.md (docs/examples/sweep_encoder.sh).
BENCH_MODELS["sweep_encoder"] = encoder("sweep_encoder", 2, 128, 256, 4, 1024)


# ---- Model-zoo coverage ops: InstanceNormalization, LRN, LogSoftmax, Upsample, Tile,
# DepthToSpace/SpaceToDepth, ArgMax/ArgMin, ReduceL1/L2/SumSquare/Prod/LogSumExp, Einsum.
def zoo_op(name, nodes, x_shape, inits=(), opset=OPSET, out_type=F, data=None, in_type=F):
    """One input x (random, or data(rng)), one output y; shapes by onnx shape inference."""
    def build(rng):
        g = helper.make_graph(nodes, name, [vi("x", list(x_shape), in_type)],
                              [vi("y", None, out_type)],
                              initializer=[i(rng) if callable(i) else i for i in inits])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="trnsim-tests")
        m.ir_version = 8
        m = onnx.shape_inference.infer_shapes(m)
        onnx.checker.check_model(m)
        return m, {"x": data(rng) if data else rnd(rng, *x_shape)}
    return build


def _ties(shape):
    """Small integers as floats: many equal values along every axis (arg-reduction ties)."""
    return lambda rng: rng.integers(-2, 3, size=shape).astype(np.float32)


def _reduce(op, shape, opset=OPSET, data=None, **attrs):
    name = "reduce_" + op[6:].lower() + ("" if opset == OPSET else f"_op{opset}")
    return name, zoo_op(name, [n(op, ["x"], ["y"], name="red", **attrs)], shape, opset=opset,
                        data=data)


ZOO_MODELS = {
    "instnorm_basic": zoo_op("instnorm_basic", [n("InstanceNormalization", ["x", "g", "b"], ["y"],
                                                  epsilon=1e-3, name="inorm")], (2, 5, 6, 7),
                             [lambda r: const("g", 1 + rnd(r, 5, scale=0.3)),
                              lambda r: const("b", rnd(r, 5, scale=0.3))]),
    # 10000-element planes: statistics over 3 chunks, then a second pass.
    "instnorm_chunked": zoo_op("instnorm_chunked", [n("InstanceNormalization", ["x", "g", "b"],
                                                      ["y"], name="inorm")], (1, 3, 100, 100),
                               [lambda r: const("g", 1 + rnd(r, 3, scale=0.3)),
                                lambda r: const("b", rnd(r, 3, scale=0.3))],
                               data=lambda r: rnd(r, 1, 3, 100, 100) * 2 + 1),
    "lrn_basic": zoo_op("lrn_basic", [n("LRN", ["x"], ["y"], size=5, alpha=1e-2, beta=0.75,
                                        bias=2.0, name="lrn")], (2, 10, 5, 6)),
    # Two K tiles (ONNX Runtime accepts odd sizes only).
    "lrn_wide": zoo_op("lrn_wide", [n("LRN", ["x"], ["y"], size=3, alpha=0.05, beta=0.6,
                                       name="lrn")], (1, 150, 3, 5)),
    "logsoftmax_axis": zoo_op("logsoftmax_axis", [n("LogSoftmax", ["x"], ["y"], axis=1, name="ls")],
                              (3, 20, 4)),
    # Opset 11: the input is flattened at axis 1 (the whole [20, 4] is one row).
    "logsoftmax_legacy": zoo_op("logsoftmax_legacy", [n("LogSoftmax", ["x"], ["y"], axis=1,
                                                        name="ls")], (3, 20, 4), opset=11),
    "upsample_nearest": zoo_op("upsample_nearest", [n("Upsample", ["x", "s"], ["y"], mode="nearest",
                                                      name="up")], (1, 3, 4, 5),
                               [const("s", f32(1, 1, 2, 3))], opset=9),
    "upsample_linear": zoo_op("upsample_linear", [n("Upsample", ["x", "s"], ["y"], mode="linear",
                                                    name="up")], (1, 2, 4, 6),
                              [const("s", f32(1, 1, 2, 1.5))], opset=9),
    "upsample_opset7": zoo_op("upsample_opset7", [n("Upsample", ["x"], ["y"], scales=[1.0, 1.0, 2.0, 2.0],
                                                    name="up")], (1, 4, 3, 5), opset=7),
    "tile_basic": zoo_op("tile_basic", [n("Tile", ["x", "r"], ["y"], name="tile")], (2, 3, 4),
                         [const("r", i64(2, 1, 3))]),
    "depth_to_space_dcr": zoo_op("depth_to_space_dcr", [n("DepthToSpace", ["x"], ["y"], blocksize=2,
                                                          name="d2s")], (2, 12, 3, 4)),
    "depth_to_space_crd": zoo_op("depth_to_space_crd", [n("DepthToSpace", ["x"], ["y"], blocksize=3,
                                                          mode="CRD", name="d2s")], (1, 18, 2, 3)),
    "space_to_depth": zoo_op("space_to_depth", [n("SpaceToDepth", ["x"], ["y"], blocksize=2,
                                                  name="s2d")], (2, 3, 6, 8)),
    "argmax_keep": zoo_op("argmax_keep", [n("ArgMax", ["x"], ["y"], axis=1, name="am")], (3, 7, 5),
                          out_type=I64, data=_ties((3, 7, 5))),
    "argmax_last": zoo_op("argmax_last", [n("ArgMax", ["x"], ["y"], axis=-1, keepdims=0,
                                            select_last_index=1, name="am")], (4, 9),
                          out_type=I64, data=_ties((4, 9))),
    "argmin_first": zoo_op("argmin_first", [n("ArgMin", ["x"], ["y"], axis=0, keepdims=0,
                                              name="am")], (6, 10), out_type=I64, data=_ties((6, 10))),
    "argmin_last": zoo_op("argmin_last", [n("ArgMin", ["x"], ["y"], axis=2, select_last_index=1,
                                            name="am")], (2, 3, 8), out_type=I64, data=_ties((2, 3, 8))),
}


def _einsum(name, eq, x_shape, w_shape=None, opset=OPSET):
    ins = ["x"] + (["w"] if w_shape else [])
    inits = [lambda r: const("w", rnd(r, *w_shape))] if w_shape else []
    return zoo_op(name, [n("Einsum", ins, ["y"], equation=eq, name="es")], x_shape, inits,
                  opset=opset)


# Einsum is rewritten by the frontend into Transpose/Unsqueeze/MatMul/Squeeze.
EINSUM_MODELS = {
    "einsum_qk": _einsum("einsum_qk", "bhqd,bhkd->bhqk", (2, 3, 8, 16), (2, 3, 10, 16)),
    "einsum_pv": _einsum("einsum_pv", "bhqk,bhkd->bqhd", (2, 3, 8, 10), (2, 3, 10, 16)),
    "einsum_bid_jd": _einsum("einsum_bid_jd", "bid,jd->bij", (2, 5, 12), (7, 12), opset=12),
    "einsum_implicit": _einsum("einsum_implicit", "ij,jk", (6, 20), (20, 9)),
    "einsum_transpose": _einsum("einsum_transpose", "abc->cab", (3, 4, 5)),
    # Ellipsis (rank from the shapes), a letter summed within one input, several contracted
    # letters folded into one K, and three inputs combined left to right.
    "einsum_ellipsis": _einsum("einsum_ellipsis", "...ij,jk->...ik", (2, 3, 4, 5), (5, 6)),
    "einsum_private_sum": _einsum("einsum_private_sum", "bij,jk->bk", (2, 7, 9), (9, 4)),
    "einsum_multi_contract": _einsum("einsum_multi_contract", "abcd,cdb->a", (5, 3, 4, 6), (4, 6, 3)),
    "einsum_three": zoo_op("einsum_three", [n("Einsum", ["x", "u", "v"], ["y"], equation="i,j,ij->",
                                              name="es")], (7,),
                           [lambda r: const("u", rnd(r, 5)), lambda r: const("v", rnd(r, 7, 5))]),
}
ZOO_MODELS.update(EINSUM_MODELS)
ZOO_MODELS.update({
    # CumSum: a triangular matmul with the axis on partitions (fp32 operands).
    "cumsum_axis1": zoo_op("cumsum_axis1", [n("CumSum", ["x", "a"], ["y"], name="cs")], (3, 20, 7),
                           [const("a", np.array(1, dtype=np.int64))]),
    "cumsum_rev_excl": zoo_op("cumsum_rev_excl", [n("CumSum", ["x", "a"], ["y"], exclusive=1,
                                                    reverse=1, name="cs")], (4, 150),
                              [const("a", np.array(-1, dtype=np.int32))]),
    "mod_int64": zoo_op("mod_int64", [n("Mod", ["x", "d"], ["y"], name="mod")], (4, 3),
                        [const("d", i64(3, -4, 5))], out_type=I64, in_type=I64,
                        data=lambda r: r.integers(-20, 21, size=(4, 3)).astype(np.int64)),
    # fmod=1 on constants: folded at compile time, then added to x.
    "mod_fmod_folded": zoo_op("mod_fmod_folded", [n("Mod", ["a", "b"], ["m"], fmod=1, name="mod"),
                                                  n("Add", ["x", "m"], ["y"], name="add")], (2, 4),
                              [const("a", f32(5.5, -5.5, 7.25, -7.25)), const("b", f32(2, 2, -3, -3))]),
    "cumsum_int64": zoo_op("cumsum_int64", [n("CumSum", ["x", "a"], ["y"], name="cs")], (2, 12),
                           [const("a", np.array(1, dtype=np.int64))], out_type=I64, in_type=I64,
                           data=lambda r: r.integers(0, 2, size=(2, 12)).astype(np.int64)),
})
BF16_MODELS |= set(EINSUM_MODELS) - {"einsum_transpose"}
for _op, _kw in (("ReduceL1", dict(axes=[1])), ("ReduceL2", dict(axes=[2, 3], keepdims=0)),
                 ("ReduceSumSquare", dict(axes=[-1])), ("ReduceLogSumExp", dict(axes=[1, 2])),
                 ("ReduceProd", dict(axes=[2], data=lambda r: 1 + rnd(r, 2, 3, 6, 5, scale=0.2)))):
    _name, _b = _reduce(_op, (2, 3, 6, 5), **_kw)
    ZOO_MODELS[_name] = _b
_name, _b = _reduce("ReduceL2", (4, 6, 5), opset=11, axes=[0])
ZOO_MODELS[_name] = _b
_name, _b = _reduce("ReduceLogSumExp", (4, 30), opset=13, keepdims=0)  # all axes
ZOO_MODELS[_name] = _b
MODELS.update(ZOO_MODELS)
BF16_MODELS |= {"lrn_basic", "lrn_wide"}


# ---- Ops of exported models: GatherElements, Trilu, ScatterND (lower/indexing.cpp), Round
# (lower/elementwise.cpp).
def ex_op(name, nodes, feeds, inits=(), out_type=F):
    """Runtime inputs from feeds(rng) (float32 or int64 arrays), one output y."""
    def build(rng):
        ins = feeds(rng)
        g = helper.make_graph(nodes, name, [vi(k, list(v.shape), I64 if v.dtype == np.int64 else F)
                                            for k, v in ins.items()], [vi("y", None, out_type)],
                              initializer=list(inits))
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="trnsim-tests")
        m.ir_version = 8
        m = onnx.shape_inference.infer_shapes(m)
        onnx.checker.check_model(m)
        return m, ins
    return build


def _round_data(rng):
    x = rng.integers(-40, 41, size=(6, 50)).astype(np.float32) / 4  # .25 steps: many ties at .5
    x[0, :7] = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997]
    return {"x": x}


def _round_large(rng):
    """Near and beyond 2^23, where fp32 has no fraction bits left."""
    x = np.array([4194304.5, 4194305.5, -8388607.5, 8388606.5, 8388609.0, -16777218.0, 3e9,
                  -1e10, 2.5, 1e-3], dtype=np.float32)
    return {"x": np.concatenate([x, rng.uniform(-9e6, 9e6, 118).astype(np.float32)])}


_IDX = np.random.default_rng(7)
EXPORT_MODELS = {
    # Constant indices (some negative), indices smaller than data off the axis.
    "gather_elements_const": ex_op(
        "gather_elements_const", [n("GatherElements", ["x", "i"], ["y"], axis=1, name="ge")],
        lambda r: {"x": rnd(r, 3, 7, 5)},
        [const("i", _IDX.integers(-7, 7, size=(3, 9, 4)).astype(np.int64))]),
    # Runtime indices on the last axis (torch.gather(x, -1, idx) in top-k / sampling code).
    "gather_elements_runtime": ex_op(
        "gather_elements_runtime", [n("GatherElements", ["x", "i"], ["y"], axis=-1, name="ge")],
        lambda r: {"x": rnd(r, 40, 30), "i": r.integers(-30, 30, size=(40, 12)).astype(np.int64)}),
    "gather_elements_axis0": ex_op(
        "gather_elements_axis0", [n("GatherElements", ["x", "i"], ["y"], axis=0, name="ge")],
        lambda r: {"x": rnd(r, 6, 5), "i": r.integers(0, 6, size=(3, 4)).astype(np.int64)}),
    "trilu_upper_k1": ex_op("trilu_upper_k1", [n("Trilu", ["x", "k"], ["y"], name="tri")],
                            lambda r: {"x": rnd(r, 2, 5, 7)},
                            [const("k", np.array(1, dtype=np.int64))]),
    # A causal mask as GPT-style exports build it: lower triangle, no k, batch of heads.
    "trilu_lower": ex_op("trilu_lower", [n("Trilu", ["x"], ["y"], upper=0, name="tri")],
                         lambda r: {"x": rnd(r, 2, 3, 16, 16)}),
    "trilu_lower_kneg": ex_op("trilu_lower_kneg", [n("Trilu", ["x", "k"], ["y"], upper=0,
                                                     name="tri")],
                              lambda r: {"x": rnd(r, 150, 6)},
                              [const("k", np.array(-2, dtype=np.int64))]),
    # Trilu of a constant: folded at compile time, the mask then added to x.
    "trilu_folded": ex_op("trilu_folded", [n("Trilu", ["ones"], ["m"], name="tri"),
                                           n("Add", ["x", "m"], ["y"], name="add")],
                          lambda r: {"x": rnd(r, 8, 8)},
                          [const("ones", np.ones((8, 8), np.float32))]),
    "round_ties": ex_op("round_ties", [n("Round", ["x"], ["y"], name="round")], _round_data),
    # round(x) - x: within 0.5 however large x is, so an off-by-one shows at the tolerance.
    "round_large": ex_op("round_large", [n("Round", ["x"], ["r"], name="round"),
                                         n("Sub", ["r", "x"], ["y"], name="sub")], _round_large),
    # GPT-2 style KV-cache write: the new token's keys go to position 5 of every head.
    "scatter_nd_kv": ex_op(
        "scatter_nd_kv", [n("ScatterND", ["cache", "i", "kv"], ["y"], name="scatter")],
        lambda r: {"cache": rnd(r, 1, 4, 8, 16), "kv": rnd(r, 1, 4, 16)},
        [const("i", np.array([[[0, h, 5] for h in range(4)]], dtype=np.int64))]),
    # Whole rows, three of them consecutive (one copy), one negative index.
    "scatter_nd_rows": ex_op(
        "scatter_nd_rows", [n("ScatterND", ["x", "i", "u"], ["y"], name="scatter")],
        lambda r: {"x": rnd(r, 10, 6), "u": rnd(r, 4, 6)},
        [const("i", np.array([[2], [3], [4], [-2]], dtype=np.int64))]),
    # Every element overwritten (no copy of data), single elements.
    "scatter_nd_full": ex_op(
        "scatter_nd_full", [n("ScatterND", ["x", "i", "u"], ["y"], name="scatter")],
        lambda r: {"x": rnd(r, 2, 3), "u": rnd(r, 6)},
        [const("i", np.array([[1, 2], [0, 0], [0, 1], [0, 2], [1, 0], [1, 1]], dtype=np.int64))]),
}
MODELS.update(EXPORT_MODELS)


# ---- ONNX external data: weights in side files beside the model (torch.onnx.export of large
# models, onnx.save(save_as_external_data=True)). NAME -> onnx.save keyword arguments.
EXTERNAL_DATA = {
    # Every initializer (the int64 ones too) in one side file, at 4 KiB-aligned offsets.
    "ext_mlp": dict(all_tensors_to_one_file=True, location="ext_mlp.weights", size_threshold=0),
    # One side file per tensor over 1 KiB (named after the tensor); small ones stay inline.
    "ext_cnn": dict(all_tensors_to_one_file=False, size_threshold=1024),
    # The data-parallel compile loads the model twice, both times with its side file. Shape
    # operands stay inline (ONNX Runtime cannot infer shapes from external ones).
    "dp_ext_mlp": dict(all_tensors_to_one_file=True, location="dp_ext_mlp.data",
                       size_threshold=1024),
}


MODELS.update({
    "ext_mlp": lambda rng: mlp(rng),
    "ext_cnn": lambda rng: small_cnn(rng),
    "dp_ext_mlp": MODELS["dp_mlp"],
})
RUN_ARGS["dp_ext_mlp"] = ["--cores", "2"]
BF16_MODELS |= {"ext_mlp"}


# ---- Long rows and reductions (issues #11, #12): rows longer than one SBUF partition holds
# (multi-pass over chunks with partial results), reductions over any set of axes, blocked
# summation and shifted statistics (precision), Pad/Resize/Conv/MatMul at sizes that once
# refused ("rows of N elements do not fit in SBUF", "a tile needs N bytes per partition").
def graph_op(name, nodes, feeds, inits=(), opset=OPSET, outputs=("y",)):
    """Runtime inputs feeds(rng) -> {name: array}; outputs by name, shapes and dtypes by onnx
    shape inference."""
    def build(rng):
        ins = feeds(rng)
        tmap = {np.dtype(np.int64): I64, np.dtype(np.float32): F}
        g = helper.make_graph(nodes, name, [vi(k, list(v.shape), tmap[v.dtype])
                                            for k, v in ins.items()],
                              [helper.make_empty_tensor_value_info(o) for o in outputs],
                              initializer=[i(rng) if callable(i) else i for i in inits])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="trnsim-tests")
        m.ir_version = 8
        m = onnx.shape_inference.infer_shapes(m, strict_mode=True)
        for o in m.graph.output:  # the inferred types of the outputs
            for v in m.graph.value_info:
                if v.name == o.name:
                    o.CopyFrom(v)
        onnx.checker.check_model(m)
        return m, ins
    return build


def reductions(name, shape, specs, opset=OPSET, data=None):
    """One node per (op, attrs) in specs, each on x, outputs y0, y1, ... (ReduceSum's axes
    become its second input from opset 13)."""
    nodes, inits = [], []
    for i, (op, kw) in enumerate(specs):
        ins = ["x"]
        if op == "ReduceSum" and opset >= 13 and "axes" in kw:
            kw = dict(kw)
            inits.append(const(f"axes{i}", np.array(kw.pop("axes"), dtype=np.int64)))
            ins.append(f"axes{i}")
        nodes.append(n(op, ins, [f"y{i}"], name=f"r{i}_{op}", **kw))
    return graph_op(name, nodes, lambda r: {"x": data(r) if data else rnd(r, *shape)}, inits,
                    opset=opset, outputs=[f"y{i}" for i in range(len(specs))])


def _near_one(*shape):
    return lambda r: np.exp(rnd(r, *shape, scale=1e-3)).astype(np.float32)


def _const_rows(shape, rows, value=1000.1):
    """Random rows, some of them constant (a constant row normalises to exactly the bias)."""
    def gen(r):
        x = rnd(r, *shape)
        for i, v in zip(rows, (value, -0.3, 77.7, 3.0e-3)):
            x[i] = v
        return x
    return gen


def stft_model(name, samples=1760, nfft=512, hop=160, mels=32):
    """An fp32 audio front end as openWakeWord's melspectrogram: the STFT as two 1-D Convs with
    512-wide kernels (real and imaginary part, 257 channels each), power, a mel MatMul, log."""
    def build(rng):
        k = np.arange(nfft // 2 + 1)[:, None] * np.arange(nfft)[None, :]
        win = np.hanning(nfft).astype(np.float32)
        wr = (np.cos(2 * np.pi * k / nfft) * win).astype(np.float32)[:, None, :]
        wi = (-np.sin(2 * np.pi * k / nfft) * win).astype(np.float32)[:, None, :]
        mel = np.abs(rnd(rng, nfft // 2 + 1, mels, scale=0.05))
        nodes = [n("Conv", ["x", "wr"], ["re"], strides=[hop], name="stft_re"),
                 n("Conv", ["x", "wi"], ["im"], strides=[hop], name="stft_im"),
                 n("Mul", ["re", "re"], ["re2"], name="re2"),
                 n("Mul", ["im", "im"], ["im2"], name="im2"),
                 n("Add", ["re2", "im2"], ["pw"], name="power"),
                 n("Transpose", ["pw"], ["pt"], perm=[0, 2, 1], name="frames"),
                 n("MatMul", ["pt", "mel"], ["m"], name="mel"),
                 n("Add", ["m", "eps"], ["me"], name="eps"),
                 n("Log", ["me"], ["y"], name="log")]
        inits = [const("wr", wr), const("wi", wi), const("mel", mel), const("eps", f32(1e-3))]
        return graph_op(name, nodes, lambda r: {"x": rnd(r, 1, 1, samples, scale=0.3)},
                        inits)(rng)
    return build


def cnn_320(rng):
    """A 320x320x4 image CNN: Pad, Conv, Clip, Split, Resize down and up (linear), Concat."""
    nodes = [n("Pad", ["x", "p"], ["xp"], mode="reflect", name="pad"),
             n("Conv", ["xp", "w", "b"], ["c"], name="conv"),
             n("Clip", ["c", "lo", "hi"], ["cc"], name="clip"),
             n("Split", ["cc", "sp"], ["a", "b2"], axis=1, name="split"),
             n("Resize", ["b2", "", "half"], ["bd"], mode="linear", name="down"),
             n("Resize", ["bd", "", "two"], ["bu"], mode="linear", name="up"),
             n("Resize", ["a", "", "one_half"], ["an"], mode="nearest", name="nearest"),
             n("Pad", ["an", "p2", "v"], ["ap"], mode="constant", name="pad_const"),
             n("Slice", ["ap", "st", "en", "ax"], ["as"], name="crop"),
             n("Concat", ["as", "bu"], ["y"], axis=1, name="cat")]
    inits = [const("p", i64(0, 0, 1, 1, 0, 0, 1, 1)), const("w", rnd(rng, 8, 4, 3, 3, scale=0.3)),
             const("b", rnd(rng, 8, scale=0.1)), const("lo", f32(-1.0)), const("hi", f32(1.5)),
             const("sp", i64(4, 4)), const("half", f32(1, 1, 0.5, 0.5)),
             const("two", f32(1, 1, 2, 2)), const("one_half", f32(1, 1, 1.5, 1.5)),
             const("p2", i64(0, 0, 3, 1, 0, 0, 2, 4)), const("v", f32(0.25)),
             const("st", i64(3, 1)), const("en", i64(323, 321)), const("ax", i64(2, 3))]
    return graph_op("cnn_320", nodes, lambda r: {"x": rnd(r, 1, 4, 320, 320)}, inits)(rng)


LONG_MODELS = {
    # Mean of 7,820 values around 100: sequential fp32 addition is ~1e-5 off (relative), blocked
    # summation ~1e-7, as ONNX Runtime (TOLERANCE below).
    "long_reducemean_7820": reductions("long_reducemean_7820", (3, 7820),
                                       [("ReduceMean", dict(axes=[-1])),
                                        ("ReduceSum", dict(axes=[1], keepdims=0))],
                                       data=lambda r: 100 + rnd(r, 3, 7820)),
    # Rows of 30,000 (sum, max, min, l1, sumsquare) and 20,000 (l2, logsumexp): several chunks.
    "long_reduce_rows": reductions("long_reduce_rows", (2, 3, 30000),
                                   [("ReduceSum", dict(axes=[2], keepdims=0)),
                                    ("ReduceMax", dict(axes=[-1])), ("ReduceMin", dict(axes=[2])),
                                    ("ReduceL1", dict(axes=[2])), ("ReduceSumSquare", dict(axes=[2])),
                                    ("ReduceL2", dict(axes=[2])),
                                    ("ReduceLogSumExp", dict(axes=[2], keepdims=0)),
                                    ("ReduceMean", dict(axes=[2]))]),
    "long_reduce_prod": reductions("long_reduce_prod", (2, 20000),
                                   [("ReduceProd", dict(axes=[1]))], data=_near_one(2, 20000)),
    # The reduced axis is not the innermost (rows on partitions along the inner axis), and all
    # axes of a [40, 1000] tensor (one row of 40,000).
    "long_reduce_axis0": reductions("long_reduce_axis0", (20000, 3),
                                    [("ReduceMax", dict(axes=[0])), ("ReduceSum", dict(axes=[0])),
                                     ("ReduceLogSumExp", dict(axes=[0]))]),
    "long_reduce_all": reductions("long_reduce_all", (40, 1000),
                                  [("ReduceL2", dict(keepdims=0)), ("ReduceMean", dict()),
                                   ("ReduceMax", dict(keepdims=0))]),
    # Any set of axes: non-adjacent, unsorted, negative, both keepdims.
    "reduce_axes_nonadjacent": reductions(
        "reduce_axes_nonadjacent", (4, 5, 6, 7),
        [("ReduceSum", dict(axes=[0, 2])), ("ReduceMean", dict(axes=[3, 1], keepdims=0)),
         ("ReduceMax", dict(axes=[-1, -3, 0])), ("ReduceMin", dict(axes=[0, 3], keepdims=0)),
         ("ReduceL1", dict(axes=[1, 3])), ("ReduceL2", dict(axes=[0, 2], keepdims=0)),
         ("ReduceSumSquare", dict(axes=[0, 1, 3])), ("ReduceLogSumExp", dict(axes=[1, 3])),
         ("ReduceProd", dict(axes=[0, 2]))],
        data=lambda r: 1 + rnd(r, 4, 5, 6, 7, scale=0.2)),
    # Non-adjacent axes whose rows are long: [40, 3, 600] over axes 0 and 2 (24,000 each).
    "reduce_axes_long_nonadj": reductions("reduce_axes_long_nonadj", (40, 3, 600),
                                          [("ReduceMean", dict(axes=[0, 2])),
                                           ("ReduceMax", dict(axes=[2, 0], keepdims=0))]),
    # Opset 13 ReduceSum: axes as an input (non-adjacent), and noop_with_empty_axes.
    "reduce_axes_input_op13": graph_op(
        "reduce_axes_input_op13",
        [n("ReduceSum", ["x", "ax"], ["y"], keepdims=0, name="sum"),
         n("ReduceSum", ["x", ""], ["y1"], noop_with_empty_axes=1, name="noop"),
         n("ReduceSum", ["x", "none"], ["y2"], keepdims=1, name="all")],
        lambda r: {"x": rnd(r, 3, 4, 5)},
        [const("ax", i64(2, 0)), const("none", np.zeros((0,), np.int64))], opset=13,
        outputs=("y", "y1", "y2")),
    "long_softmax": graph_op("long_softmax",
                             [n("Softmax", ["x"], ["y"], axis=-1, name="sm"),
                              n("LogSoftmax", ["x"], ["y1"], axis=1, name="lsm")],
                             lambda r: {"x": rnd(r, 3, 30000, scale=3)}, outputs=("y", "y1")),
    "long_softmax_axis0": graph_op("long_softmax_axis0",
                                   [n("Softmax", ["x"], ["y"], axis=0, name="sm"),
                                    n("LogSoftmax", ["x"], ["y1"], axis=-2, name="lsm")],
                                   lambda r: {"x": rnd(r, 20000, 3, scale=3)},
                                   outputs=("y", "y1")),
    # Opset 11: flattened at axis 1, rows of 100 x 200.
    "long_softmax_legacy": graph_op("long_softmax_legacy",
                                    [n("Softmax", ["x"], ["y"], axis=1, name="sm")],
                                    lambda r: {"x": rnd(r, 2, 100, 200, scale=3)}, opset=11),
    "long_argmax": graph_op("long_argmax",
                            [n("ArgMax", ["x"], ["y"], axis=1, name="amax"),
                             n("ArgMin", ["x"], ["y1"], axis=-1, keepdims=0, select_last_index=1,
                               name="amin_last"),
                             n("ArgMax", ["x"], ["y2"], axis=1, select_last_index=1,
                               keepdims=0, name="amax_last"),
                             n("ArgMin", ["x"], ["y3"], axis=1, name="amin")],
                            lambda r: {"x": r.integers(-30, 31, size=(3, 30000)).astype(np.float32)},
                            outputs=("y", "y1", "y2", "y3")),
    # int64 reductions are exact (int64 tiles): values around +-2^40 differ in bits fp32 does not
    # hold, so the former fp32 computation gave wrong sums, means, extrema and argmax indices.
    "reduce_int64": reductions("reduce_int64", (3, 4, 50),
                               [("ReduceSum", dict(axes=[2])),
                                ("ReduceMean", dict(axes=[1, 2], keepdims=0)),
                                ("ReduceMax", dict(axes=[0, 2])), ("ReduceMin", dict(axes=[-1])),
                                ("ReduceL1", dict(axes=[0])),
                                ("ArgMax", dict(axis=2, select_last_index=1)),
                                ("ArgMin", dict(axis=0, keepdims=0))],
                               data=lambda r: (r.integers(-6, 7, size=(3, 4, 50)) +
                                               (r.integers(0, 2, size=(3, 4, 50)) * 2 - 1) *
                                               (1 << 40)).astype(np.int64)),
    "reduce_int64_prod": reductions("reduce_int64_prod", (5, 8, 3),
                                    [("ReduceProd", dict(axes=[1])),
                                     ("ReduceSumSquare", dict(axes=[1, 2], keepdims=0))],
                                    data=lambda r: r.integers(-60, 61, size=(5, 8, 3)).astype(np.int64)),
    # Long int64 rows (chunks of 6,144 with int64 partials; ArgMax in chunks of 3,072) with ties
    # across chunks one apart from values fp32 cannot tell apart.
    "long_reduce_int64": reductions("long_reduce_int64", (2, 30000),
                                    [("ReduceSum", dict(axes=[1])), ("ReduceMean", dict(axes=[1])),
                                     ("ReduceMax", dict(axes=[1], keepdims=0)),
                                     ("ReduceMin", dict(axes=[-1])),
                                     ("ArgMax", dict(axis=1)),
                                     ("ArgMin", dict(axis=1, select_last_index=1))],
                                    data=lambda r: ((1 << 35) + r.integers(-4, 5, size=(2, 30000))
                                                    ).astype(np.int64)),
    "long_argmax_axis0": graph_op("long_argmax_axis0",
                                  [n("ArgMax", ["x"], ["y"], axis=0, name="amax")],
                                  lambda r: {"x": rnd(r, 20000, 5)}),
    "long_layernorm": graph_op("long_layernorm",
                               [n("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1,
                                  epsilon=1e-5, name="ln")],
                               lambda r: {"x": _const_rows((4, 20000), [1])(r) * 1.0},
                               [lambda r: const("g", 1 + rnd(r, 20000, scale=0.3)),
                                lambda r: const("b", rnd(r, 20000, scale=0.3))]),
    # Constant rows of a BERT-sized LayerNorm: the output is exactly the bias.
    "layernorm_const_rows": graph_op("layernorm_const_rows",
                                     [n("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1,
                                        epsilon=1e-5, name="ln")],
                                     lambda r: {"x": _const_rows((6, 768), [1, 2, 3, 4])(r)},
                                     [lambda r: const("g", 1 + rnd(r, 768, scale=0.3)),
                                      lambda r: const("b", rnd(r, 768, scale=0.1))]),
    "instnorm_const_plane": graph_op("instnorm_const_plane",
                                     [n("InstanceNormalization", ["x", "g", "b"], ["y"],
                                        name="inorm")],
                                     lambda r: {"x": _const_rows((1, 5, 30, 30), [(0, 1), (0, 3)])(r)},
                                     [lambda r: const("g", 1 + rnd(r, 5, scale=0.3)),
                                      lambda r: const("b", rnd(r, 5, scale=0.3))]),
    # Planes of 10,000 (three chunks), one of them constant.
    "instnorm_const_chunked": graph_op("instnorm_const_chunked",
                                       [n("InstanceNormalization", ["x", "g", "b"], ["y"],
                                          epsilon=1e-3, name="inorm")],
                                       lambda r: {"x": _const_rows((1, 3, 100, 100), [(0, 1)])(r)},
                                       [lambda r: const("g", 1 + rnd(r, 3, scale=0.3)),
                                        lambda r: const("b", rnd(r, 3, scale=0.3))]),
    "global_pool_large": graph_op("global_pool_large",
                                  [n("GlobalAveragePool", ["x"], ["y"], name="gap"),
                                   n("GlobalMaxPool", ["x"], ["y1"], name="gmp")],
                                  lambda r: {"x": rnd(r, 1, 3, 160, 160)}, outputs=("y", "y1")),
    # Tap-by-tap Conv with a 300-wide kernel (40 input channels) on long rows.
    "conv_wide_kernel": conv_op("conv_wide_kernel", (1, 40, 2000), (24, 40, 300), strides=[4]),
    # Pooling windows larger than a band (kernels of 3,000-7,000): the kernel in tap groups,
    # some of them entirely in the padding.
    "pool_wide_kernel": graph_op("pool_wide_kernel",
                                 [n("AveragePool", ["x"], ["y"], kernel_shape=[1, 7000],
                                    strides=[1, 1500], pads=[0, 3000, 0, 2500], name="avg"),
                                  n("MaxPool", ["x"], ["y1"], kernel_shape=[2, 3000],
                                    strides=[2, 2000], pads=[1, 2900, 0, 100], name="max")],
                                 lambda r: {"x": rnd(r, 1, 3, 3, 20000)}, outputs=("y", "y1")),
    "long_cumsum": graph_op("long_cumsum",
                            [n("CumSum", ["x", "a"], ["y"], name="cs"),
                             n("CumSum", ["x", "a"], ["y1"], exclusive=1, reverse=1, name="cs_rev")],
                            lambda r: {"x": rnd(r, 2, 3000)},
                            [const("a", np.array(1, dtype=np.int64))], outputs=("y", "y1")),
    # Pad and Resize of 320x320 planes (rows of 102,400 elements).
    "pad_320": graph_op("pad_320", [n("Pad", ["x", "p"], ["y"], mode="reflect", name="pad")],
                        lambda r: {"x": rnd(r, 1, 4, 320, 320)},
                        [const("p", i64(0, 0, 2, 3, 0, 0, 2, 1))]),
    # u2netp's bilinear 2x upsampling of [1, 16, 160, 160].
    "resize_u2netp": graph_op("resize_u2netp",
                              [n("Resize", ["x", "", "s"], ["y"], mode="linear", name="up")],
                              lambda r: {"x": rnd(r, 1, 16, 160, 160)}, [const("s", f32(1, 1, 2, 2))]),
    "cnn_320": cnn_320,
    # Input rows wider than a span: the terms of one output read rows 12,000 apart, so each
    # term loads its own span (cubic: 16 terms over 4 rows); and a 100x nearest downscale of
    # one 100,000-element row (outputs 100 apart, chunks of few outputs).
    "resize_wide_rows": graph_op("resize_wide_rows",
                                 [n("Resize", ["x", "", "s"], ["y"], mode="cubic", name="cubic"),
                                  n("Resize", ["x", "", "s2"], ["y1"], mode="linear", name="lin")],
                                 lambda r: {"x": rnd(r, 1, 1, 4, 12000)},
                                 [const("s", f32(1, 1, 2, 1.5)), const("s2", f32(1, 1, 0.75, 2))],
                                 outputs=("y", "y1")),
    "resize_downscale_long": graph_op("resize_downscale_long",
                                      [n("Resize", ["x", "", "s"], ["y"], mode="nearest",
                                         name="down")],
                                      lambda r: {"x": rnd(r, 2, 100000)}, [const("s", f32(1, 0.01))]),
    "stft_conv": stft_model("stft_conv"),
    # Tap path (33 input channels) with a window larger than a band even for one output
    # (200 taps dilated 32: 6,369 columns, fp32): the kernel in rectangles of 50 taps, each with
    # its own band, shifted pads and weights (200 taps x 128 channels are not pinned).
    "conv_wide_window": conv_op("conv_wide_window", (1, 33, 1, 6500), (128, 33, 1, 200),
                                strides=[1, 64], dilations=[1, 32], pads=[0, 10, 0, 20]),
    # im2col with more weights than half of SBUF (32 contraction groups x 6 output-channel tiles
    # in fp32): the output channels go in groups, each loading the im2col tiles again.
    "conv_im2col_wide_cout": conv_op("conv_im2col_wide_cout", (1, 2, 6000), (700, 2, 2048),
                                     strides=[256]),
    # The tap path with more taps x output channels than a partition holds (420 taps x 128).
    "conv_many_taps": conv_op("conv_many_taps", (1, 40, 8, 300), (130, 40, 3, 140), strides=[1, 2]),
    "matmul_huge_k": matmul_model("matmul_huge_k", 4, 60000, 6),
    "gemm_huge_n": single("gemm_huge_n", [n("Gemm", ["a", "b", "c"], ["y"], name="gemm")],
                          fixed_inputs(a=(8, 64), b=(64, 50000), c=(50000,)), [vi("y", [8, 50000])]),
    # GatherElements along an axis of 30,000 (chunks of the axis, a select per chunk): runtime
    # indices (some negative) on the last axis, constant ones on axis 0.
    "gather_elements_long": graph_op(
        "gather_elements_long",
        [n("GatherElements", ["x", "i"], ["y"], axis=-1, name="ge"),
         n("GatherElements", ["xt", "ic"], ["y1"], axis=0, name="ge0")],
        lambda r: {"x": rnd(r, 3, 30000), "i": r.integers(-30000, 30000, size=(3, 700)),
                   "xt": rnd(r, 20000, 4)},
        [const("ic", np.random.default_rng(5).integers(-20000, 20000, size=(50, 4)))],
        outputs=("y", "y1")),
    "long_rows_movement": graph_op(
        "long_rows_movement",
        [n("Concat", ["x", "x"], ["c"], axis=1, name="cat"),
         n("Slice", ["c", "st", "en", "ax", "stp"], ["s"], name="slice"),
         n("Split", ["s", "sp"], ["s0", "s1"], axis=1, name="split"),
         n("Transpose", ["s1"], ["t"], perm=[1, 0], name="t"),
         n("Gather", ["x", "gi"], ["g"], axis=1, name="gather"),
         n("Add", ["s0", "g"], ["y"], name="add")],
        lambda r: {"x": rnd(r, 3, 60000)},
        [const("st", i64(1)), const("en", i64(119999)), const("ax", i64(1)), const("stp", i64(2)),
         const("sp", i64(30000, 29999)),
         const("gi", np.random.default_rng(3).integers(0, 60000, 30000).astype(np.int64))],
        outputs=("y", "t")),
    # Empty tensors are valid ONNX: a zero-length KV-cache past (the first step of a merged
    # decoder), an empty slice. They reach the program as tensors with a
    # zero dimension that no instruction touches.
    "empty_tensors": graph_op(
        "empty_tensors",
        [n("Concat", ["past", "k"], ["present"], axis=2, name="cat"),
         n("Slice", ["k", "st", "en", "ax"], ["none"], name="empty_slice"),
         n("Relu", ["past"], ["past_relu"], name="relu_of_empty"),
         n("Add", ["present", "present"], ["y"], name="add")],
        lambda r: {"past": np.zeros((1, 2, 0, 8), np.float32), "k": rnd(r, 1, 2, 3, 8)},
        [const("st", i64(2)), const("en", i64(2)), const("ax", i64(2)),
],
        opset=13, outputs=("y", "none", "past_relu")),
}
MODELS.update(LONG_MODELS)

# Decoder-only LLM graphs as Hugging Face / optimum export them (issue #15): tests/models/llm_models.py.
from llm_models import LLM_MODELS  # noqa: E402  (beside this file: sys.path[0])
MODELS.update(LLM_MODELS)
BF16_MODELS |= {"llama_pad_b2", "llama_decode_pad_b2", "gpt2_kv_pad_b2", "llama_v440_pad_b2"}


def _angles(r):
    """Sin/Cos arguments: [-pi, pi], [-50, 50], rotary angles of long contexts up to +-6000,
    and multiples of pi/2 (including large ones) where the range reduction is most delicate."""
    return {"x": np.stack([r.uniform(-np.pi, np.pi, 300), r.uniform(-50, 50, 300),
                           r.uniform(-6000, 6000, 300),
                           np.arange(-150, 150) * (np.pi / 2) * 37]).astype(np.float32)}


# Sin and Cos (transformers >= 4.40 computes the rotary cos/sin at run time): a range reduction
# to [-pi, pi] before the act engine's sin.
MODELS["sin_cos_wide"] = graph_op("sin_cos_wide", [n("Sin", ["x"], ["y"], name="sin"),
                                                   n("Cos", ["x"], ["y1"], name="cos")],
                                  _angles, outputs=("y", "y1"))
BF16_MODELS |= {"cnn_320", "stft_conv", "conv_wide_window", "conv_im2col_wide_cout", "conv_many_taps", "conv_wide_kernel", "matmul_huge_k", "gemm_huge_n"}


def _instnorm_ref(m, ins):
    """InstanceNormalization in float64 with the two-pass variance: a constant plane gives exactly
    the bias. (ONNX Runtime's E[x^2] - E[x]^2 returns rounding noise amplified by 1/sqrt(eps)
    there, so these models are checked against numpy instead.)"""
    inits = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in m.graph.initializer}
    node = m.graph.node[0]
    eps = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5)
    x = ins["x"].astype(np.float64)
    ax = tuple(range(2, x.ndim))
    mean = x.mean(axis=ax, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=ax, keepdims=True)
    bshape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - mean) / np.sqrt(var + np.float64(np.float32(eps)))
    return {"y": y * inits["g"].reshape(bshape) + inits["b"].reshape(bshape)}


# Models checked against a numpy reference instead of ONNX Runtime (e2e_check.py asks with
# --reference NAME DIR): where ONNX Runtime's own numerics are what is wrong.
REFERENCE = {"instnorm_const_plane": _instnorm_ref, "instnorm_const_chunked": _instnorm_ref}
# Per-model tolerance (e2e_check.py asks with --tol NAME DTYPE): tighter where precision is
# what the model tests.
TOLERANCE = {("long_reducemean_7820", "fp32"): 5e-7}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] == "--run-args":  # extra `trnsim run` options of model NAME (of all: NAME ARGS)
        if len(sys.argv) == 2:
            for name, args in RUN_ARGS.items():
                print(name, " ".join(args))
        else:
            print(" ".join(RUN_ARGS.get(sys.argv[2], [])))
        return
    if sys.argv[1] == "--reference":  # numpy reference outputs of NAME into DIR (exit 3: none)
        name, work = sys.argv[2], sys.argv[3]
        if name not in REFERENCE:
            sys.exit(3)
        m, inputs = MODELS[name](np.random.default_rng(42))
        os.makedirs(work, exist_ok=True)
        for k, v in REFERENCE[name](m, inputs).items():
            np.save(os.path.join(work, k + ".npy"), v)
        return
    if sys.argv[1] == "--tol":  # fp32/bf16 tolerance of model NAME (relative to max|ref|)
        print(TOLERANCE.get((sys.argv[2], sys.argv[3]), ""))
        return
    if sys.argv[1] == "--list":  # NAME DTYPES per line, for tests/CMakeLists.txt
        for name in MODELS:
            print(name, "fp32,bf16" if name in BF16_MODELS else "fp32")
        return
    out = sys.argv[1]
    names = sys.argv[2:] or list(MODELS)
    os.makedirs(out, exist_ok=True)
    for name in names:
        m, inputs = {**MODELS, **BENCH_MODELS, **CLI_MODELS}[name](np.random.default_rng(42))
        if name in EXTERNAL_DATA:
            onnx.save(m, os.path.join(out, name + ".onnx"), save_as_external_data=True,
                      **EXTERNAL_DATA[name])
        else:
            onnx.save(m, os.path.join(out, name + ".onnx"))
        d = os.path.join(out, name + ".inputs")
        os.makedirs(d, exist_ok=True)
        for k, v in inputs.items():
            np.save(os.path.join(d, k + ".npy"), v)
    print("\n".join(names))


if __name__ == "__main__":
    main()
