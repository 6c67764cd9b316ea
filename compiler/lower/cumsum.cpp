// Lowering of CumSum: each row along the axis is a partition, scanned along the free axis with
// the Vector engine's `scan` (tensor_tensor_scan) in chunks whose last sum carries into the next;
// exact on int64 tiles. Reverse scans read each chunk reversed through a GpSimd `gather`, and
// exclusive sums are the inclusive ones stored one element further on.
#include <algorithm>

#include "compiler/lower/emit.h"
#include "compiler/lower/lower_ctx.h"
#include "compiler/ops/op_fns.h"

namespace trnsim::compiler {

using isa::AccessPattern;
using isa::AluOp;
using isa::Engine;
using isa::Opcode;

namespace {
// s = (x[i] add s) bypass x[i]: a running sum starting at `init`.
void running_sum(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& x,
                 isa::Operand init) {
  isa::Instr in = make_instr(Opcode::Scan);
  in.ops[0] = ap_operand(dst);
  in.ops[1] = ap_operand(x);
  in.ops[2] = ap_operand(x);
  in.ops[3] = int_operand(static_cast<int64_t>(AluOp::Add));
  in.ops[4] = int_operand(static_cast<int64_t>(AluOp::Bypass));
  in.ops[5] = init;
  ctx.emit(Engine::Dve, in);
}

void gather(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& src,
            const AccessPattern& idx) {
  isa::Instr in = make_instr(Opcode::Gather);
  in.ops[0] = ap_operand(dst);
  in.ops[1] = ap_operand(src);
  in.ops[2] = ap_operand(idx);
  ctx.emit(Engine::Pool, in);
}
}  // namespace

void lower_cumsum(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  const Shape& s = g.t(n.inputs[0]).shape;
  const int64_t r = static_cast<int64_t>(s.size());
  const int64_t axis =
      cumsum_axis(n, g.t(n.inputs[1]).is_const() ? &*g.t(n.inputs[1]).value : nullptr, r);
  const Split3 p = split3(s, axis, axis + 1);
  const int64_t O = p.outer, L = p.mid, I = p.inner;
  if (O * L * I == 0) return;
  const bool excl = n.attr_int("exclusive", 0) != 0, rev = n.attr_int("reverse", 0) != 0;
  HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  const DType dt = LowerCtx::sbuf_dtype(x.dtype);
  const int64_t es = isa::dtype_size(dt);
  const int64_t P = ctx.target().partitions;
  // Rows: with I == 1 the outer index goes on partitions (stride L), else the inner index
  // (stride 1, one group per outer index); the axis is the free dimension (stride I).
  const int64_t groups = I == 1 ? 1 : O, per_group = I == 1 ? O : I, pstride = I == 1 ? L : 1;
  const int64_t F = std::max<int64_t>(1, ctx.max_free(6) * 4 / es);
  // Reverse: idx[i] = nf - 1 - i reverses a chunk of nf elements (one table per chunk size).
  auto reverse_idx = [&](int64_t np, int64_t nf) {
    AccessPattern idx = ctx.sbuf(ctx.sbuf_alloc(nf * 4), np, nf, DType::Int32);
    isa::Instr io = make_instr(Opcode::Iota);
    io.ops[0] = ap_operand(idx);
    io.ops[1] = int_operand(0);
    io.ops[2] = int_operand(0);
    ctx.emit(Engine::Pool, io);
    ts(ctx, idx, idx, AluOp::Mul, -1.0f, AluOp::Add, static_cast<float>(nf - 1));
    return idx;
  };
  for (int64_t gi = 0; gi < groups; ++gi)
    for (int64_t r0 = 0; r0 < per_group; r0 += P) {
      const int64_t np = std::min(P, per_group - r0);
      const int64_t base = gi * L * I + r0 * (I == 1 ? L : 1);
      auto hbm = [&](const HbmView& v, int64_t l0, int64_t cnt) {
        return ctx.hbm(v, v.offset + base + l0 * I, np, pstride, {{I, cnt}});
      };
      std::optional<AccessPattern> carry;  // [np,1]: the sum of every element already scanned
      const int64_t nchunks = (L + F - 1) / F;
      for (int64_t c = 0; c < nchunks; ++c) {
        // Forward: chunks in order; reverse: from the end of the axis.
        const int64_t k = rev ? nchunks - 1 - c : c;
        const int64_t l0 = k * F, nf = std::min(F, L - l0);
        AccessPattern in = ctx.sbuf(ctx.sbuf_alloc(nf * es), np, nf, dt);
        ctx.dma(in, hbm(x, l0, nf));
        const isa::Operand init = carry ? ap_operand(*carry) : imm(0.0f);
        AccessPattern sum = ctx.sbuf(ctx.sbuf_alloc(nf * es), np, nf, dt);
        if (rev) {  // scan the chunk reversed, then put it back in order
          const AccessPattern idx = reverse_idx(np, nf);
          AccessPattern tmp = ctx.sbuf(ctx.sbuf_alloc(nf * es), np, nf, dt);
          gather(ctx, tmp, in, idx);
          running_sum(ctx, tmp, tmp, init);
          gather(ctx, sum, tmp, idx);
        } else {
          running_sum(ctx, sum, in, init);
        }
        AccessPattern col = sum;  // the chunk's total: its last element (reverse: its first)
        col.offset += (rev ? 0 : nf - 1) * es;
        col.dims[0].count = 1;
        if (!excl) {
          ctx.dma(hbm(y, l0, nf), sum, Engine::Pool);
        } else {
          // Exclusive = inclusive shifted one step against the scan direction; the element
          // at the chunk's start (reverse: end) is the carry from the chunks before.
          AccessPattern prev;
          if (carry) {
            prev = *carry;
          } else {
            prev = ctx.sbuf(ctx.sbuf_alloc(es), np, 1, dt);
            isa::Instr ms = make_instr(Opcode::Memset);
            ms.ops[0] = ap_operand(prev);
            ms.ops[1] = imm(0.0f);
            ctx.emit(Engine::Dve, ms);
          }
          AccessPattern part = sum;
          part.dims[0].count = nf - 1;
          if (rev) part.offset += es;
          if (nf > 1) ctx.dma(hbm(y, rev ? l0 : l0 + 1, nf - 1), part, Engine::Pool);
          ctx.dma(hbm(y, rev ? l0 + nf - 1 : l0, 1), prev, Engine::Pool);
        }
        carry = col;
      }
    }
}

}  // namespace trnsim::compiler
