"""Op builders of the random-graph generator: Tensor Engine ops (MatMul, Gemm, Einsum, Conv,
ConvTranspose, LSTM), pooling, normalisation and row-wise reductions."""
import math

import numpy as np

from graph import F32, I64, MAX_ELEMS, BF16_BITS, Skip
from gen_ops import allc, axis_arg, bcast

# Tensor Engine sizes around the 128-row / 128-col / 512-moving tile edges
TE_DIMS = [1, 1, 2, 3, 5, 7, 8, 16, 17, 31, 64, 100, 127, 128, 129, 200, 255, 256, 257, 300, 513]


def te_exact(*ts):
    """A grid that stays exact through bf16 operands and fp32 accumulation in any order."""
    return all(t.frac is not None and t.grid_exact(BF16_BITS) for t in ts)


def te_out(b, shape, k, x, w, extra=0.0, const=False, frac_extra=0):
    bound = k * x.amax * w.amax + extra
    exact = te_exact(x, w)
    frac = x.frac + w.frac + frac_extra if exact else None
    return b.out(shape, F32, -bound, bound, exact and bound * 2.0 ** (frac or 0) < 2 ** 24,
                 frac, const)


def weight(b, shape, const=True):
    return b.fresh(shape, F32, const=const, dist=b.rng.choice(["normal", "grid", "grid"]))


def b_matmul(b):
    r = b.rng
    x = b.pick((F32,), ok=lambda t: 1 <= t.rank <= 4 and t.size <= MAX_ELEMS, amax=1e6)
    k = x.shape[-1]
    n = r.choice(TE_DIMS)
    if x.rank == 1:
        wshape = (k, n) if r.random() < 0.8 else (k,)
    else:
        batch = [] if r.random() < 0.6 else [d if r.random() < 0.6 else 1 for d in x.shape[:-2]]
        wshape = tuple(batch) + (k, n)
    out = bcast(x.shape[:-2], wshape[:-2]) + x.shape[-2:-1] + wshape[-1:] if len(wshape) >= 2 \
        else x.shape[:-1]
    if x.rank == 1:
        out = wshape[:-2] + wshape[-1:] if len(wshape) >= 2 else ()
    if np.prod(out) > MAX_ELEMS or np.prod(out) * k > (1 << 26):
        raise Skip("big")
    w = weight(b, wshape, const=r.random() < 0.6)
    ins = [x, w] if r.random() < 0.85 or len(wshape) < 2 else [w, x]
    if ins[0] is w:   # w @ x: w [.., n?] -> rebuild as [m, k] @ x[.., k, n]
        if x.rank < 2:
            raise Skip("rank")
        w2 = weight(b, (r.choice(TE_DIMS), x.shape[-2]), const=r.random() < 0.6)
        out = x.shape[:-2] + (w2.shape[0], x.shape[-1])
        ins, k = [w2, x], x.shape[-2]
        w = w2
    return b.node("MatMul", ins, [te_out(b, out, k, x, w, const=allc(*ins))])


def b_gemm(b):
    r = b.rng
    x = b.pick((F32,), ok=lambda t: t.rank == 2, new_shape=lambda: (r.choice(TE_DIMS), r.choice(TE_DIMS)),
               amax=1e6)
    ta, tb = r.choice([0, 0, 1]), r.choice([0, 1, 1])
    m, k = (x.shape[1], x.shape[0]) if ta else x.shape
    n = r.choice(TE_DIMS)
    if m * n > MAX_ELEMS or m * n * k > (1 << 26):
        raise Skip("big")
    w = weight(b, (n, k) if tb else (k, n), const=r.random() < 0.7)
    alpha = r.choice([1.0, 1.0, 0.5, -0.1653, 2.0, None])
    beta = r.choice([1.0, 1.0, 0.5, -0.3113, 1.182, 0.0, None])
    ins = [x, w]
    extra = 0.0
    if r.random() < 0.7:
        cshape = r.choice([(), (n,), (1, n), (m, 1), (m, n)])
        c = weight(b, cshape, const=r.random() < 0.8)
        ins.append(c)
        extra = c.amax * abs(beta if beta is not None else 1.0)
    o = te_out(b, (m, n), k * abs(alpha if alpha is not None else 1.0), x, w, extra, allc(*ins))
    if alpha not in (1.0, None) or (len(ins) == 3 and (beta not in (1.0, None) or not ins[2].exact)):
        o.exact, o.frac = False, None
    elif len(ins) == 3 and o.exact:
        o.frac = max(o.frac, ins[2].frac) if ins[2].frac is not None else None
        o.exact = o.frac is not None
    return b.node("Gemm", ins, [o], alpha=alpha, beta=beta, transA=ta or None, transB=tb or None)


EINSUM = [  # equation, letters of input 0, letters of input 1 (None: one input)
    ("ij,jk->ik", "ij", "jk"), ("bij,bjk->bik", "bij", "bjk"), ("bid,jd->bij", "bid", "jd"),
    ("bhqd,bhkd->bhqk", "bhqd", "bhkd"), ("bhqk,bhkd->bqhd", "bhqk", "bhkd"),
    ("ij,kj->ik", "ij", "kj"), ("ij,jk", "ij", "jk"), ("i,j->ij", "i", "j"),
    ("ij->ji", "ij", None), ("bij->bji", "bij", None),
]


def b_einsum(b):
    r = b.rng
    eq, a0, a1 = r.choice(EINSUM)
    sizes = {c: r.choice([1, 2, 3, 5, 8, 16, 33, 64, 130]) for c in "bhijkqd"}
    sh0 = tuple(sizes[c] for c in a0)
    x = b.pick((F32,), ok=lambda t: t.shape == sh0, new_shape=sh0)
    ins = [x]
    if a1:
        ins.append(weight(b, tuple(sizes[c] for c in a1), const=r.random() < 0.5))
    lhs, _, rhs = eq.partition("->")
    if not _:
        rhs = "".join(sorted(c for c in set(lhs.replace(",", "")) if lhs.count(c) == 1))
    shape = tuple(sizes[c] for c in rhs)
    if np.prod(shape) > MAX_ELEMS:
        raise Skip("big")
    if a1:
        k = np.prod([sizes[c] for c in a0 if c in a1 and c not in rhs] or [1])
        o = te_out(b, shape, k, x, ins[1], const=allc(*ins))
    else:
        o = b.out(shape, F32, x.lo, x.hi, x.exact, x.frac, x.const)
    return b.node("Einsum", ins, [o], equation=eq)


def spatial_out(size, k, s, d, pb, pe, ceil=False):
    eff = (k - 1) * d + 1
    num = size + pb + pe - eff
    if num < 0:
        raise Skip("kernel larger than input")
    return (-(-num // s) if ceil else num // s) + 1


def conv_geometry(b, sp, kmax=7, pool=False):
    """kernel, strides, dilations, pads, auto_pad for spatial dims `sp`."""
    r = b.rng
    nd = len(sp)
    ks = [r.choice([1, 1, 2, 3, 3, 5, 7][: kmax]) if s > 1 else 1 for s in sp]
    st = [r.choice([1, 1, 1, 2, 3]) for _ in sp]
    dl = [1 if r.random() < 0.75 else r.choice([2, 3]) for _ in sp]
    auto = r.choice(["NOTSET"] * 6 + ["SAME_UPPER", "SAME_LOWER", "VALID"])
    pads = None
    if auto == "NOTSET":
        pads = [r.randint(0, k - 1) if r.random() < 0.6 else 0 for k in ks] + \
               [r.randint(0, k - 1) if r.random() < 0.6 else 0 for k in ks]
        if pool:   # pads must be smaller than the kernel
            pads = [min(p, k - 1) for p, k in zip(pads, ks + ks)]
    out = []
    for i in range(nd):
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            out.append(-(-sp[i] // st[i]))
            if pool and (out[-1] - 1) * st[i] + (ks[i] - 1) * dl[i] + 1 < sp[i]:
                raise Skip("SAME pads would be negative (ONNX Runtime refuses)")
        elif auto == "VALID":
            out.append(spatial_out(sp[i], ks[i], st[i], dl[i], 0, 0))
        else:
            out.append(spatial_out(sp[i], ks[i], st[i], dl[i], pads[i], pads[nd + i]))
    return ks, st, dl, pads, auto, out


def image(b, ranks=(3, 4), cmax=64):
    r = b.rng

    def new():
        rank = r.choice(ranks)
        c = r.choice([1, 2, 3, 4, 8, 16, 17, 32, 64, 130][: 10 if cmax > 64 else 9])
        sp = [r.choice([1, 2, 5, 7, 8, 13, 16, 28, 32, 57]) for _ in range(rank - 2)]
        if rank == 3 and r.random() < 0.3:
            sp = [r.choice([100, 300, 1000])]
        return (r.choice([1, 1, 2]), c) + tuple(sp)
    return b.pick((F32,), ok=lambda t: t.rank in ranks and t.shape[1] <= cmax and t.size <= MAX_ELEMS,
                  new_shape=new, amax=1e6)


def b_conv(b):
    r = b.rng
    x = image(b, cmax=130)
    n, c, sp = x.shape[0], x.shape[1], list(x.shape[2:])
    g = r.choice([1, 1, 1] + [d for d in (2, 3, 4, c) if c % d == 0 and d <= c])
    cout = g * r.choice([1, 2, 3, 8, 16]) if g > 1 else r.choice([1, 3, 8, 16, 33, 64, 150])
    ks, st, dl, pads, auto, out = conv_geometry(b, sp)
    if auto in ("SAME_UPPER", "SAME_LOWER") and any(d > 1 for d in dl):
        raise Skip("SAME with dilation")
    oshape = (n, cout) + tuple(out)
    macs = np.prod(oshape) * (c // g) * np.prod(ks)
    if np.prod(oshape) > MAX_ELEMS or macs > (1 << 26):
        raise Skip("big")
    w = weight(b, (cout, c // g) + tuple(ks))
    ins = [x, w]
    extra = 0.0
    if r.random() < 0.6:
        bias = weight(b, (cout,))
        ins.append(bias)
        extra = bias.amax
    o = te_out(b, oshape, (c // g) * int(np.prod(ks)), x, w, extra, allc(*ins))
    if len(ins) == 3 and o.exact:
        o.frac = max(o.frac, ins[2].frac) if ins[2].frac is not None else None
        o.exact = o.frac is not None
    return b.node("Conv", ins, [o], kernel_shape=ks if r.random() < 0.5 else None,
                  strides=st if st != [1] * len(st) or r.random() < 0.3 else None,
                  dilations=dl if dl != [1] * len(dl) or r.random() < 0.3 else None,
                  pads=pads, auto_pad=auto if auto != "NOTSET" else None, group=g if g > 1 else None)


def b_conv_transpose(b):
    r = b.rng
    x = image(b)
    n, c, sp = x.shape[0], x.shape[1], list(x.shape[2:])
    nd = len(sp)
    g = r.choice([1, 1, 1] + [d for d in (2, c) if c % d == 0])
    cout = g * r.choice([1, 2, 3, 8])
    ks = [r.choice([1, 2, 3, 4, 5]) for _ in sp]
    s = r.choice([1, 2, 2, 3])
    dl = [1 if r.random() < 0.8 else 2 for _ in sp]
    pads = [r.randint(0, d * (k - 1)) if r.random() < 0.5 else 0 for k, d in zip(ks + ks, dl + dl)]
    opad = [r.randint(0, s - 1) if r.random() < 0.3 else 0 for d in dl]   # ORT: < stride
    out = [s * (sp[i] - 1) + opad[i] + (ks[i] - 1) * dl[i] + 1 - pads[i] - pads[nd + i]
           for i in range(nd)]
    if min(out) < 1:
        raise Skip("empty")
    oshape = (n, cout) + tuple(out)
    if np.prod(oshape) > MAX_ELEMS or np.prod(oshape) * c * np.prod(ks) > (1 << 26):
        raise Skip("big")
    w = weight(b, (c, cout // g) + tuple(ks))
    ins = [x, w]
    extra = 0.0
    if r.random() < 0.5:
        ins.append(weight(b, (cout,)))
        extra = ins[2].amax
    o = te_out(b, oshape, c * int(np.prod(ks)), x, w, extra, allc(*ins))
    o.exact, o.frac = (o.exact and len(ins) == 2), (o.frac if len(ins) == 2 else None)
    return b.node("ConvTranspose", ins, [o], kernel_shape=ks if r.random() < 0.5 else None,
                  strides=[s] * nd, dilations=dl if dl != [1] * nd else None, pads=pads,
                  output_padding=opad if any(opad) else None, group=g if g > 1 else None)


def b_pool(b, op):
    r = b.rng
    x = image(b, cmax=1000)
    sp = list(x.shape[2:])
    ks, st, dl, pads, auto, out = conv_geometry(b, sp, pool=True)
    if op == "AveragePool":
        dl = [1] * len(sp)
        ks2, st2, dl2, pads, auto, out = conv_geometry(b, sp, pool=True)
        ks, st = ks2, st2
        out = [spatial_out(sp[i], ks[i], st[i], 1, *(pads[i], pads[len(sp) + i]) if pads else (0, 0))
               if auto in ("NOTSET", "VALID") else -(-sp[i] // st[i]) for i in range(len(sp))]
        # conv_geometry checked SAME's pads with its own dilation; AveragePool has none.
        if auto in ("SAME_UPPER", "SAME_LOWER") and any(
                (out[i] - 1) * st[i] + ks[i] < sp[i] for i in range(len(sp))):
            raise Skip("SAME pads would be negative (ONNX Runtime refuses)")
    ceil = auto == "NOTSET" and r.random() < 0.3
    if ceil:
        nd = len(sp)
        out = []
        for i in range(nd):
            o = spatial_out(sp[i], ks[i], st[i], dl[i], pads[i], pads[nd + i], ceil=True)
            if (o - 1) * st[i] >= sp[i] + pads[i]:
                raise Skip("ceil window starts in the padding")
            out.append(o)
    oshape = x.shape[:2] + tuple(out)
    kw = dict(kernel_shape=ks, strides=st if r.random() < 0.8 else None, pads=pads,
              auto_pad=auto if auto != "NOTSET" else None, ceil_mode=1 if ceil else None)
    if kw["strides"] is None and st != [1] * len(st):
        kw["strides"] = st
    if op == "MaxPool":
        kw["dilations"] = dl if dl != [1] * len(dl) else None
        if auto in ("SAME_UPPER", "SAME_LOWER") and any(d > 1 for d in dl):
            raise Skip("SAME with dilation")
        o = b.out(oshape, F32, x.lo, x.hi, x.exact, x.frac, x.const)
    else:
        kw["count_include_pad"] = r.choice([None, 0, 1])
        o = b.out(oshape, F32, min(x.lo, 0), max(x.hi, 0), False, None, x.const)
    return b.node(op, [x], [o], **kw)


def b_global_pool(b, op):
    x = image(b, cmax=1000)
    oshape = x.shape[:2] + (1,) * (x.rank - 2)
    ex = op == "GlobalMaxPool"
    return b.node(op, [x], [b.out(oshape, F32, x.lo, x.hi, ex and x.exact, x.frac if ex else None,
                                  x.const)])


def b_instance_norm(b):
    x = image(b, cmax=130)
    c = x.shape[1]
    s, bb = weight(b, (c,)), weight(b, (c,))
    n = int(np.prod(x.shape[2:]))
    bound = s.amax * math.sqrt(n) + bb.amax
    return b.node("InstanceNormalization", [x, s, bb],
                  [b.out(x.shape, F32, -bound, bound, False, None, allc(x, s, bb))],
                  epsilon=b.rng.choice([None, 1e-5, 1e-3]))


def b_lrn(b):
    x = image(b, ranks=(4,), cmax=130)
    r = b.rng
    return b.node("LRN", [x], [b.out(x.shape, F32, -x.amax * 2, x.amax * 2, False, None, x.const)],
                  size=r.choice([1, 3, 5, 7]), alpha=r.choice([None, 1e-4, 0.01]),
                  beta=r.choice([None, 0.75, 0.5]), bias=r.choice([None, 1.0, 2.0]))


def b_layernorm(b):
    if b.opset < 17:
        raise Skip("opset")
    x = b.pick((F32,), ok=lambda t: t.rank >= 1, new_shape=lambda: b.rand_shape(min_rank=1))
    ax = axis_arg(b, x.rank)
    nshape = x.shape[ax:]
    s = weight(b, nshape)
    ins = [x, s]
    if b.rng.random() < 0.6:
        ins.append(weight(b, nshape))
    n = int(np.prod(nshape))
    bound = s.amax * math.sqrt(n) + (ins[2].amax if len(ins) == 3 else 0)
    return b.node("LayerNormalization", ins, [b.out(x.shape, F32, -bound, bound, False, None,
                                                    allc(*ins))],
                  axis=ax, epsilon=b.rng.choice([None, 1e-5, 1e-3]))


def b_batchnorm(b):
    x = b.pick((F32,), ok=lambda t: 2 <= t.rank <= 4, new_shape=lambda: b.rand_shape(min_rank=2))
    c = x.shape[1]
    s, bb, m = weight(b, (c,)), weight(b, (c,)), weight(b, (c,))
    v = b.fresh((c,), F32, const=True, lo=0.1, hi=3.0)
    bound = (x.amax + m.amax) * s.amax / math.sqrt(0.1) + bb.amax
    return b.node("BatchNormalization", [x, s, bb, m, v],
                  [b.out(x.shape, F32, -bound, bound, False, None, allc(x, s, bb, m, v))],
                  epsilon=b.rng.choice([None, 1e-5, 1e-3]))


def b_softmax(b, op):
    x = b.pick((F32,), ok=lambda t: t.rank >= 1, new_shape=lambda: b.rand_shape(min_rank=1))
    ax = axis_arg(b, x.rank) if b.rng.random() < 0.8 else None
    n = x.size
    lo, hi = (0, 1) if op == "Softmax" else (-(x.hi - x.lo) - math.log(max(n, 1)) - 1, 0)
    return b.node(op, [x], [b.out(x.shape, F32, lo, hi, False, None, x.const)], axis=ax)


REDUCE = ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
          "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp"]


def b_reduce(b, op):
    r = b.rng
    need = {"amax": 1e6}
    if op == "ReduceLogSumExp":
        need = {"hi_max": 30.0}
    x = b.pick((F32,) if op != "ReduceSum" or r.random() < 0.8 else (F32, I64),
               ok=lambda t: t.rank >= 1, new_shape=lambda: b.rand_shape(min_rank=1), **need)
    rank = x.rank
    # adjacent axes (the compiler's claim), sometimes all of them (no axes)
    a0 = r.randrange(rank)
    a1 = r.randint(a0, min(rank - 1, a0 + r.choice([0, 0, 1, 2])))
    axes = list(range(a0, a1 + 1))
    noaxes = r.random() < 0.15
    if noaxes:
        axes = list(range(rank))
    axes_out = [a - rank if r.random() < 0.3 else a for a in axes]
    keep = r.choice([0, 1, None])
    cnt = int(np.prod([x.shape[a] for a in axes]))
    shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape) if keep != 0 or i not in axes)
    am = x.amax
    exact, frac = False, None
    if op in ("ReduceMax", "ReduceMin"):
        lo, hi, exact, frac = x.lo, x.hi, x.exact, x.frac
    elif op == "ReduceMean":
        lo, hi = x.lo, x.hi
    elif op in ("ReduceSum", "ReduceL1"):
        lo, hi = (-cnt * am, cnt * am) if op == "ReduceSum" else (0, cnt * am)
        exact = x.frac is not None and cnt * am * 2.0 ** x.frac < 2 ** 24
        frac = x.frac if exact else None
        if x.dtype == I64:
            if cnt * am >= 2 ** 62:
                raise Skip("overflow")
            exact, frac = True, 0
    elif op == "ReduceProd":
        if cnt > 64 or am ** cnt > 1e30:
            raise Skip("overflow")
        lo, hi = -am ** cnt, am ** cnt
    elif op == "ReduceSumSquare":
        lo, hi = 0, cnt * am * am
    elif op == "ReduceL2":
        lo, hi = 0, math.sqrt(cnt) * am
    else:
        lo, hi = x.lo, x.hi + math.log(cnt)
    kw = dict(keepdims=keep)
    ins = [x]
    if op == "ReduceSum" and b.opset >= 13:
        if not noaxes or r.random() < 0.5:
            ins.append(b.const(axes_out))
        elif r.random() < 0.3:   # noop_with_empty_axes=1 without axes: identity
            kw["noop_with_empty_axes"] = 1
            shape, lo, hi, exact, frac = x.shape, x.lo, x.hi, x.exact, x.frac
    elif not noaxes or r.random() < 0.5:
        kw["axes"] = axes_out
    return b.node(op, ins, [b.out(shape, x.dtype, lo, hi, exact, frac, x.const)], **kw)


def b_argreduce(b, op):
    r = b.rng
    x = b.pick((F32,), ok=lambda t: t.rank >= 1, new_shape=lambda: b.rand_shape(min_rank=1),
               exact=True)
    ax = axis_arg(b, x.rank)
    keep = r.choice([0, 1, None])
    shape = tuple(1 if i == ax % x.rank else d for i, d in enumerate(x.shape)
                  if keep != 0 or i != ax % x.rank)
    return b.node(op, [x], [b.out(shape, I64, 0, x.shape[ax], True, 0, x.const)],
                  axis=ax if ax or r.random() < 0.5 else None, keepdims=keep,
                  select_last_index=r.choice([None, 0, 1]))


def b_lstm(b):
    r = b.rng
    x = b.pick((F32,), ok=lambda t: t.rank == 3 and t.shape[2] <= 256 and t.shape[0] <= 64,
               new_shape=lambda: (r.choice([1, 2, 5, 16]), r.choice([1, 2, 3]), r.choice([1, 4, 16, 33])),
               amax=10.0)
    seq, batch, inp = x.shape
    h = r.choice([1, 4, 8, 16, 32, 100, 128])
    # Weights of a trained size (|w| <= 1/sqrt(H)): with large ones the recurrence is chaotic and
    # one ulp of difference grows to O(1) over the steps (legitimately: fp32 cannot decide it).
    s = 1.0 / math.sqrt(max(h, inp))
    ins = [x, b.fresh((1, 4 * h, inp), F32, const=True, lo=-s, hi=s),
           b.fresh((1, 4 * h, h), F32, const=True, lo=-s, hi=s)]
    opt = []
    if r.random() < 0.7:
        opt.append(("B", weight(b, (1, 8 * h))))
    if r.random() < 0.4:
        opt += [("initial_h", weight(b, (1, batch, h), const=r.random() < 0.5))]
        if r.random() < 0.5:
            opt += [("initial_c", weight(b, (1, batch, h), const=r.random() < 0.5))]
    slots = {"B": 3, "initial_h": 5, "initial_c": 6}
    full = ins + [""] * (max([slots[k] for k, _ in opt], default=2) + 1 - 3)
    for k, t in opt:
        full[slots[k]] = t
    nouts = r.choice([1, 2, 3])
    c = allc(*[t for t in full if t])
    outs = [b.out((seq, 1, batch, h), F32, -1, 1, False, None, c),
            b.out((1, batch, h), F32, -1, 1, False, None, c),
            b.out((1, batch, h), F32, -1e3, 1e3, False, None, c)][:nouts]
    return b.node("LSTM", full, outs, hidden_size=h)
