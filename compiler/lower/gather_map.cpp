// Lowering of Pad and Resize as gathers (GpSimd `gather`) over the trailing axes: the leading
// axes' rows go on partitions, each row's input elements are loaded into SBUF with one extra
// element holding Pad's constant, and every output element is sum_t w_t[j] * row[idx_t[j]]
// (one term for Pad and nearest Resize, 2 or 4 for linear Resize). The index and weight
// maps are compile-time constants, broadcast over partitions by stride-0 DMA.
#include <fmt/format.h>

#include <algorithm>

#include "compiler/lower/lower_ctx.h"
#include "compiler/ops/cnn.h"
#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

using isa::AccessPattern;
using isa::AluOp;
using isa::Engine;
using isa::Opcode;

void lower_gather_map(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  std::vector<const Value*> vals;
  for (int id : n.inputs) vals.push_back(id >= 0 && g.t(id).is_const() ? &*g.t(id).value : nullptr);
  const Shape& xs = g.t(n.inputs[0]).shape;
  const GatherMap m = n.op == "Pad" ? pad_map(n, xs, vals) : resize_map(n, xs, vals);
  HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  if (m.out_free == 0 || m.rows == 0) return;
  const int64_t cap = ctx.target().sbuf_bytes_per_partition;
  if ((m.in_free + 1) * 4 * 4 > cap)
    throw InputError(fmt::format("rows of {} elements do not fit in SBUF", m.in_free));
  // Constant maps.
  std::vector<HbmView> idx, wts;
  for (size_t t = 0; t < m.terms.size(); ++t) {
    Value iv(DType::Int32, {m.out_free});
    for (int64_t j = 0; j < m.out_free; ++j) iv.data[j] = static_cast<double>(m.terms[t].idx[j]);
    idx.push_back(ctx.add_const(fmt::format("{}.idx{}", n.name, t), iv));
    bool ones = true;
    for (double w : m.terms[t].w) ones = ones && w == 1.0;
    if (!ones) {
      Value wv(DType::Fp32, {m.out_free});
      for (int64_t j = 0; j < m.out_free; ++j) wv.data[j] = m.terms[t].w[j];
      wts.push_back(ctx.add_const(fmt::format("{}.w{}", n.name, t), wv));
    } else {
      wts.push_back(HbmView{});
    }
  }
  const int64_t P = ctx.target().partitions;
  const int64_t F = std::max<int64_t>(16, std::min<int64_t>(2048, (cap / 2 - (m.in_free + 1) * 4) / 16));
  for (int64_t r0 = 0; r0 < m.rows; r0 += P) {
    const int64_t np = std::min(P, m.rows - r0);
    const int64_t src_off = ctx.sbuf_alloc((m.in_free + 1) * 4);
    ctx.dma(ctx.sbuf(src_off, np, m.in_free, DType::Fp32),
            ctx.hbm(x, x.offset + r0 * m.in_free, np, m.in_free, {{1, m.in_free}}));
    isa::Instr ms = make_instr(Opcode::Memset);
    ms.ops[0] = ap_operand(ctx.sbuf(src_off + m.in_free * 4, np, 1, DType::Fp32));
    ms.ops[1] = imm(static_cast<float>(m.constant));
    ctx.emit(Engine::Pool, ms);
    const AccessPattern src = ctx.sbuf(src_off, np, m.in_free + 1, DType::Fp32);
    for (int64_t j0 = 0; j0 < m.out_free; j0 += F) {
      const int64_t nf = std::min(F, m.out_free - j0);
      AccessPattern acc = ctx.sbuf(ctx.sbuf_alloc(nf * 4), np, nf, DType::Fp32);
      for (size_t t = 0; t < m.terms.size(); ++t) {
        AccessPattern it = ctx.sbuf(ctx.sbuf_alloc(nf * 4), np, nf, DType::Int32);
        ctx.dma(it, ctx.hbm(idx[t], j0, np, 0, {{1, nf}}));
        AccessPattern gt = t == 0 ? acc : ctx.sbuf(ctx.sbuf_alloc(nf * 4), np, nf, DType::Fp32);
        isa::Instr ga = make_instr(Opcode::Gather);
        ga.ops[0] = ap_operand(gt);
        ga.ops[1] = ap_operand(src);
        ga.ops[2] = ap_operand(it);
        ctx.emit(Engine::Pool, ga);
        if (wts[t].tensor >= 0) {
          AccessPattern wt = ctx.sbuf(ctx.sbuf_alloc(nf * 4), np, nf, DType::Fp32);
          ctx.dma(wt, ctx.hbm(wts[t], j0, np, 0, {{1, nf}}));
          isa::Instr mul = make_instr(Opcode::TensorTensor);
          mul.ops[0] = ap_operand(gt);
          mul.ops[1] = ap_operand(gt);
          mul.ops[2] = ap_operand(wt);
          mul.ops[3] = int_operand(static_cast<int64_t>(AluOp::Mul));
          ctx.emit(Engine::Dve, mul);
        }
        if (t > 0) {
          isa::Instr add = make_instr(Opcode::TensorTensor);
          add.ops[0] = ap_operand(acc);
          add.ops[1] = ap_operand(acc);
          add.ops[2] = ap_operand(gt);
          add.ops[3] = int_operand(static_cast<int64_t>(AluOp::Add));
          ctx.emit(Engine::Dve, add);
        }
      }
      ctx.dma(ctx.hbm(y, y.offset + r0 * m.out_free + j0, np, m.out_free, {{1, nf}}), acc);
    }
  }
}

}  // namespace trnsim::compiler
