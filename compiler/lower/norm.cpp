// Lowering of InstanceNormalization (Vector-engine statistics, one fused act per chunk), and of
// LRN as a matmul with a constant band matrix over the channel axis (CumSum: lower/cumsum.cpp).
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <optional>

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

}  // namespace

// Rows (n, c) on partitions, a channel tile at a time. The statistics are those of the plane
// shifted by its first element x0 (so a constant plane has mean and variance exactly 0 and
// normalises to exactly the bias): pass 1 takes bn_stats per 512 elements of each loaded chunk
// of x - x0 (act), bn_aggr -> mean_s, var; a = scale * rsqrt(var + eps). Pass 2:
// y = ((x - x0 - mean_s) * a) + B (ts, then act), reusing the shifted plane when it fits in one
// chunk, else reloading chunk by chunk. With several chunks, each chunk's statistics are first
// aggregated (bn_aggr) and written back as one bn_stats record of two halves (count/2, mean,
// count/2 * var), so the statistics take 6 values per chunk whatever the plane size.
void lower_instance_norm(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  const Shape& s = g.t(n.inputs[0]).shape;
  const int64_t N = s[0], C = s[1], S = num_elements(s) / std::max<int64_t>(1, N * C);
  if (N * C * S == 0) return;
  const float eps = n.attr_float("epsilon", 1e-5f);
  HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  HbmView gamma = ctx.view(n.inputs[1]), beta = ctx.view(n.inputs[2]);
  const DType dt = LowerCtx::sbuf_dtype(x.dtype);
  const int64_t es = isa::dtype_size(dt);
  const int64_t P = ctx.target().partitions, kStat = 512;
  const int64_t cap = ctx.target().sbuf_bytes_per_partition;
  const int64_t CH = S * es <= cap / 6 ? S : 4096;  // chunk of a plane per load
  const int64_t nchunks = (S + CH - 1) / CH;
  auto subs = [&](int64_t nf) { return (nf + kStat - 1) / kStat; };
  // Pinned: statistics (6 per sub-chunk of one chunk, or one record per chunk), mean/var, rstd,
  // a, -x0, -mean, scale, B columns.
  const int64_t nrec = nchunks == 1 ? subs(S) : nchunks;
  const int64_t pin = ctx.sbuf_pin((6 * nrec + 8) * 4);
  if (pin < 0)
    throw InputError(fmt::format("{}: planes of {} elements are too large for the SBUF "
                                 "statistics", g.where(n), S));
  const int64_t mv_off = pin + 6 * nrec * 4;
  // With C < P, a tile holds reps = P / C whole instances of the channels (a [40000, 1, 1, 1]
  // input took one partition per tile: 560k instructions, difftest seed 1200241); the scale and
  // bias columns are then the channels repeated, from a constant table when they are constant.
  const int64_t reps = C < P ? P / C : 1;
  auto repeated = [&](int in, const char* what) -> std::optional<HbmView> {
    if (reps == 1 || !g.t(n.inputs[in]).is_const()) return std::nullopt;
    const Value& v = *g.t(n.inputs[in]).value;
    Value t(DType::Fp32, {reps * C});
    for (int64_t i = 0; i < reps * C; ++i) t.data[i] = v.data[i % C];
    return ctx.add_const(n.name + what, t);
  };
  const std::optional<HbmView> grep = repeated(1, ".scale_rep"), brep = repeated(2, ".bias_rep");
  auto load_col = [&](const AccessPattern& col, const HbmView& v, const std::optional<HbmView>& rep,
                      int64_t c0, int64_t np) {
    if (reps == 1) {
      ctx.dma(col, ctx.hbm(v, v.offset + c0, np, 1, {{1, 1}}));
    } else if (rep) {
      ctx.dma(col, ctx.hbm(*rep, rep->offset, np, 1, {{1, 1}}));
    } else {
      for (int64_t p0 = 0; p0 < np; p0 += C) {
        AccessPattern part = col;
        part.start_partition = static_cast<uint16_t>(col.start_partition + p0);
        part.num_partitions = static_cast<int32_t>(C);
        ctx.dma(part, ctx.hbm(v, v.offset, C, 1, {{1, 1}}));
      }
    }
  };
  const int64_t step = reps == 1 ? P : reps * C;
  for (int64_t b = 0; b < N; b += reps)
    for (int64_t c0 = 0; c0 < C; c0 += step) {
      const int64_t np = reps == 1 ? std::min(P, C - c0) : std::min(reps, N - b) * C;
      const int64_t row0 = b * C + c0;
      auto colp = [&](int64_t k) { return ctx.sbuf(mv_off + k * 4, np, 1, DType::Fp32); };
      const AccessPattern mean = colp(0), var = colp(1), rstd = colp(2), ca = colp(3),
                          nx0 = colp(4), nm = colp(5), gc = colp(6), bc = colp(7);
      load_col(gc, gamma, grep, c0, np);
      load_col(bc, beta, brep, c0, np);
      auto load = [&](int64_t k0, int64_t nf) {
        AccessPattern t = ctx.sbuf(ctx.sbuf_alloc(nf * es), np, nf, dt);
        ctx.dma(t, ctx.hbm(x, x.offset + row0 * S + k0, np, S, {{1, nf}}));
        return t;
      };
      AccessPattern kept;
      for (int64_t k0 = 0, k = 0; k0 < S; k0 += CH, ++k) {
        const int64_t nf = std::min(CH, S - k0);
        AccessPattern t = load(k0, nf);
        if (k0 == 0) ts(ctx, nx0, ctx.sbuf(t.offset, np, 1, dt), AluOp::Mul, imm(-1.0f));
        kept = ctx.sbuf(ctx.sbuf_alloc(nf * es), np, nf, dt);
        act(ctx, kept, t, ActFn::Copy, imm(1.0f), ap_operand(nx0));  // x - x0
        // bn_stats of the chunk: into the pinned statistics (one chunk) or a scratch tile.
        const int64_t st = nchunks == 1 ? pin : ctx.sbuf_alloc(6 * subs(nf) * 4);
        for (int64_t j0 = 0, sub = 0; j0 < nf; j0 += kStat, ++sub)
          dve_unary(ctx, Opcode::BnStats, ctx.sbuf(st + sub * 24, np, 6, DType::Fp32),
                    ctx.sbuf(kept.offset + j0 * es, np, std::min(kStat, nf - j0), dt));
        if (nchunks == 1) continue;
        // The chunk's mean and variance as record k: (nf/2, mean, nf/2 * var) twice.
        dve_unary(ctx, Opcode::BnAggr, ctx.sbuf(mv_off, np, 2, DType::Fp32),
                  ctx.sbuf(st, np, 6 * subs(nf), DType::Fp32));
        auto rec = [&](int64_t field) {  // field `field` of both halves of record k
          AccessPattern a = ctx.sbuf(pin + (6 * k + field) * 4, np, 0, DType::Fp32);
          a.dims[0] = {3, 2};
          return a;
        };
        auto twice = [&](const AccessPattern& col) {
          AccessPattern a = col;
          a.dims[0] = {0, 2};
          return a;
        };
        isa::Instr ms = make_instr(Opcode::Memset);
        ms.ops[0] = ap_operand(rec(0));
        ms.ops[1] = imm(static_cast<float>(nf) / 2.0f);
        ctx.emit(Engine::Dve, ms);
        dve_unary(ctx, Opcode::Copy, rec(1), twice(mean));
        ts(ctx, rec(2), twice(var), AluOp::Mul, imm(static_cast<float>(nf) / 2.0f));
      }
      dve_unary(ctx, Opcode::BnAggr, ctx.sbuf(mv_off, np, 2, DType::Fp32),
                ctx.sbuf(pin, np, 6 * nrec, DType::Fp32));
      act(ctx, rstd, var, ActFn::Rsqrt, imm(1.0f), imm(eps));
      ts(ctx, ca, rstd, AluOp::Mul, ap_operand(gc), AluOp::Bypass, imm(0.0f));
      ts(ctx, nm, mean, AluOp::Mul, imm(-1.0f), AluOp::Add, ap_operand(nx0));  // -(x0 + mean)
      for (int64_t k0 = 0; k0 < S; k0 += CH) {
        const int64_t nf = std::min(CH, S - k0);
        AccessPattern o = ctx.sbuf(ctx.sbuf_alloc(nf * es), np, nf, dt);
        if (nchunks == 1) {  // (x - x0) - mean
          ts(ctx, o, kept, AluOp::Sub, ap_operand(mean), AluOp::Mul, ap_operand(ca));
        } else {
          ts(ctx, o, load(k0, nf), AluOp::Add, ap_operand(nm), AluOp::Mul, ap_operand(ca));
        }
        act(ctx, o, o, ActFn::Copy, imm(1.0f), ap_operand(bc));
        ctx.dma(ctx.hbm(y, y.offset + row0 * S + k0, np, S, {{1, nf}}), o, Engine::Pool);
      }
    }
  ctx.unpin_all();
}

namespace {

// out[o, m, i] = post(sum_l band[l, m] * pre(x[o, l, i])) for x seen as [O, L, I]: L on
// partitions (K tiles), a block of (o, i) pairs (at most one PSUM bank) on the free axis, the
// band's blocks (stationary) pinned in SBUF, K tiles accumulating in PSUM. act evacuates PSUM
// as s*scale + bias; LRN then raises to -beta and multiplies by x.
struct BandOp {
  ActFn pre = ActFn::Copy;  // applied to x when converting it to the matmul dtype
  float scale = 1.0f, bias = 0.0f;
  bool lrn = false;
  float beta = 0.0f;
  DType mt = DType::Fp32;
};

// The band's block of rows [k0, k0 + nk) and columns [m0, m0 + nm) as a stationary operand
// (pinned SBUF), or nullopt where it is all zeros (no matmul).
using BandBlock =
    std::function<std::optional<AccessPattern>(int64_t k0, int64_t nk, int64_t m0, int64_t nm)>;

void band_matmul(LowerCtx& ctx, const Node& n, int64_t O, int64_t L, int64_t I,
                 const BandBlock& block, const BandOp& op) {
  const isa::Target& tg = ctx.target();
  const int64_t P = std::min<int64_t>(tg.partitions, tg.pe_rows);
  const int64_t MT = std::min<int64_t>(P, tg.pe_cols);
  const int64_t F = std::min<int64_t>({512, tg.max_moving_free, tg.psum_bank_bytes / 4});
  const DType mt = op.mt;
  const int64_t es = isa::dtype_size(mt);
  HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  const int64_t KT = (L + P - 1) / P;
  const int64_t ni = std::min(I, F), no = std::max<int64_t>(1, std::min(O, F / ni));
  const DType xd = LowerCtx::sbuf_dtype(x.dtype);
  const int64_t xs = isa::dtype_size(xd);
  // x/y rows l0.. of the block (o0, i0): partitions l (stride I), free [o][i].
  auto hv = [&](const HbmView& v, int64_t l0, int64_t np, int64_t o0, int64_t co, int64_t i0,
                int64_t ci) {
    return ctx.hbm(v, v.offset + (o0 * L + l0) * I + i0, np, I, {{L * I, co}, {1, ci}});
  };
  auto st = [&](int64_t off, int64_t np, int64_t co, int64_t ci, DType dt) {
    AccessPattern a = ctx.sbuf(off, np, 0, dt);
    a.ndims = 2;
    a.dims[0] = {ci, co};
    a.dims[1] = {1, ci};
    return a;
  };
  for (int64_t o0 = 0; o0 < O; o0 += no)
    for (int64_t i0 = 0; i0 < I; i0 += ni) {
      const int64_t co = std::min(no, O - o0), ci = std::min(ni, I - i0), nf = co * ci;
      std::vector<AccessPattern> xt, sq;
      for (int64_t kt = 0; kt < KT; ++kt) {
        const int64_t nk = std::min(P, L - kt * P);
        const int64_t off = ctx.sbuf_alloc(nf * xs);
        ctx.dma(st(off, nk, co, ci, xd), hv(x, kt * P, nk, o0, co, i0, ci));
        xt.push_back(ctx.sbuf(off, nk, nf, xd));
        sq.push_back(ctx.sbuf(ctx.sbuf_alloc(nf * es), nk, nf, mt));
        act(ctx, sq.back(), xt.back(), op.pre, imm(1.0f), imm(0.0f));
      }
      for (int64_t m0 = 0; m0 < L; m0 += MT) {
        const int64_t nm = std::min(MT, L - m0);
        const AccessPattern ps = ctx.psum(ctx.psum_alloc(), nm, nf);
        bool first = true;
        for (int64_t kt = 0; kt < KT; ++kt) {
          const int64_t nk = std::min(P, L - kt * P);
          const std::optional<AccessPattern> stat = block(kt * P, nk, m0, nm);
          if (!stat) continue;
          isa::Instr mm = make_instr(Opcode::Matmul);
          mm.ops[0] = ap_operand(ps);
          mm.ops[1] = ap_operand(*stat);
          mm.ops[2] = ap_operand(sq[kt]);
          mm.ops[3] = int_operand(static_cast<int64_t>(first ? isa::AccFlag::Zero : isa::AccFlag::Acc));
          ctx.emit(Engine::Pe, mm);
          first = false;
        }
        const AccessPattern d = ctx.sbuf(ctx.sbuf_alloc(nf * 4), nm, nf, DType::Fp32);
        if (first) {  // no nonzero block: the sums are 0
          isa::Instr ms = make_instr(Opcode::Memset);
          ms.ops[0] = ap_operand(d);
          ms.ops[1] = imm(op.bias);
          ctx.emit(Engine::Dve, ms);
        } else {
          act(ctx, d, ps, ActFn::Copy, imm(op.scale), imm(op.bias));
        }
        if (op.lrn) {
          ts(ctx, d, d, AluOp::Pow, imm(-op.beta), AluOp::Bypass, imm(0.0f));
          // x of the output rows: the K tile holding them when aligned, else a reload.
          AccessPattern xm;
          if (m0 % P == 0 && nm == std::min(P, L - m0)) {
            xm = xt[m0 / P];
          } else {
            const int64_t off = ctx.sbuf_alloc(nf * xs);
            ctx.dma(st(off, nm, co, ci, xd), hv(x, m0, nm, o0, co, i0, ci));
            xm = ctx.sbuf(off, nm, nf, xd);
          }
          tt(ctx, d, d, xm, AluOp::Mul);
        }
        ctx.dma(hv(y, m0, nm, o0, co, i0, ci), st(d.offset, nm, co, ci, DType::Fp32),
                Engine::Pool);
      }
    }
  ctx.unpin_all();
}

}  // namespace

// LRN: channels on partitions; the window sum of squares is a matmul with the 0/1 band matrix
// [C, C] (pinned; rows m - below .. m + above of column m are ones).
void lower_lrn(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  const Shape& s = g.t(n.inputs[0]).shape;
  const int64_t N = s[0], C = s[1], S = num_elements(s) / std::max<int64_t>(1, N * C);
  if (N * C * S == 0) return;
  const int64_t size = n.attr_int("size", 1);
  BandOp op;
  op.pre = ActFn::Square;
  op.scale = n.attr_float("alpha", 1e-4f) / static_cast<float>(size);
  op.bias = n.attr_float("bias", 1.0f);
  op.lrn = true;
  op.beta = n.attr_float("beta", 0.75f);
  op.mt = ctx.mm_dtype();
  const int64_t below = (size - 1) / 2, above = size - 1 - below;  // window [m - below, m + above]
  Value band(DType::Fp32, {C, C});
  for (int64_t m = 0; m < C; ++m)
    for (int64_t k = std::max<int64_t>(0, m - below); k <= std::min(C - 1, m + above); ++k)
      band.data[k * C + m] = 1.0;
  const isa::Target& tg = ctx.target();
  const int64_t P = std::min<int64_t>(tg.partitions, tg.pe_rows);
  const int64_t es = isa::dtype_size(op.mt), KT = (C + P - 1) / P;
  HbmView bv = ctx.add_const(n.name + ".band", band, op.mt);
  const int64_t pin = ctx.sbuf_pin(KT * C * es);
  if (pin < 0)
    throw InputError(fmt::format("{}: {} channels are too many for the SBUF band matrix",
                                 g.where(n), C));
  for (int64_t kt = 0; kt < KT; ++kt) {
    const int64_t nk = std::min(P, C - kt * P);
    ctx.dma(ctx.sbuf(pin + kt * C * es, nk, C, op.mt),
            ctx.hbm(bv, bv.offset + kt * P * C, nk, C, {{1, C}}));
  }
  band_matmul(ctx, n, N, C, S,
              [&](int64_t k0, int64_t nk, int64_t m0, int64_t nm) -> std::optional<AccessPattern> {
                if (k0 + nk - 1 < m0 - below || k0 > m0 + nm - 1 + above) return std::nullopt;
                return ctx.sbuf(pin + (k0 / P * C + m0) * es, nk, nm, op.mt);
              },
              op);
}

}  // namespace trnsim::compiler
