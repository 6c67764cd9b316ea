// Lowering of GatherElements (GpSimd `gather` within partitions, one row of the gathered axis
// per partition, in chunks with a select per chunk when the axis is long), Trilu (`select`
// against a constant 0/1 mask) and ScatterND with constant indices (a copy of data, then one DMA
// copy per run of consecutive update slices). See ops/indexing.h.
#include <fmt/format.h>

#include <algorithm>

#include "compiler/lower/emit.h"
#include "compiler/lower/lower_ctx.h"
#include "compiler/ops/indexing.h"
#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

using isa::AccessPattern;
using isa::AluOp;
using isa::Engine;
using isa::Opcode;

namespace {

AccessPattern tile_f32(LowerCtx& ctx, int64_t np, int64_t nf) {
  return ctx.sbuf(ctx.sbuf_alloc(nf * 4), np, nf, DType::Fp32);
}

// The staging dtype of a plain copy (movement.cpp's): bool as uint8, everything else as itself
// (int64 stays int64: staged as int32 it saturated beyond 2^31).
DType staging(DType t) { return t == DType::Bool ? DType::Uint8 : t; }

// Copies `shape` elements from src (offset, strides) to dst (offset, strides) through SBUF.
void copy_region(LowerCtx& ctx, const HbmView& dst, int64_t dst_off,
                 const std::vector<int64_t>& dst_st, const HbmView& src, int64_t src_off,
                 const std::vector<int64_t>& src_st, const Shape& shape) {
  const DType sd = staging(src.dtype);
  const int es = isa::dtype_size(sd);
  ctx.for_each_tile(shape, {dst_st, src_st}, ctx.max_free(1) * 4 / es, [&](const TileSpec& ts) {
    AccessPattern t = ctx.sbuf(ctx.sbuf_alloc(ts.nf * es), ts.np, ts.nf, sd);
    ctx.dma(t, ctx.hbm(src, src_off + ts.offsets[1], ts.np, ts.pstride[1],
                       {{ts.fstride[1], ts.nf}}));
    ctx.dma(ctx.hbm(dst, dst_off + ts.offsets[0], ts.np, ts.pstride[0], {{ts.fstride[0], ts.nf}}),
            t, Engine::Pool);
  });
}

const Value* const_input(const Graph& g, const Node& n, size_t k) {
  if (k >= n.inputs.size() || n.inputs[k] < 0 || !g.t(n.inputs[k]).is_const()) return nullptr;
  return &*g.t(n.inputs[k]).value;
}

}  // namespace

void lower_trilu(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  const int64_t k = trilu_k(const_input(g, n, 1));
  const bool upper = n.attr_int("upper", 1) != 0;
  const size_t r = y.shape.size();
  const int64_t R = y.shape[r - 2], C = y.shape[r - 1];
  // Tiles and mask in the data's SBUF dtype (int64 stays int64: through fp32 it was exact only
  // below 2^24).
  const DType dt = LowerCtx::sbuf_dtype(x.dtype);
  const int es = isa::dtype_size(dt);
  Value mask(dt == DType::Int64 ? DType::Int64 : DType::Fp32, {R, C});
  for (int64_t i = 0; i < R; ++i)
    for (int64_t j = 0; j < C; ++j) mask.data[i * C + j] = trilu_keeps(upper, k, i, j) ? 1 : 0;
  HbmView m = ctx.add_const(n.name + ".mask", mask);
  std::vector<int64_t> ms(r, 0);
  ms[r - 2] = C;
  ms[r - 1] = 1;
  // y = mask ? x : mask (0 where the mask is 0: no 0 * inf = NaN as a multiply would give).
  ctx.for_each_tile(y.shape, {y.strides, x.strides, ms}, ctx.max_free(2) * 4 / std::max(es, 4),
                    [&](const TileSpec& ts) {
    const DType md = dt == DType::Int64 ? DType::Int64 : DType::Fp32;
    AccessPattern xt = ctx.sbuf(ctx.sbuf_alloc(ts.nf * es), ts.np, ts.nf, dt);
    AccessPattern mt = ctx.sbuf(ctx.sbuf_alloc(ts.nf * isa::dtype_size(md)), ts.np, ts.nf, md);
    ctx.dma(xt, ctx.hbm(x, x.offset + ts.offsets[1], ts.np, ts.pstride[1], {{ts.fstride[1], ts.nf}}));
    ctx.dma(mt, ctx.hbm(m, ts.offsets[2], ts.np, ts.pstride[2], {{ts.fstride[2], ts.nf}}));
    select(ctx, xt, mt, xt, mt);
    ctx.dma(ctx.hbm(y, y.offset + ts.offsets[0], ts.np, ts.pstride[0], {{ts.fstride[0], ts.nf}}),
            xt, Engine::Pool);
  });
}

void lower_gather_elements(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  HbmView data = ctx.view(n.inputs[0]), out = ctx.view(n.outputs[0]);
  const int64_t r = static_cast<int64_t>(data.shape.size());
  const int64_t axis = normalize_axis(n.attr_int("axis", 0), r);
  const int64_t V = data.shape[axis];
  const Shape& ishape = g.t(n.inputs[1]).shape;
  const int64_t K = ishape[axis];
  if (num_elements(ishape) == 0) return;
  const int64_t cap = ctx.target().sbuf_bytes_per_partition;
  const DType dt = LowerCtx::sbuf_dtype(data.dtype);
  const int64_t es = isa::dtype_size(dt);
  // An axis that fits a quarter of SBUF is loaded whole per row; a longer one in chunks of L.
  const bool whole = V * es * 4 <= cap;
  const int64_t L = whole ? V : cap / 8 / es;
  HbmView idx;
  const Value* civ = const_input(g, n, 1);
  if (civ) {  // constant indices: resolved (negative ones) and range-checked here
    Value v(DType::Int32, civ->shape);
    for (int64_t e = 0; e < civ->numel(); ++e) {
      double k = civ->data[e];
      if (k < 0) k += static_cast<double>(V);
      if (k < 0 || k >= static_cast<double>(V))
        throw InputError(fmt::format("{}: index {} out of range [-{}, {})", g.where(n),
                                     civ->data[e], V, V));
      v.data[e] = k;
    }
    idx = ctx.add_const(n.name + ".indices", v);
  } else {
    idx = ctx.view(n.inputs[1]);
  }
  // Rows: every index position but the axis; each partition holds one row of data along the
  // axis and gathers its K outputs from it.
  Shape rows;
  std::vector<int64_t> ds, is, os;
  for (int64_t d = 0; d < r; ++d) {
    if (d == axis) continue;
    rows.push_back(ishape[d]);
    ds.push_back(data.strides[d]);
    is.push_back(idx.strides[d]);
    os.push_back(out.strides[d]);
  }
  const int64_t F = std::max<int64_t>(
      16, std::min<int64_t>(2048, (cap / 2 - L * es) / (4 * 4)));
  // Elements [v0, v0 + len) of the rows' axis.
  auto load = [&](const TileSpec& ts, int64_t v0, int64_t len) {
    AccessPattern src = ctx.sbuf(ctx.sbuf_alloc(len * es), ts.np, len, dt);
    ctx.dma(src, ctx.hbm(data, data.offset + ts.offsets[0] + v0 * data.strides[axis], ts.np,
                         ts.pstride[0], {{data.strides[axis], len}}));
    return src;
  };
  ctx.for_each_tile(rows, {ds, is, os}, 1, [&](const TileSpec& ts) {
    const int64_t np = ts.np;
    const AccessPattern src = whole ? load(ts, 0, V) : AccessPattern{};
    for (int64_t k0 = 0; k0 < K; k0 += F) {
      const int64_t kf = std::min(F, K - k0);
      AccessPattern it = ctx.sbuf(ctx.sbuf_alloc(kf * 4), np, kf, DType::Int32);
      const AccessPattern ih = ctx.hbm(idx, idx.offset + ts.offsets[1] + k0 * idx.strides[axis],
                                       np, ts.pstride[1], {{idx.strides[axis], kf}});
      AccessPattern f;  // the indices as fp32 values (exact below 2^24)
      if (civ && whole) {
        ctx.dma(it, ih);
      } else if (civ) {
        f = tile_f32(ctx, np, kf);
        ctx.dma(f, ih);
      } else {  // runtime indices: k + V * (k < 0), then to int32
        f = tile_f32(ctx, np, kf);
        AccessPattern t = tile_f32(ctx, np, kf);
        ctx.dma(f, ih);
        compiler::ts(ctx, t, f, AluOp::Lt, 0.0f, AluOp::Mul, static_cast<float>(V));
        tt(ctx, f, f, t, AluOp::Add);
        if (whole) dve_unary(ctx, Opcode::Copy, it, f);
      }
      AccessPattern o = ctx.sbuf(ctx.sbuf_alloc(kf * es), np, kf, dt);
      auto gather = [&](const AccessPattern& dst, const AccessPattern& from,
                        const AccessPattern& index) {
        isa::Instr ga = make_instr(Opcode::Gather);
        ga.ops[0] = ap_operand(dst);
        ga.ops[1] = ap_operand(from);
        ga.ops[2] = ap_operand(index);
        ctx.emit(Engine::Pool, ga);
      };
      if (whole) {
        gather(o, src, it);
      } else {
        // A pass per chunk [v0, v0 + L) of the axis: the indices it holds (0 <= k - v0 < L)
        // take its gathered values; every index lies in exactly one chunk, so the first pass
        // writes all outputs and later passes select.
        AccessPattern loc = tile_f32(ctx, np, kf), ok = tile_f32(ctx, np, kf);
        AccessPattern got = ctx.sbuf(ctx.sbuf_alloc(kf * es), np, kf, dt);
        for (int64_t v0 = 0; v0 < V; v0 += L) {
          const int64_t len = std::min(L, V - v0);
          const AccessPattern chunk = load(ts, v0, len);
          compiler::ts(ctx, loc, f, AluOp::Add, static_cast<float>(-v0));
          if (v0 > 0) {
            compiler::ts(ctx, ok, loc, AluOp::Ge, 0.0f);
            compiler::ts(ctx, got, loc, AluOp::Lt, static_cast<float>(len));  // scratch
            tt(ctx, ok, ok, got, AluOp::Mul);
          }
          compiler::ts(ctx, loc, loc, AluOp::Max, 0.0f, AluOp::Min, static_cast<float>(len - 1));
          dve_unary(ctx, Opcode::Copy, it, loc);
          if (v0 == 0) {
            gather(o, chunk, it);
          } else {
            gather(got, chunk, it);
            select(ctx, o, ok, got, o);
          }
        }
      }
      ctx.dma(ctx.hbm(out, out.offset + ts.offsets[2] + k0 * out.strides[axis], np, ts.pstride[2],
                      {{out.strides[axis], kf}}),
              o, Engine::Pool);
    }
  });
}

void lower_scatter_nd(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  if (n.attr_string("reduction", "none") != "none")
    throw InputError(g.where(n) + ": reduction '" + n.attr_string("reduction", "none") +
                     "' is supported only on compile-time constants");
  const Value* iv = const_input(g, n, 1);
  if (!iv)
    throw InputError(g.where(n) + ": indices must be compile-time constants (runtime indices "
                                  "are supported only when all inputs are constant)");
  HbmView data = ctx.view(n.inputs[0]), upd = ctx.view(n.inputs[2]), out = ctx.view(n.outputs[0]);
  const ScatterSlices s = scatter_slices(data.shape, *iv, upd.shape);
  // Slices that every update overwrites need no copy of data: only copy when some element of
  // out keeps its data value (checked on the slice offsets).
  std::vector<int64_t> offs = s.offsets;
  std::sort(offs.begin(), offs.end());
  offs.erase(std::unique(offs.begin(), offs.end()), offs.end());
  if (static_cast<int64_t>(offs.size()) * s.slice < num_elements(out.shape))
    copy_region(ctx, out, out.offset, out.strides, data, data.offset, data.strides, out.shape);
  // Updates in program order (a later duplicate index wins), runs of slices that are
  // consecutive in both updates and out merged into one copy.
  const int64_t m = static_cast<int64_t>(s.offsets.size());
  for (int64_t i0 = 0; i0 < m;) {
    int64_t i1 = i0 + 1;
    while (i1 < m && s.offsets[i1] == s.offsets[i1 - 1] + s.slice) ++i1;
    const int64_t len = (i1 - i0) * s.slice;
    if (len > 0)
      copy_region(ctx, out, out.offset + s.offsets[i0], {1}, upd, upd.offset + i0 * s.slice, {1},
                  {len});
    i0 = i1;
  }
}

}  // namespace trnsim::compiler
