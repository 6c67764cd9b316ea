// Lowering of MatMul (batched, broadcast) and Gemm onto the Tensor Engine.
// out[m, n] = sum_k A[m, k] B[k, n]: the stationary tile is A^T [k on partitions, m free]
// (a transposing DMA access pattern), the moving tile B [k, n]; K is accumulated in one PSUM
// bank with zero/acc flags, and the act engine evacuates PSUM (applying alpha) to SBUF.
#include <fmt/format.h>

#include <optional>

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
      ctx.dma(ctx.hbm(out, o_off + m0 * d.om + n0 * d.on, mm, d.om, {{d.on, nn}}), res);
    }
    ctx.unpin_all();
  }
}

// Weight-stationary orientation with a fused epilogue: out^T[n, m] = sum_k B[k, n] A^T[k, m], so
// output features sit on PSUM partitions and one act applies fn(alpha*psum + bias[n]).
void emit_matmul_fused(LowerCtx& ctx, const MatmulDesc& d, const HbmView& a, int64_t a_off,
                       const HbmView& b, int64_t b_off, const HbmView& out, int64_t o_off,
                       const HbmView* bias, isa::ActFn fn) {
  const isa::Target& t = ctx.target();
  const DType mt = ctx.mm_dtype();
  const int64_t tn = std::min<int64_t>(t.pe_cols, t.partitions);
  const int64_t tk = std::min<int64_t>(t.pe_rows, t.partitions);
  const int64_t tm = std::min<int64_t>(t.max_moving_free, t.psum_bank_bytes / 4);
  const int es = isa::dtype_size(mt);
  for (int64_t m0 = 0; m0 < d.M; m0 += tm) {
    const int64_t mm = std::min(tm, d.M - m0);
    // The moving operand A^T[k, m0:m0+mm] is the same for every output-feature tile: load its K
    // tiles once into pinned SBUF when they fit.
    std::vector<AccessPattern> moving = load_k_tiles(ctx, a, a_off + m0 * d.am, d.ak, d.am, d.K,
                                                     tk, mm, mt);
    for (int64_t n0 = 0; n0 < d.N; n0 += tn) {
      const int64_t nn = std::min(tn, d.N - n0);
      isa::Operand bias_op = imm(0.0f);
      if (bias) {
        AccessPattern bt = ctx.sbuf(ctx.sbuf_alloc(4), nn, 1, DType::Fp32);
        ctx.dma(bt, ctx.hbm(*bias, bias->offset + n0, nn, 1, {{1, 1}}));
        bias_op = ap_operand(bt);
      }
      const AccessPattern acc = ctx.psum(ctx.psum_alloc(), nn, mm);
      for (int64_t k0 = 0, ki = 0; k0 < d.K; k0 += tk, ++ki) {
        const int64_t kk = std::min(tk, d.K - k0);
        AccessPattern st = ctx.sbuf(ctx.sbuf_alloc(nn * es), kk, nn, mt);
        ctx.dma(st, ctx.hbm(b, b_off + k0 * d.bk + n0 * d.bn, kk, d.bk, {{d.bn, nn}}));
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
        in.ops[3] = int_operand(static_cast<int64_t>(k0 == 0 ? isa::AccFlag::Zero : isa::AccFlag::Acc));
        ctx.emit(Engine::Pe, in);
      }
      AccessPattern res = ctx.sbuf(ctx.sbuf_alloc(mm * 4), nn, mm, DType::Fp32);
      isa::Instr ev = make_instr(Opcode::Act);
      ev.ops[0] = ap_operand(res);
      ev.ops[1] = ap_operand(acc);
      ev.ops[2] = int_operand(static_cast<int64_t>(fn));
      ev.ops[3] = imm(d.alpha);
      ev.ops[4] = bias_op;
      ctx.emit(Engine::Act, ev);
      ctx.dma(ctx.hbm(out, o_off + m0 * d.om + n0 * d.on, nn, d.on, {{d.om, mm}}), res);
    }
    ctx.unpin_all();
  }
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
  HbmView a = ctx.view(n.inputs[0]), b = ctx.view(n.inputs[1]), out = ctx.view(n.outputs[0]);
  if (n.op == "Gemm") {
    MatmulDesc d;
    bool ta = n.attr_int("transA", 0), tb = n.attr_int("transB", 0);
    d.M = ta ? a.shape[1] : a.shape[0];
    d.K = ta ? a.shape[0] : a.shape[1];
    d.N = tb ? b.shape[0] : b.shape[1];
    d.am = ta ? 1 : d.K;
    d.ak = ta ? d.M : 1;
    d.bk = tb ? 1 : d.N;
    d.bn = tb ? d.K : 1;
    d.om = d.N;
    d.on = 1;
    d.alpha = n.attr_float("alpha", 1.0f);
    d.beta = n.attr_float("beta", 1.0f);
    if (fused) {
      std::optional<HbmView> bias;
      if (n.has_input(2)) {
        const Value& c = *g.t(n.inputs[2]).value;
        Value scaled(DType::Fp32, {d.N});
        for (int64_t i = 0; i < d.N; ++i) scaled.data[i] = c.data[i] * d.beta;
        bias = ctx.add_const(n.name + ".bias", scaled);
      }
      emit_matmul_fused(ctx, d, a, a.offset, b, b.offset, out, out.offset,
                        bias ? &*bias : nullptr, epilogue_fn(n));
    } else if (n.has_input(2)) {
      HbmView c = ctx.view(n.inputs[2]);
      auto cs = broadcast_strides(c.shape, {d.M, d.N});
      emit_matmul_2d(ctx, d, a, a.offset, b, b.offset, out, out.offset, &c, cs);
    } else {
      emit_matmul_2d(ctx, d, a, a.offset, b, b.offset, out, out.offset, nullptr, {});
    }
    return;
  }
  Shape as = g.t(n.inputs[0]).shape, bs = g.t(n.inputs[1]).shape;
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
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
  Shape batch = broadcast_shapes(ba, bb);
  auto sa = broadcast_strides(ba, batch), sb = broadcast_strides(bb, batch);
  const int64_t nb = num_elements(batch);
  for (int64_t bi = 0; bi < nb; ++bi) {
    int64_t oa = 0, ob = 0, rem = bi;
    for (int dd = static_cast<int>(batch.size()) - 1; dd >= 0; --dd) {
      int64_t i = rem % batch[dd];
      rem /= batch[dd];
      oa += i * sa[dd];
      ob += i * sb[dd];
    }
    if (fused) {
      std::optional<HbmView> bias;
      if (n.has_input(2)) bias = ctx.view(n.inputs[2]);
      emit_matmul_fused(ctx, d, a, a.offset + oa * d.M * d.K, b, b.offset + ob * d.K * d.N, out,
                        out.offset + bi * d.M * d.N, bias ? &*bias : nullptr, epilogue_fn(n));
    } else {
      emit_matmul_2d(ctx, d, a, a.offset + oa * d.M * d.K, b, b.offset + ob * d.K * d.N, out,
                     out.offset + bi * d.M * d.N, nullptr, {});
    }
  }
}

}  // namespace trnsim::compiler
