"""Op builders of the random-graph generator: one function per ONNX op (or family) of the
compiler's op table (compiler/ops/op_table.cpp), each choosing inputs, attributes and the output
shape, dtype and value bound. A builder raises Skip when it cannot make a valid node."""
import math

import numpy as np

from graph import BOOL, F16, F32, FLOATS, I64, MAX_ELEMS, Skip, T

INT64_MAX = (1 << 63) - 1


def allc(*ts):
    return all(t.const for t in ts if isinstance(t, T))


def bcast(*shapes):
    try:
        return tuple(np.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError:
        raise Skip("shapes do not broadcast")


def partner(b, x, dtypes=None, **need):
    """A second operand broadcastable with x: an existing tensor or a fresh one."""
    dt = dtypes or (x.dtype,)
    ok = lambda t: t is not x and _bc_ok(t.shape, x.shape)
    if b.rng.random() < 0.15 and x.dtype in dt and b.meets(x, need):
        return x   # the same tensor twice (x - x, x * x, Max(x, x))
    return b.pick(dt, ok, new_shape=lambda: b.bcast_partner(x.shape), **need)


def _bc_ok(a, c):
    try:
        n = np.prod(np.broadcast_shapes(tuple(a), tuple(c)), dtype=np.int64)
        return n <= MAX_ELEMS
    except ValueError:
        return False


def axis_arg(b, rank, allow_neg=True):
    a = b.rng.randrange(rank)
    return a - rank if allow_neg and b.rng.random() < 0.4 else a


# ---- elementwise unary ---------------------------------------------------------------------
def _mono(f):
    return lambda lo, hi: (f(lo), f(hi))


UNARY = {
    # op: (needs, bound fn (lo, hi) -> (lo, hi), exact-preserving, attrs fn)
    "Relu": ({}, lambda lo, hi: (max(lo, 0), max(hi, 0)), True, None),
    "Abs": ({}, lambda lo, hi: (0 if lo <= 0 <= hi else min(abs(lo), abs(hi)),
                                max(abs(lo), abs(hi))), True, None),
    "Neg": ({}, lambda lo, hi: (-hi, -lo), True, None),
    "Sigmoid": ({}, lambda lo, hi: (0, 1), False, None),
    "Tanh": ({}, lambda lo, hi: (-1, 1), False, None),
    "Erf": ({}, lambda lo, hi: (-1, 1), False, None),
    "Softsign": ({}, lambda lo, hi: (-1, 1), False, None),
    "Exp": ({"hi_max": 30}, _mono(math.exp), False, None),
    "Softplus": ({"hi_max": 30}, lambda lo, hi: (0, math.log1p(math.exp(hi))), False, None),
    "Log": ({"lo_min": 1e-3}, _mono(math.log), False, None),
    "Sqrt": ({"lo_min": 0.0}, _mono(math.sqrt), False, None),
    "Reciprocal": ({"amin": 0.05}, lambda lo, hi: (-20.0, 20.0), False, None),
    "Sign": ({"exact": True}, lambda lo, hi: (-1, 1), True, None),
    "Floor": ({"exact": True}, lambda lo, hi: (math.floor(lo), math.floor(hi)), True, None),
    "Ceil": ({"exact": True}, lambda lo, hi: (math.ceil(lo), math.ceil(hi)), True, None),
    "Round": ({"exact": True}, lambda lo, hi: (round(lo) - 1, round(hi) + 1), True, None),
    "HardSwish": ({}, lambda lo, hi: (-0.375, max(hi, 0)), False, None),
    "LeakyRelu": ({}, lambda lo, hi: (min(lo, 0) * 2, max(hi, 0)), False,
                  lambda b: dict(alpha=b.rng.choice([0.01, 0.2, 1.5, -0.5, None]))),
    "HardSigmoid": ({}, lambda lo, hi: (0, 1), False,
                    lambda b: dict(alpha=b.rng.choice([0.2, 0.5, None, 1.7]),
                                   beta=b.rng.choice([0.5, None, 0.1]))),
    "Elu": ({}, lambda lo, hi: (-3, max(hi, 0)), False,
            lambda b: dict(alpha=b.rng.choice([1.0, 0.5, 2.5, None]))),
    "Selu": ({}, lambda lo, hi: (-4, max(hi, 0) * 1.1), False,
             lambda b: dict(alpha=b.rng.choice([None, 1.5]), gamma=b.rng.choice([None, 2.0]))),
    "Celu": ({}, lambda lo, hi: (-3, max(hi, 0)), False,
             lambda b: dict(alpha=b.rng.choice([1.0, 0.5, 2.0, None]))),
    "ThresholdedRelu": ({"exact": True}, lambda lo, hi: (0, max(hi, 0)), False,
                        lambda b: dict(alpha=b.rng.choice([1.0, 0.0, 0.5, -1.0, None]))),
}
UNARY_INT = ("Abs", "Neg", "Sign")   # (Relu-14 allows ints, ONNX Runtime has no kernel)


def b_unary(b, op):
    needs, bound, exact_kept, attrs = UNARY[op]
    dts = FLOATS
    if op in UNARY_INT and b.rng.random() < 0.2:
        dts = (I64,)
        needs = dict(needs, amax=float(1 << 60))
    if op in ("HardSwish",) and b.opset < 14:
        raise Skip("opset")
    if op == "Celu":
        dts = (F32,)   # float32 only in ONNX
    x = b.pick(dts, **needs)
    lo, hi = bound(x.lo, x.hi)
    kw = attrs(b) if attrs else {}
    if op == "ThresholdedRelu" and kw.get("alpha", 1.0) is not None:
        exact_kept = True   # x > alpha ? x : 0, on exact x
    exact = x.exact and exact_kept
    frac = x.frac if op in ("Relu", "Abs", "Neg") else (0 if op in ("Floor", "Ceil", "Round", "Sign") else None)
    return b.node(op, [x], [b.out(x.shape, x.dtype, lo, hi, exact, frac, x.const)], **kw)


def b_clip(b):
    x = b.pick(FLOATS)
    ins = [x]
    lo_v, hi_v = sorted([b.rng.choice([-1.0, -0.5, 0.0, 0.25, 1.0, 6.0, -3.0]) for _ in range(2)])
    mode = b.rng.choice(["const", "const", "runtime", "none", "min_only"])
    lo, hi = x.lo, x.hi
    if mode in ("const", "min_only"):
        ins.append(b.fresh((), x.dtype, const=True, arr=np.array(lo_v)))
        lo, hi = max(lo, lo_v), max(hi, lo_v)
        if mode == "const":
            ins.append(b.fresh((), x.dtype, const=True, arr=np.array(hi_v)))
            lo, hi = min(lo, hi_v), min(hi, hi_v)
    elif mode == "runtime":   # scalar runtime min/max; min <= max
        ins.append(b.fresh((), x.dtype, const=False, arr=np.array(lo_v)))
        ins.append(b.fresh((), x.dtype, const=False, arr=np.array(hi_v)))
        lo, hi = min(max(lo, lo_v), hi_v), min(max(hi, lo_v), hi_v)
    exact = all(t.exact for t in ins)
    return b.node("Clip", ins, [b.out(x.shape, x.dtype, lo, hi, exact, x.frac, allc(*ins))])


def b_not(b):
    x = b.pick((BOOL,))
    return b.node("Not", [x], [b.out(x.shape, BOOL, 0, 1, True, 0, x.const)])


# ---- elementwise binary --------------------------------------------------------------------
def _grid_frac(x, y, mul=False):
    if x.frac is None or y.frac is None:
        return None
    return x.frac + y.frac if mul else max(x.frac, y.frac)


def b_binary(b, op):
    r = b.rng
    dts = (I64,) if op in ("Add", "Sub", "Mul", "Div") and r.random() < 0.2 else FLOATS
    if dts == (I64,):
        x = b.pick(dts, amax=float(1 << 61) if op in ("Add", "Sub") else float(1 << 30))
        need = {"amin": 1} if op == "Div" else {}
        y = partner(b, x, amax=float(1 << 61) if op in ("Add", "Sub") else float(1 << 30), **need)
    elif op == "Div":
        x = b.pick(FLOATS)
        y = partner(b, x, amin=0.1)
    elif op == "Pow":
        x = b.pick(FLOATS, lo_min=0.1, amax=10.0)
        if r.random() < 0.5:
            y = b.fresh((), x.dtype, const=True, arr=np.array(r.choice([2.0, 0.5, 3.0, -1.0, 1.5])))
        else:
            y = partner(b, x, amax=3.0)
    else:
        x = b.pick(FLOATS)
        y = partner(b, x, amax=1e15) if op == "Mul" else partner(b, x)
    if x.dtype != y.dtype:
        raise Skip("dtype")
    shape = bcast(x.shape, y.shape)
    xs, ys = (x.lo, x.hi), (y.lo, y.hi)
    if op == "Add":
        lo, hi = x.lo + y.lo, x.hi + y.hi
    elif op == "Sub":
        lo, hi = x.lo - y.hi, x.hi - y.lo
    elif op == "Mul":
        p = [a * c for a in xs for c in ys]
        lo, hi = min(p), max(p)
    elif op == "Div":
        amin = min(abs(y.lo), abs(y.hi)) if y.lo * y.hi > 0 else 1
        lo, hi = -x.amax / amin, x.amax / amin
    else:  # Pow: base in [0.1, 10], exponent |e| <= 3
        e = y.amax
        lo, hi = 0.0, max(10.0 ** e, 0.1 ** -e)
    if x.dtype == I64 and max(abs(lo), abs(hi)) >= 2 ** 62:
        raise Skip("int64 overflow")
    exact = x.exact and y.exact and op in ("Add", "Sub", "Mul") or (x.dtype == I64 and op == "Div")
    frac = _grid_frac(x, y, op == "Mul") if op != "Div" else (0 if x.dtype == I64 else None)
    return b.node(op, [x, y], [b.out(shape, x.dtype, lo, hi, exact, frac, allc(x, y))])


def b_variadic(b, op):
    x = b.pick(FLOATS)
    ins = [x] + [partner(b, x) for _ in range(b.rng.choice([0, 1, 1, 2]))]
    if len({t.dtype for t in ins}) > 1:
        raise Skip("dtype")
    shape = bcast(*[t.shape for t in ins])
    n = len(ins)
    if op in ("Max", "Min"):
        f = max if op == "Max" else min
        lo, hi = f(t.lo for t in ins), f(t.hi for t in ins)
        exact, frac = all(t.exact for t in ins), None
    elif op == "Sum":
        lo, hi = sum(t.lo for t in ins), sum(t.hi for t in ins)
        exact = all(t.frac is not None for t in ins) or (n <= 2 and all(t.exact for t in ins))
        frac = max(t.frac for t in ins) if all(t.frac is not None for t in ins) else None
    else:  # Mean
        lo, hi = min(t.lo for t in ins), max(t.hi for t in ins)
        exact, frac = n == 1 and x.exact, x.frac if n == 1 else None
    return b.node(op, ins, [b.out(shape, x.dtype, lo, hi, exact, frac, allc(*ins))])


def b_prelu(b):
    x = b.pick(FLOATS, ok=lambda t: t.rank >= 1)
    # slope: unidirectionally broadcastable to x (per channel [C,1,1], scalar, or same shape)
    cands = [(1,), x.shape[-1:], x.shape, tuple(x.shape[1:2]) + (1,) * (x.rank - 2)]
    shp = b.rng.choice([c for c in cands if len(c) <= x.rank and bcast(c, x.shape) == x.shape])
    s = b.fresh(shp, x.dtype, dist=b.rng.choice(["normal", "grid"]))
    lo = min(x.lo, x.lo * s.hi, x.lo * s.lo, 0)
    hi = max(x.hi, x.lo * s.lo, 0)
    return b.node("PRelu", [x, s], [b.out(x.shape, x.dtype, lo, hi, x.exact and s.exact,
                                          _grid_frac(x, s, True), allc(x, s))])


def b_compare(b, op):
    dts = (I64,) if b.rng.random() < 0.25 else FLOATS
    x = b.pick(dts, exact=True)
    y = partner(b, x, exact=True)
    if b.rng.random() < 0.3 and y is not x and x.dtype in FLOATS:
        y = b.fresh(y.shape, x.dtype, arr=b.rng.choice([0.0, 0.5, -1.0]) * np.ones(y.shape), const=True)
    if x.dtype != y.dtype:
        raise Skip("dtype")
    return b.node(op, [x, y], [b.out(bcast(x.shape, y.shape), BOOL, 0, 1, True, 0, allc(x, y))])


def b_logic(b, op):
    x = b.pick((BOOL,))
    y = partner(b, x)
    return b.node(op, [x, y], [b.out(bcast(x.shape, y.shape), BOOL, 0, 1, True, 0, allc(x, y))])


def b_where(b):
    c = b.pick((BOOL,))
    x = partner(b, c, dtypes=(F32, F32, F16, I64))
    y = partner(b, x)
    if x.dtype != y.dtype:
        raise Skip("dtype")
    shape = bcast(c.shape, x.shape, y.shape)
    if np.prod(shape) > MAX_ELEMS:
        raise Skip("big")
    fr = _grid_frac(x, y)
    return b.node("Where", [c, x, y], [b.out(shape, x.dtype, min(x.lo, y.lo), max(x.hi, y.hi),
                                              x.exact and y.exact, fr, allc(c, x, y))])


def b_mod(b):
    if b.rng.random() < 0.75:
        x = b.pick((I64,), amax=float(1 << 61))
        y = partner(b, x, amin=1)
        fmod = b.rng.choice([0, 0, 0, 1]) if allc(x, y) else 0
        m = y.amax
        return b.node("Mod", [x, y], [b.out(bcast(x.shape, y.shape), I64, -m, m, True, 0,
                                            allc(x, y))], fmod=fmod)
    # float Mod needs fmod=1, which trnsim supports on constants only (folded)
    x = b.fresh(b.rand_shape(max_rank=2), F32, const=True)
    y = b.fresh(b.bcast_partner(x.shape), F32, const=True, lo=0.5, hi=3.0)
    return b.node("Mod", [x, y], [b.out(bcast(x.shape, y.shape), F32, -3, 3, False, None, True)],
                  fmod=1)


def b_cast(b):
    r = b.rng
    src = r.choice([F32, F32, F16, I64, BOOL])
    to = r.choice([d for d in (F32, F16, I64, BOOL) if d != src] + [F32])
    need = {}
    if src in FLOATS and to in (I64, BOOL):
        need = {"exact": True}
    if to == F16:
        need["amax"] = 60000.0
    x = b.pick((src,), **need)
    lo, hi = x.lo, x.hi
    if to == BOOL:
        lo, hi = 0, 1
    elif to == I64:
        if x.amax > 2 ** 62:
            raise Skip("range")
        lo, hi = math.trunc(lo), math.trunc(hi)
    exact = x.exact
    if to == F32 and src == I64:
        exact = True   # RNE of an integer: one correct answer
    frac = 0 if to in (I64, BOOL) else (x.frac if src in FLOATS else (0 if x.amax < 2 ** 24 else None))
    ins = [x]
    # sometimes through a narrow type and back: bf16 / int8 / int32 round trips
    if r.random() < 0.1 and src == F32:
        mid_to, mid_lim = r.choice([(16, 1e30), (3, 127), (6, 2 ** 31 - 1), (2, 255)])
        if x.amax > mid_lim or (mid_to != 16 and not x.exact) or (mid_to == 2 and x.lo < 0):
            raise Skip("range")
        mid = b.node("Cast", [x], [b.out(x.shape, "float32", lo, hi, x.exact, x.frac, x.const)],
                     to=mid_to)[0]
        b.pool.remove(mid)   # a narrow-typed tensor: not for other ops
        mid.dtype = "narrow"
        ins = [mid]
        exact = x.exact and mid_to != 16
    return b.node("Cast", ins, [b.out(x.shape, to, lo, hi, exact, frac, x.const)],
                  to={F32: 1, F16: 10, I64: 7, BOOL: 9}[to])
