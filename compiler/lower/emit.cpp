#include "compiler/lower/emit.h"

namespace trnsim::compiler {

using isa::AccessPattern;
using isa::Engine;
using isa::Opcode;

void act(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& src, isa::ActFn fn,
         isa::Operand scale, isa::Operand bias, const AccessPattern* accum) {
  isa::Instr in = make_instr(Opcode::Act);
  in.ops[0] = ap_operand(dst);
  in.ops[1] = ap_operand(src);
  in.ops[2] = int_operand(static_cast<int64_t>(fn));
  in.ops[3] = scale;
  in.ops[4] = bias;
  if (accum) in.ops[5] = ap_operand(*accum);
  ctx.emit(Engine::Act, in);
}

void act(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& src, isa::ActFn fn,
         float scale, float bias) {
  act(ctx, dst, src, fn, imm(scale), imm(bias));
}

void ts(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& src, isa::AluOp op0,
        isa::Operand s0, isa::AluOp op1, isa::Operand s1) {
  isa::Instr in = make_instr(Opcode::TensorScalar);
  in.ops[0] = ap_operand(dst);
  in.ops[1] = ap_operand(src);
  in.ops[2] = int_operand(static_cast<int64_t>(op0));
  in.ops[3] = s0;
  in.ops[4] = int_operand(static_cast<int64_t>(op1));
  in.ops[5] = s1;
  ctx.emit(Engine::Dve, in);
}

void ts(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& src, isa::AluOp op0,
        isa::Operand s0, isa::AluOp op1, float s1) {
  ts(ctx, dst, src, op0, s0, op1, imm(s1));
}

void ts(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& src, isa::AluOp op0,
        float s0, isa::AluOp op1, float s1) {
  ts(ctx, dst, src, op0, imm(s0), op1, imm(s1));
}

void tt(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& a, const AccessPattern& b,
        isa::AluOp op) {
  isa::Instr in = make_instr(Opcode::TensorTensor);
  in.ops[0] = ap_operand(dst);
  in.ops[1] = ap_operand(a);
  in.ops[2] = ap_operand(b);
  in.ops[3] = int_operand(static_cast<int64_t>(op));
  ctx.emit(Engine::Dve, in);
}

void select(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& pred,
            const AccessPattern& on_true, const AccessPattern& on_false) {
  isa::Instr in = make_instr(Opcode::Select);
  in.ops[0] = ap_operand(dst);
  in.ops[1] = ap_operand(pred);
  in.ops[2] = ap_operand(on_true);
  in.ops[3] = ap_operand(on_false);
  ctx.emit(Engine::Dve, in);
}

void dve_unary(LowerCtx& ctx, Opcode op, const AccessPattern& dst, const AccessPattern& src) {
  isa::Instr in = make_instr(op);
  in.ops[0] = ap_operand(dst);
  in.ops[1] = ap_operand(src);
  ctx.emit(Engine::Dve, in);
}

}  // namespace trnsim::compiler
