// Lowering of MaxPool/AveragePool and global pooling on the Vector engine: (n, c) planes on
// partitions; each output block's input band is loaded (padded by a memset with -max or 0)
// and one `reduce` over a 4-D window access pattern [rows, cols, kh, kw] computes the block.
// AveragePool then multiplies by 1/count (a constant map broadcast over partitions).
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "compiler/lower/lower_ctx.h"
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
            int64_t axes) {
  isa::Instr in = make_instr(Opcode::Reduce);
  in.ops[0] = ap_operand(dst);
  in.ops[1] = ap_operand(src);
  in.ops[2] = int_operand(static_cast<int64_t>(op));
  in.ops[3] = int_operand(axes);
  ctx.emit(Engine::Dve, in);
}

void lower_global(LowerCtx& ctx, const Node& n) {
  const Shape& s = ctx.graph().t(n.inputs[0]).shape;
  const int64_t rows = s[0] * s[1], hw = num_elements(s) / std::max<int64_t>(rows, 1);
  if (hw * 4 * 4 > ctx.target().sbuf_bytes_per_partition)
    throw InputError("the spatial plane does not fit in SBUF");
  const bool mx = n.op == "GlobalMaxPool";
  HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  const int64_t P = ctx.target().partitions;
  for (int64_t r0 = 0; r0 < rows; r0 += P) {
    const int64_t np = std::min(P, rows - r0);
    AccessPattern t = ctx.sbuf(ctx.sbuf_alloc(hw * 4), np, hw, DType::Fp32);
    ctx.dma(t, ctx.hbm(x, x.offset + r0 * hw, np, hw, {{1, hw}}));
    AccessPattern r = ctx.sbuf(ctx.sbuf_alloc(4), np, 1, DType::Fp32);
    reduce(ctx, r, t, mx ? AluOp::Max : AluOp::Add, 1);
    if (!mx) {
      isa::Instr in = make_instr(Opcode::TensorScalar);
      in.ops[0] = ap_operand(r);
      in.ops[1] = ap_operand(r);
      in.ops[2] = int_operand(static_cast<int64_t>(AluOp::Mul));
      in.ops[3] = imm(1.0f / static_cast<float>(hw));
      in.ops[4] = int_operand(static_cast<int64_t>(AluOp::Bypass));
      in.ops[5] = imm(0.0f);
      ctx.emit(Engine::Dve, in);
    }
    ctx.dma(ctx.hbm(y, y.offset + r0, np, 1, {{1, 1}}), r);
  }
}

}  // namespace

void lower_pool(LowerCtx& ctx, const Node& n) {
  if (n.op == "GlobalAveragePool" || n.op == "GlobalMaxPool") {
    lower_global(ctx, n);
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
  const int64_t budget = ctx.target().sbuf_bytes_per_partition / 8;
  int64_t nc = std::min<int64_t>(g.OW, 512);
  int64_t nr = std::max<int64_t>(1, std::min<int64_t>(g.OH, 2048 / nc));
  auto bh = [&] { return (nr - 1) * g.sh + (g.KH - 1) * g.dh + 1; };
  auto bw = [&] { return (nc - 1) * g.sw + (g.KW - 1) * g.dw + 1; };
  while (nr > 1 && bh() * bw() * 4 > budget) nr = (nr + 1) / 2;
  while (nc > 1 && bh() * bw() * 4 > budget) nc = (nc + 1) / 2;
  if (bh() * bw() * 4 > budget) throw InputError("a pooling window does not fit in SBUF");
  const float fill = mx ? -std::numeric_limits<float>::max() : 0.0f;
  for (int64_t r0 = 0; r0 < rows; r0 += P) {
    const int64_t np = std::min(P, rows - r0);
    for (int64_t oh0 = 0; oh0 < g.OH; oh0 += nr)
      for (int64_t ow0 = 0; ow0 < g.OW; ow0 += nc) {
        const int64_t r = std::min(nr, g.OH - oh0), c = std::min(nc, g.OW - ow0);
        const int64_t BH = (r - 1) * g.sh + (g.KH - 1) * g.dh + 1;
        const int64_t BW = (c - 1) * g.sw + (g.KW - 1) * g.dw + 1;
        const int64_t R0 = oh0 * g.sh - g.pt, C0 = ow0 * g.sw - g.pl;  // band origin in x
        const int64_t ih0 = std::max<int64_t>(0, R0), ih1 = std::min(g.H, R0 + BH);
        const int64_t iw0 = std::max<int64_t>(0, C0), iw1 = std::min(g.W, C0 + BW);
        const int64_t off = ctx.sbuf_alloc(BH * BW * 4);
        if (ih0 != R0 || iw0 != C0 || ih1 != R0 + BH || iw1 != C0 + BW) {
          isa::Instr ms = make_instr(Opcode::Memset);
          ms.ops[0] = ap_operand(ctx.sbuf(off, np, BH * BW, DType::Fp32));
          ms.ops[1] = imm(fill);
          ctx.emit(Engine::Pool, ms);
        }
        if (ih1 > ih0 && iw1 > iw0) {
          AccessPattern dst =
              ctx.sbuf(off + ((ih0 - R0) * BW + (iw0 - C0)) * 4, np, 0, DType::Fp32);
          dst.ndims = 2;
          dst.dims[0] = {BW, ih1 - ih0};
          dst.dims[1] = {1, iw1 - iw0};
          ctx.dma(dst, ctx.hbm(x, x.offset + r0 * g.H * g.W + ih0 * g.W + iw0, np, g.H * g.W,
                               {{g.W, ih1 - ih0}, {1, iw1 - iw0}}));
        }
        AccessPattern win = ctx.sbuf(off, np, 0, DType::Fp32);
        win.ndims = 4;
        win.dims[0] = {g.sh * BW, r};
        win.dims[1] = {g.sw, c};
        win.dims[2] = {g.dh * BW, g.KH};
        win.dims[3] = {g.dw, g.KW};
        AccessPattern out = ctx.sbuf(ctx.sbuf_alloc(r * c * 4), np, r * c, DType::Fp32);
        reduce(ctx, out, win, mx ? AluOp::Max : AluOp::Add, 2);
        if (!mx) {
          AccessPattern iv = ctx.sbuf(ctx.sbuf_alloc(r * c * 4), np, r * c, DType::Fp32);
          ctx.dma(iv, ctx.hbm(inv, inv.offset + oh0 * g.OW + ow0, np, 0, {{g.OW, r}, {1, c}}));
          isa::Instr mul = make_instr(Opcode::TensorTensor);
          mul.ops[0] = ap_operand(out);
          mul.ops[1] = ap_operand(out);
          mul.ops[2] = ap_operand(iv);
          mul.ops[3] = int_operand(static_cast<int64_t>(AluOp::Mul));
          ctx.emit(Engine::Dve, mul);
        }
        ctx.dma(ctx.hbm(y, y.offset + r0 * g.OH * g.OW + oh0 * g.OW + ow0, np, g.OH * g.OW,
                        {{g.OW, r}, {1, c}}),
                out);
      }
  }
}

}  // namespace trnsim::compiler
