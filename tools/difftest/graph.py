"""Graph builder for the differential tester's random-graph generator (gen.py, gen_ops.py).

A Builder holds the tensors made so far (the pool) with what the generator knows about each:
shape, dtype, a bound on its values, whether every correct implementation must compute it
bit-exactly, and whether it is known at compile time. Op builders (gen_ops.py) pick inputs from
the pool or make fresh graph inputs / constants, and add nodes.

Exactness matters because some ops are discontinuous (Floor, comparisons, ArgMax, Cast to int,
Sign, ...): fed with a value that ONNX Runtime and trnsim may round differently by one ulp
(after an Exp, a Div, a long sum), their outputs may differ legitimately. So discontinuous ops
only take `exact` tensors: graph inputs, constants, and results of ops that are correctly
rounded single IEEE operations (Add, Mul, Max, movement, ...) or exact on a `grid` (multiples of
2^-frac small enough that every partial sum is exact in fp32, and inputs exact in bf16, so even
MatMul and Conv are exact in any summation order).
"""
import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from onnx import GraphProto, TensorProto, helper, numpy_helper

F32, F16, I64, BOOL = "float32", "float16", "int64", "bool"
FLOATS = (F32, F16)
ONNX_TYPE = {F32: TensorProto.FLOAT, F16: TensorProto.FLOAT16, I64: TensorProto.INT64,
             BOOL: TensorProto.BOOL}
NP_TYPE = {F32: np.float32, F16: np.float16, I64: np.int64, BOOL: np.bool_}
FLT_BIG = 1e30        # bounds beyond this are "may overflow": such tensors are not used further
F16_MAX = 60000.0
MAX_ELEMS = 1 << 18   # per tensor (1 MiB of fp32); long rows still reach 2^17
BF16_BITS = 8         # significand bits of bf16: grid values exact in bf16 below 2^8 ulps


class Skip(Exception):
    """The op builder cannot make a valid node from this state: try another op."""


@dataclass
class T:
    name: str
    shape: tuple
    dtype: str
    lo: float = 0.0
    hi: float = 0.0
    exact: bool = True           # every correct implementation gives these exact bits
    frac: Optional[int] = None   # grid: values are multiples of 2^-frac (implies exact)
    const: bool = False          # known at compile time
    uses: int = 0

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def rank(self):
        return len(self.shape)

    @property
    def amax(self):
        return max(abs(self.lo), abs(self.hi))

    def grid_exact(self, bits=24):
        """On a grid whose every value has fewer than `bits` significant bits."""
        return self.frac is not None and self.amax * 2.0 ** self.frac < 2.0 ** bits


def grid_of(arr, dtype):
    """The smallest frac in 0..4 with arr * 2^frac all integers (None if none)."""
    if dtype not in FLOATS:
        return 0
    a = arr.astype(np.float64)
    for f in range(5):
        s = a * 2.0 ** f
        if np.all(s == np.round(s)) and (a.size == 0 or np.max(np.abs(s)) < 2 ** 23):
            return f
    return None


@dataclass
class Builder:
    rng: object                     # random.Random
    nrng: object                    # numpy Generator
    opset: int
    nodes: list = field(default_factory=list)
    pool: list = field(default_factory=list)
    inputs: list = field(default_factory=list)       # (T, ndarray)
    initializers: list = field(default_factory=list)
    desc: list = field(default_factory=list)          # one line per node for why.txt
    counter: int = 0

    def name(self, prefix):
        self.counter += 1
        return f"{prefix}{self.counter}"

    # ---- values ---------------------------------------------------------------------------
    def values(self, shape, dtype, dist=None, lo=None, hi=None):
        """Random values of one of several distributions (dist None: pick one)."""
        r, n = self.rng, self.nrng
        if dtype == BOOL:
            p = r.choice([0.5, 0.5, 0.1, 0.9])
            return n.random(shape) < p
        if dtype == I64:
            dist = dist or r.choice(["small", "small", "small", "large", "huge"])
            if lo is not None:
                return n.integers(lo, hi + 1, size=shape, dtype=np.int64)
            if dist == "small":
                return n.integers(-10, 11, size=shape, dtype=np.int64)
            if dist == "large":   # beyond fp32's 2^24
                return n.integers(-(1 << 40), 1 << 40, size=shape, dtype=np.int64)
            # beyond fp64's 2^53, with room for a few additions
            return n.integers(-(1 << 58), 1 << 58, size=shape, dtype=np.int64)
        dist = dist or r.choice(["normal", "normal", "normal", "grid", "grid", "scaled", "wide"])
        if lo is not None:
            v = n.uniform(lo, hi, size=shape)
        elif dist == "grid":      # ties for ArgMax/Max, halves for Round, exact sums
            f = r.choice([0, 1, 2])
            lim = r.choice([2, 4, 8, 16])
            v = n.integers(-lim, lim + 1, size=shape) / 2.0 ** f
        elif dist == "scaled":
            v = n.standard_normal(shape) * r.choice([1e-3, 0.05, 20.0, 300.0])
        elif dist == "wide":      # magnitudes from 1e-4 to 1e4, both signs
            v = np.sign(n.standard_normal(shape)) * 10.0 ** n.uniform(-4, 4, size=shape)
        else:
            v = np.clip(n.standard_normal(shape), -4, 4)
        if dtype == F16:
            v = np.clip(v, -F16_MAX, F16_MAX)
        return np.asarray(v, dtype=NP_TYPE[dtype])

    def fresh(self, shape, dtype, const=None, dist=None, lo=None, hi=None, arr=None):
        """A new graph input or constant (initializer or Constant node) with random values."""
        shape = tuple(int(d) for d in shape)
        if arr is None:
            arr = self.values(shape, dtype, dist, lo, hi)
        arr = np.asarray(arr, dtype=NP_TYPE[dtype]).reshape(shape)
        if const is None:
            const = self.rng.random() < 0.25
        t = self.tensor_for(arr, dtype, const)
        if not const:
            t.name = self.name("x")
            self.inputs.append((t, arr))
        elif self.rng.random() < 0.3:
            t.name = self.name("k")
            self.nodes.append(helper.make_node("Constant", [], [t.name], name=self.name("Constant_"),
                                               value=numpy_helper.from_array(arr, t.name)))
        else:
            t.name = self.name("c")
            self.initializers.append(numpy_helper.from_array(arr, t.name))
        self.pool.append(t)
        return t

    def tensor_for(self, arr, dtype, const):
        lo = float(arr.min()) if arr.size else 0.0
        hi = float(arr.max()) if arr.size else 0.0
        if dtype == BOOL:
            lo, hi = 0.0, 1.0
        return T("", arr.shape, dtype, lo, hi, True, grid_of(arr, dtype), const)

    def const(self, arr, dtype=I64):
        """An int64 (or other) constant operand such as shape, axes, pads: always an initializer
        or Constant node, never added to the pool."""
        arr = np.asarray(arr, dtype=NP_TYPE[dtype])
        name = self.name("s")
        if self.rng.random() < 0.3:
            self.nodes.append(helper.make_node("Constant", [], [name], name=self.name("Constant_"),
                                               value=numpy_helper.from_array(arr, name)))
        else:
            self.initializers.append(numpy_helper.from_array(arr, name))
        return name

    # ---- picking ----------------------------------------------------------------------------
    def pick(self, dtypes=FLOATS, ok=lambda t: True, new_shape=None, fresh_p=0.25, **need):
        """An existing tensor that satisfies `ok` and the value needs, else a fresh one of
        `new_shape` (a shape, or a callable returning one).
        needs: exact=True, lo_min=v (values >= v), amin=v (|values| >= v), amax=v (|v| <= v)."""
        if isinstance(dtypes, str):
            dtypes = (dtypes,)
        cands = [t for t in self.pool if t.dtype in dtypes and ok(t) and self.meets(t, need)]
        if cands and self.rng.random() >= fresh_p:
            weights = [3.0 if t.uses == 0 else 1.0 for t in cands]
            return self.rng.choices(cands, weights)[0]
        if new_shape is None:
            new_shape = self.rand_shape
        shape = new_shape() if callable(new_shape) else new_shape
        dtype = self.rng.choice(dtypes) if dtypes != FLOATS else (
            F16 if self.rng.random() < 0.08 else F32)
        t = self.fresh(shape, dtype, **self.dist_for(need, dtype))
        if not ok(t):
            raise Skip("fresh tensor does not fit")
        return t

    def meets(self, t, need):
        if t.lo < -FLT_BIG or t.hi > FLT_BIG:
            return False
        if need.get("exact") and not t.exact:
            return False
        if "lo_min" in need and t.lo < need["lo_min"]:
            return False
        if "amin" in need and not (t.lo >= need["amin"] or t.hi <= -need["amin"]):
            return False
        if "amax" in need and t.amax > need["amax"]:
            return False
        if "hi_max" in need and t.hi > need["hi_max"]:
            return False
        return True

    def dist_for(self, need, dtype):
        if dtype == I64:
            if "lo_min" in need:
                return dict(lo=int(math.ceil(need["lo_min"])), hi=int(need["lo_min"]) + 20)
            if "amin" in need:
                return dict(lo=1, hi=12)
            return dict(dist="small") if "amax" in need else {}
        if "lo_min" in need:
            lo = max(need["lo_min"], 0.05)
            return dict(lo=lo, hi=lo + self.rng.choice([1.0, 3.0, 10.0]))
        if "amin" in need:
            return dict(lo=need["amin"], hi=need["amin"] + 3.0) if self.rng.random() < 0.5 else \
                dict(lo=-need["amin"] - 3.0, hi=-need["amin"])
        if "amax" in need or "hi_max" in need:
            return dict(dist=self.rng.choice(["normal", "grid"]))
        return {}

    # ---- shapes -------------------------------------------------------------------------------
    def rand_dim(self, big=False):
        r = self.rng.random()
        if r < 0.25:
            return 1
        if r < 0.6:
            return self.rng.randint(2, 8)
        if r < 0.85:
            return self.rng.choice([3, 5, 7, 9, 13, 16, 17, 31, 32, 33, 63, 64, 65])
        return self.rng.choice([127, 128, 129, 255, 256, 257, 300, 511, 513] +
                               ([1000, 4097, 8193, 9001] if big else []))

    def rand_shape(self, rank=None, min_rank=0, max_rank=4):
        if rank is None:
            rank = self.rng.choice([r for r in [0, 1, 1, 2, 2, 2, 3, 3, 4, 4] if
                                    min_rank <= r <= max_rank] or [min_rank])
        if rank >= 1 and self.rng.random() < 0.06:   # one long row (> 8k elements)
            shape = [1] * (rank - 1) + [self.rng.choice([8193, 9001, 12000, 16385, 40000])]
            if rank >= 2 and self.rng.random() < 0.5:
                shape[-2] = self.rng.choice([2, 3])
            return tuple(shape)
        for _ in range(20):
            shape = tuple(self.rand_dim() for _ in range(rank))
            if int(np.prod(shape, dtype=np.int64)) <= MAX_ELEMS:
                return shape
        return tuple([1] * rank)

    def bcast_partner(self, shape):
        """A shape that broadcasts with `shape` (numpy rules), sometimes the larger one."""
        r = self.rng
        s = [d if r.random() < 0.6 else 1 for d in shape]
        if s and r.random() < 0.4:
            s = s[r.randint(0, len(s)):]         # fewer leading dims
        if r.random() < 0.2 and len(s) == len(shape) < 4:
            s = [r.choice([2, 3])] + list(s)      # a new leading dim on the partner
        if np.prod(np.broadcast_shapes(tuple(s), tuple(shape)), dtype=np.int64) > MAX_ELEMS:
            return tuple(shape)
        return tuple(s)

    # ---- nodes --------------------------------------------------------------------------------
    def node(self, op, ins, outs, **attrs):
        """Add a node; `ins` are T (or names, or '' for absent optional inputs); `outs` are T
        whose names are assigned here. Returns outs."""
        names = []
        for t in ins:
            if isinstance(t, T):
                t.uses += 1
                names.append(t.name)
            else:
                names.append(t)
        for t in outs:
            t.name = self.name("t")
            self.pool.append(t)
        nname = f"{op}_{len([n for n in self.nodes if n.op_type != 'Constant'])}"
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op, names, [t.name for t in outs], name=nname, **attrs))
        shp = lambda t: str(tuple(t.shape)) if isinstance(t, T) else "-"
        a = ", ".join(f"{k}={_short(v)}" for k, v in attrs.items() if not isinstance(v, GraphProto))
        self.desc.append(f"{nname}: {op}({a}) in {' '.join(shp(t) for t in ins)} -> "
                         f"{' '.join(shp(t) for t in outs)}")
        return outs

    def out(self, shape, dtype, lo, hi, exact=False, frac=None, const=False):
        """A result tensor descriptor (named when passed to node())."""
        if exact is False:
            frac = None
        if frac is not None and not (max(abs(lo), abs(hi)) * 2.0 ** frac < 2.0 ** 24):
            frac = None
        if dtype == F16 and max(abs(lo), abs(hi)) > F16_MAX:
            raise Skip("float16 overflow")
        if max(abs(lo), abs(hi)) > FLT_BIG:
            raise Skip("values may overflow")
        shape = tuple(int(d) for d in shape)
        if 0 in shape:
            raise Skip("zero-size tensor")
        if int(np.prod(shape, dtype=np.int64)) > MAX_ELEMS * 2:
            raise Skip("too large")
        return T("", shape, dtype, float(lo), float(hi), bool(exact), frac, const)



def _short(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, bytes):
        return v.decode()
    return str(v)
