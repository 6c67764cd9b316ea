// Lowering of MatMul (batched, broadcast) and Gemm onto the Tensor Engine.
// out[m, n] = sum_k A[m, k] B[k, n]: the stationary tile is A^T [k on partitions, m free]
// (a transposing DMA access pattern), the moving tile B [k, n]; K is accumulated in one PSUM
// bank with zero/acc flags, and the act engine evacuates PSUM (applying alpha) to SBUF.
// MatMul operands are addressed through their views' strides, so a Transpose folded into a
// strided view (lower/movement.cpp) is read in place.
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "compiler/lower/lower_ctx.h"
#include "compiler/ops/op_fns.h"
#include "compiler/ops/op_table.h"
#include "support/error.h"

namespace trnsim::compiler {

using isa::AccessPattern;
using isa::Engine;
using isa::Opcode;

namespace {

struct MatmulDesc {
  int64_t M = 0, K = 0, N = 0;
  // Element strides of A along m and k, of B along k and n, of the output along m and n.
  int64_t am = 0, ak = 0, bk = 0, bn = 0, om = 0, on = 0;
  float alpha = 1.0f, beta = 0.0f;
};

// Loads the K tiles [k on partitions, `free` elements] of an operand into pinned SBUF; empty
// when they do not fit (the caller then loads each tile where it is used).
std::vector<AccessPattern> load_k_tiles(LowerCtx& ctx, const HbmView& v, int64_t off,
                                        int64_t kstride, int64_t fstride, int64_t K, int64_t tk,
                                        int64_t free, DType mt) {
  const int64_t ntiles = (K + tk - 1) / tk;
  const int64_t tile_bytes = (free * isa::dtype_size(mt) + 63) / 64 * 64;
  const int64_t base = ctx.sbuf_pin(ntiles * tile_bytes);
  if (base < 0) return {};
  std::vector<AccessPattern> tiles;
  for (int64_t i = 0, k0 = 0; k0 < K; ++i, k0 += tk) {
    const int64_t kk = std::min(tk, K - k0);
    AccessPattern t = ctx.sbuf(base + i * tile_bytes, kk, free, mt);
    ctx.dma(t, ctx.hbm(v, off + k0 * kstride, kk, kstride, {{fstride, free}}));
    tiles.push_back(t);
  }
  return tiles;
}

// Stores a staged result of `rows` rows (tiles of `tile` partitions laid one after another in
// SBUF from `stage`, `nf` fp32 elements each) to HBM at element `off`, rows `pstride` apart and
// elements `fstride` apart: the full tiles as one DMA, a partial last tile on its own. Issued by
// pool so that sp keeps loading the next tiles' operands.
void store_staged(LowerCtx& ctx, const HbmView& out, int64_t off, int64_t pstride,
                  int64_t fstride, int64_t tile, int64_t rows, int64_t nf, int64_t stage) {
  const int64_t full = rows / tile;
  if (full > 0) {
    AccessPattern src = ctx.sbuf(stage, tile, nf, DType::Fp32);
    src.ndims = 2;
    src.dims[0] = {nf, full};
    src.dims[1] = {1, nf};
    ctx.dma(ctx.hbm(out, off, tile, pstride, {{tile * pstride, full}, {fstride, nf}}), src,
            Engine::Pool);
  }
  if (rows % tile) {
    ctx.dma(ctx.hbm(out, off + full * tile * pstride, rows % tile, pstride, {{fstride, nf}}),
            ctx.sbuf(stage + full * nf * 4, rows % tile, nf, DType::Fp32), Engine::Pool);
  }
}

void emit_matmul_2d(LowerCtx& ctx, const MatmulDesc& d, const HbmView& a, int64_t a_off,
                    const HbmView& b, int64_t b_off, const HbmView& out, int64_t o_off,
                    const HbmView* c, const std::vector<int64_t>& c_strides) {
  const isa::Target& t = ctx.target();
  const DType mt = ctx.mm_dtype();
  const int64_t tm = std::min<int64_t>(t.pe_cols, t.partitions);
  const int64_t tk = std::min<int64_t>(t.pe_rows, t.partitions);
  const int64_t tn = std::min<int64_t>(t.max_moving_free, t.psum_bank_bytes / 4);
  const int es = isa::dtype_size(mt);
  for (int64_t m0 = 0; m0 < d.M; m0 += tm) {
    const int64_t mm = std::min(tm, d.M - m0);
    // A^T[k, m0:m0+mm] is stationary for every n tile: load its K tiles once when they fit.
    std::vector<AccessPattern> stationary = load_k_tiles(ctx, a, a_off + m0 * d.am, d.ak, d.am,
                                                         d.K, tk, mm, mt);
    for (int64_t n0 = 0; n0 < d.N; n0 += tn) {
      const int64_t nn = std::min(tn, d.N - n0);
      const int64_t bank = ctx.psum_alloc();
      const AccessPattern acc = ctx.psum(bank, mm, nn);
      for (int64_t k0 = 0, ki = 0; k0 < d.K; k0 += tk, ++ki) {
        const int64_t kk = std::min(tk, d.K - k0);
        AccessPattern st;
        if (!stationary.empty()) {
          st = stationary[ki];
        } else {
          st = ctx.sbuf(ctx.sbuf_alloc(mm * es), kk, mm, mt);
          ctx.dma(st, ctx.hbm(a, a_off + m0 * d.am + k0 * d.ak, kk, d.ak, {{d.am, mm}}));
        }
        AccessPattern mv = ctx.sbuf(ctx.sbuf_alloc(nn * es), kk, nn, mt);
        ctx.dma(mv, ctx.hbm(b, b_off + k0 * d.bk + n0 * d.bn, kk, d.bk, {{d.bn, nn}}));
        isa::Instr in = make_instr(Opcode::Matmul);
        in.ops[0] = ap_operand(acc);
        in.ops[1] = ap_operand(st);
        in.ops[2] = ap_operand(mv);
        in.ops[3] = int_operand(static_cast<int64_t>(k0 == 0 ? isa::AccFlag::Zero : isa::AccFlag::Acc));
        ctx.emit(Engine::Pe, in);
      }
      AccessPattern res = ctx.sbuf(ctx.sbuf_alloc(nn * 4), mm, nn, DType::Fp32);
      isa::Instr ev = make_instr(Opcode::Act);
      ev.ops[0] = ap_operand(res);
      ev.ops[1] = ap_operand(acc);
      ev.ops[2] = int_operand(static_cast<int64_t>(isa::ActFn::Copy));
      ev.ops[3] = imm(d.alpha);
      ev.ops[4] = imm(0.0f);
      ctx.emit(Engine::Act, ev);
      if (c) {
        AccessPattern cb = ctx.sbuf(ctx.sbuf_alloc(nn * 4), mm, nn, DType::Fp32);
        ctx.dma(cb, ctx.hbm(*c, c->offset + m0 * c_strides[0] + n0 * c_strides[1], mm,
                            c_strides[0], {{c_strides[1], nn}}));
        isa::Instr in = make_instr(Opcode::TensorScalar);
        // res = (c * beta) + res, as ts then tt.
        in.ops[0] = ap_operand(cb);
        in.ops[1] = ap_operand(cb);
        in.ops[2] = int_operand(static_cast<int64_t>(isa::AluOp::Mul));
        in.ops[3] = imm(d.beta);
        in.ops[4] = int_operand(static_cast<int64_t>(isa::AluOp::Bypass));
        in.ops[5] = imm(0.0f);
        if (d.beta != 1.0f) ctx.emit(Engine::Dve, in);
        isa::Instr add = make_instr(Opcode::TensorTensor);
        add.ops[0] = ap_operand(res);
        add.ops[1] = ap_operand(res);
        add.ops[2] = ap_operand(cb);
        add.ops[3] = int_operand(static_cast<int64_t>(isa::AluOp::Add));
        ctx.emit(Engine::Dve, add);
      }
      // Stores are issued by pool so that sp keeps loading the next tiles' operands.
      ctx.dma(ctx.hbm(out, o_off + m0 * d.om + n0 * d.on, mm, d.om, {{d.on, nn}}), res,
              Engine::Pool);
    }
    ctx.unpin_all();
  }
}

// Blocked GEMM for large operands (the structure of traces/13_mm_blocked_dma):
// - the M dimension is blocked by up to `psum_banks` row tiles; the block's A^T [K, rows] stays
//   in pinned SBUF for every N tile, so each moving tile of B feeds one matmul per row tile
//   (one PSUM bank each);
// - A^T comes from a compile-time transposed constant (`at`, large DMAs), or, for a runtime A
//   with contiguous rows, from A's rows (large DMAs) transposed on the PE into PSUM, four k
//   tiles per bank, and copied out by act/dve; otherwise from a strided DMA per k tile;
// - B streams in chunks of several k tiles (one DMA per half chunk, on rotating queues) through
//   the SBUF ring, which double-buffers them: the semaphore pass lets a chunk load as soon as
//   the ring slot's previous readers are done;
// - act/dve evacuate the banks, and pool stores a unit's row tiles with one DMA so that sp,
//   which issues the loads, never blocks on an evacuation.
// Returns false (nothing emitted) when the A^T block of one row tile does not fit.
// With `epi` (the fused path, lower_matmul), PSUM starts from the bias and the evacuation
// applies the activation: see EpilogueRows.
struct EpilogueRows {
  const HbmView* table = nullptr;  // [parts, tm + N] in the matmul dtype: ones, then bias parts
  int64_t parts = 0;               // 0: no bias
  isa::ActFn fn = isa::ActFn::Copy;
};

bool emit_matmul_blocked(LowerCtx& ctx, const MatmulDesc& d, const HbmView& a, int64_t a_off,
                         const HbmView* at, int64_t at_off, const HbmView& b, int64_t b_off,
                         const HbmView& out, int64_t o_off, const EpilogueRows& epi = {}) {
  const isa::Target& t = ctx.target();
  const DType mt = ctx.mm_dtype();
  const int64_t tm = std::min<int64_t>(t.pe_cols, t.partitions);
  const int64_t tk = std::min<int64_t>(t.pe_rows, t.partitions);
  const int64_t tn = std::min<int64_t>(t.max_moving_free, t.psum_bank_bytes / 4);
  const int64_t es = isa::dtype_size(mt);
  const int64_t KT = (d.K + tk - 1) / tk, MT = (d.M + tm - 1) / tm;
  const int64_t cap = t.sbuf_bytes_per_partition;
  // Pin up to 3/4 of SBUF (128 KiB of 192 for K = 8192 and 8 row tiles in bf16); the ring
  // keeps the rest for B chunks, A rows and output staging.
  constexpr double kPinShare = 0.75;
  // The epilogue's table of ones and bias parts is pinned beside the A^T block.
  const int64_t tm_cols = std::min<int64_t>(tm, d.M);
  const int64_t epi_bytes = epi.parts > 0 ? (tm_cols + d.N) * es : 0;
  int64_t MB = std::min<int64_t>(t.psum_banks, MT);
  while (MB > 1 && KT * MB * tm * es + epi_bytes > kPinShare * cap) --MB;
  const int64_t row_bytes = MB * tm * es;  // one k tile of the A^T block
  if (KT * row_bytes + epi_bytes > kPinShare * cap ||
      cap - KT * row_bytes - epi_bytes < 40 * 1024)
    return false;
  // B chunk: up to 8 k tiles, at most 8 KiB per partition.
  const int64_t kc = std::clamp<int64_t>(8192 / std::max<int64_t>(1, tn * es), 1, 8);
  // A PE transpose of an [M-tile, K-tile] block needs M-tile <= pe.rows and K-tile <= pe.cols
  // (non-square arrays fall back to a transposing DMA).
  const bool pe_transpose = !at && d.ak == 1 && d.M > 1 && tm <= t.pe_rows && tk <= t.pe_cols;
  const int64_t tr_group = std::max<int64_t>(1, t.psum_bank_bytes / (tm * 4));  // per bank
  // A columns per row load: one PSUM bank of transposes, so that a producer's [128, 512] store
  // tiles (a matmul's units, the elementwise ops that follow them) are exactly the loads
  // and allocate_sbuf can forward them.
  const int64_t tr_cols = tk * tr_group;
  int copy_engine = 0;
  auto copy_out = [&](const AccessPattern& dst, const AccessPattern& src, float alpha,
                      isa::ActFn fn = isa::ActFn::Copy) {
    if (alpha != 1.0f || fn != isa::ActFn::Copy || copy_engine++ % 2 == 0) {
      isa::Instr ev = make_instr(Opcode::Act);
      ev.ops[0] = ap_operand(dst);
      ev.ops[1] = ap_operand(src);
      ev.ops[2] = int_operand(static_cast<int64_t>(fn));
      ev.ops[3] = imm(alpha);
      ev.ops[4] = imm(0.0f);
      ctx.emit(Engine::Act, ev);
    } else {
      isa::Instr cp = make_instr(Opcode::Copy);
      cp.ops[0] = ap_operand(dst);
      cp.ops[1] = ap_operand(src);
      ctx.emit(Engine::Dve, cp);
    }
  };
  for (int64_t m0 = 0; m0 < d.M; m0 += MB * tm) {
    const int64_t rows = std::min(MB * tm, d.M - m0);
    const int64_t mtiles = (rows + tm - 1) / tm;
    int64_t epi_base = -1;
    if (epi.parts > 0) {
      epi_base = ctx.sbuf_pin(epi_bytes, kPinShare);
      if (epi_base < 0) throw std::logic_error("matmul: bias table does not fit in SBUF");
      ctx.dma(ctx.sbuf(epi_base, epi.parts, tm_cols + d.N, mt),
              ctx.hbm(*epi.table, epi.table->offset, epi.parts, tm_cols + d.N,
                      {{1, tm_cols + d.N}}));
    }
    const int64_t base = ctx.sbuf_pin(KT * row_bytes, kPinShare);
    if (base < 0) throw std::logic_error("matmul: A^T block does not fit in SBUF");
    auto st_tile = [&](int64_t ki, int64_t j) {
      const int64_t kk = std::min(tk, d.K - ki * tk);
      return ctx.sbuf(base + ki * row_bytes + j * tm * es, kk, std::min(tm, rows - j * tm), mt);
    };
    // ---- A^T block.
    if (at) {
      // Constant A, transposed at compile time: [K, M] rows, several k tiles per DMA.
      const int64_t per = std::max<int64_t>(1, (1 << 20) / std::max<int64_t>(1, tk * rows * es));
      for (int64_t ki = 0; ki < KT;) {
        const int64_t kk = std::min(tk, d.K - ki * tk);
        int64_t cnt = 1;
        if (kk == tk)
          while (cnt < per && ki + cnt < KT && d.K - (ki + cnt) * tk >= tk) ++cnt;
        AccessPattern dst = ctx.sbuf(base + ki * row_bytes, kk, rows, mt);
        dst.ndims = 2;
        dst.dims[0] = {row_bytes / es, cnt};
        dst.dims[1] = {1, rows};
        ctx.dma(dst, ctx.hbm(*at, at_off + ki * tk * d.M + m0, kk, d.M,
                             {{tk * d.M, cnt}, {1, rows}}));
        ki += cnt;
      }
    } else if (pe_transpose) {
      // A rows [m, k] (contiguous k) -> SBUF, transposed on the PE, four k tiles per bank.
      for (int64_t j = 0; j < mtiles; ++j) {
        const int64_t mm = std::min(tm, rows - j * tm);
        const int64_t r0 = m0 + j * tm;
        for (int64_t c0 = 0; c0 < d.K; c0 += tr_cols) {
          const int64_t cols = std::min(tr_cols, d.K - c0);
          AccessPattern raw = ctx.sbuf(ctx.sbuf_alloc(cols * es), mm, cols, mt);
          ctx.dma(raw, ctx.hbm(a, a_off + r0 * d.am + c0, mm, d.am, {{1, cols}}));
          for (int64_t g0 = c0 / tk; g0 * tk < c0 + cols;) {
            const int64_t kk0 = std::min(tk, d.K - g0 * tk);
            int64_t cnt = 1;
            if (kk0 == tk)
              while (cnt < tr_group && (g0 + cnt) * tk < c0 + cols &&
                     d.K - (g0 + cnt) * tk >= tk)
                ++cnt;
            const int64_t bank = ctx.psum_alloc();
            for (int64_t q = 0; q < cnt; ++q) {
              AccessPattern src = raw;
              src.offset = raw.offset + ((g0 + q) * tk - c0) * es;
              src.dims[0] = {1, kk0};
              isa::Instr tr = make_instr(Opcode::Transpose);
              tr.ops[0] = ap_operand(ctx.psum(bank + q * tm * 4, kk0, mm));
              tr.ops[1] = ap_operand(src);
              ctx.emit(Engine::Pe, tr);
            }
            AccessPattern ps = ctx.psum(bank, kk0, mm);
            ps.ndims = 2;
            ps.dims[0] = {tm, cnt};
            ps.dims[1] = {1, mm};
            AccessPattern dst = st_tile(g0, j);
            dst.num_partitions = static_cast<int32_t>(kk0);
            dst.ndims = 2;
            dst.dims[0] = {row_bytes / es, cnt};
            dst.dims[1] = {1, mm};
            copy_out(dst, ps, 1.0f);
            g0 += cnt;
          }
        }
      }
    } else {
      for (int64_t ki = 0; ki < KT; ++ki) {
        const int64_t kk = std::min(tk, d.K - ki * tk);
        ctx.dma(ctx.sbuf(base + ki * row_bytes, kk, rows, mt),
                ctx.hbm(a, a_off + m0 * d.am + ki * tk * d.ak, kk, d.ak, {{d.am, rows}}));
      }
    }
    // ---- Units: one N tile of the block, all K.
    for (int64_t n0 = 0; n0 < d.N; n0 += tn) {
      const int64_t nn = std::min(tn, d.N - n0);
      std::vector<int64_t> banks;
      for (int64_t j = 0; j < mtiles; ++j) banks.push_back(ctx.psum_alloc());
      // Bias: ones[parts, mm]^T x parts[parts, nn] starts every row of the bank at the bias
      // (the parts sum to it exactly in fp32), so the evacuation only applies the function.
      for (int64_t j = 0; epi.parts > 0 && j < mtiles; ++j) {
        const int64_t mm = std::min(tm, rows - j * tm);
        isa::Instr in = make_instr(Opcode::Matmul);
        in.ops[0] = ap_operand(ctx.psum(banks[j], mm, nn));
        in.ops[1] = ap_operand(ctx.sbuf(epi_base, epi.parts, mm, mt));
        in.ops[2] = ap_operand(ctx.sbuf(epi_base + (tm_cols + n0) * es, epi.parts, nn, mt));
        in.ops[3] = int_operand(static_cast<int64_t>(isa::AccFlag::Zero));
        ctx.emit(Engine::Pe, in);
      }
      for (int64_t ki = 0; ki < KT;) {
        const int64_t kk = std::min(tk, d.K - ki * tk);
        int64_t cnt = 1;
        if (kk == tk)
          while (cnt < kc && ki + cnt < KT && d.K - (ki + cnt) * tk >= tk) ++cnt;
        const int64_t chunk = ctx.sbuf_alloc(cnt * nn * es);
        // Two DMAs per chunk (halves on different queues) so their fixed costs overlap.
        const int64_t halves = cnt >= 2 ? 2 : 1;
        for (int64_t h = 0; h < halves; ++h) {
          const int64_t q0 = h * cnt / halves, q1 = (h + 1) * cnt / halves;
          AccessPattern dst = ctx.sbuf(chunk + q0 * nn * es, kk, nn, mt);
          dst.ndims = 2;
          dst.dims[0] = {nn, q1 - q0};
          dst.dims[1] = {1, nn};
          ctx.dma(dst, ctx.hbm(b, b_off + (ki + q0) * tk * d.bk + n0 * d.bn, kk, d.bk,
                               {{tk * d.bk, q1 - q0}, {d.bn, nn}}));
        }
        for (int64_t q = 0; q < cnt; ++q) {
          const AccessPattern mv = ctx.sbuf(chunk + q * nn * es, kk, nn, mt);
          for (int64_t j = 0; j < mtiles; ++j) {
            const AccessPattern st = st_tile(ki + q, j);
            isa::Instr in = make_instr(Opcode::Matmul);
            in.ops[0] = ap_operand(ctx.psum(banks[j], st.dims[0].count, nn));
            in.ops[1] = ap_operand(st);
            in.ops[2] = ap_operand(mv);
            in.ops[3] = int_operand(static_cast<int64_t>(
                ki + q == 0 && epi.parts == 0 ? isa::AccFlag::Zero : isa::AccFlag::Acc));
            ctx.emit(Engine::Pe, in);
          }
        }
        ki += cnt;
      }
      const int64_t stage = ctx.sbuf_alloc(mtiles * nn * 4);
      for (int64_t j = 0; j < mtiles; ++j) {
        const int64_t mm = std::min(tm, rows - j * tm);
        copy_out(ctx.sbuf(stage + j * nn * 4, mm, nn, DType::Fp32), ctx.psum(banks[j], mm, nn),
                 d.alpha, epi.fn);
      }
      store_staged(ctx, out, o_off + m0 * d.om + n0 * d.on, d.om, d.on, tm, rows, nn, stage);
    }
    ctx.unpin_all();
  }
  return true;
}

// Weight-stationary orientation with a fused epilogue: out^T[n, m] = sum_k B[k, n] A^T[k, m], so
// output features sit on PSUM partitions and one act applies fn(alpha*psum + bias[n]).
void emit_matmul_fused(LowerCtx& ctx, const MatmulDesc& d, const HbmView& a, int64_t a_off,
                       const HbmView& b, int64_t b_off, const HbmView& out, int64_t o_off,
                       const HbmView* bias, isa::ActFn fn) {
  constexpr int64_t kChunkTiles = 8;
  const isa::Target& t = ctx.target();
  const DType mt = ctx.mm_dtype();
  const int64_t tn = std::min<int64_t>(t.pe_cols, t.partitions);
  const int64_t tk = std::min<int64_t>(t.pe_rows, t.partitions);
  const int64_t tm = std::min<int64_t>(t.max_moving_free, t.psum_bank_bytes / 4);
  const int es = isa::dtype_size(mt);
  const int64_t KT = (d.K + tk - 1) / tk, NT = (d.N + tn - 1) / tn;
  for (int64_t m0 = 0; m0 < d.M; m0 += tm) {
    const int64_t mm = std::min(tm, d.M - m0);
    // The bias of every output-feature tile, one DMA (column i = tile i), pinned for the block.
    int64_t bias_base = -1;
    if (bias && d.N >= tn) bias_base = ctx.sbuf_pin(NT * 4);
    if (bias_base >= 0) {
      const int64_t full = d.N / tn;
      AccessPattern dst = ctx.sbuf(bias_base, tn, full, DType::Fp32);
      ctx.dma(dst, ctx.hbm(*bias, bias->offset, tn, 1, {{tn, full}}));
      if (d.N % tn)
        ctx.dma(ctx.sbuf(bias_base + full * 4, d.N % tn, 1, DType::Fp32),
                ctx.hbm(*bias, bias->offset + full * tn, d.N % tn, 1, {{1, 1}}));
    }
    // The moving operand A^T[k, m0:m0+mm] is the same for every output-feature tile: load its K
    // tiles once into pinned SBUF when they fit.
    std::vector<AccessPattern> moving = load_k_tiles(ctx, a, a_off + m0 * d.am, d.ak, d.am, d.K,
                                                     tk, mm, mt);
    // Output-feature tiles are taken in groups of G that share their stationary chunks: one DMA
    // brings up to 8 k tiles x G*128 columns (fewer, larger transfers). The group's chunks must
    // stay live in the ring while its tiles run, so they take at most a quarter of it.
    const int64_t ring = t.sbuf_bytes_per_partition - ctx.pinned_bytes();
    int64_t G = 4;
    while (G > 1 && KT * G * tn * es > ring / 4) --G;
    for (int64_t g0 = 0; g0 < d.N; g0 += G * tn) {
      const int64_t gc = std::min(G * tn, d.N - g0);  // the group's columns
      std::vector<int64_t> chunk_of(KT, 0), chunk_k0(KT, 0);
      // The group's results are staged side by side and stored with one DMA: the stores of
      // column tiles of a row-major output overlap in address range, so the semaphore pass
      // orders them one after another (one per group instead of one per tile).
      const int64_t stage = ctx.sbuf_alloc(G * mm * 4);
      for (int64_t n0 = g0; n0 < g0 + gc; n0 += tn) {
        const int64_t nn = std::min(tn, d.N - n0);
        isa::Operand bias_op = imm(0.0f);
        if (bias && bias_base >= 0) {
          bias_op = ap_operand(ctx.sbuf(bias_base + n0 / tn * 4, nn, 1, DType::Fp32));
        } else if (bias) {
          AccessPattern bt = ctx.sbuf(ctx.sbuf_alloc(4), nn, 1, DType::Fp32);
          ctx.dma(bt, ctx.hbm(*bias, bias->offset + n0, nn, 1, {{1, 1}}));
          bias_op = ap_operand(bt);
        }
        const AccessPattern acc = ctx.psum(ctx.psum_alloc(), nn, mm);
        int64_t chunk_end = 0;
        for (int64_t k0 = 0, ki = 0; k0 < d.K; k0 += tk, ++ki) {
          const int64_t kk = std::min(tk, d.K - k0);
          if (n0 == g0 && k0 >= chunk_end) {
            // First tile of the group: load the chunk [k0, k0 + cnt tiles) x the group's columns.
            int64_t cnt = 1;
            if (kk == tk)
              while (cnt < kChunkTiles && d.K - (k0 + cnt * tk) >= tk) ++cnt;
            const int64_t chunk = ctx.sbuf_alloc(cnt * gc * es);
            for (int64_t q = 0; q < cnt; ++q) {
              chunk_of[ki + q] = chunk;
              chunk_k0[ki + q] = k0;
            }
            chunk_end = k0 + cnt * tk;
            AccessPattern dst = ctx.sbuf(chunk, kk, gc, mt);
            dst.ndims = 2;
            dst.dims[0] = {gc, cnt};
            dst.dims[1] = {1, gc};
            ctx.dma(dst, ctx.hbm(b, b_off + k0 * d.bk + g0 * d.bn, kk, d.bk,
                                 {{tk * d.bk, cnt}, {d.bn, gc}}));
          }
          AccessPattern st = ctx.sbuf(
              chunk_of[ki] + ((k0 - chunk_k0[ki]) / tk * gc + (n0 - g0)) * es, kk, nn, mt);
          AccessPattern mv;
          if (!moving.empty()) {
            mv = moving[ki];
          } else {
            mv = ctx.sbuf(ctx.sbuf_alloc(mm * es), kk, mm, mt);
            ctx.dma(mv, ctx.hbm(a, a_off + m0 * d.am + k0 * d.ak, kk, d.ak, {{d.am, mm}}));
          }
          isa::Instr in = make_instr(Opcode::Matmul);
          in.ops[0] = ap_operand(acc);
          in.ops[1] = ap_operand(st);
          in.ops[2] = ap_operand(mv);
          in.ops[3] = int_operand(
              static_cast<int64_t>(k0 == 0 ? isa::AccFlag::Zero : isa::AccFlag::Acc));
          ctx.emit(Engine::Pe, in);
        }
        AccessPattern res = ctx.sbuf(stage + (n0 - g0) / tn * mm * 4, nn, mm, DType::Fp32);
        isa::Instr ev = make_instr(Opcode::Act);
        ev.ops[0] = ap_operand(res);
        ev.ops[1] = ap_operand(acc);
        ev.ops[2] = int_operand(static_cast<int64_t>(fn));
        ev.ops[3] = imm(d.alpha);
        ev.ops[4] = bias_op;
        ctx.emit(Engine::Act, ev);
      }
      store_staged(ctx, out, o_off + m0 * d.om + g0 * d.on, d.on, d.om, tn, gc, mm, stage);
    }
    ctx.unpin_all();
  }
}

// The fused matmul in the blocked orientation (rows of the output on partitions): A^T by PE
// transposes of A's rows and the output stored row by row, so neither the load nor the store
// moves data in element-sized pieces (the weight-stationary orientation below needs A^T
// [k on partitions, m free] and stores out^T, both element-strided for row-major tensors).
// The bias enters PSUM through the array: a constant table [parts, M' + N] of ones and the
// bias split into `parts` matmul-dtype terms that sum to it in fp32 (hi, mid, lo for bf16).
// Empty (nullopt) when the matmul dtype is neither fp32 nor bf16 or the bias is not a
// constant of N elements.
struct EpilogueTable {
  std::optional<HbmView> table;
  int64_t parts = 0;
};
std::optional<EpilogueTable> epilogue_table(LowerCtx& ctx, const Node& n, const Value* bias,
                                            float beta, int64_t M, int64_t N) {
  const DType mt = ctx.mm_dtype();
  if (mt != DType::Fp32 && mt != DType::Bf16) return std::nullopt;
  EpilogueTable e;
  if (!bias) return e;
  if (bias->numel() != N) return std::nullopt;
  const int64_t parts = mt == DType::Fp32 ? 1 : 3;
  const int64_t cols = std::min<int64_t>(std::min<int64_t>(ctx.target().pe_cols,
                                                           ctx.target().partitions), M);
  // The split does not depend on the values (so a timing-only compile, which may leave the
  // bias in the model file, takes the same path): three bf16 terms hold fp32's 24 bits (exact
  // unless |bias| is beyond bf16's range or below ~2^-110, where the error is below 2^-126).
  auto fill = [mt, parts, cols, N, beta](const Value& b) {
    Value tv(mt, {parts, cols + N});
    for (int64_t p = 0; p < parts; ++p)
      for (int64_t i = 0; i < cols; ++i) tv.data[p * (cols + N) + i] = 1.0;
    for (int64_t j = 0; j < N; ++j) {
      double rest = static_cast<double>(static_cast<float>(b.data[j] * beta));
      for (int64_t p = 0; p < parts; ++p) {
        const double part = round_to(mt, rest);
        tv.data[p * (cols + N) + cols + j] = part;
        rest -= part;
      }
    }
    return tv;
  };
  const Value tv = bias->data.has_data()
                       ? fill(*bias)
                       : Value::deferred(mt, {parts, cols + N},
                                         [fill, b = *bias] { return fill(b).data; });
  e.table = ctx.add_const(n.name + ".bias_rows", tv);
  e.parts = parts;
  return e;
}

isa::ActFn epilogue_fn(const Node& n) {
  std::string act = n.attr_string("_act", "");
  if (act.empty()) return isa::ActFn::Copy;
  return *find_op(act)->act;
}

}  // namespace

void lower_matmul(LowerCtx& ctx, const Node& n) {
  const bool fused = n.has_attr("_act");
  const Graph& g = ctx.graph();
  HbmView out = ctx.view(n.outputs[0]);
  if (n.op == "Gemm") {
    HbmView a = ctx.view(n.inputs[0]);
    MatmulDesc d;
    bool ta = n.attr_int("transA", 0), tb = n.attr_int("transB", 0);
    const Tensor& tbt = g.t(n.inputs[1]);
    d.M = ta ? a.shape[1] : a.shape[0];
    d.K = ta ? a.shape[0] : a.shape[1];
    d.N = tb ? tbt.shape[0] : tbt.shape[1];
    d.am = ta ? 1 : d.K;
    d.ak = ta ? d.M : 1;
    d.bk = tb ? 1 : d.N;
    d.bn = tb ? d.K : 1;
    // A constant B goes to HBM as [K, N] in the matmul dtype (the load's rounding done at
    // compile time, transposed at compile time when transB), so every path loads rows of B with
    // contiguous runs instead of a transB weight's element-strided columns (4-byte runs: a
    // Linear layer's [N, K] weight) and half the bytes in bf16. Declared only when used.
    HbmView b;
    if (tbt.is_const() && isa::dtype_is_float(tbt.dtype) && (tb || tbt.dtype != ctx.mm_dtype())) {
      const Value& v = *tbt.value;
      const int64_t K = d.K, N = d.N;
      auto to_kn = [K, N, tb, mt = ctx.mm_dtype()](const Value& v) {
        Value kn(mt, {K, N});
        for (int64_t k = 0; k < K; ++k)
          for (int64_t j = 0; j < N; ++j)
            kn.data[k * N + j] = tb ? v.data[j * K + k] : v.data[k * N + j];
        return kn;
      };
      b = ctx.add_const(n.name + ".rhs",
                        v.data.has_data() ? to_kn(v)
                                          : Value::deferred(ctx.mm_dtype(), {K, N}, [to_kn, v] {
                                              return to_kn(v).data;
                                            }));
      d.bk = d.N;
      d.bn = 1;
    } else {
      b = ctx.view(n.inputs[1]);
    }
    d.om = d.N;
    d.on = 1;
    d.alpha = n.attr_float("alpha", 1.0f);
    d.beta = n.attr_float("beta", 1.0f);
    if (fused) {
      const Value* bv = n.has_input(2) ? &*g.t(n.inputs[2]).value : nullptr;
      if (d.ak == 1 && d.M > 1 && d.alpha == 1.0f) {
        if (auto e = epilogue_table(ctx, n, bv, d.beta, d.M, d.N)) {
          EpilogueRows epi{e->table ? &*e->table : nullptr, e->parts, epilogue_fn(n)};
          if (emit_matmul_blocked(ctx, d, a, a.offset, nullptr, 0, b, b.offset, out, out.offset,
                                  epi))
            return;
        }
      }
      std::optional<HbmView> bias;
      if (bv) {
        Value scaled(DType::Fp32, {d.N});
        for (int64_t i = 0; i < d.N; ++i) scaled.data[i] = bv->data[i] * d.beta;
        bias = ctx.add_const(n.name + ".bias", scaled);
      }
      emit_matmul_fused(ctx, d, a, a.offset, b, b.offset, out, out.offset,
                        bias ? &*bias : nullptr, epilogue_fn(n));
    } else if (n.has_input(2)) {
      HbmView c = ctx.view(n.inputs[2]);
      auto cs = broadcast_strides(c, {d.M, d.N});
      emit_matmul_2d(ctx, d, a, a.offset, b, b.offset, out, out.offset, &c, cs);
    } else if (!emit_matmul_blocked(ctx, d, a, a.offset, nullptr, 0, b, b.offset, out,
                                    out.offset)) {
      emit_matmul_2d(ctx, d, a, a.offset, b, b.offset, out, out.offset, nullptr, {});
    }
    return;
  }
  Shape as = g.t(n.inputs[0]).shape, bs = g.t(n.inputs[1]).shape;
  const bool a_vec = as.size() == 1, b_vec = bs.size() == 1;
  if (a_vec) as.insert(as.begin(), 1);
  if (b_vec) bs.push_back(1);
  MatmulDesc d;
  d.M = as[as.size() - 2];
  d.K = as.back();
  d.N = bs.back();
  d.am = d.K;
  d.ak = 1;
  d.bk = d.N;
  d.bn = 1;
  d.om = d.N;
  d.on = 1;
  Shape ba(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  // B the same for every batch (2-D weights) and A row-major over (batch..., M, K): the batch
  // folds into A's rows, one [batch*M, K] x [K, N] matmul instead of one per batch (a
  // [511, 63, 1, 2] x [2, 3] MatMul was 32,193 one-row matmuls).
  if (num_elements(bb) == 1 && num_elements(ba) > 1) {
    const Tensor& ta = g.t(n.inputs[0]);
    const bool row_major =
        ta.is_const() || ctx.view(n.inputs[0]).strides == row_major_strides(ta.shape);
    if (row_major) {
      d.M *= num_elements(ba);
      ba.clear();
      bb.clear();
    }
  }
  Shape batch = broadcast_shapes(ba, bb);
  auto sa = broadcast_strides(ba, batch);
  const int64_t nb = num_elements(batch);
  // Element strides of a runtime operand's view over (batch..., rows, cols): row-major unless a
  // Transpose was folded into it (lower/movement.cpp), then the permuted strides of its source.
  // Broadcast batch dims get stride 0.
  auto view_strides = [&](const HbmView& v, bool vec_front, bool vec_back, const Shape& bdims) {
    std::vector<int64_t> st = v.strides;
    if (vec_front) st.insert(st.begin(), d.K * st[0]);
    if (vec_back) st.push_back(1);
    std::vector<int64_t> bst(batch.size(), 0);
    const size_t off = batch.size() - bdims.size();
    for (size_t j = 0; j < bdims.size(); ++j)
      bst[off + j] = bdims[j] == 1 ? 0 : st[j];
    bst.push_back(st[st.size() - 2]);
    bst.push_back(st.back());
    return bst;
  };
  // Constant operands: B in the matmul dtype (the load's rounding done at compile time: half
  // the bytes in bf16); for the unfused GEMM also A, transposed per matrix to [K, M] so A^T loads
  // with large DMAs (no transposing access pattern, no PE transpose).
  // Operands are declared in HBM only when used (a replaced constant is not copied in).
  std::optional<HbmView> at;
  std::optional<HbmView> a_decl, b_decl;
  {
    const Tensor& ta = g.t(n.inputs[0]);
    const Tensor& tb = g.t(n.inputs[1]);
    if (tb.is_const() && isa::dtype_is_float(tb.dtype) && tb.dtype != ctx.mm_dtype()) {
      b_decl = ctx.add_const(n.name + ".rhs", *tb.value, ctx.mm_dtype());
    }
    if (!fused && ta.is_const() && isa::dtype_is_float(ta.dtype) && d.M > 1) {
      const Value& v = *ta.value;
      const Shape ts = {v.numel() / (d.M * d.K), d.K, d.M};
      auto transpose = [ts, mt = ctx.mm_dtype()](const Value& v) {
        const int64_t M = ts[2], K = ts[1];
        Value tv(mt, ts);
        for (int64_t q = 0; q < ts[0]; ++q)
          for (int64_t i = 0; i < M; ++i)
            for (int64_t k = 0; k < K; ++k) tv.data[(q * K + k) * M + i] = v.data[(q * M + i) * K + k];
        return tv;
      };
      // A weight left in the model file (timing-only) is transposed only if something reads it.
      at = ctx.add_const(n.name + ".lhsT",
                         v.data.has_data() ? transpose(v)
                                           : Value::deferred(ctx.mm_dtype(), ts, [transpose, v] {
                                               return transpose(v).data;
                                             }));
    }
  }
  if (!b_decl) b_decl = ctx.view(n.inputs[1]);
  if (!at) a_decl = ctx.view(n.inputs[0]);
  const HbmView& b = *b_decl;
  // Batch strides of B (a constant copy is row-major) and of a runtime A.
  std::vector<int64_t> sbv = view_strides(b, false, b_vec, bb);
  d.bk = sbv[batch.size()];
  d.bn = sbv[batch.size() + 1];
  std::vector<int64_t> sav;
  if (a_decl) {
    sav = view_strides(*a_decl, a_vec, false, ba);
    d.am = sav[batch.size()];
    d.ak = sav[batch.size() + 1];
  }
  auto a_view = [&]() -> const HbmView& {
    if (!a_decl) a_decl = ctx.view(n.inputs[0]);
    return *a_decl;
  };
  // The fused node in the blocked orientation when A's rows are contiguous (epilogue_table).
  std::optional<EpilogueTable> epi_table;
  if (fused && a_decl && d.ak == 1 && d.M > 1) {
    const bool const_bias = n.has_input(2) && g.t(n.inputs[2]).is_const();
    if (!n.has_input(2) || const_bias)
      epi_table = epilogue_table(ctx, n, const_bias ? &*g.t(n.inputs[2]).value : nullptr, 1.0f,
                                 d.M, d.N);
  }
  for (int64_t bi = 0; bi < nb; ++bi) {
    int64_t oa = 0, ova = 0, ovb = 0, rem = bi;
    for (int dd = static_cast<int>(batch.size()) - 1; dd >= 0; --dd) {
      int64_t i = rem % batch[dd];
      rem /= batch[dd];
      oa += i * sa[dd];
      if (!sav.empty()) ova += i * sav[dd];
      ovb += i * sbv[dd];
    }
    if (fused && epi_table) {
      EpilogueRows epi{epi_table->table ? &*epi_table->table : nullptr, epi_table->parts,
                       epilogue_fn(n)};
      const HbmView& a = a_view();
      if (emit_matmul_blocked(ctx, d, a, a.offset + ova, nullptr, 0, b, b.offset + ovb, out,
                              out.offset + bi * d.M * d.N, epi))
        continue;
    }
    if (fused) {
      std::optional<HbmView> bias;
      if (n.has_input(2)) bias = ctx.view(n.inputs[2]);
      const HbmView& a = a_view();
      emit_matmul_fused(ctx, d, a, a.offset + ova, b, b.offset + ovb, out,
                        out.offset + bi * d.M * d.N, bias ? &*bias : nullptr, epilogue_fn(n));
    } else if (!emit_matmul_blocked(ctx, d, at ? *at : a_view(),
                                    at ? 0 : a_view().offset + ova, at ? &*at : nullptr,
                                    at ? oa * d.M * d.K : 0, b, b.offset + ovb, out,
                                    out.offset + bi * d.M * d.N)) {
      const HbmView& a = a_view();
      emit_matmul_2d(ctx, d, a, a.offset + ova, b, b.offset + ovb, out,
                     out.offset + bi * d.M * d.N, nullptr, {});
    }
  }
}

}  // namespace trnsim::compiler
