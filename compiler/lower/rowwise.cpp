// Lowering of row-wise ops: reductions, Softmax/LogSoftmax, ArgMax/ArgMin and
// LayerNormalization. The reduced axes go along the free dimension of a tile (one row per
// partition), loaded with a strided DMA.
#include <fmt/format.h>

#include <algorithm>

#include "compiler/lower/emit.h"
#include "compiler/lower/lower_ctx.h"
#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

using isa::AccessPattern;
using isa::ActFn;
using isa::AluOp;
using isa::Engine;
using isa::Opcode;

namespace {

// A tensor seen as [O, R, I] with R the reduced (contiguous) axes.
struct RowShape {
  int64_t O = 1, R = 1, I = 1;
};

RowShape row_shape(const Shape& s, int64_t a, int64_t b) {
  RowShape r;
  for (int64_t i = 0; i < static_cast<int64_t>(s.size()); ++i)
    (i < a ? r.O : i < b ? r.R : r.I) *= s[i];
  return r;
}

// Calls f(x_offset, x_pstride, x_fstride, np, stat_offset) for each tile of rows; the input row
// has R elements x_fstride apart, the per-row result (reduce output) lives at stat_offset + p.
template <typename F>
void for_each_rows(LowerCtx& ctx, const RowShape& rs, F f) {
  const int64_t P = ctx.target().partitions;
  if (rs.I == 1) {
    for (int64_t o0 = 0; o0 < rs.O; o0 += P)
      f(o0 * rs.R, rs.R, int64_t{1}, std::min(P, rs.O - o0), o0);
    return;
  }
  for (int64_t o = 0; o < rs.O; ++o)
    for (int64_t i0 = 0; i0 < rs.I; i0 += P)
      f(o * rs.R * rs.I + i0, int64_t{1}, rs.I, std::min(P, rs.I - i0), o * rs.I + i0);
}

AccessPattern col(LowerCtx& ctx, int64_t np) { return ctx.sbuf(ctx.sbuf_alloc(4), np, 1, DType::Fp32); }

void check_row(LowerCtx& ctx, const Node& n, int64_t R, int buffers) {
  if (R * 4 * buffers * 2 > ctx.target().sbuf_bytes_per_partition)
    throw InputError(fmt::format("{}: rows of {} elements do not fit in SBUF", ctx.graph().where(n), R));
}

void reduce(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& src, AluOp op) {
  isa::Instr in = make_instr(Opcode::Reduce);
  in.ops[0] = ap_operand(dst);
  in.ops[1] = ap_operand(src);
  in.ops[2] = int_operand(static_cast<int64_t>(op));
  in.ops[3] = int_operand(1);
  ctx.emit(Engine::Dve, in);
}

}  // namespace

void lower_reduce(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  const Shape& s = g.t(n.inputs[0]).shape;
  std::vector<const Value*> vals;
  for (int id : n.inputs) vals.push_back(id >= 0 && g.t(id).is_const() ? &*g.t(id).value : nullptr);
  auto axes = reduce_axes(n, vals, static_cast<int64_t>(s.size()));
  // Drop unit axes; the rest must be contiguous.
  std::vector<int64_t> ax;
  for (int64_t a : axes)
    if (s[a] != 1) ax.push_back(a);
  if (ax.empty()) ax = axes.empty() ? std::vector<int64_t>{} : std::vector<int64_t>{axes[0]};
  for (size_t i = 1; i < ax.size(); ++i)
    if (ax[i] != ax[i - 1] + 1)
      throw InputError(g.where(n) + ": reduction over non-adjacent axes is not supported");
  RowShape rs = ax.empty() ? RowShape{num_elements(s), 1, 1} : row_shape(s, ax.front(), ax.back() + 1);
  check_row(ctx, n, rs.R, 2);
  HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  AluOp op = n.op == "ReduceMax" ? AluOp::Max : n.op == "ReduceMin" ? AluOp::Min : AluOp::Add;
  if (n.op == "ReduceProd") op = AluOp::Mul;
  // ReduceL1/L2/SumSquare: the act engine's row sum of |x| or x^2.
  const bool act_sum = n.op == "ReduceL1" || n.op == "ReduceL2" || n.op == "ReduceSumSquare";
  for_each_rows(ctx, rs, [&](int64_t xo, int64_t xp, int64_t xf, int64_t np, int64_t so) {
    AccessPattern t = ctx.sbuf(ctx.sbuf_alloc(rs.R * 4), np, rs.R, DType::Fp32);
    ctx.dma(t, ctx.hbm(x, x.offset + xo, np, xp, {{xf, rs.R}}));
    AccessPattern r = col(ctx, np);
    if (act_sum) {
      act(ctx, t, t, n.op == "ReduceL1" ? ActFn::Abs : ActFn::Square, imm(1.0f), imm(0.0f), &r);
      if (n.op == "ReduceL2") act(ctx, r, r, ActFn::Sqrt, imm(1.0f), imm(0.0f));
    } else if (n.op == "ReduceLogSumExp") {  // max + log(sum(exp(x - max)))
      AccessPattern mx = col(ctx, np), nmx = col(ctx, np);
      reduce(ctx, mx, t, AluOp::Max);
      ts(ctx, nmx, mx, AluOp::Mul, imm(-1.0f));
      act(ctx, t, t, ActFn::Exp, imm(1.0f), ap_operand(nmx), &r);
      act(ctx, r, r, ActFn::Log, imm(1.0f), imm(0.0f));
      ts(ctx, r, r, AluOp::Add, ap_operand(mx));
    } else {
      reduce(ctx, r, t, op);
    }
    if (n.op == "ReduceMean") ts(ctx, r, r, AluOp::Mul, imm(1.0f / static_cast<float>(rs.R)));
    ctx.dma(ctx.hbm(y, y.offset + so, np, 1, {{1, 1}}), r, isa::Engine::Pool);
  });
}

void lower_softmax(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  const Shape& s = g.t(n.inputs[0]).shape;
  int64_t r = static_cast<int64_t>(s.size());
  int64_t axis = softmax_axis(n, r);
  RowShape rs = row_shape(s, axis, n.attr_int("_legacy", 0) ? r : axis + 1);
  check_row(ctx, n, rs.R, 2);
  HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  for_each_rows(ctx, rs, [&](int64_t xo, int64_t xp, int64_t xf, int64_t np, int64_t) {
    AccessPattern t = ctx.sbuf(ctx.sbuf_alloc(rs.R * 4), np, rs.R, DType::Fp32);
    ctx.dma(t, ctx.hbm(x, x.offset + xo, np, xp, {{xf, rs.R}}));
    AccessPattern mx = col(ctx, np), sum = col(ctx, np);
    reduce(ctx, mx, t, AluOp::Max);
    ts(ctx, mx, mx, AluOp::Mul, imm(-1.0f));
    AccessPattern e = ctx.sbuf(ctx.sbuf_alloc(rs.R * 4), np, rs.R, DType::Fp32);
    act(ctx, e, t, ActFn::Exp, imm(1.0f), ap_operand(mx), &sum);
    if (n.op == "LogSoftmax") {  // x - max - log(sum)
      act(ctx, sum, sum, ActFn::Log, imm(1.0f), imm(0.0f));
      ts(ctx, mx, mx, AluOp::Sub, ap_operand(sum));
      ts(ctx, e, t, AluOp::Add, ap_operand(mx));
    } else {
      ts(ctx, e, e, AluOp::Div, ap_operand(sum));
    }
    ctx.dma(ctx.hbm(y, y.offset + xo, np, xp, {{xf, rs.R}}), e, isa::Engine::Pool);
  });
}

// ArgMax/ArgMin: rows along the free axis; m = reduce max/min, mask = (x == m); the first
// index is min(iota + (1 - mask) * R), the last max(mask * (iota + 1)) - 1; fp32 indices are
// exact below 2^24. The int32 copy is stored into the int64 output by the DMA.
void lower_arg_reduce(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  const Shape& s = g.t(n.inputs[0]).shape;
  const int64_t axis = normalize_axis(n.attr_int("axis", 0), static_cast<int64_t>(s.size()));
  RowShape rs = row_shape(s, axis, axis + 1);
  check_row(ctx, n, rs.R, 4);
  if (rs.R >= (int64_t{1} << 24))
    throw InputError(fmt::format("{}: axis of {} elements is too long", g.where(n), rs.R));
  const bool last = n.attr_int("select_last_index", 0) != 0;
  const float R = static_cast<float>(rs.R);
  HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  for_each_rows(ctx, rs, [&](int64_t xo, int64_t xp, int64_t xf, int64_t np, int64_t so) {
    AccessPattern t = ctx.sbuf(ctx.sbuf_alloc(rs.R * 4), np, rs.R, DType::Fp32);
    ctx.dma(t, ctx.hbm(x, x.offset + xo, np, xp, {{xf, rs.R}}));
    AccessPattern m = col(ctx, np);
    reduce(ctx, m, t, n.op == "ArgMax" ? AluOp::Max : AluOp::Min);
    ts(ctx, t, t, AluOp::Eq, ap_operand(m));  // mask
    AccessPattern io = ctx.sbuf(ctx.sbuf_alloc(rs.R * 4), np, rs.R, DType::Fp32);
    isa::Instr iota = make_instr(Opcode::Iota);
    iota.ops[0] = ap_operand(io);
    iota.ops[1] = int_operand(last ? 1 : 0);
    iota.ops[2] = int_operand(0);
    ctx.emit(Engine::Pool, iota);
    if (!last) ts(ctx, t, t, AluOp::Mul, imm(-R), AluOp::Add, R);  // (1 - mask) * R
    isa::Instr tt = make_instr(Opcode::TensorTensor);
    tt.ops[0] = ap_operand(t);
    tt.ops[1] = ap_operand(t);
    tt.ops[2] = ap_operand(io);
    tt.ops[3] = int_operand(static_cast<int64_t>(last ? AluOp::Mul : AluOp::Add));
    ctx.emit(Engine::Dve, tt);
    reduce(ctx, m, t, last ? AluOp::Max : AluOp::Min);
    if (last) ts(ctx, m, m, AluOp::Add, imm(-1.0f));
    AccessPattern mi = ctx.sbuf(ctx.sbuf_alloc(4), np, 1, DType::Int32);
    isa::Instr cp = make_instr(Opcode::Copy);
    cp.ops[0] = ap_operand(mi);
    cp.ops[1] = ap_operand(m);
    ctx.emit(Engine::Dve, cp);
    ctx.dma(ctx.hbm(y, y.offset + so, np, 1, {{1, 1}}), mi, isa::Engine::Pool);
  });
}

void lower_layernorm(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (n.outputs[i] >= 0)
      throw InputError(g.where(n) + ": the Mean/InvStdDev outputs are not supported");
  const Shape& s = g.t(n.inputs[0]).shape;
  int64_t r = static_cast<int64_t>(s.size());
  int64_t axis = normalize_axis(n.attr_int("axis", -1), r);
  RowShape rs = row_shape(s, axis, r);
  check_row(ctx, n, rs.R, 5);
  const float eps = n.attr_float("epsilon", 1e-5f);
  HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  Shape norm(s.begin() + axis, s.end());
  HbmView gamma = ctx.view(n.inputs[1]);
  auto gs = broadcast_strides(gamma.shape, norm);
  std::optional<HbmView> beta;
  if (n.has_input(2)) beta = ctx.view(n.inputs[2]);
  auto row_stride = [&](const HbmView& v) {
    if (v.shape.empty() || num_elements(v.shape) == 1) return int64_t{0};
    if (num_elements(v.shape) != rs.R)
      throw InputError(g.where(n) + ": scale/bias must have the normalized shape or be scalars");
    return int64_t{1};
  };
  (void)gs;
  for_each_rows(ctx, rs, [&](int64_t xo, int64_t xp, int64_t xf, int64_t np, int64_t) {
    AccessPattern t = ctx.sbuf(ctx.sbuf_alloc(rs.R * 4), np, rs.R, DType::Fp32);
    ctx.dma(t, ctx.hbm(x, x.offset + xo, np, xp, {{xf, rs.R}}));
    AccessPattern sum = col(ctx, np), ss = col(ctx, np);
    reduce(ctx, sum, t, AluOp::Add);
    ts(ctx, sum, sum, AluOp::Mul, imm(-1.0f / static_cast<float>(rs.R)));  // -mean
    AccessPattern xc = ctx.sbuf(ctx.sbuf_alloc(rs.R * 4), np, rs.R, DType::Fp32);
    act(ctx, xc, t, ActFn::Copy, imm(1.0f), ap_operand(sum));
    act(ctx, t, xc, ActFn::Square, imm(1.0f), imm(0.0f), &ss);
    act(ctx, ss, ss, ActFn::Rsqrt, imm(1.0f / static_cast<float>(rs.R)), imm(eps));  // rstd
    ts(ctx, xc, xc, AluOp::Mul, ap_operand(ss));
    AccessPattern gt = ctx.sbuf(ctx.sbuf_alloc(rs.R * 4), np, rs.R, DType::Fp32);
    ctx.dma(gt, ctx.hbm(gamma, gamma.offset, np, 0, {{row_stride(gamma), rs.R}}));
    isa::Instr mul = make_instr(Opcode::TensorTensor);
    mul.ops[0] = ap_operand(xc);
    mul.ops[1] = ap_operand(xc);
    mul.ops[2] = ap_operand(gt);
    mul.ops[3] = int_operand(static_cast<int64_t>(AluOp::Mul));
    ctx.emit(Engine::Dve, mul);
    if (beta) {
      AccessPattern bt = ctx.sbuf(ctx.sbuf_alloc(rs.R * 4), np, rs.R, DType::Fp32);
      ctx.dma(bt, ctx.hbm(*beta, beta->offset, np, 0, {{row_stride(*beta), rs.R}}));
      isa::Instr add = mul;
      add.ops[2] = ap_operand(bt);
      add.ops[3] = int_operand(static_cast<int64_t>(AluOp::Add));
      ctx.emit(Engine::Dve, add);
    }
    // Stores are issued by pool so that sp keeps loading the next tiles.
    ctx.dma(ctx.hbm(y, y.offset + xo, np, xp, {{xf, rs.R}}), xc, isa::Engine::Pool);
  });
}

}  // namespace trnsim::compiler
