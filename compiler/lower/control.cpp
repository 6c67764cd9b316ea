// Lowering of If with a condition known only at run time: both branches are compiled, and
// every engine with code in either branch loads the condition into a register (`ldr`) and
// branches on it, so only the taken branch costs time.
//
// In the instruction list the If becomes
//   dma cond -> SBUF (int32); ldr r0 on each branching engine
//   IfBegin  <then-part>  IfElse  <else-part>  IfEnd
// The markers carry no instruction: allocate_sbuf and insert_sync treat the two parts as
// alternative paths from a common state (insert_sync pads the semaphore counts of the shorter
// path, so code after the If sees the same counts on both), and emit turns them into
// beq/bne/jmp per branching engine. A branch's yields are written into the If's output
// tensors: a yield produced by the branch's own nodes is placed there before they are lowered
// (its producer stores straight into the output); anything else (a tensor from outside, a
// constant, a tensor yielded twice) is copied at the end of the branch.
#include <fmt/format.h>

#include <set>

#include "compiler/lower/lower_ctx.h"
#include "support/error.h"

namespace trnsim::compiler {

namespace {
constexpr int kCondReg = 0;  // the compiler's only use of registers: consumed at once
}  // namespace

void lower_if(LowerCtx& ctx, const Node& n,
              const std::function<void(const std::vector<Node>&)>& lower_list) {
  const Graph& g = ctx.graph();
  ctx.begin_node(n);
  const HbmView c = ctx.view(n.inputs.at(0));
  const isa::AccessPattern cond = ctx.sbuf(ctx.sbuf_alloc(4), 1, 1, DType::Int32);
  ctx.dma(cond, ctx.hbm(c, c.offset, 1, 1, {{1, 1}}));
  std::vector<LInstr>& code = ctx.code();
  // One ldr per engine for now; those of engines without code in a branch are dropped below.
  const size_t ldr_at = code.size();
  for (int e = 0; e < isa::kNumEngines; ++e) {
    isa::Instr in = make_instr(isa::Opcode::Ldr);
    in.ops[0] = int_operand(kCondReg);
    in.ops[1] = ap_operand(cond);
    ctx.emit(static_cast<isa::Engine>(e), in);
  }
  const int id = ctx.new_if_id();
  auto mark = [&](LInstr::Mark m) {
    LInstr li;
    li.mark = m;
    li.if_id = id;
    li.in.tag = code[ldr_at].in.tag;
    code.push_back(li);
  };
  const size_t begin = code.size();
  mark(LInstr::Mark::IfBegin);
  for (int k = 0; k < 2; ++k) {
    const Branch& b = n.branches.at(k);
    std::set<int> produced, placed;
    for (const Node& m : b.nodes)
      for (int t : m.outputs)
        if (t >= 0) produced.insert(t);
    std::vector<char> direct(n.outputs.size(), 0);
    for (size_t o = 0; o < n.outputs.size(); ++o) {
      const int t = b.outputs.at(o), out = n.outputs[o];
      if (out < 0 || !produced.count(t) || g.t(t).is_const() || placed.count(t)) continue;
      ctx.alias_view(t, ctx.view(out));
      placed.insert(t);
      direct[o] = 1;
    }
    lower_list(b.nodes);
    ctx.begin_node(n);
    for (size_t o = 0; o < n.outputs.size(); ++o)
      if (n.outputs[o] >= 0 && !direct[o])
        copy_hbm(ctx, ctx.view(n.outputs[o]), ctx.view(b.outputs[o]));
    mark(k == 0 ? LInstr::Mark::IfElse : LInstr::Mark::IfEnd);
  }
  // The engines that branch: those with an instruction in either part.
  isa::EngineMask used = 0;
  for (size_t i = begin + 1; i < code.size(); ++i)
    if (code[i].mark == LInstr::Mark::None) used |= isa::engine_bit(code[i].engine);
  size_t dropped = 0;
  for (int e = isa::kNumEngines - 1; e >= 0; --e)
    if (!(used & (1u << e))) {
      code.erase(code.begin() + static_cast<std::ptrdiff_t>(ldr_at + e));
      ++dropped;
    }
  code[begin - dropped].engines = used;
}

}  // namespace trnsim::compiler
