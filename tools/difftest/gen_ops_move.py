"""Op builders of the random-graph generator: data movement (views, copies, gathers, Pad,
Resize), compile-time ops (Shape, Size, ConstantOfShape, Range, Constant) and If."""
import math

import numpy as np
from onnx import helper

from graph import BOOL, F16, F32, FLOATS, I64, MAX_ELEMS, ONNX_TYPE, Skip, T
from gen_ops import INT64_MAX, allc, axis_arg

ANY = (F32, F32, F32, F16, I64, BOOL)


def same(b, x, shape, op, ins, **attrs):
    """A node whose output holds (a rearrangement of) x's values."""
    allin = [x] + [t for t in ins if isinstance(t, T)]
    o = b.out(shape, x.dtype, x.lo, x.hi, x.exact, x.frac, allc(*allin))
    return b.node(op, [x] + list(ins), [o], **attrs)


def anyx(b, ok=lambda t: True, min_rank=0):
    return b.pick(ANY, ok=lambda t: t.rank >= min_rank and ok(t),
                  new_shape=lambda: b.rand_shape(min_rank=min_rank))


def b_identity(b):
    x = anyx(b)
    return same(b, x, x.shape, "Identity", [])


def b_dropout(b):
    x = b.pick(FLOATS)
    ins = [x]
    if b.rng.random() < 0.5:
        ins.append(b.fresh((), F32, const=True, arr=np.array(b.rng.choice([0.0, 0.5, 0.9]))))
    outs = [b.out(x.shape, x.dtype, x.lo, x.hi, x.exact, x.frac, x.const)]
    if b.rng.random() < 0.3:
        outs.append(b.out(x.shape, BOOL, 1, 1, True, 0, True))
    return b.node("Dropout", ins, outs)


def factor_shape(b, n, rank):
    """A random shape with product n."""
    dims = []
    rest = n
    for _ in range(rank - 1):
        divs = [d for d in range(1, min(rest, 512) + 1) if rest % d == 0]
        d = b.rng.choice(divs)
        dims.append(d)
        rest //= d
    dims.append(rest)
    b.rng.shuffle(dims)
    return dims


def b_reshape(b):
    x = anyx(b)
    rank = b.rng.choice([0, 1, 2, 3, 4, 5]) if x.size == 1 else b.rng.choice([1, 2, 3, 4])
    shape = factor_shape(b, x.size, rank) if rank else []
    spec = list(shape)
    if spec and b.rng.random() < 0.5:
        spec[b.rng.randrange(len(spec))] = -1
    for i in range(min(len(spec), x.rank)):   # 0 copies the input's dim
        if spec[i] == x.shape[i] and b.rng.random() < 0.3 and x.shape[i] != 0:
            spec[i] = 0
    return same(b, x, shape, "Reshape", [b.const(spec)])


def b_flatten(b):
    x = anyx(b, min_rank=1)
    ax = b.rng.randint(-x.rank, x.rank)
    a = ax + x.rank if ax < 0 else ax
    shape = (int(np.prod(x.shape[:a])), int(np.prod(x.shape[a:])))
    return same(b, x, shape, "Flatten", [], axis=ax if ax != 1 or b.rng.random() < 0.5 else None)


def b_squeeze(b):
    x = anyx(b, ok=lambda t: 1 in t.shape)
    ones = [i for i, d in enumerate(x.shape) if d == 1]
    if b.rng.random() < 0.3:
        return same(b, x, tuple(d for d in x.shape if d != 1), "Squeeze", [])
    axes = sorted(b.rng.sample(ones, b.rng.randint(1, len(ones))))
    shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    return same(b, x, shape, "Squeeze", [b.const([a - x.rank if b.rng.random() < 0.3 else a
                                                   for a in axes])])


def b_unsqueeze(b):
    x = anyx(b, ok=lambda t: t.rank <= 4)
    n = b.rng.choice([1, 1, 2])
    r = x.rank + n
    axes = sorted(b.rng.sample(range(r), n))
    shape = list(x.shape)
    for a in axes:
        shape.insert(a, 1)
    return same(b, x, shape, "Unsqueeze", [b.const([a - r if b.rng.random() < 0.3 else a
                                                     for a in axes])])


def b_transpose(b):
    x = anyx(b, min_rank=1)
    perm = list(range(x.rank))
    b.rng.shuffle(perm)
    if b.rng.random() < 0.2:
        return same(b, x, x.shape[::-1], "Transpose", [])
    return same(b, x, tuple(x.shape[p] for p in perm), "Transpose", [], perm=perm)


def b_concat(b):
    x = anyx(b, min_rank=1)
    ax = axis_arg(b, x.rank)
    a = ax % x.rank
    ins = [x]
    for _ in range(b.rng.choice([1, 1, 2, 3])):
        if b.rng.random() < 0.25:
            ins.append(x)
            continue
        shp = list(x.shape)
        shp[a] = b.rng.choice([1, 2, 3, 7, 64, 129])
        ok = lambda t, s=tuple(shp): t.dtype == x.dtype and t.rank == x.rank and all(
            d == e for i, (d, e) in enumerate(zip(t.shape, s)) if i != a)
        ins.append(b.pick((x.dtype,), ok=ok, new_shape=tuple(shp)))
    shape = list(x.shape)
    shape[a] = sum(t.shape[a] for t in ins)
    if np.prod(shape) > MAX_ELEMS:
        raise Skip("big")
    lo, hi = min(t.lo for t in ins), max(t.hi for t in ins)
    frac = None if any(t.frac is None for t in ins) else max(t.frac for t in ins)
    o = b.out(shape, x.dtype, lo, hi, all(t.exact for t in ins), frac, allc(*ins))
    return b.node("Concat", ins, [o], axis=ax)


def b_split(b):
    x = anyx(b, ok=lambda t: t.rank >= 1 and max(t.shape) >= 2, min_rank=1)
    big = [i for i, d in enumerate(x.shape) if d >= 2]
    a = b.rng.choice(big)
    n = x.shape[a]
    ins = []
    if b.rng.random() < 0.6:
        k = b.rng.randint(1, min(n, 4))
        cuts = sorted(b.rng.sample(range(1, n), k - 1)) if k > 1 else []
        sizes = [e - s for s, e in zip([0] + cuts, cuts + [n])]
        ins.append(b.const(sizes))
    else:
        k = b.rng.choice([d for d in (2, 3, 4) if n % d == 0] or [1])
        sizes = [n // k] * k
    outs = []
    for s in sizes:
        shp = list(x.shape)
        shp[a] = s
        outs.append(b.out(shp, x.dtype, x.lo, x.hi, x.exact, x.frac, x.const))
    ax = a - x.rank if b.rng.random() < 0.3 else a
    return b.node("Split", [x] + ins, outs, axis=ax if ax or b.rng.random() < 0.5 else None)


def b_slice(b):
    r = b.rng
    x = anyx(b, min_rank=1)
    naxes = r.randint(1, x.rank)
    axes = sorted(r.sample(range(x.rank), naxes))
    starts, ends, steps, shape = [], [], [], list(x.shape)
    for a in axes:
        n = x.shape[a]
        step = r.choice([1, 1, 1, 2, 3, -1, -2])
        s = r.choice([0, r.randint(0, n - 1), -r.randint(1, n), -INT64_MAX, INT64_MAX, n + 5])
        e = r.choice([n, r.randint(0, n), -r.randint(1, n), INT64_MAX, -INT64_MAX, -n - 7])
        ln = len(range(*slice(s, e, step).indices(n)))
        if ln == 0:
            s, e = (0, n) if step > 0 else (n - 1, -INT64_MAX)
            ln = len(range(*slice(s, e, step).indices(n)))
        starts.append(s)
        ends.append(e)
        steps.append(step)
        shape[a] = ln
    ins = [b.const(starts), b.const(ends)]
    allsteps1 = all(s == 1 for s in steps)
    if axes != list(range(x.rank)) or r.random() < 0.5 or not allsteps1:
        ins.append(b.const([a - x.rank if r.random() < 0.3 else a for a in axes]))
        if not allsteps1 or r.random() < 0.5:
            ins.append(b.const(steps))
    return same(b, x, shape, "Slice", ins)


def b_expand(b):
    x = anyx(b, ok=lambda t: t.rank <= 4)
    target = [d if d != 1 or b.rng.random() < 0.5 else b.rng.choice([2, 3, 17, 130]) for d in x.shape]
    # 1 in the shape operand keeps x's dim
    spec = [1 if (d == e != 1 and b.rng.random() < 0.2) else d for d, e in zip(target, x.shape)]
    lead = [b.rng.choice([1, 2, 3]) for _ in range(b.rng.choice([0, 0, 1]))]
    shape = lead + target
    if np.prod(shape) > MAX_ELEMS:
        raise Skip("big")
    return same(b, x, shape, "Expand", [b.const(lead + spec)])


def index_tensor(b, shape, n, const=None):
    """int64 indices into an axis of size n, negative ones included."""
    arr = b.nrng.integers(-n, n, size=shape, dtype=np.int64)
    return b.fresh(shape, I64, const=const, arr=arr)


def b_gather(b):
    x = anyx(b, min_rank=1)
    ax = axis_arg(b, x.rank)
    n = x.shape[ax]
    ishape = b.rand_shape(max_rank=2)
    ishape = tuple(min(d, 64) for d in ishape)
    idx = index_tensor(b, ishape, n)
    shape = x.shape[:ax % x.rank] + ishape + x.shape[ax % x.rank + 1:]
    if np.prod(shape) > MAX_ELEMS:
        raise Skip("big")
    return same(b, x, shape, "Gather", [idx], axis=ax if ax or b.rng.random() < 0.5 else None)


def b_gather_elements(b):
    x = anyx(b, min_rank=1)
    ax = axis_arg(b, x.rank)
    ishape = [b.rng.randint(1, d) for d in x.shape]
    ishape[ax] = b.rng.choice([1, 2, x.shape[ax], x.shape[ax] + 3])
    if np.prod(ishape) > MAX_ELEMS:
        raise Skip("big")
    idx = index_tensor(b, ishape, x.shape[ax])
    return same(b, x, ishape, "GatherElements", [idx], axis=ax if ax or b.rng.random() < 0.5 else None)


def b_tile(b):
    x = anyx(b, min_rank=1)
    reps = [b.rng.choice([1, 1, 2, 3, 5]) for _ in x.shape]
    shape = [d * k for d, k in zip(x.shape, reps)]
    if np.prod(shape) > MAX_ELEMS:
        raise Skip("big")
    return same(b, x, shape, "Tile", [b.const(reps)])


def b_depth_to_space(b):
    bs = b.rng.choice([2, 2, 3])
    x = b.pick((F32,), ok=lambda t: t.rank == 4 and t.shape[1] % (bs * bs) == 0,
               new_shape=lambda: (b.rng.choice([1, 2]), bs * bs * b.rng.choice([1, 2, 3]),
                                  b.rng.choice([1, 3, 8]), b.rng.choice([1, 5, 8])))
    n, c, h, w = x.shape
    return same(b, x, (n, c // (bs * bs), h * bs, w * bs), "DepthToSpace", [], blocksize=bs,
                mode=b.rng.choice([None, "DCR", "CRD"]))


def b_space_to_depth(b):
    bs = b.rng.choice([2, 2, 3])
    x = b.pick((F32,), ok=lambda t: t.rank == 4 and t.shape[2] % bs == 0 and t.shape[3] % bs == 0,
               new_shape=lambda: (b.rng.choice([1, 2]), b.rng.choice([1, 3, 4]),
                                  bs * b.rng.choice([1, 2, 5]), bs * b.rng.choice([1, 3, 8])))
    n, c, h, w = x.shape
    return same(b, x, (n, c * bs * bs, h // bs, w // bs), "SpaceToDepth", [], blocksize=bs)


def b_trilu(b):
    if b.opset < 14:
        raise Skip("opset")
    x = anyx(b, min_rank=2)
    ins = []
    if b.rng.random() < 0.6:
        ins.append(b.fresh((), I64, const=True, arr=np.array(b.rng.choice([0, 1, -1, 3, -5, 100]))))
    o = b.out(x.shape, x.dtype, min(x.lo, 0), max(x.hi, 0), x.exact, x.frac, allc(x, *ins))
    return b.node("Trilu", [x] + ins, [o], upper=b.rng.choice([None, 0, 1]))


def b_scatter_nd(b):
    r = b.rng
    x = anyx(b, min_rank=1)
    q = r.randint(1, x.rank)
    cells = int(np.prod(x.shape[:q]))
    k = r.randint(1, min(cells, 16))
    flat = r.sample(range(cells), k)            # unique targets
    idx = np.array(np.unravel_index(flat, x.shape[:q])).T.astype(np.int64)
    if r.random() < 0.3:
        idx = idx - np.array(x.shape[:q]) * (r.random() < 0.5)   # negative indices
    lead = [k] if r.random() < 0.7 else ([1, k])
    idx = idx.reshape(lead + [q])
    it = b.fresh(idx.shape, I64, const=True, arr=idx)
    ushape = tuple(lead) + x.shape[q:]
    u = b.pick((x.dtype,), ok=lambda t: t.shape == ushape, new_shape=ushape)
    red = None
    # reductions: opset 16, not float16 (ONNX Runtime), constant data only (trnsim's claim)
    if b.opset >= 16 and r.random() < 0.3 and x.dtype in (F32, I64) and allc(x, u):
        red = r.choice(["add", "mul", "none"])
    lo, hi = min(x.lo, u.lo), max(x.hi, u.hi)
    if red == "add":
        lo, hi = x.lo + min(u.lo, 0), x.hi + max(u.hi, 0)
    if red == "mul":
        m = x.amax * max(u.amax, 1)
        lo, hi = -m, m
    frac = None if x.frac is None or u.frac is None else max(x.frac, u.frac)
    o = b.out(x.shape, x.dtype, lo, hi, x.exact and u.exact, frac if red != "mul" else None,
              allc(x, u))
    return b.node("ScatterND", [x, it, u], [o], reduction=red)


def b_cumsum(b):
    x = b.pick((F32, F32, I64), ok=lambda t: t.rank >= 1, new_shape=lambda: b.rand_shape(min_rank=1),
               amax=float(1 << 40))
    ax = axis_arg(b, x.rank)
    n = x.shape[ax]
    a = b.fresh((), I64 if b.rng.random() < 0.8 else I64, const=True, arr=np.array(ax))
    m = n * x.amax
    if m >= 2 ** 62:
        raise Skip("overflow")
    exact = x.dtype == I64 or (x.frac is not None and m * 2.0 ** x.frac < 2 ** 24)
    o = b.out(x.shape, x.dtype, -m, m, exact, x.frac if exact else None, x.const)
    return b.node("CumSum", [x, a], [o], exclusive=b.rng.choice([None, 0, 1]),
                  reverse=b.rng.choice([None, 0, 1]))


def b_pad(b):
    r = b.rng
    x = anyx(b, ok=lambda t: t.dtype != BOOL, min_rank=1)
    mode = r.choice(["constant", "constant", "reflect", "edge"])
    pads = []
    for d in x.shape:
        lim = d - 1 if mode == "reflect" else 5
        pads.append(r.choice([0, 0, 1, 2, min(3, lim)]) if lim > 0 else 0)
    for d in x.shape:
        lim = d - 1 if mode == "reflect" else 5
        pads.append(r.choice([0, 1, 2, min(4, lim)]) if lim > 0 else 0)
    pads = [min(p, d - 1) if mode == "reflect" else p for p, d in zip(pads, list(x.shape) * 2)]
    if mode == "edge" and 0 in x.shape:
        raise Skip("edge of empty")
    shape = [d + pads[i] + pads[i + x.rank] for i, d in enumerate(x.shape)]
    if np.prod(shape) > MAX_ELEMS:
        raise Skip("big")
    ins = [b.const(pads)]
    lo, hi = x.lo, x.hi
    if mode == "constant":
        lo, hi = min(lo, 0), max(hi, 0)
        if r.random() < 0.5:
            v = r.choice([0.0, 1.5, -2.0]) if x.dtype != I64 else r.choice([0, 7, -3])
            ins.append(b.fresh((), x.dtype, const=True, arr=np.array(v)))
            lo, hi = min(lo, v), max(hi, v)
    return same(b, x, shape, "Pad", ins, mode=mode if mode != "constant" or r.random() < 0.3 else None) \
        if (lo, hi) == (x.lo, x.hi) else b.node(
            "Pad", [x] + ins, [b.out(shape, x.dtype, lo, hi, x.exact, x.frac, allc(x))],
            mode=mode if mode != "constant" or r.random() < 0.3 else None)


RESIZE_SCALES = [0.5, 0.6, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 0.3, 0.35, 4.0]


def b_resize(b):
    r = b.rng
    x = b.pick((F32,), ok=lambda t: t.rank == 4 and t.size <= MAX_ELEMS // 4,
               new_shape=lambda: (r.choice([1, 2]), r.choice([1, 3, 40]),
                                  r.choice([1, 2, 5, 6, 13, 25]), r.choice([1, 3, 9, 14, 16])))
    mode = r.choice(["nearest", "nearest", "linear", "linear", "cubic"])
    ctm = r.choice(["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel", None,
                    "tf_half_pixel_for_nn" if mode == "nearest" else "tf_crop_and_resize"])
    sc = [1.0, 1.0, r.choice(RESIZE_SCALES), r.choice(RESIZE_SCALES)]
    use_sizes = r.random() < 0.3
    if use_sizes:
        sizes = [x.shape[0], x.shape[1], r.randint(1, 3 * x.shape[2]), r.randint(1, 3 * x.shape[3])]
        shape = sizes
        ins = ["", "", b.const(sizes)]
    else:
        shape = [int(math.floor(d * s)) for d, s in zip(x.shape, sc)]
        if min(shape) < 1:
            raise Skip("empty")
        ins = ["", b.const(np.array(sc, np.float32), F32)]
    if np.prod(shape) > MAX_ELEMS:
        raise Skip("big")
    kw = dict(mode=mode, coordinate_transformation_mode=ctm)
    if ctm == "tf_crop_and_resize":   # a region of interest, partly outside the image
        y0, x0 = r.choice([0.0, 0.1, -0.2]), r.choice([0.0, 0.25])
        roi = [0, 0, y0, x0, 1, 1, r.choice([1.0, 0.8, 1.3]), r.choice([1.0, 0.6])]
        ins[0] = b.const(np.array(roi, np.float32), F32)
        kw["extrapolation_value"] = r.choice([None, 0.0, -1.5])
    if mode == "cubic":
        kw["cubic_coeff_a"] = r.choice([None, -0.5, -0.75])
        kw["exclude_outside"] = r.choice([None, 0, 1])
    if mode == "nearest":
        kw["nearest_mode"] = r.choice([None, "round_prefer_floor", "round_prefer_ceil", "floor", "ceil"])
        o = b.out(shape, F32, x.lo, x.hi, x.exact, x.frac, x.const)
    else:   # cubic overshoots by up to ~1/4 of the range; extrapolation adds its value
        m = x.amax * (1.5 if mode == "cubic" else 1.0) + 1.5
        o = b.out(shape, F32, -m, m, False, None, x.const)
    return b.node("Resize", [x] + ins, [o], **kw)


# ---- compile-time ops ----------------------------------------------------------------------
def b_shape(b):
    x = anyx(b)
    kw = {}
    dims = list(x.shape)
    if b.opset >= 15 and x.rank and b.rng.random() < 0.4:
        s, e = b.rng.randint(-x.rank, x.rank), b.rng.choice([None, b.rng.randint(-x.rank, x.rank)])
        kw = dict(start=s, end=e)
        dims = dims[slice(s, e)]
        if not dims:
            raise Skip("empty shape slice: a zero-size tensor")
    o = b.out((len(dims),), I64, min(dims, default=0), max(dims, default=0), True, 0, True)
    sh = b.node("Shape", [x], [o], **kw)[0]
    if b.rng.random() < 0.5 and len(dims) and max(dims) < 1000 and int(np.prod(dims)) <= MAX_ELEMS:
        v = b.rng.choice([0.0, 1.0, -2.5])
        o2 = b.out(dims, F32, v, v, True, 1, True)
        b.node("ConstantOfShape", [sh], [o2], value=helper.make_tensor("v", 1, [1], [v]))
    return sh


def b_size(b):
    x = anyx(b)
    return b.node("Size", [x], [b.out((), I64, x.size, x.size, True, 0, True)])


def b_range(b):
    r = b.rng
    if r.random() < 0.5:
        s, d = r.randint(-5, 5), r.choice([1, 2, 3, -1])
        n = r.randint(1, 300)
        lim = s + d * n
        vals = [s, lim, d]
        dt = I64
    else:
        s, d = r.choice([0.0, -1.5, 0.25]), r.choice([0.5, 1.0, -0.25, 0.1])
        n = r.randint(1, 100)
        lim = s + d * n - d / 2
        vals = [s, lim, d]
        dt = F32
    ins = [b.fresh((), dt, const=True, arr=np.array(v)) for v in vals]
    cnt = max(int(math.ceil((vals[1] - vals[0]) / vals[2])), 0)
    lo, hi = sorted([vals[0], vals[0] + vals[2] * max(cnt - 1, 0)])
    frac = 0 if dt == I64 else None
    return b.node("Range", ins, [b.out((cnt,), dt, lo, hi, dt == I64, frac, True)])


def b_if(b):
    """If on a constant condition (inlined by trnsim's frontend); branches use outer tensors."""
    x = b.pick((F32,))
    cond = b.fresh((), BOOL, const=True, arr=np.array(b.rng.random() < 0.5))
    names = [b.name("br"), b.name("br")]
    vi = helper.make_tensor_value_info
    then_g = helper.make_graph([helper.make_node("Relu", [x.name], [names[0]])], "then", [],
                               [vi(names[0], ONNX_TYPE[F32], list(x.shape))])
    else_g = helper.make_graph([helper.make_node("Neg", [x.name], [names[1]])], "else", [],
                               [vi(names[1], ONNX_TYPE[F32], list(x.shape))])
    x.uses += 1
    o = b.out(x.shape, F32, -x.amax, x.amax, x.exact, x.frac, x.const)
    return b.node("If", [cond], [o], then_branch=then_g, else_branch=else_g)
