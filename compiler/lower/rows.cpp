#include "compiler/lower/rows.h"

#include <algorithm>

#include "compiler/lower/emit.h"
#include "compiler/ops/op_fns.h"

namespace trnsim::compiler {

using isa::AccessPattern;
using isa::AluOp;
using isa::Opcode;

namespace {

constexpr int kMaxDims = 4;  // free dims of an access pattern

// Elements [start, start + len) of a tile with one contiguous free dim.
AccessPattern sub(const AccessPattern& t, int64_t start, int64_t len) {
  AccessPattern a = t;
  a.offset += start * isa::dtype_size(t.dtype);
  a.ndims = 1;
  a.dims[0] = {1, len};
  return a;
}

void emit_reduce(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& src, AluOp op) {
  isa::Instr in = make_instr(Opcode::Reduce);
  in.ops[0] = ap_operand(dst);
  in.ops[1] = ap_operand(src);
  in.ops[2] = int_operand(static_cast<int64_t>(op));
  in.ops[3] = int_operand(1);
  ctx.emit(isa::Engine::Dve, in);
}

}  // namespace

RowGeom row_geom(const Shape& x, const std::vector<int64_t>& axes, bool same_layout) {
  const size_t r = x.size();
  const std::vector<int64_t> xs = row_major_strides(x);
  std::vector<bool> red(r, false);
  for (int64_t a : axes) red[a] = true;
  std::vector<int64_t> ys(r, 0);
  int64_t acc = 1;
  for (size_t d = r; d-- > 0;) {
    if (same_layout) {
      ys[d] = xs[d];
    } else if (!red[d]) {
      ys[d] = acc;
      acc *= x[d];
    }
  }
  RowGeom g;
  bool last_red = false;
  for (size_t d = 0; d < r; ++d) {
    if (x[d] == 1) continue;
    std::vector<RowDim>& v = red[d] ? g.reduced : g.kept;
    // Neighbouring axes of one kind are one group (row-major: contiguous in x, and in y).
    if (!v.empty() && last_red == red[d] && v.back().xs == x[d] * xs[d] &&
        (red[d] || v.back().ys == x[d] * ys[d])) {
      v.back().count *= x[d];
      v.back().xs = xs[d];
      v.back().ys = ys[d];
    } else {
      v.push_back({x[d], xs[d], ys[d]});
    }
    last_red = red[d];
    (red[d] ? g.R : g.rows) *= x[d];
  }
  return g;
}

void for_each_row_tile(const LowerCtx& ctx, const RowGeom& g,
                       const std::function<void(const RowTile&)>& f) {
  const int64_t P = ctx.target().partitions;
  if (g.kept.empty()) {
    f(RowTile{1, 0, 0, 0, 0});
    return;
  }
  size_t pd = 0;
  for (size_t d = 0; d < g.kept.size(); ++d)
    if (g.kept[d].count >= g.kept[pd].count) pd = d;
  std::vector<size_t> outer;
  for (size_t d = 0; d < g.kept.size(); ++d)
    if (d != pd) outer.push_back(d);
  std::vector<int64_t> idx(outer.size(), 0);
  const RowDim& p = g.kept[pd];
  while (true) {
    int64_t xo = 0, yo = 0;
    for (size_t q = 0; q < outer.size(); ++q) {
      xo += idx[q] * g.kept[outer[q]].xs;
      yo += idx[q] * g.kept[outer[q]].ys;
    }
    for (int64_t p0 = 0; p0 < p.count; p0 += P)
      f(RowTile{std::min(P, p.count - p0), xo + p0 * p.xs, p.xs, yo + p0 * p.ys, p.ys});
    int q = static_cast<int>(outer.size()) - 1;
    for (; q >= 0; --q) {
      if (++idx[q] < g.kept[outer[q]].count) break;
      idx[q] = 0;
    }
    if (q < 0) break;
  }
}

std::vector<RowChunk> row_chunks(const RowGeom& g, int64_t max_len) {
  const std::vector<RowDim>& d = g.reduced;
  const int n = static_cast<int>(d.size());
  if (n == 0) return {RowChunk{0, 0, 1, {{1, 1}}}};
  // inner[j] = elements of the groups j..n-1 (one index of every group before them).
  std::vector<int64_t> inner(n + 1, 1);
  for (int j = n - 1; j >= 0; --j) inner[j] = inner[j + 1] * d[j].count;
  // j: the first group taken whole, with a block of group j-1 in front (at most 4 dims).
  int j = 0;
  while (j < n && (inner[j] > max_len || n - j > kMaxDims - (j > 0 ? 1 : 0))) ++j;
  std::vector<RowChunk> out;
  // Outer groups 0..lo-1 are looped one index at a time; group lo is cut in blocks of `blk`.
  const int lo = j == 0 ? 0 : j - 1;
  const int64_t per = j == 0 ? inner[0] : inner[j];  // elements per index of group lo
  const int64_t blk = j == 0 ? 1 : std::max<int64_t>(1, max_len / per);
  std::vector<int64_t> idx(lo, 0);
  while (true) {
    int64_t off = 0, start = 0;
    for (int q = 0; q < lo; ++q) {
      off += idx[q] * d[q].xs;
      start += idx[q] * inner[q + 1];
    }
    if (j == 0) {
      RowChunk c{off, start, inner[0], {}};
      for (const RowDim& r : d) c.dims.push_back({r.xs, r.count});
      out.push_back(c);
    } else {
      for (int64_t b0 = 0; b0 < d[lo].count; b0 += blk) {
        const int64_t nb = std::min(blk, d[lo].count - b0);
        RowChunk c{off + b0 * d[lo].xs, start + b0 * per, nb * per, {}};
        c.dims.push_back({d[lo].xs, nb});
        for (int q = j; q < n; ++q) c.dims.push_back({d[q].xs, d[q].count});
        out.push_back(c);
      }
    }
    int q = lo - 1;
    for (; q >= 0; --q) {
      if (++idx[q] < d[q].count) break;
      idx[q] = 0;
    }
    if (q < 0) break;
  }
  return out;
}

int64_t row_chunk_limit(const LowerCtx& ctx, int buffers, int es) {
  return std::max<int64_t>(1, ctx.target().sbuf_bytes_per_partition / (int64_t{es} * buffers * 2));
}

AccessPattern stat_col(LowerCtx& ctx, int64_t np) {
  return ctx.sbuf(ctx.sbuf_alloc(4), np, 1, DType::Fp32);
}

void reduce_row(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& src, AluOp op) {
  const int64_t len = src.free_elements(), np = src.num_partitions;
  // Integer sums are exact in any order (int64 tiles wrap like ONNX Runtime's accumulators).
  if (op != AluOp::Add || len <= kSeqSum || !isa::dtype_is_float(src.dtype))
    return emit_reduce(ctx, dst, src, op);
  // Partial sums of blocks (one reduce over [blocks][kSumBlock], the tail on its own), then
  // their sum: the rounding error grows with the block and partial counts, not with len.
  const int64_t nb = len / kSumBlock, rem = len % kSumBlock, parts = nb + (rem > 0);
  const AccessPattern part =
      ctx.sbuf(ctx.sbuf_alloc(parts * isa::dtype_size(dst.dtype)), np, parts, dst.dtype);
  AccessPattern blocks = src;
  blocks.ndims = 2;
  blocks.dims[0] = {kSumBlock, nb};
  blocks.dims[1] = {1, kSumBlock};
  emit_reduce(ctx, sub(part, 0, nb), blocks, op);
  if (rem) emit_reduce(ctx, sub(part, nb, 1), sub(src, nb * kSumBlock, rem), op);
  reduce_row(ctx, dst, part, op);
}

void act_row_sum(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& src,
                 isa::ActFn fn, isa::Operand scale, isa::Operand bias, const AccessPattern& sum) {
  const int64_t len = src.free_elements(), np = src.num_partitions;
  if (len <= kSeqSum) return act(ctx, dst, src, fn, scale, bias, &sum);
  const int64_t parts = (len + kSumBlock - 1) / kSumBlock;
  const AccessPattern part = ctx.sbuf(ctx.sbuf_alloc(parts * 4), np, parts, sum.dtype);
  for (int64_t b = 0; b < parts; ++b) {
    const int64_t s = b * kSumBlock, l = std::min(kSumBlock, len - s);
    const AccessPattern acc = sub(part, b, 1);
    act(ctx, sub(dst, s, l), sub(src, s, l), fn, scale, bias, &acc);
  }
  reduce_row(ctx, sum, part, AluOp::Add);
}

}  // namespace trnsim::compiler
