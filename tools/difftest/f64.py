"""Float64 reference for arbitration: the graph evaluated node by node in double precision.

Every float32 tensor is held as float64. Each node runs as a one-node model in ONNX Runtime with
double inputs (Cast to FLOAT becomes Cast to DOUBLE; Resize scales stay float32). Where ONNX
Runtime has no double kernel, or an inexact one, a NumPy float64 kernel (NUMPY below: Sigmoid,
LRN, InstanceNormalization, Erf, the composite activations, Mean, global pools) does the node.
Failing that, the node runs in float32 on inputs rounded to float32 (Conv, ConvTranspose,
AveragePool, Resize, LSTM), so the reference is exact up to those nodes' own fp32 arithmetic.
A graph that cannot be evaluated gives no reference (a mismatch then counts as wrong).

With bf16=True (arbitration of bf16 runs), every float tensor is rounded to bfloat16 (round to
nearest even) where the graph starts and after every node, as a program that stores every
activation in bf16 does; the arithmetic inside each node stays float64.
"""
import math
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

FLOAT, DOUBLE = TensorProto.FLOAT, TensorProto.DOUBLE
KEEP_FLOAT = {"Resize": (1, 2), "Upsample": (1,)}   # float inputs that must stay float32
NP_TO_ONNX = {np.dtype(np.float64): DOUBLE, np.dtype(np.float32): FLOAT,
              np.dtype(np.float16): TensorProto.FLOAT16, np.dtype(np.int64): TensorProto.INT64,
              np.dtype(np.bool_): TensorProto.BOOL, np.dtype(np.int32): TensorProto.INT32,
              np.dtype(np.int8): TensorProto.INT8, np.dtype(np.uint8): TensorProto.UINT8}


def attr(n, name, default):
    for a in n.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _lrn(n, x):
    size = attr(n, "size", 1)
    alpha, beta, bias = attr(n, "alpha", 1e-4), attr(n, "beta", 0.75), attr(n, "bias", 1.0)
    sq = x * x
    s = np.zeros_like(x)
    c = x.shape[1]
    for i in range(c):
        lo, hi = max(0, i - (size - 1) // 2), min(c - 1, i + size // 2)
        s[:, i] = sq[:, lo:hi + 1].sum(axis=1)
    return [x / (bias + alpha / size * s) ** beta]


def _instance_norm(n, x, scale, b):
    axes = tuple(range(2, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    shp = (1, -1) + (1,) * (x.ndim - 2)
    return [(x - mean) / np.sqrt(var + attr(n, "epsilon", 1e-5)) * scale.reshape(shp) +
            b.reshape(shp)]


def _elu(x, alpha):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _lstm(n, ins):
    """ONNX LSTM in float64 (ONNX Runtime has no double LSTM: its float32 result was the
    'reference', so a rounding difference after cancellation counted as wrong, seed 1604679).
    Every direction, sequence_lens, initial states, peepholes, clip, input_forget and layout;
    activations Sigmoid/Tanh/Relu (None for others: the caller falls back)."""
    acts = {"Sigmoid": lambda v: 1 / (1 + np.exp(-v)), "Tanh": np.tanh,
            "Relu": lambda v: np.maximum(v, 0)}
    ins = list(ins) + [None] * (8 - len(ins))
    X, W, R, B, seq_lens, h0, c0, P = ins[:8]
    H = attr(n, "hidden_size", None) or R.shape[-1]
    direction = attr(n, "direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    nd = 2 if direction == "bidirectional" else 1
    names = [a.decode() if isinstance(a, bytes) else a
             for a in attr(n, "activations", [b"Sigmoid", b"Tanh", b"Tanh"] * nd)]
    if any(a not in acts for a in names) or attr(n, "activation_alpha", None) is not None:
        return None
    clip = attr(n, "clip", None)
    # The spec clips "the input of activations": the gates' (peepholes included), as ONNX
    # Runtime does; not the cell state fed to h.
    cl = (lambda v: v) if clip is None else (lambda v: np.clip(v, -clip, clip))
    layout = attr(n, "layout", 0)
    if layout:
        X = X.transpose(1, 0, 2)
        h0 = None if h0 is None else h0.transpose(1, 0, 2)
        c0 = None if c0 is None else c0.transpose(1, 0, 2)
    S, Bt = X.shape[0], X.shape[1]
    lens = np.full(Bt, S, np.int64) if seq_lens is None else seq_lens.astype(np.int64)
    Y = np.zeros((S, nd, Bt, H))
    Yh, Yc = np.zeros((nd, Bt, H)), np.zeros((nd, Bt, H))
    for d in range(nd):
        f, g, h = (acts[a] for a in names[3 * d:3 * d + 3])
        bias = np.zeros(8 * H) if B is None else B[d]
        p = np.zeros(3 * H) if P is None else P[d]
        for b in range(Bt):
            ht = np.zeros(H) if h0 is None else h0[d, b].copy()
            ct = np.zeros(H) if c0 is None else c0[d, b].copy()
            L = int(lens[b])
            steps = range(L) if (direction == "forward" or d == 0 and direction != "reverse") \
                else range(L - 1, -1, -1)
            for t in steps:
                z = W[d] @ X[t, b] + R[d] @ ht + bias[:4 * H] + bias[4 * H:]
                zi, zo, zf, zc = z[:H], z[H:2 * H], z[2 * H:3 * H], z[3 * H:]
                it = f(cl(zi + p[:H] * ct))
                ft = 1 - it if attr(n, "input_forget", 0) else f(cl(zf + p[2 * H:] * ct))
                ct = ft * ct + it * g(cl(zc))
                ht = f(cl(zo + p[H:2 * H] * ct)) * h(ct)
                Y[t, d, b] = ht
            Yh[d, b], Yc[d, b] = ht, ct
    if layout:
        return [Y.transpose(2, 0, 1, 3), Yh.transpose(1, 0, 2), Yc.transpose(1, 0, 2)]
    return [Y, Yh, Yc]


NUMPY = {
    # ONNX Runtime's Sigmoid (0.5 tanh(x/2) + 0.5, in double too) gives 0 below about -37
    "Sigmoid": lambda n, x: [np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))),
                                      np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))],
    "LRN": _lrn,
    "InstanceNormalization": _instance_norm,
    "Erf": lambda n, x: [np.vectorize(math.erf, otypes=[np.float64])(x)],
    "Softplus": lambda n, x: [np.logaddexp(0.0, x)],
    "Softsign": lambda n, x: [x / (1 + np.abs(x))],
    "Mean": lambda n, *xs: [sum(xs) / len(xs)],
    "ThresholdedRelu": lambda n, x: [np.where(x > attr(n, "alpha", 1.0), x, 0.0)],
    "Elu": lambda n, x: [_elu(x, attr(n, "alpha", 1.0))],
    "Selu": lambda n, x: [attr(n, "gamma", 1.05070102214813232421875) *
                          _elu(x, attr(n, "alpha", 1.67326319217681884765625))],
    "Celu": lambda n, x: [np.maximum(0, x) + np.minimum(0, attr(n, "alpha", 1.0) *
                                                          np.expm1(x / attr(n, "alpha", 1.0)))],
    "HardSigmoid": lambda n, x: [np.clip(attr(n, "alpha", 0.2) * x + attr(n, "beta", 0.5), 0, 1)],
    "HardSwish": lambda n, x: [x * np.clip(x / 6 + 0.5, 0, 1)],
    "LeakyRelu": lambda n, x: [np.where(x >= 0, x, attr(n, "alpha", 0.01) * x)],
    "PRelu": lambda n, x, s: [np.where(x < 0, x * s, x)],
    "GlobalMaxPool": lambda n, x: [x.max(axis=tuple(range(2, x.ndim)), keepdims=True)],
    "GlobalAveragePool": lambda n, x: [x.mean(axis=tuple(range(2, x.ndim)), keepdims=True)],
}


# Integer kernels ONNX Runtime gets wrong: its int64 Sign truncates to int32 (1.30: -1 for
# values in [2^31, 2^32)).
INT_NUMPY = {
    "Sign": lambda n, x: [np.sign(x)],
}


def _outer_names(n):
    """Names an If node's branches read from the enclosing graph."""
    names = []
    for a in n.attribute:
        if a.type == onnx.AttributeProto.GRAPH:
            inner = {o for m in a.g.node for o in m.output}
            for m in a.g.node:
                names += [i for i in m.input if i and i not in inner] + _outer_names(m)
    return names


def _to_double_graph(g):
    for vi in list(g.output) + list(g.input) + list(g.value_info):
        if vi.type.tensor_type.elem_type == FLOAT:
            vi.type.tensor_type.elem_type = DOUBLE
    for n in g.node:
        _to_double_node(n)


def _to_double_node(n):
    for a in n.attribute:
        if n.op_type == "Cast" and a.name == "to" and a.i == FLOAT:
            a.i = DOUBLE
        if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == FLOAT:
            a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float64),
                                                 a.t.name))
        if a.type == onnx.AttributeProto.GRAPH:
            _to_double_graph(a.g)


def round_bf16(a):
    """float64/float32 array -> the nearest bfloat16 values (ties to even), as float64."""
    f = np.asarray(a, dtype=np.float32)
    u = f.view(np.uint32).astype(np.uint64)
    r = ((u + np.uint64(0x7FFF) + ((u >> np.uint64(16)) & np.uint64(1))) >> np.uint64(16)) << np.uint64(16)
    out = r.astype(np.uint32).view(np.float32)
    out = np.where(np.isnan(f), f, out)   # keep NaN payloads NaN
    return out.astype(np.float64)


class Evaluator:
    def __init__(self, ort, model, work, bf16=False):
        self.ort, self.model, self.work = ort, model, work
        self.bf16 = bf16
        self.k = 0
        self.operand_scale = {}   # tensor -> max |float operand| of the node that made it

    def run_node(self, node, vals, double):
        """One node in ONNX Runtime; `double`: float tensors as float64. None if it fails."""
        n = onnx.NodeProto()
        n.CopyFrom(node)
        keep = KEEP_FLOAT.get(n.op_type, ())
        feeds, g_in = {}, []
        self.k += 1
        d = os.path.join(self.work, f"n{self.k}")
        os.makedirs(d, exist_ok=True)
        for i, name in enumerate(list(n.input) + _outer_names(n)):
            if not name or name in feeds:
                continue
            a = vals[name]
            if a.dtype == np.float64 and (not double or i in keep):
                a = a.astype(np.float32)
            path = os.path.join(d, f"in{len(feeds)}.npy")
            np.save(path, a)
            feeds[name] = path
            g_in.append(helper.make_tensor_value_info(name, NP_TO_ONNX[a.dtype], list(a.shape)))
        if double:
            _to_double_node(n)
        g = helper.make_graph([n], "node", g_in, [helper.make_tensor_value_info(o, 0, None)
                                                   for o in n.output if o])
        m = helper.make_model(g, opset_imports=self.model.opset_import)
        m.ir_version = self.model.ir_version
        try:
            inferred = shape_inference.infer_shapes(m, strict_mode=True).graph
            types = {vi.name: vi.type.tensor_type.elem_type for vi in inferred.output}
            for vi in m.graph.output:
                vi.type.tensor_type.elem_type = types[vi.name]
        except Exception:
            return None
        path = os.path.join(d, "m.onnx")
        onnx.save(m, path)
        rep = self.ort.run(path, feeds, os.path.join(d, "out"))
        if not rep["ok"]:
            return None
        return [np.load(rep["outputs"][o]["file"]) if o else None for o in n.output]

    def evaluate(self, inputs):
        g = self.model.graph
        vals = {}
        for name, path in inputs.items():
            vals[name] = np.load(path)
        for t in g.initializer:
            vals[t.name] = numpy_helper.to_array(t)
        for k in list(vals):
            if vals[k].dtype == np.float32:
                vals[k] = round_bf16(vals[k]) if self.bf16 else vals[k].astype(np.float64)
        for n in g.node:
            if n.op_type == "Constant":
                outs = [numpy_helper.to_array(n.attribute[0].t)]
            elif n.op_type == "Cast" and any(a.name == "to" and a.i == TensorProto.BFLOAT16
                                             for a in n.attribute):
                # bfloat16 values held as float64: ONNX Runtime's CPU Cast from double has no
                # bfloat16, and run_ort.js cannot write a bfloat16 output (the whole evaluation
                # used to fail, leaving every output of the graph without a reference).
                outs = [round_bf16(vals[n.input[0]])]
            elif n.op_type == "LSTM" and all(vals[i].dtype == np.float64 for i in n.input[:3]):
                with np.errstate(all="ignore"):
                    outs = _lstm(n, [vals[i] if i else None for i in n.input])
                if outs is None:
                    outs = self.run_node(n, vals, True) or self.run_node(n, vals, False)
                else:
                    outs = outs[:len(n.output)]
            elif n.op_type in INT_NUMPY and all(vals[i].dtype.kind in "iu" for i in n.input if i):
                outs = INT_NUMPY[n.op_type](n, *[vals[i] for i in n.input if i])
            elif n.op_type in NUMPY and all(vals[i].dtype == np.float64 for i in n.input if i):
                with np.errstate(all="ignore"):
                    outs = NUMPY[n.op_type](n, *[vals[i] for i in n.input if i])
            else:
                outs = self.run_node(n, vals, True) or self.run_node(n, vals, False)
            if outs is None:
                return {}
            operands = [vals[i] for i in n.input if i and vals[i].dtype.kind == "f" and vals[i].size]
            scale = max([float(np.max(np.abs(a[np.isfinite(a)]), initial=0.0)) for a in operands],
                        default=0.0)
            for name, v in zip(n.output, outs):
                if name and v is not None:
                    vals[name] = v.astype(np.float64) if v.dtype == np.float32 else v
                    if self.bf16 and vals[name].dtype == np.float64:
                        vals[name] = round_bf16(vals[name])
                    self.operand_scale[name] = scale
        return {o.name: vals[o.name] for o in g.output}


def reference64(ort, model_path, inputs, work, bf16=False):
    """({output name: ndarray, float64 for float32 outputs}, {output name: max |operand| of
    the node that produced it}), or ({}, {}) if the graph cannot be evaluated."""
    d = os.path.join(work, "f64bf16" if bf16 else "f64")
    os.makedirs(d, exist_ok=True)
    try:
        ev = Evaluator(ort, onnx.load(model_path), d, bf16=bf16)
        return ev.evaluate(inputs), ev.operand_scale
    except Exception:
        return {}, {}
