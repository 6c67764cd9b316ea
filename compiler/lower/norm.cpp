// Lowering of InstanceNormalization (Vector-engine statistics, one fused act per chunk) and
// LRN (the cross-channel window sum of squares as a matmul with a constant band matrix).
#include <fmt/format.h>

#include <algorithm>

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

void act(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& src, ActFn fn,
         isa::Operand scale, isa::Operand bias) {
  isa::Instr in = make_instr(Opcode::Act);
  in.ops[0] = ap_operand(dst);
  in.ops[1] = ap_operand(src);
  in.ops[2] = int_operand(static_cast<int64_t>(fn));
  in.ops[3] = scale;
  in.ops[4] = bias;
  ctx.emit(Engine::Act, in);
}

void ts(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& src, AluOp op0,
        isa::Operand s0, AluOp op1, isa::Operand s1) {
  isa::Instr in = make_instr(Opcode::TensorScalar);
  in.ops[0] = ap_operand(dst);
  in.ops[1] = ap_operand(src);
  in.ops[2] = int_operand(static_cast<int64_t>(op0));
  in.ops[3] = s0;
  in.ops[4] = int_operand(static_cast<int64_t>(op1));
  in.ops[5] = s1;
  ctx.emit(Engine::Dve, in);
}

void unary_op(LowerCtx& ctx, Opcode op, const AccessPattern& dst, const AccessPattern& src) {
  isa::Instr in = make_instr(op);
  in.ops[0] = ap_operand(dst);
  in.ops[1] = ap_operand(src);
  ctx.emit(Engine::Dve, in);
}

}  // namespace

// Rows (n, c) on partitions, a channel tile at a time. Pass 1: bn_stats per 512 elements of each
// loaded chunk into a pinned statistics tile, bn_aggr -> mean, var. a = scale * rsqrt(var + eps),
// b = B - mean * a (per-partition columns). Pass 2: y = act copy(x * a + b), reusing the loaded
// plane when it fits in one chunk, else reloading chunk by chunk.
void lower_instance_norm(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  const Shape& s = g.t(n.inputs[0]).shape;
  const int64_t N = s[0], C = s[1], S = num_elements(s) / std::max<int64_t>(1, N * C);
  if (N * C * S == 0) return;
  const float eps = n.attr_float("epsilon", 1e-5f);
  HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  HbmView gamma = ctx.view(n.inputs[1]), beta = ctx.view(n.inputs[2]);
  const int64_t P = ctx.target().partitions, kStat = 512;
  const int64_t cap = ctx.target().sbuf_bytes_per_partition;
  const int64_t CH = S * 4 <= cap / 6 ? S : 4096;  // chunk of a plane per load
  const int64_t nchunks = (S + CH - 1) / CH;
  int64_t nsub = 0;
  for (int64_t k0 = 0; k0 < S; k0 += CH) nsub += (std::min(CH, S - k0) + kStat - 1) / kStat;
  // Pinned: statistics (6 per sub-chunk), mean/var, rstd, a, b, scale, B columns.
  const int64_t pin = ctx.sbuf_pin((6 * nsub + 8) * 4);
  if (pin < 0)
    throw InputError(fmt::format("{}: planes of {} elements are too large for the SBUF "
                                 "statistics", g.where(n), S));
  const int64_t mv_off = pin + 6 * nsub * 4;
  for (int64_t b = 0; b < N; ++b)
    for (int64_t c0 = 0; c0 < C; c0 += P) {
      const int64_t np = std::min(P, C - c0), row0 = b * C + c0;
      auto colp = [&](int64_t k) { return ctx.sbuf(mv_off + k * 4, np, 1, DType::Fp32); };
      const AccessPattern mean = colp(0), var = colp(1), rstd = colp(2), ca = colp(3),
                          cb = colp(4), gc = colp(5), bc = colp(6);
      ctx.dma(gc, ctx.hbm(gamma, gamma.offset + c0, np, 1, {{1, 1}}));
      ctx.dma(bc, ctx.hbm(beta, beta.offset + c0, np, 1, {{1, 1}}));
      AccessPattern kept;
      int64_t sub = 0;
      for (int64_t k0 = 0; k0 < S; k0 += CH) {
        const int64_t nf = std::min(CH, S - k0);
        const int64_t off = ctx.sbuf_alloc(nf * 4);
        kept = ctx.sbuf(off, np, nf, DType::Fp32);
        ctx.dma(kept, ctx.hbm(x, x.offset + row0 * S + k0, np, S, {{1, nf}}));
        for (int64_t j0 = 0; j0 < nf; j0 += kStat, ++sub)
          unary_op(ctx, Opcode::BnStats, ctx.sbuf(pin + sub * 24, np, 6, DType::Fp32),
                   ctx.sbuf(off + j0 * 4, np, std::min(kStat, nf - j0), DType::Fp32));
      }
      unary_op(ctx, Opcode::BnAggr, ctx.sbuf(mv_off, np, 2, DType::Fp32),
               ctx.sbuf(pin, np, 6 * nsub, DType::Fp32));
      act(ctx, rstd, var, ActFn::Rsqrt, imm(1.0f), imm(eps));
      ts(ctx, ca, rstd, AluOp::Mul, ap_operand(gc), AluOp::Bypass, imm(0.0f));
      ts(ctx, cb, mean, AluOp::Mul, ap_operand(ca), AluOp::Rsub, ap_operand(bc));  // B - mean*a
      for (int64_t k0 = 0; k0 < S; k0 += CH) {
        const int64_t nf = std::min(CH, S - k0);
        AccessPattern t = kept;
        if (nchunks > 1) {
          t = ctx.sbuf(ctx.sbuf_alloc(nf * 4), np, nf, DType::Fp32);
          ctx.dma(t, ctx.hbm(x, x.offset + row0 * S + k0, np, S, {{1, nf}}));
        }
        AccessPattern o = ctx.sbuf(ctx.sbuf_alloc(nf * 4), np, nf, DType::Fp32);
        act(ctx, o, t, ActFn::Copy, ap_operand(ca), ap_operand(cb));
        ctx.dma(ctx.hbm(y, y.offset + row0 * S + k0, np, S, {{1, nf}}), o, Engine::Pool);
      }
    }
  ctx.unpin_all();
}

// Channels on partitions (K tiles of `partitions`), up to 512 positions per block. The window
// sum of squares s[m] = sum_k band[k, m] * x[k]^2 is a matmul with the constant 0/1 band
// matrix (pinned in SBUF) as the stationary operand; act evacuates PSUM as
// bias + alpha/size * s, dve raises it to -beta and multiplies by x.
void lower_lrn(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  const Shape& s = g.t(n.inputs[0]).shape;
  const int64_t N = s[0], C = s[1], S = num_elements(s) / std::max<int64_t>(1, N * C);
  if (N * C * S == 0) return;
  const int64_t size = n.attr_int("size", 1);
  const float alpha = n.attr_float("alpha", 1e-4f), beta = n.attr_float("beta", 0.75f);
  const float bias = n.attr_float("bias", 1.0f);
  const int64_t lo = (size - 1) / 2, hi = size - 1 - lo;
  const isa::Target& tg = ctx.target();
  const int64_t P = std::min<int64_t>(tg.partitions, tg.pe_rows);
  const int64_t MT = std::min<int64_t>(P, tg.pe_cols);
  const int64_t F = std::min<int64_t>({512, tg.max_moving_free, tg.psum_bank_bytes / 4});
  const DType mt = ctx.mm_dtype();
  const int64_t es = isa::dtype_size(mt);
  HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  Value band(DType::Fp32, {C, C});
  for (int64_t m = 0; m < C; ++m)
    for (int64_t k = std::max<int64_t>(0, m - lo); k <= std::min(C - 1, m + hi); ++k)
      band.data[k * C + m] = 1.0;
  HbmView bv = ctx.add_const(n.name + ".band", band, mt);
  const int64_t KT = (C + P - 1) / P;
  const int64_t pin = ctx.sbuf_pin(KT * C * es);
  if (pin < 0) throw InputError(fmt::format("{}: {} channels are too many", g.where(n), C));
  for (int64_t kt = 0; kt < KT; ++kt) {
    const int64_t nk = std::min(P, C - kt * P);
    ctx.dma(ctx.sbuf(pin + kt * C * es, nk, C, mt),
            ctx.hbm(bv, bv.offset + kt * P * C, nk, C, {{1, C}}));
  }
  for (int64_t b = 0; b < N; ++b)
    for (int64_t f0 = 0; f0 < S; f0 += F) {
      const int64_t nf = std::min(F, S - f0);
      std::vector<AccessPattern> xt, sq;
      for (int64_t kt = 0; kt < KT; ++kt) {
        const int64_t nk = std::min(P, C - kt * P);
        xt.push_back(ctx.sbuf(ctx.sbuf_alloc(nf * 4), nk, nf, DType::Fp32));
        ctx.dma(xt.back(), ctx.hbm(x, x.offset + (b * C + kt * P) * S + f0, nk, S, {{1, nf}}));
        sq.push_back(ctx.sbuf(ctx.sbuf_alloc(nf * es), nk, nf, mt));
        act(ctx, sq.back(), xt.back(), ActFn::Square, imm(1.0f), imm(0.0f));
      }
      for (int64_t m0 = 0; m0 < C; m0 += MT) {
        const int64_t nm = std::min(MT, C - m0);
        const int64_t k_lo = std::max<int64_t>(0, m0 - hi), k_hi = std::min(C - 1, m0 + nm - 1 + lo);
        const AccessPattern ps = ctx.psum(ctx.psum_alloc(), nm, nf);
        bool first = true;
        for (int64_t kt = k_lo / P; kt <= k_hi / P; ++kt) {
          const int64_t nk = std::min(P, C - kt * P);
          isa::Instr mm = make_instr(Opcode::Matmul);
          mm.ops[0] = ap_operand(ps);
          mm.ops[1] = ap_operand(ctx.sbuf(pin + (kt * C + m0) * es, nk, nm, mt));
          mm.ops[2] = ap_operand(sq[kt]);
          mm.ops[3] = int_operand(static_cast<int64_t>(first ? isa::AccFlag::Zero : isa::AccFlag::Acc));
          ctx.emit(Engine::Pe, mm);
          first = false;
        }
        const AccessPattern d = ctx.sbuf(ctx.sbuf_alloc(nf * 4), nm, nf, DType::Fp32);
        act(ctx, d, ps, ActFn::Copy, imm(alpha / static_cast<float>(size)), imm(bias));
        ts(ctx, d, d, AluOp::Pow, imm(-beta), AluOp::Bypass, imm(0.0f));
        // x of the output channels: the K tile holding them when aligned, else a reload.
        AccessPattern xm;
        if (m0 % P == 0 && nm == std::min(P, C - m0)) {
          xm = xt[m0 / P];
        } else {
          xm = ctx.sbuf(ctx.sbuf_alloc(nf * 4), nm, nf, DType::Fp32);
          ctx.dma(xm, ctx.hbm(x, x.offset + (b * C + m0) * S + f0, nm, S, {{1, nf}}));
        }
        isa::Instr mul = make_instr(Opcode::TensorTensor);
        mul.ops[0] = ap_operand(d);
        mul.ops[1] = ap_operand(d);
        mul.ops[2] = ap_operand(xm);
        mul.ops[3] = int_operand(static_cast<int64_t>(AluOp::Mul));
        ctx.emit(Engine::Dve, mul);
        ctx.dma(ctx.hbm(y, y.offset + (b * C + m0) * S + f0, nm, S, {{1, nf}}), d, Engine::Pool);
      }
    }
  ctx.unpin_all();
}

}  // namespace trnsim::compiler
