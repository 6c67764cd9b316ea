// Instruction builders shared by the lowerings: each fills one instruction's operands and
// appends it to the program through LowerCtx::emit (tagged with the current node). The names
// are the ISA mnemonics (act, ts = tensor_scalar, tt = tensor_tensor, ...).
#pragma once

#include "compiler/lower/lower_ctx.h"

namespace trnsim::compiler {

// act: dst = fn(src * scale + bias) on the Scalar engine; `accum` (optional) receives the
// per-partition sum of the results (activation_reduce).
void act(LowerCtx& ctx, const isa::AccessPattern& dst, const isa::AccessPattern& src,
         isa::ActFn fn, isa::Operand scale, isa::Operand bias,
         const isa::AccessPattern* accum = nullptr);
void act(LowerCtx& ctx, const isa::AccessPattern& dst, const isa::AccessPattern& src,
         isa::ActFn fn, float scale = 1.0f, float bias = 0.0f);

// ts (tensor_scalar): dst = (src op0 s0) op1 s1 on the Vector engine; scalars are immediates
// or per-partition [P,1] access patterns.
void ts(LowerCtx& ctx, const isa::AccessPattern& dst, const isa::AccessPattern& src,
        isa::AluOp op0, isa::Operand s0, isa::AluOp op1, isa::Operand s1);
void ts(LowerCtx& ctx, const isa::AccessPattern& dst, const isa::AccessPattern& src,
        isa::AluOp op0, isa::Operand s0, isa::AluOp op1 = isa::AluOp::Bypass, float s1 = 0.0f);
void ts(LowerCtx& ctx, const isa::AccessPattern& dst, const isa::AccessPattern& src,
        isa::AluOp op0, float s0, isa::AluOp op1 = isa::AluOp::Bypass, float s1 = 0.0f);

// tt (tensor_tensor): dst = a op b on the Vector engine.
void tt(LowerCtx& ctx, const isa::AccessPattern& dst, const isa::AccessPattern& a,
        const isa::AccessPattern& b, isa::AluOp op);

// select: dst = pred != 0 ? on_true : on_false (Vector engine).
void select(LowerCtx& ctx, const isa::AccessPattern& dst, const isa::AccessPattern& pred,
            const isa::AccessPattern& on_true, const isa::AccessPattern& on_false);

// Two-operand Vector-engine instructions (copy, ...): dst, src.
void dve_unary(LowerCtx& ctx, isa::Opcode op, const isa::AccessPattern& dst,
               const isa::AccessPattern& src);

}  // namespace trnsim::compiler
