// Lowering of row-wise ops: reductions over any set of axes, Softmax/LogSoftmax, ArgMax/ArgMin
// and LayerNormalization. The kept axes are rows (one per partition), the reduced axes go along
// the free dimension (lower/rows.h). A row that fits in SBUF is loaded once, as always; a longer
// one is processed in chunks whose partial results (sums, maxima, value and index of the
// maximum, exp-sums at the chunk's maximum) are combined per row, followed by another pass over
// the chunks for ops whose output has the input's shape. Sums of more than kSeqSum elements
// are blocked (rows.h), so their error does not grow with the row length.
#include <fmt/format.h>

#include <algorithm>

#include "compiler/lower/emit.h"
#include "compiler/lower/lower_ctx.h"
#include "compiler/lower/rows.h"
#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

using isa::AccessPattern;
using isa::ActFn;
using isa::AluOp;
using isa::Engine;
using isa::Opcode;

namespace {

// A fresh [np, len] tile of dtype dt holding chunk c of the tile's rows of v.
AccessPattern load_chunk(LowerCtx& ctx, const HbmView& v, const RowTile& rt, const RowChunk& c,
                         DType dt) {
  AccessPattern t = ctx.sbuf(ctx.sbuf_alloc(c.len * isa::dtype_size(dt)), rt.np, c.len, dt);
  ctx.dma(t, ctx.hbm(v, v.offset + rt.x_off + c.off, rt.np, rt.xp, c.dims));
  return t;
}

// Stores a tile of chunk c into y (same layout as x). Issued by pool so that sp keeps loading.
void store_chunk(LowerCtx& ctx, const HbmView& y, const RowTile& rt, const RowChunk& c,
                 const AccessPattern& t) {
  ctx.dma(ctx.hbm(y, y.offset + rt.y_off + c.off, rt.np, rt.yp, c.dims), t, Engine::Pool);
}

// Per-chunk partial results of a tile of rows: pinned [P, K] tiles (column k = chunk k), one
// per entry of `dts` (fp32, or int64 for exact integer reductions), reused by every tile of
// rows.
struct Partials {
  std::vector<int64_t> base;
  std::vector<DType> dts;
  int64_t K = 0;
  AccessPattern col(int i, int64_t k, int64_t np, const LowerCtx& ctx) const {
    return ctx.sbuf(base[i] + k * isa::dtype_size(dts[i]), np, 1, dts[i]);
  }
  AccessPattern all(int i, int64_t np, const LowerCtx& ctx) const {
    return ctx.sbuf(base[i], np, K, dts[i]);
  }
};

Partials pin_partials(LowerCtx& ctx, const Node& n, const std::vector<DType>& dts, int64_t K) {
  Partials p;
  p.K = K;
  p.dts = dts;
  for (DType dt : dts) {
    const int64_t b = ctx.sbuf_pin(K * isa::dtype_size(dt));
    if (b < 0)
      throw InputError(fmt::format("{}: rows of {} chunks need more SBUF for partial results "
                                   "than there is", ctx.graph().where(n), K));
    p.base.push_back(b);
  }
  return p;
}

// A [np, 1] column of dtype dt.
AccessPattern col_of(LowerCtx& ctx, int64_t np, DType dt) {
  return ctx.sbuf(ctx.sbuf_alloc(isa::dtype_size(dt)), np, 1, dt);
}

enum class Red { Sum, Mean, Max, Min, Prod, L1, L2, SumSquare, LogSumExp };

Red red_of(const std::string& op) {
  if (op == "ReduceSum") return Red::Sum;
  if (op == "ReduceMean" || op == "GlobalAveragePool") return Red::Mean;
  if (op == "ReduceMax" || op == "GlobalMaxPool") return Red::Max;
  if (op == "ReduceMin") return Red::Min;
  if (op == "ReduceProd") return Red::Prod;
  if (op == "ReduceL1") return Red::L1;
  if (op == "ReduceL2") return Red::L2;
  if (op == "ReduceSumSquare") return Red::SumSquare;
  return Red::LogSumExp;
}

}  // namespace

void lower_row_reduce(LowerCtx& ctx, const Node& n, const std::vector<int64_t>& axes) {
  const Graph& g = ctx.graph();
  const Shape& s = g.t(n.inputs[0]).shape;
  if (num_elements(g.t(n.outputs[0]).shape) == 0) return;
  if (num_elements(s) == 0)
    throw InputError(g.where(n) + ": a reduction over an empty axis is not supported");
  const Red op = red_of(n.op);
  const HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  const RowGeom geo = row_geom(s, axes, false);
  // Integer inputs are reduced exactly on int64 tiles (wrapping like ONNX Runtime's int64
  // accumulators; Mean truncates); L2 and LogSumExp go through floating point in ONNX Runtime
  // and are not lowered for integers.
  const bool ints = !isa::dtype_is_float(x.dtype);
  if (ints && (op == Red::L2 || op == Red::LogSumExp))
    throw InputError(fmt::format("{}: {} of an integer tensor ({}) is not supported (only "
                                 "Sum/Mean/Max/Min/Prod/L1/SumSquare are exact on integers)",
                                 g.where(n), n.op, isa::dtype_name(x.dtype)));
  if (ints && op == Red::Mean && static_cast<int64_t>(static_cast<float>(geo.R)) != geo.R)
    throw InputError(fmt::format("{}: integer ReduceMean over {} elements per output (the "
                                 "divisor must be exact in fp32, at most 2^24)", g.where(n), geo.R));
  const DType dt = ints ? DType::Int64 : LowerCtx::sbuf_dtype(x.dtype);
  const DType rt_dt = ints ? DType::Int64 : DType::Fp32;  // results and partials
  const std::vector<RowChunk> chunks =
      row_chunks(geo, row_chunk_limit(ctx, 2, isa::dtype_size(dt)));
  const int64_t K = static_cast<int64_t>(chunks.size());
  const AluOp alu = op == Red::Max ? AluOp::Max
                    : op == Red::Min ? AluOp::Min
                    : op == Red::Prod ? AluOp::Mul
                                      : AluOp::Add;
  const bool act_sum = op == Red::L1 || op == Red::L2 || op == Red::SumSquare;
  const ActFn act_fn = op == Red::L1 ? ActFn::Abs : ActFn::Square;
  // LogSumExp keeps two partials per chunk: its maximum (a) and sum of exp(x - max) (b).
  const Partials part =
      K > 1 ? pin_partials(ctx, n, std::vector<DType>(op == Red::LogSumExp ? 2 : 1, rt_dt), K)
            : Partials{};
  for_each_row_tile(ctx, geo, [&](const RowTile& rt) {
    const int64_t np = rt.np;
    AccessPattern r = col_of(ctx, np, rt_dt);
    // Chunk c's partial result into a (and b).
    auto partial = [&](const RowChunk& c, const AccessPattern& a, const AccessPattern& b) {
      AccessPattern t = load_chunk(ctx, x, rt, c, dt);
      if (ints && act_sum) {  // |x| = max(x, -x) or x * x, exact on the ALU, then the sum
        if (op == Red::L1) {
          AccessPattern neg = ctx.sbuf(ctx.sbuf_alloc(c.len * 8), np, c.len, DType::Int64);
          ts(ctx, neg, t, AluOp::Mul, imm(-1.0f));
          tt(ctx, t, t, neg, AluOp::Max);
        } else {
          tt(ctx, t, t, t, AluOp::Mul);
        }
        reduce_row(ctx, a, t, AluOp::Add);
      } else if (act_sum) {
        act_row_sum(ctx, t, t, act_fn, imm(1.0f), imm(0.0f), a);
      } else if (op == Red::LogSumExp) {  // max + log(sum(exp(x - max)))
        AccessPattern nmx = stat_col(ctx, np);
        reduce_row(ctx, a, t, AluOp::Max);
        ts(ctx, nmx, a, AluOp::Mul, imm(-1.0f));
        act_row_sum(ctx, t, t, ActFn::Exp, imm(1.0f), ap_operand(nmx), b);
      } else {
        reduce_row(ctx, a, t, alu);
      }
    };
    if (K == 1) {
      if (op == Red::LogSumExp) {
        AccessPattern mx = stat_col(ctx, np);
        partial(chunks[0], mx, r);
        act(ctx, r, r, ActFn::Log, imm(1.0f), imm(0.0f));
        ts(ctx, r, r, AluOp::Add, ap_operand(mx));
      } else {
        partial(chunks[0], r, r);
      }
    } else {
      for (int64_t k = 0; k < K; ++k) {
        const AccessPattern a = part.col(0, k, np, ctx);
        partial(chunks[k], a, part.base.size() > 1 ? part.col(1, k, np, ctx) : a);
      }
      const AccessPattern a = part.all(0, np, ctx);
      if (op == Red::LogSumExp) {  // M = max a_k; sum = sum_k b_k exp(a_k - M)
        AccessPattern mx = stat_col(ctx, np), nmx = stat_col(ctx, np);
        reduce_row(ctx, mx, a, AluOp::Max);
        ts(ctx, nmx, mx, AluOp::Mul, imm(-1.0f));
        AccessPattern w = ctx.sbuf(ctx.sbuf_alloc(K * 4), np, K, DType::Fp32);
        act(ctx, w, a, ActFn::Exp, imm(1.0f), ap_operand(nmx));
        tt(ctx, w, w, part.all(1, np, ctx), AluOp::Mul);
        reduce_row(ctx, r, w, AluOp::Add);
        act(ctx, r, r, ActFn::Log, imm(1.0f), imm(0.0f));
        ts(ctx, r, r, AluOp::Add, ap_operand(mx));
      } else {
        reduce_row(ctx, r, a, alu);
      }
    }
    if (op == Red::L2) act(ctx, r, r, ActFn::Sqrt, imm(1.0f), imm(0.0f));
    if (op == Red::Mean && ints) ts(ctx, r, r, AluOp::Div, imm(static_cast<float>(geo.R)));
    if (op == Red::Mean && !ints) ts(ctx, r, r, AluOp::Mul, imm(1.0f / static_cast<float>(geo.R)));
    ctx.dma(ctx.hbm(y, y.offset + rt.y_off, np, rt.yp, {{1, 1}}), r, Engine::Pool);
  });
  ctx.unpin_all();
}

void lower_reduce(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  std::vector<const Value*> vals;
  for (int id : n.inputs) vals.push_back(id >= 0 && g.t(id).is_const() ? &*g.t(id).value : nullptr);
  const int64_t r = static_cast<int64_t>(g.t(n.inputs[0]).shape.size());
  lower_row_reduce(ctx, n, reduce_axes(n, vals, r));
}

void lower_softmax(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  const Shape& s = g.t(n.inputs[0]).shape;
  const int64_t r = static_cast<int64_t>(s.size());
  if (num_elements(s) == 0) return;
  const int64_t axis = softmax_axis(n, r);
  std::vector<int64_t> axes{axis};
  if (n.attr_int("_legacy", 0))  // opset < 13: flattened to 2-D at axis
    for (int64_t a = axis + 1; a < r; ++a) axes.push_back(a);
  const RowGeom geo = row_geom(s, axes, true);
  const HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  const DType dt = LowerCtx::sbuf_dtype(x.dtype);
  const int es = isa::dtype_size(dt);
  const std::vector<RowChunk> chunks = row_chunks(geo, row_chunk_limit(ctx, 2, es));
  const int64_t K = static_cast<int64_t>(chunks.size());
  const bool log = n.op == "LogSoftmax";
  // Long rows: per chunk its maximum (a) and sum of exp(x - max) (b).
  const Partials part = K > 1 ? pin_partials(ctx, n, {DType::Fp32, DType::Fp32}, K) : Partials{};
  for_each_row_tile(ctx, geo, [&](const RowTile& rt) {
    const int64_t np = rt.np;
    if (K == 1) {
      const RowChunk& c = chunks[0];
      AccessPattern t = load_chunk(ctx, x, rt, c, dt);
      AccessPattern mx = stat_col(ctx, np), sum = stat_col(ctx, np);
      reduce_row(ctx, mx, t, AluOp::Max);
      ts(ctx, mx, mx, AluOp::Mul, imm(-1.0f));
      AccessPattern e = ctx.sbuf(ctx.sbuf_alloc(c.len * es), np, c.len, dt);
      act_row_sum(ctx, e, t, ActFn::Exp, imm(1.0f), ap_operand(mx), sum);
      if (log) {  // x - max - log(sum)
        act(ctx, sum, sum, ActFn::Log, imm(1.0f), imm(0.0f));
        ts(ctx, mx, mx, AluOp::Sub, ap_operand(sum));
        ts(ctx, e, t, AluOp::Add, ap_operand(mx));
      } else {
        ts(ctx, e, e, AluOp::Div, ap_operand(sum));
      }
      store_chunk(ctx, y, rt, c, e);
      return;
    }
    for (int64_t k = 0; k < K; ++k) {
      AccessPattern t = load_chunk(ctx, x, rt, chunks[k], dt);
      const AccessPattern a = part.col(0, k, np, ctx);
      AccessPattern nmx = stat_col(ctx, np);
      reduce_row(ctx, a, t, AluOp::Max);
      ts(ctx, nmx, a, AluOp::Mul, imm(-1.0f));
      act_row_sum(ctx, t, t, ActFn::Exp, imm(1.0f), ap_operand(nmx), part.col(1, k, np, ctx));
    }
    // M = max_k a_k, S = sum_k b_k exp(a_k - M); nmx = -M.
    AccessPattern mx = stat_col(ctx, np), nmx = stat_col(ctx, np), sum = stat_col(ctx, np);
    reduce_row(ctx, mx, part.all(0, np, ctx), AluOp::Max);
    ts(ctx, nmx, mx, AluOp::Mul, imm(-1.0f));
    AccessPattern w = ctx.sbuf(ctx.sbuf_alloc(K * 4), np, K, DType::Fp32);
    act(ctx, w, part.all(0, np, ctx), ActFn::Exp, imm(1.0f), ap_operand(nmx));
    tt(ctx, w, w, part.all(1, np, ctx), AluOp::Mul);
    reduce_row(ctx, sum, w, AluOp::Add);
    if (log) {  // bias -M - log S
      act(ctx, sum, sum, ActFn::Log, imm(1.0f), imm(0.0f));
      ts(ctx, nmx, nmx, AluOp::Sub, ap_operand(sum));
    }
    for (const RowChunk& c : chunks) {
      AccessPattern t = load_chunk(ctx, x, rt, c, dt);
      AccessPattern e = ctx.sbuf(ctx.sbuf_alloc(c.len * es), np, c.len, dt);
      if (log) {
        ts(ctx, e, t, AluOp::Add, ap_operand(nmx));
      } else {
        act(ctx, e, t, ActFn::Exp, imm(1.0f), ap_operand(nmx));
        ts(ctx, e, e, AluOp::Div, ap_operand(sum));
      }
      store_chunk(ctx, y, rt, c, e);
    }
  });
  ctx.unpin_all();
}

// ArgMax/ArgMin: m = reduce max/min, mask = (x == m) or x is NaN (m is NaN then); the first index is
// min(iota + (1 - mask) * L), the last max(mask * (iota + 1)) - 1 (fp32 indices are exact
// below 2^24). A long row: per chunk its extremum and that index (plus the chunk's start), then
// the same selection over the chunks' values and indices. Integer inputs are compared exactly
// (their values on int64 tiles). The int32 index is stored into the int64 output by the DMA.
void lower_arg_reduce(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  const Shape& s = g.t(n.inputs[0]).shape;
  if (num_elements(s) == 0) return;
  const int64_t axis = normalize_axis(n.attr_int("axis", 0), static_cast<int64_t>(s.size()));
  const RowGeom geo = row_geom(s, {axis}, false);
  if (geo.R >= (int64_t{1} << 24))
    throw InputError(fmt::format("{}: axis of {} elements is too long", g.where(n), geo.R));
  const bool last = n.attr_int("select_last_index", 0) != 0;
  const AluOp ext = n.op == "ArgMax" ? AluOp::Max : AluOp::Min;
  const HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  const bool ints = !isa::dtype_is_float(x.dtype);
  const DType dt = ints ? DType::Int64 : LowerCtx::sbuf_dtype(x.dtype);
  const std::vector<RowChunk> chunks =
      row_chunks(geo, row_chunk_limit(ctx, 4, isa::dtype_size(dt)));
  const int64_t K = static_cast<int64_t>(chunks.size());
  // Index of the first (last) element equal to m[p] among `len`: mask (in place in t, dtype of
  // t) against the index `io` [np, len] (fp32), reduced into `idx`.
  auto select = [&](const AccessPattern& t, const AccessPattern& io, const AccessPattern& m,
                    const AccessPattern& idx, float len) {
    if (!ints) {  // a NaN extremum (max/min keep NaN) selects the first (last) NaN, as numpy
      AccessPattern nan = ctx.sbuf(ctx.sbuf_alloc(t.dims[0].count * isa::dtype_size(t.dtype)),
                                   t.num_partitions, t.dims[0].count, t.dtype);
      tt(ctx, nan, t, t, AluOp::Ne);
      ts(ctx, t, t, AluOp::Eq, ap_operand(m));
      tt(ctx, t, t, nan, AluOp::Max);
    } else {
      ts(ctx, t, t, AluOp::Eq, ap_operand(m));  // mask
    }
    if (!last) ts(ctx, t, t, AluOp::Mul, imm(-len), AluOp::Add, len);  // (1 - mask) * len
    tt(ctx, t, t, io, last ? AluOp::Mul : AluOp::Add);
    reduce_row(ctx, idx, t, last ? AluOp::Max : AluOp::Min);
  };
  auto iota = [&](int64_t np, int64_t len) {
    AccessPattern io = ctx.sbuf(ctx.sbuf_alloc(len * 4), np, len, DType::Fp32);
    isa::Instr in = make_instr(Opcode::Iota);
    in.ops[0] = ap_operand(io);
    in.ops[1] = int_operand(last ? 1 : 0);
    in.ops[2] = int_operand(0);
    ctx.emit(Engine::Pool, in);
    return io;
  };
  // Long rows: per chunk its extremum (a) and the index of it (b).
  // Extrema are kept in dt (int64 for integers), indices in fp32.
  const Partials part = K > 1 ? pin_partials(ctx, n, {dt, DType::Fp32}, K) : Partials{};
  for_each_row_tile(ctx, geo, [&](const RowTile& rt) {
    const int64_t np = rt.np;
    AccessPattern m = stat_col(ctx, np);
    // The row's extremum: m itself for floats (overwritten by the index), else an int64 column.
    const AccessPattern mv = ints ? col_of(ctx, np, dt) : m;
    for (int64_t k = 0; k < K; ++k) {
      const RowChunk& c = chunks[k];
      AccessPattern t = load_chunk(ctx, x, rt, c, dt);
      const AccessPattern v = K == 1 ? mv : part.col(0, k, np, ctx);
      const AccessPattern idx = K == 1 ? m : part.col(1, k, np, ctx);
      reduce_row(ctx, v, t, ext);
      select(t, iota(np, c.len), v, idx, static_cast<float>(c.len));
      const float shift = static_cast<float>(c.start) - (last ? 1.0f : 0.0f);
      if (shift != 0.0f) ts(ctx, idx, idx, AluOp::Add, imm(shift));
    }
    if (K > 1) {  // the same selection over the chunks: their extrema and (global) indices
      AccessPattern io = ctx.sbuf(ctx.sbuf_alloc(K * 4), np, K, DType::Fp32);
      if (last) {
        ts(ctx, io, part.all(1, np, ctx), AluOp::Add, imm(1.0f));
      } else {
        dve_unary(ctx, Opcode::Copy, io, part.all(1, np, ctx));
      }
      AccessPattern t = ctx.sbuf(ctx.sbuf_alloc(K * isa::dtype_size(dt)), np, K, dt);
      dve_unary(ctx, Opcode::Copy, t, part.all(0, np, ctx));
      reduce_row(ctx, mv, t, ext);
      select(t, io, mv, m, static_cast<float>(geo.R));
      if (last) ts(ctx, m, m, AluOp::Add, imm(-1.0f));
    }
    AccessPattern mi = ctx.sbuf(ctx.sbuf_alloc(4), np, 1, DType::Int32);
    dve_unary(ctx, Opcode::Copy, mi, m);
    ctx.dma(ctx.hbm(y, y.offset + rt.y_off, np, rt.yp, {{1, 1}}), mi, Engine::Pool);
  });
  ctx.unpin_all();
}

}  // namespace trnsim::compiler
