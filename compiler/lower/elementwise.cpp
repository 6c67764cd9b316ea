// Lowering of elementwise ops: each output tile is DMA'd in per operand (broadcasting through
// stride-0 access patterns), computed with one act/ts/tt/select, and DMA'd out.
#include <fmt/format.h>

#include <cmath>

#include "compiler/lower/lower_ctx.h"
#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

using isa::AccessPattern;
using isa::AluOp;
using isa::Engine;
using isa::Opcode;

namespace {

using Compute = std::function<void(const AccessPattern& dst, const std::vector<AccessPattern>& src)>;

// Tiles the output, loads each operand view broadcast to `out_shape`, runs `compute`, stores.
void lower_tiles(LowerCtx& ctx, const HbmView& out, const std::vector<HbmView>& ins,
                 const Compute& compute) {
  std::vector<std::vector<int64_t>> strides{out.strides};
  for (const auto& v : ins) strides.push_back(broadcast_strides(v.shape, out.shape));
  const int64_t max_f = ctx.max_free(static_cast<int>(ins.size()) + 1);
  ctx.for_each_tile(out.shape, strides, max_f, [&](const TileSpec& ts) {
    std::vector<AccessPattern> src;
    for (size_t k = 0; k < ins.size(); ++k) {
      AccessPattern s = ctx.sbuf(ctx.sbuf_alloc(ts.nf * 4), ts.np, ts.nf, DType::Fp32);
      ctx.dma(s, ctx.hbm(ins[k], ins[k].offset + ts.offsets[k + 1], ts.np, ts.pstride[k + 1],
                         {{ts.fstride[k + 1], ts.nf}}));
      src.push_back(s);
    }
    AccessPattern dst = ctx.sbuf(ctx.sbuf_alloc(ts.nf * 4), ts.np, ts.nf, DType::Fp32);
    compute(dst, src);
    // Stores are issued by pool so that sp keeps loading the next tiles (no per-tile stall).
    ctx.dma(ctx.hbm(out, out.offset + ts.offsets[0], ts.np, ts.pstride[0], {{ts.fstride[0], ts.nf}}),
            dst, Engine::Pool);
  });
}

void act(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& src, isa::ActFn fn,
         float scale = 1.0f, float bias = 0.0f) {
  isa::Instr in = make_instr(Opcode::Act);
  in.ops[0] = ap_operand(dst);
  in.ops[1] = ap_operand(src);
  in.ops[2] = int_operand(static_cast<int64_t>(fn));
  in.ops[3] = imm(scale);
  in.ops[4] = imm(bias);
  ctx.emit(Engine::Act, in);
}

void ts(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& src, AluOp op0, float s0,
        AluOp op1 = AluOp::Bypass, float s1 = 0.0f) {
  isa::Instr in = make_instr(Opcode::TensorScalar);
  in.ops[0] = ap_operand(dst);
  in.ops[1] = ap_operand(src);
  in.ops[2] = int_operand(static_cast<int64_t>(op0));
  in.ops[3] = imm(s0);
  in.ops[4] = int_operand(static_cast<int64_t>(op1));
  in.ops[5] = imm(s1);
  ctx.emit(Engine::Dve, in);
}

void tt(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& a, const AccessPattern& b,
        AluOp op) {
  isa::Instr in = make_instr(Opcode::TensorTensor);
  in.ops[0] = ap_operand(dst);
  in.ops[1] = ap_operand(a);
  in.ops[2] = ap_operand(b);
  in.ops[3] = int_operand(static_cast<int64_t>(op));
  ctx.emit(Engine::Dve, in);
}

// Scalar constant operand (a one-element constant): folded into an immediate.
std::optional<float> scalar_const(const Graph& g, int id) {
  if (id < 0 || !g.t(id).is_const() || g.t(id).value->numel() != 1) return std::nullopt;
  return static_cast<float>(g.t(id).value->data[0]);
}

// The ALU op with its operands swapped (a op b == b swapped(op) a), if there is one.
std::optional<AluOp> swapped(AluOp op) {
  switch (op) {
    case AluOp::Add: case AluOp::Mul: case AluOp::Max: case AluOp::Min:
    case AluOp::Eq: case AluOp::Ne: return op;
    case AluOp::Sub: return AluOp::Rsub;
    case AluOp::Div: return AluOp::Rdiv;
    case AluOp::Lt: return AluOp::Gt;
    case AluOp::Gt: return AluOp::Lt;
    case AluOp::Le: return AluOp::Ge;
    case AluOp::Ge: return AluOp::Le;
    default: return std::nullopt;
  }
}

void lower_binary(LowerCtx& ctx, const Node& n, const OpInfo& info) {
  const Graph& g = ctx.graph();
  HbmView out = ctx.view(n.outputs[0]);
  std::vector<int> ins;
  for (int id : n.inputs)
    if (id >= 0) ins.push_back(id);
  AluOp op = *info.alu;
  // Variadic Max/Min: fold left through scratch results is avoided by loading all operands.
  if (ins.size() == 2) {
    auto sb = scalar_const(g, ins[1]);
    auto sa = scalar_const(g, ins[0]);
    if (sb && g.t(ins[0]).shape == g.t(n.outputs[0]).shape) {
      lower_tiles(ctx, out, {ctx.view(ins[0])}, [&](auto& dst, auto& src) {
        ts(ctx, dst, src[0], op, *sb);
      });
      return;
    }
    if (sa && swapped(op) && g.t(ins[1]).shape == g.t(n.outputs[0]).shape) {
      lower_tiles(ctx, out, {ctx.view(ins[1])}, [&](auto& dst, auto& src) {
        ts(ctx, dst, src[0], *swapped(op), *sa);
      });
      return;
    }
  }
  std::vector<HbmView> views;
  for (int id : ins) views.push_back(ctx.view(id));
  lower_tiles(ctx, out, views, [&](auto& dst, auto& src) {
    tt(ctx, dst, src[0], src[1], op);
    for (size_t k = 2; k < src.size(); ++k) tt(ctx, dst, dst, src[k], op);
  });
}

void lower_cast(LowerCtx& ctx, const Node& n) {
  const Tensor& x = ctx.graph().t(n.inputs[0]);
  const Tensor& y = ctx.graph().t(n.outputs[0]);
  HbmView out = ctx.view(n.outputs[0]);
  lower_tiles(ctx, out, {ctx.view(n.inputs[0])}, [&](auto& dst, auto& src) {
    if (y.dtype == DType::Bool) {
      ts(ctx, dst, src[0], AluOp::Ne, 0.0f);
    } else if (isa::dtype_is_float(x.dtype) && !isa::dtype_is_float(y.dtype)) {
      // ONNX truncates toward zero; DMA stores round, so truncate here: sign(x)*floor(|x|).
      AccessPattern t = ctx.sbuf(ctx.sbuf_alloc(dst.dims[0].count * 4), dst.num_partitions,
                                 dst.dims[0].count, DType::Fp32);
      act(ctx, t, src[0], isa::ActFn::Abs);
      ts(ctx, dst, t, AluOp::Mod, 1.0f);
      tt(ctx, t, t, dst, AluOp::Sub);
      act(ctx, dst, src[0], isa::ActFn::Sign);
      tt(ctx, dst, dst, t, AluOp::Mul);
    } else if (y.dtype == DType::Bf16 || y.dtype == DType::Fp16) {
      isa::Instr in = make_instr(Opcode::Copy);
      in.ops[0] = ap_operand(dst);
      in.ops[1] = ap_operand(src[0]);
      ctx.emit(Engine::Dve, in);
    } else {
      isa::Instr in = make_instr(Opcode::Copy);
      in.ops[0] = ap_operand(dst);
      in.ops[1] = ap_operand(src[0]);
      ctx.emit(Engine::Dve, in);
    }
  });
}

}  // namespace

void lower_elementwise(LowerCtx& ctx, const Node& n) {
  const OpInfo& info = *find_op(n.op);
  HbmView out = ctx.view(n.outputs[0]);
  if (n.op == "Cast") return lower_cast(ctx, n);
  if (n.op == "Where") {
    std::vector<HbmView> v{ctx.view(n.inputs[0]), ctx.view(n.inputs[1]), ctx.view(n.inputs[2])};
    return lower_tiles(ctx, out, v, [&](auto& dst, auto& src) {
      isa::Instr in = make_instr(Opcode::Select);
      in.ops[0] = ap_operand(dst);
      in.ops[1] = ap_operand(src[0]);
      in.ops[2] = ap_operand(src[1]);
      in.ops[3] = ap_operand(src[2]);
      ctx.emit(Engine::Dve, in);
    });
  }
  if (info.binary) return lower_binary(ctx, n, info);
  // Unary.
  lower_tiles(ctx, out, {ctx.view(n.inputs[0])}, [&](auto& dst, auto& src) {
    if (info.act) act(ctx, dst, src[0], *info.act);
    else if (n.op == "Neg") ts(ctx, dst, src[0], AluOp::Mul, -1.0f);
    else ts(ctx, dst, src[0], *info.alu, 0.0f);  // Not: x == 0
  });
}

void lower_batchnorm(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  for (int i = 1; i < 5; ++i)
    if (!g.t(n.inputs[i]).is_const())
      throw InputError(g.where(n) + ": scale/bias/mean/var must be constants");
  const Shape& xs = g.t(n.inputs[0]).shape;
  int64_t c = xs[1];
  Shape cs(xs.size() - 1, 1);
  cs[0] = c;
  Value scale(DType::Fp32, cs), shift(DType::Fp32, cs);
  double eps = n.attr_float("epsilon", 1e-5f);
  for (int64_t i = 0; i < c; ++i) {
    double s = g.t(n.inputs[1]).value->data[i] / std::sqrt(g.t(n.inputs[4]).value->data[i] + eps);
    scale.data[i] = s;
    shift.data[i] = g.t(n.inputs[2]).value->data[i] - g.t(n.inputs[3]).value->data[i] * s;
  }
  HbmView sv = ctx.add_const(n.name + ".scale", scale);
  HbmView bv = ctx.add_const(n.name + ".shift", shift);
  lower_tiles(ctx, ctx.view(n.outputs[0]), {ctx.view(n.inputs[0]), sv, bv},
              [&](auto& dst, auto& src) {
                tt(ctx, dst, src[0], src[1], AluOp::Mul);
                tt(ctx, dst, dst, src[2], AluOp::Add);
              });
}

}  // namespace trnsim::compiler
