// LSTM (single layer, forward, default activations): shape inference, reference kernel and
// lowering. Lowering keeps the gates on partitions ([H, B] tiles, H <= partitions): per time
// step and gate (i, o, f, c) two matmuls accumulate W_g x_t^T and R_g h^T into one PSUM bank,
// the act engine evacuates it through sigmoid/tanh with the summed bias as a per-partition
// scalar, and the vector engine updates c and h, which stay in pinned SBUF across steps.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

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

struct LstmDims {
  int64_t T = 0, B = 0, I = 0, H = 0;
};

LstmDims lstm_dims(const Node& n, const Shape& x, const Shape& w, const Shape& r) {
  if (n.attr_string("direction", "forward") != "forward")
    throw InputError("only direction=forward is supported");
  if (n.attr_int("layout", 0) != 0) throw InputError("only layout=0 is supported");
  if (n.attr_int("input_forget", 0) != 0) throw InputError("input_forget is not supported");
  if (n.has_attr("clip")) throw InputError("clip is not supported");
  if (n.has_attr("activations")) throw InputError("only the default activations are supported");
  if (x.size() != 3 || w.size() != 3 || r.size() != 3 || w[0] != 1 || r[0] != 1)
    throw InputError("expected X [T,B,I], W [1,4H,I], R [1,4H,H]");
  LstmDims d{x[0], x[1], x[2], r[2]};
  if (w[1] != 4 * d.H || w[2] != d.I || r[1] != 4 * d.H)
    throw InputError("W/R shapes do not match hidden_size");
  if (n.has_attr("hidden_size") && n.attr_int("hidden_size", 0) != d.H)
    throw InputError("hidden_size differs from R");
  return d;
}

double sigm(double v) { return 1.0 / (1.0 + std::exp(-v)); }

}  // namespace

std::vector<TypeShape> infer_lstm(const Node& n, const std::vector<const Tensor*>& in) {
  if (in.size() < 3 || !in[0] || !in[1] || !in[2]) throw InputError("LSTM needs X, W and R");
  if (in.size() > 4 && in[4]) throw InputError("sequence_lens is not supported");
  if (in.size() > 7 && in[7]) throw InputError("peepholes (P) are not supported");
  LstmDims d = lstm_dims(n, in[0]->shape, in[1]->shape, in[2]->shape);
  DType t = in[0]->dtype;
  return {{t, {d.T, 1, d.B, d.H}}, {t, {1, d.B, d.H}}, {t, {1, d.B, d.H}}};
}

std::vector<Value> eval_lstm(const Node& n, const std::vector<const Value*>& in) {
  const Value &x = *in[0], &w = *in[1], &r = *in[2];
  LstmDims d = lstm_dims(n, x.shape, w.shape, r.shape);
  const Value* b = in.size() > 3 ? in[3] : nullptr;
  const Value* h0 = in.size() > 5 ? in[5] : nullptr;
  const Value* c0 = in.size() > 6 ? in[6] : nullptr;
  std::vector<double> h(d.B * d.H, 0.0), c(d.B * d.H, 0.0);
  if (h0) h = h0->data;
  if (c0) c = c0->data;
  Value y(x.dtype, {d.T, 1, d.B, d.H}), yh(x.dtype, {1, d.B, d.H}), yc(x.dtype, {1, d.B, d.H});
  std::vector<double> gates(4 * d.H);
  for (int64_t t = 0; t < d.T; ++t) {
    std::vector<double> hn(h.size()), cn(c.size());
    for (int64_t bb = 0; bb < d.B; ++bb) {
      for (int64_t k = 0; k < 4 * d.H; ++k) {
        double acc = b ? b->data[k] + b->data[4 * d.H + k] : 0.0;
        for (int64_t i = 0; i < d.I; ++i) acc += w.data[k * d.I + i] * x.data[(t * d.B + bb) * d.I + i];
        for (int64_t j = 0; j < d.H; ++j) acc += r.data[k * d.H + j] * h[bb * d.H + j];
        gates[k] = acc;
      }
      for (int64_t j = 0; j < d.H; ++j) {
        const double ig = sigm(gates[j]), og = sigm(gates[d.H + j]), fg = sigm(gates[2 * d.H + j]);
        const double cg = std::tanh(gates[3 * d.H + j]);
        cn[bb * d.H + j] = fg * c[bb * d.H + j] + ig * cg;
        hn[bb * d.H + j] = og * std::tanh(cn[bb * d.H + j]);
      }
    }
    h = hn;
    c = cn;
    for (int64_t k = 0; k < d.B * d.H; ++k) y.data[t * d.B * d.H + k] = round_to(y.dtype, h[k]);
  }
  for (int64_t k = 0; k < d.B * d.H; ++k) {
    yh.data[k] = round_to(yh.dtype, h[k]);
    yc.data[k] = round_to(yc.dtype, c[k]);
  }
  return {y, yh, yc};
}

void lower_lstm(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  for (int k : {1, 2})
    if (!g.t(n.inputs[k]).is_const()) throw InputError("LSTM weights must be constant");
  if (n.has_input(3) && !g.t(n.inputs[3]).is_const()) throw InputError("LSTM bias must be constant");
  const Value &w = *g.t(n.inputs[1]).value, &r = *g.t(n.inputs[2]).value;
  LstmDims d = lstm_dims(n, g.t(n.inputs[0]).shape, w.shape, r.shape);
  const isa::Target& tg = ctx.target();
  const int64_t P = tg.partitions;
  if (d.H > std::min<int64_t>(P, tg.pe_cols) || d.H > tg.pe_rows)
    throw InputError(fmt::format("hidden_size {} > {} is not supported", d.H, P));
  if (d.B > tg.max_moving_free) throw InputError("batch too large");
  const DType mt = ctx.mm_dtype();
  const int es = isa::dtype_size(mt);
  // Compile-time tables: W^T [I, 4H], R^T [H, 4H], bias [4H] = Wb + Rb.
  const Value wt = transposed_const(w, 4 * d.H, d.I), rt = transposed_const(r, 4 * d.H, d.H);
  Value bs(DType::Fp32, {4 * d.H});
  if (n.has_input(3)) {
    const Value& b = *g.t(n.inputs[3]).value;
    for (int64_t k = 0; k < 4 * d.H; ++k) bs.data[k] = b.data[k] + b.data[4 * d.H + k];
  }
  HbmView wv = ctx.add_const(n.name + ".wt", wt), rv = ctx.add_const(n.name + ".rt", rt);
  HbmView bv = ctx.add_const(n.name + ".bias", bs);
  HbmView x = ctx.view(n.inputs[0]);
  const int64_t tk = std::min<int64_t>(tg.pe_rows, P), nk = (d.I + tk - 1) / tk;
  auto pin = [&](int64_t bytes) {
    int64_t off = ctx.sbuf_pin(bytes);
    if (off < 0) throw InputError("LSTM weights do not fit in SBUF");
    return off;
  };
  // Pinned: W^T K tiles, R^T, bias columns (4), h, c (fp32) and h in the matmul dtype.
  std::vector<AccessPattern> wk;
  for (int64_t k = 0; k < nk; ++k) {
    const int64_t kk = std::min(tk, d.I - k * tk);
    AccessPattern t = ctx.sbuf(pin(4 * d.H * es), kk, 4 * d.H, mt);
    ctx.dma(t, ctx.hbm(wv, k * tk * 4 * d.H, kk, 4 * d.H, {{1, 4 * d.H}}));
    wk.push_back(t);
  }
  AccessPattern rk = ctx.sbuf(pin(4 * d.H * es), d.H, 4 * d.H, mt);
  ctx.dma(rk, ctx.hbm(rv, 0, d.H, 4 * d.H, {{1, 4 * d.H}}));
  AccessPattern bias = ctx.sbuf(pin(16), d.H, 4, DType::Fp32);
  ctx.dma(bias, ctx.hbm(bv, 0, d.H, 1, {{d.H, 4}}));
  AccessPattern h = ctx.sbuf(pin(d.B * 4), d.H, d.B, DType::Fp32);
  AccessPattern c = ctx.sbuf(pin(d.B * 4), d.H, d.B, DType::Fp32);
  AccessPattern hm = ctx.sbuf(pin(d.B * es), d.H, d.B, mt);
  // Initial state, transposed to [H, B].
  auto load_state = [&](int idx, const AccessPattern& dst) {
    if (n.has_input(idx)) {
      HbmView v = ctx.view(n.inputs[idx]);
      ctx.dma(dst, ctx.hbm(v, v.offset, d.H, 1, {{d.H, d.B}}));
    } else {
      isa::Instr ms = make_instr(Opcode::Memset);
      ms.ops[0] = ap_operand(dst);
      ms.ops[1] = imm(0.0f);
      ctx.emit(Engine::Pool, ms);
    }
  };
  load_state(5, h);
  load_state(6, c);
  dve_unary(ctx, Opcode::Copy, hm, h);
  std::optional<HbmView> y, yh, yc;
  if (n.outputs.size() > 0 && n.outputs[0] >= 0) y = ctx.view(n.outputs[0]);
  if (n.outputs.size() > 1 && n.outputs[1] >= 0) yh = ctx.view(n.outputs[1]);
  if (n.outputs.size() > 2 && n.outputs[2] >= 0) yc = ctx.view(n.outputs[2]);
  const ActFn fns[4] = {ActFn::Sigmoid, ActFn::Sigmoid, ActFn::Sigmoid, ActFn::Tanh};
  for (int64_t t = 0; t < d.T; ++t) {
    std::vector<AccessPattern> xk;
    for (int64_t k = 0; k < nk; ++k) {
      const int64_t kk = std::min(tk, d.I - k * tk);
      AccessPattern xt = ctx.sbuf(ctx.sbuf_alloc(d.B * es), kk, d.B, mt);
      ctx.dma(xt, ctx.hbm(x, x.offset + t * d.B * d.I + k * tk, kk, 1, {{d.I, d.B}}));
      xk.push_back(xt);
    }
    AccessPattern gate[4];
    for (int q = 0; q < 4; ++q) {
      const AccessPattern acc = ctx.psum(ctx.psum_alloc(), d.H, d.B);
      for (int64_t k = 0; k <= nk; ++k) {
        AccessPattern st = k < nk ? wk[k] : rk;
        st.offset += q * d.H * es;
        st.dims[0] = {1, d.H};
        isa::Instr mm = make_instr(Opcode::Matmul);
        mm.ops[0] = ap_operand(acc);
        mm.ops[1] = ap_operand(st);
        mm.ops[2] = ap_operand(k < nk ? xk[k] : hm);
        mm.ops[3] = int_operand(static_cast<int64_t>(k == 0 ? isa::AccFlag::Zero : isa::AccFlag::Acc));
        ctx.emit(Engine::Pe, mm);
      }
      gate[q] = ctx.sbuf(ctx.sbuf_alloc(d.B * 4), d.H, d.B, DType::Fp32);
      AccessPattern bq = bias;
      bq.offset += q * 4;
      bq.dims[0] = {1, 1};
      act(ctx, gate[q], acc, fns[q], imm(1.0f), ap_operand(bq));
    }
    // c = f*c + i*g; h = o*tanh(c)  (gates in ONNX order i, o, f, c)
    AccessPattern t1 = ctx.sbuf(ctx.sbuf_alloc(d.B * 4), d.H, d.B, DType::Fp32);
    tt(ctx, t1, gate[0], gate[3], AluOp::Mul);
    tt(ctx, c, c, gate[2], AluOp::Mul);
    tt(ctx, c, c, t1, AluOp::Add);
    AccessPattern tc = ctx.sbuf(ctx.sbuf_alloc(d.B * 4), d.H, d.B, DType::Fp32);
    act(ctx, tc, c, ActFn::Tanh);
    tt(ctx, h, gate[1], tc, AluOp::Mul);
    if (t + 1 < d.T) dve_unary(ctx, Opcode::Copy, hm, h);
    if (y) ctx.dma(ctx.hbm(*y, y->offset + t * d.B * d.H, d.H, 1, {{d.H, d.B}}), h);
  }
  if (yh) ctx.dma(ctx.hbm(*yh, yh->offset, d.H, 1, {{d.H, d.B}}), h);
  if (yc) ctx.dma(ctx.hbm(*yc, yc->offset, d.H, 1, {{d.H, d.B}}), c);
  ctx.unpin_all();
}

}  // namespace trnsim::compiler
