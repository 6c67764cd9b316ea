// Lowering of elementwise ops: each output tile is DMA'd in per operand (broadcasting through
// stride-0 access patterns), computed with one act/ts/tt/select, and DMA'd out.
// Also Round (half to even: a few act/ts/select steps per tile) and BatchNormalization.
#include <fmt/format.h>

#include <cmath>

#include "compiler/lower/layout.h"
#include "compiler/lower/emit.h"
#include "compiler/lower/lower_ctx.h"
#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

using isa::AccessPattern;
using isa::AluOp;
using isa::Engine;
using isa::Opcode;

namespace {

using Compute = std::function<void(const AccessPattern& dst, const std::vector<AccessPattern>& src)>;

// Tiles the output, loads each operand view broadcast to `out_shape`, runs `compute`, stores.
// The tiling is the node's `_layout` (choose_layout pass, lower/layout.h) when it applies, so
// that loads match the producer's stores, else LowerCtx::for_each_tile's. Input tiles have
// dtype `in_dt`, the output tile `out_dt` (fp32, or int64 for exact integer arithmetic); the DMAs
// convert from and to the tensors' dtypes.
void lower_tiles(LowerCtx& ctx, const HbmView& out, const std::vector<HbmView>& ins,
                 const Compute& compute, DType in_dt = DType::Fp32, DType out_dt = DType::Fp32) {
  // hbm[0]: the output tile, hbm[k + 1]: input k's.
  auto tile = [&](int64_t np, int64_t nf, const std::vector<AccessPattern>& hbm) {
    std::vector<AccessPattern> src;
    for (size_t k = 0; k < ins.size(); ++k) {
      AccessPattern s = ctx.sbuf(ctx.sbuf_alloc(nf * isa::dtype_size(in_dt)), np, nf, in_dt);
      ctx.dma(s, hbm[k + 1]);
      src.push_back(s);
    }
    AccessPattern dst = ctx.sbuf(ctx.sbuf_alloc(nf * isa::dtype_size(out_dt)), np, nf, out_dt);
    compute(dst, src);
    // Stores are issued by pool so that sp keeps loading the next tiles (no per-tile stall).
    ctx.dma(hbm[0], dst, Engine::Pool);
  };
  // Buffers are counted in 4-byte elements: an int64 tile counts twice.
  const int wide = (isa::dtype_size(in_dt) > 4 ? static_cast<int>(ins.size()) : 0) +
                   (isa::dtype_size(out_dt) > 4 ? 1 : 0);
  const int buffers = static_cast<int>(ins.size()) + 1 + wide;
  if (auto tiles = layout_tiles(ctx, out, ins, buffers)) {
    for (const LayoutTile& t : *tiles) tile(t.np, t.nf, t.hbm);
    return;
  }
  std::vector<std::vector<int64_t>> strides{out.strides};
  for (const auto& v : ins) strides.push_back(broadcast_strides(v, out.shape));
  const int64_t max_f = ctx.max_free(buffers);
  ctx.for_each_tile(out.shape, strides, max_f, [&](const TileSpec& ts) {
    std::vector<AccessPattern> hbm{ctx.hbm(out, out.offset + ts.offsets[0], ts.np, ts.pstride[0],
                                           {{ts.fstride[0], ts.nf}})};
    for (size_t k = 0; k < ins.size(); ++k)
      hbm.push_back(ctx.hbm(ins[k], ins[k].offset + ts.offsets[k + 1], ts.np, ts.pstride[k + 1],
                            {{ts.fstride[k + 1], ts.nf}}));
    tile(ts.np, ts.nf, hbm);
  });
}

// A scratch tile with the partitions, free size and dtype of `like` (one free dim).
AccessPattern scratch_like(LowerCtx& ctx, const AccessPattern& like) {
  return ctx.sbuf(ctx.sbuf_alloc(like.dims[0].count * isa::dtype_size(like.dtype)),
                  like.num_partitions, like.dims[0].count, like.dtype);
}

// Scalar constant operand (a one-element constant): folded into an immediate when the fp32
// immediate holds it exactly (an integer beyond 2^24 is loaded as a tensor instead).
std::optional<float> scalar_const(const Graph& g, int id) {
  if (id < 0 || !g.t(id).is_const() || g.t(id).value->numel() != 1) return std::nullopt;
  const Value& v = *g.t(id).value;
  if (!isa::dtype_is_float(v.dtype)) {
    const int64_t i = v.data.int_at(0);
    if (i < -(int64_t{1} << 24) || i > (int64_t{1} << 24)) return std::nullopt;
    return static_cast<float>(i);
  }
  return static_cast<float>(v.data[0]);
}

// Integer tensors (int64, int32, int8, uint8, bool) are computed on exactly as int64 tiles when
// every operand is one; a float among them makes the arithmetic fp32.
bool all_int(const Graph& g, const std::vector<int>& ids) {
  for (int id : ids)
    if (id >= 0 && isa::dtype_is_float(g.t(id).dtype)) return false;
  return !ids.empty();
}
DType tile_dtype(bool ints) { return ints ? DType::Int64 : DType::Fp32; }

// The ALU op with its operands swapped (a op b == b swapped(op) a), if there is one.
std::optional<AluOp> swapped(AluOp op) {
  switch (op) {
    case AluOp::Add: case AluOp::Mul: case AluOp::Max: case AluOp::Min:
    case AluOp::Eq: case AluOp::Ne: return op;
    case AluOp::Sub: return AluOp::Rsub;
    case AluOp::Div: return AluOp::Rdiv;
    case AluOp::Lt: return AluOp::Gt;
    case AluOp::Gt: return AluOp::Lt;
    case AluOp::Le: return AluOp::Ge;
    case AluOp::Ge: return AluOp::Le;
    default: return std::nullopt;
  }
}

void lower_binary(LowerCtx& ctx, const Node& n, const OpInfo& info) {
  const Graph& g = ctx.graph();
  HbmView out = ctx.view(n.outputs[0]);
  std::vector<int> ins;
  for (int id : n.inputs)
    if (id >= 0) ins.push_back(id);
  // Mean: a sum, scaled below; Mod with fmod=1 is C's fmod (the dividend's sign).
  const AluOp op = n.op == "Mod" && n.attr_int("fmod", 0) ? AluOp::Fmod : info.alu.value_or(AluOp::Add);
  const bool mean = n.op == "Mean";
  const DType dt = tile_dtype(!mean && all_int(g, ins));
  // Variadic Max/Min: fold left through scratch results is avoided by loading all operands.
  if (ins.size() == 2 && !mean) {
    auto sb = scalar_const(g, ins[1]);
    auto sa = scalar_const(g, ins[0]);
    if (sb && g.t(ins[0]).shape == g.t(n.outputs[0]).shape) {
      lower_tiles(ctx, out, {ctx.view(ins[0])}, [&](auto& dst, auto& src) {
        ts(ctx, dst, src[0], op, *sb);
      }, dt, dt);
      return;
    }
    if (sa && swapped(op) && g.t(ins[1]).shape == g.t(n.outputs[0]).shape) {
      lower_tiles(ctx, out, {ctx.view(ins[1])}, [&](auto& dst, auto& src) {
        ts(ctx, dst, src[0], *swapped(op), *sa);
      }, dt, dt);
      return;
    }
  }
  std::vector<HbmView> views;
  for (int id : ins) views.push_back(ctx.view(id));
  lower_tiles(ctx, out, views, [&](auto& dst, auto& src) {
    if (src.size() == 1) {  // variadic op of one input: a copy (Mean: the input itself)
      ts(ctx, dst, src[0], AluOp::Bypass, 0.0f);
      return;
    }
    tt(ctx, dst, src[0], src[1], op);
    for (size_t k = 2; k < src.size(); ++k) tt(ctx, dst, dst, src[k], op);
    if (mean) ts(ctx, dst, dst, AluOp::Mul, 1.0f / static_cast<float>(src.size()));
  }, dt, dt);
}

// PRelu: max(x, 0) + slope * min(x, 0), the slope broadcast to x.
void lower_prelu(LowerCtx& ctx, const Node& n) {
  lower_tiles(ctx, ctx.view(n.outputs[0]), {ctx.view(n.inputs[0]), ctx.view(n.inputs[1])},
              [&](auto& dst, auto& src) {
                AccessPattern t = scratch_like(ctx, dst);
                ts(ctx, t, src[0], AluOp::Min, 0.0f);
                tt(ctx, t, t, src[1], AluOp::Mul);
                ts(ctx, dst, src[0], AluOp::Max, 0.0f);
                tt(ctx, dst, dst, t, AluOp::Add);
              });
}

// Clip: constant bounds become immediates of one tensor_scalar; runtime bounds are loaded
// (broadcast) and applied with tensor_tensor max/min. ONNX order: min(max(x, lo), hi).
void lower_clip(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  std::optional<float> lo, hi;
  if (n.has_attr("min")) lo = n.attr_float("min", 0.0f);
  if (n.has_attr("max")) hi = n.attr_float("max", 0.0f);
  std::vector<HbmView> views{ctx.view(n.inputs[0])};
  int lo_src = -1, hi_src = -1;
  for (int k = 1; k <= 2; ++k) {
    if (!n.has_input(k)) continue;
    const int id = n.inputs[k];
    if (num_elements(g.t(id).shape) != 1)
      throw InputError(fmt::format("{}: input {} ({}) must be a scalar, not {}", g.where(n),
                                   k == 1 ? "min" : "max", g.t(id).name,
                                   shape_str(g.t(id).shape)));
    if (auto c = scalar_const(g, id)) {
      (k == 1 ? lo : hi) = *c;
    } else {
      (k == 1 ? lo_src : hi_src) = static_cast<int>(views.size());
      views.push_back(ctx.view(id));
    }
  }
  const DType dt = tile_dtype(all_int(g, {n.inputs[0]}));
  lower_tiles(ctx, ctx.view(n.outputs[0]), views, [&](auto& dst, auto& src) {
    ts(ctx, dst, src[0], lo ? AluOp::Max : AluOp::Bypass, lo.value_or(0.0f),
       hi ? AluOp::Min : AluOp::Bypass, hi.value_or(0.0f));
    if (lo_src >= 0) tt(ctx, dst, dst, src[lo_src], AluOp::Max);
    if (hi_src >= 0) tt(ctx, dst, dst, src[hi_src], AluOp::Min);
  }, dt, dt);
}

// Sin and Cos: the act engine's sin is valid on [-pi, pi] only (reference/trainium.md 3.2), so
// x is first reduced to r = x - 2 pi k, k = floor(x / (2 pi) + 1/2), in Cody-Waite form:
// 2 pi = C1 + C2 with C1 = 6.28125 (8 significant bits, so k C1 is exact for |k| < 2^16 and
// x - k C1 exact by Sterbenz), which keeps r within ~1e-7 of the exact remainder for |x| up to
// ~4e5 (a single fp32 product k * 2 pi would be off by ulp(x), 5e-4 at x = 4096, rotary
// embedding angles of long contexts). cos r = sin(pi/2 - |r|), also in [-pi/2, pi/2].
// NaN and +-inf give NaN (mod of inf is NaN), as std::sin/cos. t is a scratch tile like dst.
void sin_cos(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& x,
             const AccessPattern& t, bool cos) {
  using isa::ActFn;
  constexpr double kTwoPi = 6.283185307179586476925;
  constexpr float kC1 = 6.28125f;
  const float c2 = static_cast<float>(kTwoPi - kC1);
  AccessPattern k = scratch_like(ctx, dst);
  ts(ctx, t, x, AluOp::Mul, static_cast<float>(1.0 / kTwoPi), AluOp::Add, 0.5f);
  ts(ctx, k, t, AluOp::Mod, 1.0f);
  tt(ctx, k, t, k, AluOp::Sub);  // floor(x / (2 pi) + 1/2), exact
  ts(ctx, t, k, AluOp::Mul, kC1);
  tt(ctx, t, x, t, AluOp::Sub);  // x - k C1
  ts(ctx, k, k, AluOp::Mul, c2);
  tt(ctx, t, t, k, AluOp::Sub);  // r in [-pi, pi] (to rounding)
  if (!cos) return act(ctx, dst, t, ActFn::Sin);
  act(ctx, t, t, ActFn::Abs);
  act(ctx, dst, t, ActFn::Sin, -1.0f, static_cast<float>(kTwoPi / 4));
}

// Unary ops without a single engine function: a few act/ts/tt steps on the tile.
void emit_unary(LowerCtx& ctx, const Node& n, const OpInfo& info, const AccessPattern& dst,
                const AccessPattern& x) {
  using isa::ActFn;
  const std::string& op = n.op;
  auto alpha = [&](float def) { return n.attr_float("alpha", def); };
  if (!isa::dtype_is_float(x.dtype)) {  // exact integers: no activation-table functions
    if (op == "Neg") return ts(ctx, dst, x, AluOp::Mul, -1.0f);
    if (op == "Not") return ts(ctx, dst, x, AluOp::Eq, 0.0f);
    if (op == "Relu") return ts(ctx, dst, x, AluOp::Max, 0.0f);
    AccessPattern t = scratch_like(ctx, dst);
    if (op == "Abs") {  // max(x, -x)
      ts(ctx, t, x, AluOp::Mul, -1.0f);
      return tt(ctx, dst, x, t, AluOp::Max);
    }
    if (op == "Sign") {  // (x > 0) - (x < 0)
      ts(ctx, t, x, AluOp::Gt, 0.0f);
      ts(ctx, dst, x, AluOp::Lt, 0.0f);
      return tt(ctx, dst, t, dst, AluOp::Sub);
    }
    throw std::logic_error("no integer lowering for unary op " + op);
  }
  if (info.act) return act(ctx, dst, x, *info.act);
  if (op == "Neg") return ts(ctx, dst, x, AluOp::Mul, -1.0f);
  if (op == "Not") return ts(ctx, dst, x, AluOp::Eq, 0.0f);
  if (op == "HardSigmoid") {
    ts(ctx, dst, x, AluOp::Mul, alpha(0.2f), AluOp::Add, n.attr_float("beta", 0.5f));
    return ts(ctx, dst, dst, AluOp::Max, 0.0f, AluOp::Min, 1.0f);
  }
  AccessPattern t = scratch_like(ctx, dst);
  // x - (x mod 1), mod rounding toward -inf; mod(+-inf, 1) is NaN, so a NaN remainder becomes
  // 0 (select on r == r) and +-inf stay themselves. `from` may alias dst.
  auto floor_into = [&](const AccessPattern& from) {
    AccessPattern c = scratch_like(ctx, dst);
    ts(ctx, t, from, AluOp::Mod, 1.0f);
    tt(ctx, c, t, t, AluOp::Eq);
    select(ctx, t, c, t, c);
    tt(ctx, dst, from, t, AluOp::Sub);
  };
  if (op == "Floor") return floor_into(x);
  if (op == "Ceil") {  // -floor(-x)
    ts(ctx, dst, x, AluOp::Mul, -1.0f);
    floor_into(dst);
    return ts(ctx, dst, dst, AluOp::Mul, -1.0f);
  }
  if (op == "Sin" || op == "Cos") return sin_cos(ctx, dst, x, t, op == "Cos");
  if (op == "Softsign") {  // x / (1 + |x|)
    act(ctx, t, x, ActFn::Abs);
    ts(ctx, t, t, AluOp::Add, 1.0f);
    return tt(ctx, dst, x, t, AluOp::Div);
  }
  if (op == "HardSwish") {  // x * clamp(x/6 + 1/2, 0, 1)
    ts(ctx, t, x, AluOp::Mul, 1.0f / 6.0f, AluOp::Add, 0.5f);
    ts(ctx, t, t, AluOp::Max, 0.0f, AluOp::Min, 1.0f);
    return tt(ctx, dst, x, t, AluOp::Mul);
  }
  if (op == "LeakyRelu") {  // max(x, 0) + alpha * min(x, 0)
    ts(ctx, t, x, AluOp::Min, 0.0f, AluOp::Mul, alpha(0.01f));
    ts(ctx, dst, x, AluOp::Max, 0.0f);
    return tt(ctx, dst, dst, t, AluOp::Add);
  }
  if (op == "ThresholdedRelu") {  // x > alpha ? x : 0 (a select: x * (x > alpha) is NaN at -inf)
    ts(ctx, t, x, AluOp::Gt, alpha(1.0f));
    return select(ctx, dst, t, x, t);
  }
  if (op == "Elu" || op == "Selu" || op == "Celu") {
    // max(x, 0) + a * (exp(min(x, 0) / s) - 1); Celu: s = a; Selu scales the sum by gamma.
    const float a = alpha(op == "Selu" ? 1.67326319217681884765625f : 1.0f);
    const float s = op == "Celu" ? a : 1.0f;
    if (s == 0.0f) throw InputError(ctx.graph().where(n) + ": alpha must not be 0");
    ts(ctx, t, x, AluOp::Min, 0.0f);
    act(ctx, t, t, ActFn::Exp, 1.0f / s);
    ts(ctx, t, t, AluOp::Add, -1.0f, AluOp::Mul, a);
    ts(ctx, dst, x, AluOp::Max, 0.0f);
    tt(ctx, dst, dst, t, AluOp::Add);
    if (op == "Selu") ts(ctx, dst, dst, AluOp::Mul, n.attr_float("gamma", 1.05070102214813232421875f));
    return;
  }
  throw std::logic_error("no lowering for unary op " + op);
}

// Cast between integer dtypes wraps like a C cast: v' = ((v + 2^(b-1)) mod 2^b) - 2^(b-1)
// for signed b-bit targets, v mod 2^b for unsigned ones (the store would saturate).
void int_wrap(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& src, DType to) {
  const int bits = to == DType::Int32 ? 32 : 8;
  const float span = std::ldexp(1.0f, bits), half = std::ldexp(1.0f, bits - 1);
  if (to == DType::Uint8) return ts(ctx, dst, src, AluOp::Mod, span);
  ts(ctx, dst, src, AluOp::Add, half, AluOp::Mod, span);
  ts(ctx, dst, dst, AluOp::Sub, half);
}

void lower_cast(LowerCtx& ctx, const Node& n) {
  const Tensor& x = ctx.graph().t(n.inputs[0]);
  const Tensor& y = ctx.graph().t(n.outputs[0]);
  HbmView out = ctx.view(n.outputs[0]);
  const bool xi = !isa::dtype_is_float(x.dtype), yi = !isa::dtype_is_float(y.dtype);
  if (xi) {  // from an integer: int64 tiles (exact); to a float, one rounding in the copy
    const DType dt = yi ? DType::Int64 : DType::Fp32;
    lower_tiles(ctx, out, {ctx.view(n.inputs[0])}, [&](auto& dst, auto& src) {
      if (y.dtype == DType::Bool) return ts(ctx, dst, src[0], AluOp::Ne, 0.0f);
      if (y.dtype == DType::Int32 || y.dtype == DType::Int8 || y.dtype == DType::Uint8)
        return int_wrap(ctx, dst, src[0], y.dtype);
      dve_unary(ctx, Opcode::Copy, dst, src[0]);
    }, DType::Int64, dt);
    return;
  }
  lower_tiles(ctx, out, {ctx.view(n.inputs[0])}, [&](auto& dst, auto& src) {
    if (y.dtype == DType::Bool) {
      ts(ctx, dst, src[0], AluOp::Ne, 0.0f);
    } else if (isa::dtype_is_float(x.dtype) && !isa::dtype_is_float(y.dtype)) {
      // ONNX truncates toward zero; DMA stores round, so truncate here: sign(x)*floor(|x|).
      AccessPattern t = scratch_like(ctx, dst);
      act(ctx, t, src[0], isa::ActFn::Abs);
      ts(ctx, dst, t, AluOp::Mod, 1.0f);
      tt(ctx, t, t, dst, AluOp::Sub);
      act(ctx, dst, src[0], isa::ActFn::Sign);
      tt(ctx, dst, dst, t, AluOp::Mul);
    } else if (y.dtype == DType::Bf16 || y.dtype == DType::Fp16) {
      isa::Instr in = make_instr(Opcode::Copy);
      in.ops[0] = ap_operand(dst);
      in.ops[1] = ap_operand(src[0]);
      ctx.emit(Engine::Dve, in);
    } else {
      isa::Instr in = make_instr(Opcode::Copy);
      in.ops[0] = ap_operand(dst);
      in.ops[1] = ap_operand(src[0]);
      ctx.emit(Engine::Dve, in);
    }
  });
}

}  // namespace

void lower_elementwise(LowerCtx& ctx, const Node& n) {
  const OpInfo& info = *find_op(n.op);
  HbmView out = ctx.view(n.outputs[0]);
  if (n.op == "Cast") return lower_cast(ctx, n);
  const Graph& g = ctx.graph();
  if (n.op == "Where") {
    std::vector<HbmView> v{ctx.view(n.inputs[0]), ctx.view(n.inputs[1]), ctx.view(n.inputs[2])};
    const DType dt = tile_dtype(all_int(g, {n.inputs[1], n.inputs[2]}));
    return lower_tiles(ctx, out, v, [&](auto& dst, auto& src) {
      select(ctx, dst, src[0], src[1], src[2]);
    }, dt, dt);
  }
  if (n.op == "Clip") return lower_clip(ctx, n);
  if (n.op == "PRelu") return lower_prelu(ctx, n);
  if (info.binary || n.op == "Mean") return lower_binary(ctx, n, info);
  // Unary.
  const DType dt = tile_dtype(all_int(g, {n.inputs[0]}));
  lower_tiles(ctx, out, {ctx.view(n.inputs[0])}, [&](auto& dst, auto& src) {
    emit_unary(ctx, n, info, dst, src[0]);
  }, dt, dt);
}

void lower_round(LowerCtx& ctx, const Node& n) {
  HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  // |x| < 2^23: (|x| + 2^23) - 2^23 rounds to an integer, ties to even (fp32 adds round to
  // nearest even); larger |x| (and inf, NaN) are integers already. The sign goes back on by a
  // multiply with sign(x), so -0.4 gives -0 as in ONNX Runtime.
  constexpr float kTwo23 = 8388608.0f;
  ctx.for_each_tile(y.shape, {y.strides, x.strides}, ctx.max_free(4), [&](const TileSpec& ts) {
    auto f32 = [&] { return ctx.sbuf(ctx.sbuf_alloc(ts.nf * 4), ts.np, ts.nf, DType::Fp32); };
    AccessPattern xt = f32(), a = f32(), r = f32(), p = f32();
    ctx.dma(xt, ctx.hbm(x, x.offset + ts.offsets[1], ts.np, ts.pstride[1], {{ts.fstride[1], ts.nf}}));
    act(ctx, a, xt, isa::ActFn::Abs);
    compiler::ts(ctx, r, a, AluOp::Add, kTwo23, AluOp::Sub, kTwo23);
    compiler::ts(ctx, p, a, AluOp::Lt, kTwo23);
    select(ctx, r, p, r, a);
    act(ctx, p, xt, isa::ActFn::Sign);
    tt(ctx, r, r, p, AluOp::Mul);
    ctx.dma(ctx.hbm(y, y.offset + ts.offsets[0], ts.np, ts.pstride[0], {{ts.fstride[0], ts.nf}}), r,
            Engine::Pool);
  });
}

void lower_batchnorm(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  for (int i = 1; i < 5; ++i)
    if (!g.t(n.inputs[i]).is_const())
      throw InputError(g.where(n) + ": scale/bias/mean/var must be constants");
  const Shape& xs = g.t(n.inputs[0]).shape;
  int64_t c = xs[1];
  Shape cs(xs.size() - 1, 1);
  cs[0] = c;
  Value scale(DType::Fp32, cs), shift(DType::Fp32, cs);
  double eps = n.attr_float("epsilon", 1e-5f);
  for (int64_t i = 0; i < c; ++i) {
    double s = g.t(n.inputs[1]).value->data[i] / std::sqrt(g.t(n.inputs[4]).value->data[i] + eps);
    scale.data[i] = s;
    shift.data[i] = g.t(n.inputs[2]).value->data[i] - g.t(n.inputs[3]).value->data[i] * s;
  }
  HbmView sv = ctx.add_const(n.name + ".scale", scale);
  HbmView bv = ctx.add_const(n.name + ".shift", shift);
  lower_tiles(ctx, ctx.view(n.outputs[0]), {ctx.view(n.inputs[0]), sv, bv},
              [&](auto& dst, auto& src) {
                tt(ctx, dst, src[0], src[1], AluOp::Mul);
                tt(ctx, dst, dst, src[2], AluOp::Add);
              });
}

}  // namespace trnsim::compiler
