// Lowering of MaxPool/AveragePool and global pooling on the Vector and GpSimd engines: (n, c)
// planes on partitions; when there are fewer planes than partitions, the output rows are split
// into segments placed on further partition groups (all 128 partitions work). Each output
// block's input band is loaded by one dma per group of segments with the same geometry, its
// padding border is set by small memsets (-max or 0), and one `reduce` over a 4-D window access
// pattern [rows, cols, kh, kw] computes the block; blocks alternate between dve and pool, loads
// are issued by sp and stores by act so that the next block's load never waits for a store.
// AveragePool then multiplies by 1/count (a constant map broadcast over partitions). Global
// pooling is the row-wise mean/max (lower/rowwise.cpp).
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "compiler/lower/lower_ctx.h"
#include "compiler/lower/rows.h"
#include "compiler/ops/cnn.h"
#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

using isa::AccessPattern;
using isa::AluOp;
using isa::Engine;
using isa::Opcode;

namespace {

void reduce(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& src, AluOp op,
            int64_t axes, Engine e = Engine::Dve) {
  isa::Instr in = make_instr(Opcode::Reduce);
  in.ops[0] = ap_operand(dst);
  in.ops[1] = ap_operand(src);
  in.ops[2] = int_operand(static_cast<int64_t>(op));
  in.ops[3] = int_operand(axes);
  ctx.emit(e, in);
}

}  // namespace

void lower_pool(LowerCtx& ctx, const Node& n) {
  if (n.op == "GlobalAveragePool" || n.op == "GlobalMaxPool") {
    // A mean/max over the spatial axes: the row-wise reduction (any plane size).
    std::vector<int64_t> axes;
    const int64_t r = static_cast<int64_t>(ctx.graph().t(n.inputs[0]).shape.size());
    for (int64_t a = 2; a < r; ++a) axes.push_back(a);
    lower_row_reduce(ctx, n, axes);
    return;
  }
  const Shape& xs = ctx.graph().t(n.inputs[0]).shape;
  const WindowGeom g = pool_geom(n, xs);
  const bool mx = n.op == "MaxPool";
  const bool include_pad = n.attr_int("count_include_pad", 0) != 0;
  HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  // Reciprocal divisors of AveragePool, one per output position.
  HbmView inv;
  if (!mx) {
    Value v(DType::Fp32, {g.OH * g.OW});
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow)
        v.data[oh * g.OW + ow] = 1.0 / static_cast<double>(avg_pool_count(g, oh, ow, include_pad));
    inv = ctx.add_const(n.name + ".inv_count", v);
  }
  const int64_t P = ctx.target().partitions, rows = g.N * g.C;
  // Fewer planes than partitions: S segments of `sr` output rows each on their own planes.
  const int64_t want = rows < P ? std::min<int64_t>(P / rows, g.OH) : 1;
  const int64_t sr = (g.OH + want - 1) / want;
  const int64_t S = (g.OH + sr - 1) / sr;
  const int64_t budget = ctx.target().sbuf_bytes_per_partition / 8;
  int64_t nc = std::min<int64_t>(g.OW, 512);
  int64_t nr = std::max<int64_t>(1, std::min<int64_t>(sr, 2048 / nc));
  // At least about four blocks per plane group so that loads, reduces and stores overlap.
  nr = std::min(nr, std::max<int64_t>(1, (sr + 3) / 4));
  auto bh = [&] { return (nr - 1) * g.sh + (g.KH - 1) * g.dh + 1; };
  auto bw = [&] { return (nc - 1) * g.sw + (g.KW - 1) * g.dw + 1; };
  while (nr > 1 && bh() * bw() * 4 > budget) nr = (nr + 1) / 2;
  while (nc > 1 && bh() * bw() * 4 > budget) nc = (nc + 1) / 2;
  // A window larger than the band budget (a kernel of thousands of elements): the kernel is cut
  // into tap groups, each reduced over its own band (the pooling with that part of the kernel,
  // its pads shifted by the part's offset) and combined into the block's result (max or sum).
  // AveragePool's groups are also kept to kSeqSum taps, so sums stay blocked (lower/rows.h).
  int64_t fkh = g.KH, fkw = g.KW;
  auto fits = [&](int64_t kh, int64_t kw) {
    return ((nr - 1) * g.sh + (kh - 1) * g.dh + 1) * ((nc - 1) * g.sw + (kw - 1) * g.dw + 1) * 4 <=
               budget &&
           (mx || kh * kw <= kSeqSum);
  };
  while (!fits(fkh, fkw)) (fkw > 1 ? fkw : fkh) = ((fkw > 1 ? fkw : fkh) + 1) / 2;
  std::vector<WindowGeom> parts;
  for (int64_t kh0 = 0; kh0 < g.KH; kh0 += fkh)
    for (int64_t kw0 = 0; kw0 < g.KW; kw0 += fkw) {
      WindowGeom q = g;
      q.KH = std::min(fkh, g.KH - kh0);
      q.KW = std::min(fkw, g.KW - kw0);
      q.pt = g.pt - kh0 * g.dh;
      q.pl = g.pl - kw0 * g.dw;
      parts.push_back(q);
    }
  const int64_t nparts = static_cast<int64_t>(parts.size());
  const float fill = mx ? -std::numeric_limits<float>::max() : 0.0f;
  const AluOp op = mx ? AluOp::Max : AluOp::Add;
  int64_t block = 0;
  // Geometry of one segment's band: output rows [oh, oh + r), its real input rows and where
  // they land.
  struct Seg {
    int64_t oh = 0, r = 0, R0 = 0, ih0 = 0, ih1 = 0;
  };
  struct Block {
    int64_t r0 = 0, np = 0, oh0 = 0, ow0 = 0, c = 0, BW = 0, off = 0;
    int64_t part = 0;  // tap group (parts[part]); a block's groups are consecutive
    Engine e = Engine::Dve;
    std::vector<Seg> segs;
  };
  std::vector<Block> blocks;
  for (int64_t r0 = 0; r0 < rows; r0 += P)
    for (int64_t oh0 = 0; oh0 < sr; oh0 += nr)
      for (int64_t ow0 = 0; ow0 < g.OW; ow0 += nc, ++block) {
        Block bl;
        bl.r0 = r0;
        bl.np = std::min(P, rows - r0);  // planes per segment
        bl.oh0 = oh0;
        bl.ow0 = ow0;
        bl.e = block % 2 == 0 ? Engine::Dve : Engine::Pool;
        for (bl.part = 0; bl.part < nparts; ++bl.part) blocks.push_back(bl);
      }
  // Memsets and the load of a block (emitted two blocks ahead of its reduce, so that the
  // in-order engines never hold a later load behind an earlier reduce).
  auto prep = [&](Block& bk) {
    const int64_t r0 = bk.r0, np = bk.np, oh0 = bk.oh0, ow0 = bk.ow0;
    const Engine e = bk.e;
    const WindowGeom& q = parts[bk.part];
    const int64_t c = std::min(nc, g.OW - ow0);
    std::vector<Seg>& segs = bk.segs;
    for (int64_t s = 0; s < S; ++s) {
      Seg sg;
      sg.oh = s * sr + oh0;
      sg.r = std::max<int64_t>(0, std::min({nr, sr - oh0, g.OH - sg.oh}));
      if (sg.r == 0) break;
      const int64_t BH = (sg.r - 1) * g.sh + (q.KH - 1) * g.dh + 1;
      sg.R0 = sg.oh * g.sh - q.pt;
      sg.ih0 = std::max<int64_t>(0, sg.R0);
      sg.ih1 = std::min(g.H, sg.R0 + BH);
      segs.push_back(sg);
    }
    const int64_t ns = static_cast<int64_t>(segs.size());
    const int64_t BH = (nr - 1) * g.sh + (q.KH - 1) * g.dh + 1;
    const int64_t BW = (c - 1) * g.sw + (q.KW - 1) * g.dw + 1;
    const int64_t C0 = ow0 * g.sw - q.pl;  // band's first column in x
    const int64_t iw0 = std::max<int64_t>(0, C0), iw1 = std::min(g.W, C0 + BW);
    const int64_t off = ctx.sbuf_alloc(BH * BW * 4);
    auto memset = [&](int64_t p0, int64_t pn, int64_t o, int64_t n0, int64_t s0, int64_t n1) {
      if (pn <= 0 || n0 <= 0 || n1 <= 0) return;
      AccessPattern t = ctx.sbuf(off + o * 4, pn * np, 0, DType::Fp32);
      t.start_partition = static_cast<uint16_t>(p0 * np);
      t.ndims = 2;
      t.dims[0] = {s0, n0};
      t.dims[1] = {1, n1};
      isa::Instr ms = make_instr(Opcode::Memset);
      ms.ops[0] = ap_operand(t);
      ms.ops[1] = imm(fill);
      ctx.emit(e, ms);
    };
    // Runs of segments with the same band geometry share the memsets, the load and the
    // reduce (segment k's planes are partitions [k*np, (k+1)*np)).
    for (int64_t a = 0; a < ns;) {
      int64_t b = a + 1;
      auto same = [&](const Seg& u, const Seg& v) {
        return u.r == v.r && u.ih0 - u.R0 == v.ih0 - v.R0 && u.ih1 - u.R0 == v.ih1 - v.R0;
      };
      while (b < ns && same(segs[a], segs[b])) ++b;
      const Seg& sg = segs[a];
      const int64_t bh_s = (sg.r - 1) * g.sh + (q.KH - 1) * g.dh + 1;
      const int64_t top = sg.ih0 - sg.R0, bot = sg.ih1 - sg.R0;  // real rows [top, bot)
      if (bot <= top || iw1 <= iw0) {  // all padding (a tap group can lie outside x)
        memset(a, b - a, 0, bh_s, BW, BW);
      } else {
        memset(a, b - a, 0, top, BW, BW);
        memset(a, b - a, bot * BW, bh_s - bot, BW, BW);
        memset(a, b - a, top * BW, bot - top, BW, iw0 - C0);
        memset(a, b - a, top * BW + (iw1 - C0), bot - top, BW, C0 + BW - iw1);
        if (iw1 > iw0) {
          AccessPattern dst =
              ctx.sbuf(off + (top * BW + (iw0 - C0)) * 4, (b - a) * np, 0, DType::Fp32);
          dst.start_partition = static_cast<uint16_t>(a * np);
          dst.ndims = 2;
          dst.dims[0] = {BW, bot - top};
          dst.dims[1] = {1, iw1 - iw0};
          // HBM rows = segments (sr*sh input rows apart), then planes, rows, columns.
          ctx.dma(dst,
                  ctx.hbm(x, x.offset + r0 * g.H * g.W + sg.ih0 * g.W + iw0, b - a, sr * g.sh * g.W,
                          {{g.H * g.W, np}, {g.W, bot - top}, {1, iw1 - iw0}}));
        }
      }
      a = b;
    }
    bk.c = c;
    bk.BW = BW;
    bk.off = off;
  };
  // The reduce (and AveragePool's scaling) of a block and its store.
  int64_t out = 0;  // the block's result (its first tap group's reduce)
  auto compute = [&](const Block& bk) {
    const int64_t r0 = bk.r0, np = bk.np, ow0 = bk.ow0, c = bk.c, BW = bk.BW, off = bk.off;
    const Engine e = bk.e;
    const WindowGeom& q = parts[bk.part];
    const std::vector<Seg>& segs = bk.segs;
    const int64_t ns = static_cast<int64_t>(segs.size());
    if (bk.part == 0) out = ctx.sbuf_alloc(nr * c * 4);
    const int64_t part = bk.part == 0 ? out : ctx.sbuf_alloc(nr * c * 4);
    for (int64_t a = 0; a < ns;) {
      int64_t b = a + 1;
      while (b < ns && segs[b].r == segs[a].r) ++b;
      const int64_t r = segs[a].r;
      AccessPattern win = ctx.sbuf(off, (b - a) * np, 0, DType::Fp32);
      win.start_partition = static_cast<uint16_t>(a * np);
      win.ndims = 4;
      win.dims[0] = {g.sh * BW, r};
      win.dims[1] = {g.sw, c};
      win.dims[2] = {g.dh * BW, q.KH};
      win.dims[3] = {g.dw, q.KW};
      AccessPattern o = ctx.sbuf(out, (b - a) * np, r * c, DType::Fp32);
      o.start_partition = static_cast<uint16_t>(a * np);
      AccessPattern pr = o;
      pr.offset = part;
      reduce(ctx, pr, win, op, 2, e);
      if (bk.part > 0) {
        isa::Instr comb = make_instr(Opcode::TensorTensor);
        comb.ops[0] = ap_operand(o);
        comb.ops[1] = ap_operand(o);
        comb.ops[2] = ap_operand(pr);
        comb.ops[3] = int_operand(static_cast<int64_t>(op));
        ctx.emit(e, comb);
      }
      if (bk.part + 1 < nparts) {
        a = b;
        continue;
      }
      if (!mx) {
        AccessPattern iv = ctx.sbuf(ctx.sbuf_alloc(r * c * 4), (b - a) * np, r * c, DType::Fp32);
        iv.start_partition = static_cast<uint16_t>(a * np);
        ctx.dma(iv, ctx.hbm(inv, inv.offset + segs[a].oh * g.OW + ow0, b - a, sr * g.OW,
                            {{0, np}, {g.OW, r}, {1, c}}));
        isa::Instr mul = make_instr(Opcode::TensorTensor);
        mul.ops[0] = ap_operand(o);
        mul.ops[1] = ap_operand(o);
        mul.ops[2] = ap_operand(iv);
        mul.ops[3] = int_operand(static_cast<int64_t>(AluOp::Mul));
        ctx.emit(e, mul);
      }
      AccessPattern src = o;
      ctx.dma(ctx.hbm(y, y.offset + r0 * g.OH * g.OW + segs[a].oh * g.OW + ow0, b - a, sr * g.OW,
                      {{g.OH * g.OW, np}, {g.OW, r}, {1, c}}),
              src, Engine::Act);
      a = b;
    }
  };
  constexpr size_t kAhead = 2;
  for (size_t i = 0; i < blocks.size() && i < kAhead; ++i) prep(blocks[i]);
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (i + kAhead < blocks.size()) prep(blocks[i + kAhead]);
    compute(blocks[i]);
  }
}

}  // namespace trnsim::compiler
