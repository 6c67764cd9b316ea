// Lowering of LayerNormalization: rows on partitions, the normalized axes along the free
// dimension (lower/rows.h). The statistics are taken of the row shifted by its first element
// x0: mean = x0 + mean(x - x0), then var = mean((x - mean)^2), so a constant row has mean x0
// and variance 0 exactly and normalises to exactly the bias (not to rounding noise amplified by
// 1/sqrt(eps)). A row that fits in SBUF is loaded once; a longer one takes three passes over
// its chunks (shifted sums, squared deviations, output).
#include <fmt/format.h>

#include <optional>

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

void lower_layernorm(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  const Shape& s = g.t(n.inputs[0]).shape;
  const int64_t r = static_cast<int64_t>(s.size());
  if (num_elements(s) == 0) return;
  const int64_t axis = normalize_axis(n.attr_int("axis", -1), r);
  std::vector<int64_t> axes;
  for (int64_t a = axis; a < r; ++a) axes.push_back(a);
  const RowGeom geo = row_geom(s, axes, true);
  const float eps = n.attr_float("epsilon", 1e-5f);
  const float inv_r = 1.0f / static_cast<float>(geo.R);
  const HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  const HbmView gamma = ctx.view(n.inputs[1]);
  std::optional<HbmView> beta;
  if (n.has_input(2)) beta = ctx.view(n.inputs[2]);
  // Mean and InvStdDev (optional outputs): one value per row, row-major over the kept axes.
  std::optional<HbmView> mean_out, rstd_out;
  if (n.outputs.size() > 1 && n.outputs[1] >= 0) mean_out = ctx.view(n.outputs[1]);
  if (n.outputs.size() > 2 && n.outputs[2] >= 0) rstd_out = ctx.view(n.outputs[2]);
  const RowGeom stat_geo = row_geom(s, axes, false);
  auto row_stride = [&](const HbmView& v) {
    if (v.shape.empty() || num_elements(v.shape) == 1) return int64_t{0};
    if (num_elements(v.shape) != geo.R)
      throw InputError(g.where(n) + ": scale/bias must have the normalized shape or be scalars");
    return int64_t{1};
  };
  const int64_t gs = row_stride(gamma), bs = beta ? row_stride(*beta) : 0;
  const DType dt = LowerCtx::sbuf_dtype(x.dtype);
  const int es = isa::dtype_size(dt);
  const std::vector<RowChunk> chunks = row_chunks(geo, row_chunk_limit(ctx, 5, es));
  const int64_t K = static_cast<int64_t>(chunks.size());
  int64_t part_a = -1, part_b = -1;  // long rows: per-chunk sums (a) and squared deviations (b)
  if (K > 1) {
    part_a = ctx.sbuf_pin(K * 4);
    part_b = ctx.sbuf_pin(K * 4);
    if (part_a < 0 || part_b < 0)
      throw InputError(fmt::format("{}: rows of {} chunks need more SBUF for partial results "
                                   "than there is", g.where(n), K));
  }
  // The row's chunk c, loaded into a fresh tile.
  auto load = [&](const RowTile& rt, const RowChunk& c) {
    AccessPattern t = ctx.sbuf(ctx.sbuf_alloc(c.len * es), rt.np, c.len, dt);
    ctx.dma(t, ctx.hbm(x, x.offset + rt.x_off + c.off, rt.np, rt.xp, c.dims));
    return t;
  };
  // xc = (x - mean) * rstd (in place) -> * gamma + beta -> y.
  auto finish = [&](const RowTile& rt, const RowChunk& c, const AccessPattern& xc,
                    const AccessPattern& rstd) {
    ts(ctx, xc, xc, AluOp::Mul, ap_operand(rstd));
    AccessPattern gt = ctx.sbuf(ctx.sbuf_alloc(c.len * es), rt.np, c.len, dt);
    ctx.dma(gt, ctx.hbm(gamma, gamma.offset + c.start * gs, rt.np, 0, {{gs, c.len}}));
    tt(ctx, xc, xc, gt, AluOp::Mul);
    if (beta) {
      AccessPattern bt = ctx.sbuf(ctx.sbuf_alloc(c.len * es), rt.np, c.len, dt);
      ctx.dma(bt, ctx.hbm(*beta, beta->offset + c.start * bs, rt.np, 0, {{bs, c.len}}));
      tt(ctx, xc, xc, bt, AluOp::Add);
    }
    // Stores are issued by pool so that sp keeps loading the next tiles.
    ctx.dma(ctx.hbm(y, y.offset + rt.y_off + c.off, rt.np, rt.yp, c.dims), xc, Engine::Pool);
  };
  // Row tiles of the statistics outputs line up with the data's (same kept groups).
  std::vector<RowTile> stat_tiles;
  if (mean_out || rstd_out)
    for_each_row_tile(ctx, stat_geo, [&](const RowTile& rt) { stat_tiles.push_back(rt); });
  size_t tile_no = 0;
  for_each_row_tile(ctx, geo, [&](const RowTile& rt) {
    const int64_t np = rt.np;
    AccessPattern nx0 = stat_col(ctx, np), sum = stat_col(ctx, np), nm = stat_col(ctx, np),
                  ss = stat_col(ctx, np);
    auto shift_of = [&](const AccessPattern& t) {  // nx0 = -x0
      ts(ctx, nx0, ctx.sbuf(t.offset, np, 1, dt), AluOp::Mul, imm(-1.0f));
    };
    if (K == 1) {
      const RowChunk& c = chunks[0];
      AccessPattern t = load(rt, c);
      shift_of(t);
      AccessPattern xc = ctx.sbuf(ctx.sbuf_alloc(c.len * es), np, c.len, dt);
      act_row_sum(ctx, xc, t, ActFn::Copy, imm(1.0f), ap_operand(nx0), sum);  // sum(x - x0)
      ts(ctx, nm, sum, AluOp::Mul, imm(-inv_r), AluOp::Add, ap_operand(nx0));  // -mean
      act(ctx, xc, t, ActFn::Copy, imm(1.0f), ap_operand(nm));
      act_row_sum(ctx, t, xc, ActFn::Square, imm(1.0f), imm(0.0f), ss);
      act(ctx, ss, ss, ActFn::Rsqrt, imm(inv_r), imm(eps));  // rstd
      finish(rt, c, xc, ss);
    } else {
      const AccessPattern pa = ctx.sbuf(part_a, np, K, DType::Fp32);
      const AccessPattern pb = ctx.sbuf(part_b, np, K, DType::Fp32);
      for (int64_t k = 0; k < K; ++k) {
        AccessPattern t = load(rt, chunks[k]);
        if (k == 0) shift_of(t);
        act_row_sum(ctx, t, t, ActFn::Copy, imm(1.0f), ap_operand(nx0),
                    ctx.sbuf(part_a + k * 4, np, 1, DType::Fp32));
      }
      reduce_row(ctx, sum, pa, AluOp::Add);
      ts(ctx, nm, sum, AluOp::Mul, imm(-inv_r), AluOp::Add, ap_operand(nx0));
      for (int64_t k = 0; k < K; ++k) {
        AccessPattern t = load(rt, chunks[k]);
        act(ctx, t, t, ActFn::Copy, imm(1.0f), ap_operand(nm));
        act_row_sum(ctx, t, t, ActFn::Square, imm(1.0f), imm(0.0f),
                    ctx.sbuf(part_b + k * 4, np, 1, DType::Fp32));
      }
      reduce_row(ctx, ss, pb, AluOp::Add);
      act(ctx, ss, ss, ActFn::Rsqrt, imm(inv_r), imm(eps));
      for (const RowChunk& c : chunks) {
        AccessPattern t = load(rt, c);
        act(ctx, t, t, ActFn::Copy, imm(1.0f), ap_operand(nm));
        finish(rt, c, t, ss);
      }
    }
    if (mean_out || rstd_out) {
      const RowTile& st = stat_tiles.at(tile_no);
      if (mean_out) {
        AccessPattern mc = stat_col(ctx, np);
        ts(ctx, mc, nm, AluOp::Mul, imm(-1.0f));
        ctx.dma(ctx.hbm(*mean_out, mean_out->offset + st.y_off, np, st.yp, {{1, 1}}), mc,
                Engine::Pool);
      }
      if (rstd_out)
        ctx.dma(ctx.hbm(*rstd_out, rstd_out->offset + st.y_off, np, st.yp, {{1, 1}}), ss,
                Engine::Pool);
    }
    ++tile_no;
  });
  ctx.unpin_all();
}

}  // namespace trnsim::compiler
