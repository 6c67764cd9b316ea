// The collectives that tensor parallelism inserts into a rank's graph (compiler/tensor_parallel.h):
// TrnAllReduce (sum over the ranks of the tensor-parallel group, same shape) and TrnAllGather
// (every rank's tensor stacked in rank order: [group_size, ...shape]). Each lowers to one
// collective instruction between HBM tensors, over the replica group {gsize = group_size,
// gstride = 1} (consecutive ranks; docs/multichip.md), issued from the SP engine's queues.
#include <fmt/format.h>

#include "compiler/lower/emit.h"
#include "compiler/lower/lower_ctx.h"
#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

std::vector<TypeShape> infer_all_reduce(const Node&, const std::vector<const Tensor*>& in) {
  return {{in.at(0)->dtype, in[0]->shape}};
}

std::vector<TypeShape> infer_all_gather(const Node& n, const std::vector<const Tensor*>& in) {
  Shape s = in.at(0)->shape;
  s.insert(s.begin(), n.attr_int("group_size", 1));
  return {{in[0]->dtype, s}};
}

// One rank's view (the interpreter runs one rank): the reduction of identical copies is not
// the rank's value, so these are never evaluated; their inputs are never constant.
std::vector<Value> eval_collective(const Node& n, const std::vector<const Value*>&) {
  throw InputError(n.op + " cannot be evaluated on one rank");
}

namespace {
isa::AccessPattern whole(LowerCtx& ctx, const HbmView& v, const Graph& g, int id) {
  if (v.strides != row_major_strides(v.shape))
    throw std::logic_error("collective on a strided view: " + g.t(id).name);
  return ctx.hbm(v, v.offset, 1, 0, {{1, num_elements(v.shape)}});
}
}  // namespace

void lower_collective(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  const HbmView src = ctx.view(n.inputs[0]), dst = ctx.view(n.outputs[0]);
  if (src.dtype != DType::Fp32 && src.dtype != DType::Bf16)
    throw InputError(fmt::format("{}: a {} of {} data (collectives move fp32 or bf16)",
                                 g.where(n), n.op, isa::dtype_name(src.dtype)));
  if (num_elements(src.shape) == 0) return;
  const bool reduce = n.op == "TrnAllReduce";
  isa::Instr in = make_instr(reduce ? isa::Opcode::AllReduce : isa::Opcode::AllGather);
  int k = 0;
  in.ops[k++] = int_operand(ctx.next_queue());
  in.ops[k++] = ap_operand(whole(ctx, dst, g, n.outputs[0]));
  in.ops[k++] = ap_operand(whole(ctx, src, g, n.inputs[0]));
  if (reduce) in.ops[k++] = int_operand(static_cast<int64_t>(isa::AluOp::Add));
  in.ops[k++] = int_operand(n.attr_int("group_size", 1));
  in.ops[k++] = int_operand(1);
  ctx.emit(isa::Engine::Sp, in);
}

}  // namespace trnsim::compiler
