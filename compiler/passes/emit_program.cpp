// Pass emit: distributes the program-order list into core 0's per-engine streams (If markers
// become branches), and the text listing used by --dump-after for the instruction-level passes.
#include <fmt/format.h>

#include <array>
#include <map>
#include <stdexcept>

#include "compiler/passes/passes.h"

namespace trnsim::compiler {

namespace {

// Turns If markers into branches. For each branching engine (IfBegin's `engines`), with r0
// holding the condition (its ldr precedes IfBegin):
//   then and else code:  beq r0, 0, ELSE; <then>; jmp END; ELSE: <else>; END:
//   then code only:      beq r0, 0, END; <then>; END:
//   else code only:      bne r0, 0, END; <else>; END:
// A target is the next instruction the engine gets after the marker (a labelled nop at the end
// of the stream when there is none).
class Emitter {
 public:
  explicit Emitter(Lowered& l) : l_(l), p_(std::move(l.prog)) { p_.cores.resize(1); }

  isa::Program run() {
    // Which engines have code in each part of each If.
    std::map<int, std::array<isa::EngineMask, 2>> parts;
    std::vector<std::pair<int, int>> open;  // (if, part)
    for (const LInstr& li : l_.code) {
      if (li.mark == LInstr::Mark::IfBegin) open.push_back({li.if_id, 0});
      else if (li.mark == LInstr::Mark::IfElse) open.back().second = 1;
      else if (li.mark == LInstr::Mark::IfEnd) open.pop_back();
      else
        for (const auto& [id, part] : open) parts[id][part] |= isa::engine_bit(li.engine);
    }
    std::map<int, isa::EngineMask> engines;
    for (const LInstr& li : l_.code) {
      switch (li.mark) {
        case LInstr::Mark::None: push(li.engine, li.in); break;
        case LInstr::Mark::IfBegin: {
          engines[li.if_id] = li.engines;
          // An engine with code in a part that does not branch would run it on both paths.
          if ((parts[li.if_id][0] | parts[li.if_id][1]) & ~li.engines)
            throw std::logic_error(fmt::format("emit: if{} has code on an engine that does not "
                                               "load its condition", li.if_id));
          for (int e = 0; e < isa::kNumEngines; ++e) {
            if (!(li.engines & (1u << e))) continue;
            const bool t = parts[li.if_id][0] & (1u << e), f = parts[li.if_id][1] & (1u << e);
            isa::Instr br = make_instr(t ? isa::Opcode::Beq : isa::Opcode::Bne);
            br.ops[0] = int_operand(0);
            br.ops[1] = int_operand(0);
            br.tag = li.in.tag;
            const size_t at = push(static_cast<isa::Engine>(e), br);
            // beq goes to the else-part when there is one, else to the end.
            targets_[{li.if_id, t && f ? 1 : 2}].push_back({e, at});
          }
          break;
        }
        case LInstr::Mark::IfElse:
          for (int e = 0; e < isa::kNumEngines; ++e) {
            if (!(engines[li.if_id] & (1u << e))) continue;
            if ((parts[li.if_id][0] & (1u << e)) && (parts[li.if_id][1] & (1u << e))) {
              isa::Instr j = make_instr(isa::Opcode::Jmp);
              j.tag = li.in.tag;
              targets_[{li.if_id, 2}].push_back({e, push(static_cast<isa::Engine>(e), j)});
            }
          }
          arm(li.if_id, 1);
          break;
        case LInstr::Mark::IfEnd: arm(li.if_id, 2); break;
      }
    }
    for (int e = 0; e < isa::kNumEngines; ++e)
      if (!pending_[e].empty()) push(static_cast<isa::Engine>(e), make_instr(isa::Opcode::Nop));
    return std::move(p_);
  }

 private:
  struct Fixup {
    int engine;
    size_t index;
  };
  // Branches to (if, 1 = else-part, 2 = end) now resolve to each engine's next instruction.
  void arm(int if_id, int which) {
    auto it = targets_.find({if_id, which});
    if (it == targets_.end()) return;
    for (const Fixup& f : it->second)
      pending_[f.engine].push_back({f.index, fmt::format("if{}_{}", if_id, which == 1 ? "else" : "end")});
    targets_.erase(it);
  }
  size_t push(isa::Engine e, isa::Instr in) {
    auto& s = p_.cores[0].stream(e);
    const size_t at = s.size();
    auto& pend = pending_[static_cast<int>(e)];
    for (const auto& [index, label] : pend) {
      s[index].ops[s[index].op == isa::Opcode::Jmp ? 0 : 2] = int_operand(static_cast<int64_t>(at));
      if (in.label == 0) in.label = p_.intern(label);
    }
    pend.clear();
    s.push_back(in);
    return at;
  }

  Lowered& l_;
  isa::Program p_;
  std::map<std::pair<int, int>, std::vector<Fixup>> targets_;
  std::array<std::vector<std::pair<size_t, std::string>>, isa::kNumEngines> pending_;
};

}  // namespace

isa::Program emit_program(Lowered&& l) { return Emitter(l).run(); }

namespace {
std::string ap_str(const isa::Program& p, const isa::AccessPattern& ap) {
  std::string s;
  if (ap.space == isa::MemSpace::Hbm)
    s = fmt::format("hbm.{}+{}:{}{{{},{}}}", p.tensors.at(ap.tensor).name, ap.offset,
                    isa::dtype_name(ap.dtype), ap.partition_stride, ap.num_partitions);
  else
    s = fmt::format("{}[{}:{}]+{}:{}", isa::mem_space_name(ap.space), ap.start_partition,
                    ap.start_partition + ap.num_partitions, ap.offset, isa::dtype_name(ap.dtype));
  std::vector<std::string> dims;
  for (int d = 0; d < ap.ndims; ++d) dims.push_back(fmt::format("[{},{}]", ap.dims[d].stride, ap.dims[d].count));
  return s + fmt::format("{}", fmt::join(dims, ""));
}
}  // namespace

std::string dump_lowered(const Lowered& l) {
  std::string s;
  for (const LInstr& li : l.code) {
    if (li.mark != LInstr::Mark::None) {
      std::vector<std::string> es;
      for (int e = 0; e < isa::kNumEngines; ++e)
        if (li.engines & (1u << e)) es.emplace_back(isa::engine_name(static_cast<isa::Engine>(e)));
      const char* what = li.mark == LInstr::Mark::IfBegin ? "then" :
                         li.mark == LInstr::Mark::IfElse ? "else" : "end";
      s += fmt::format("---- if{} {}{} @{}\n", li.if_id, what,
                       es.empty() ? "" : fmt::format(" ({})", fmt::join(es, "|")),
                       l.prog.str(li.in.tag));
      continue;
    }
    const auto& info = li.in.info();
    std::vector<std::string> ops;
    for (int k = 0; k < info.num_operands; ++k) {
      const auto& o = li.in.ops[k];
      switch (info.operands[k].kind) {
        case isa::OperandKind::Scalar:
          ops.push_back(o.ap.present() ? ap_str(l.prog, o.ap) : fmt::format("{}", o.f));
          break;
        case isa::OperandKind::Float: ops.push_back(fmt::format("{}", o.f)); break;
        case isa::OperandKind::ActFn:
          ops.push_back(std::string(isa::act_fn_name(static_cast<isa::ActFn>(o.i))));
          break;
        case isa::OperandKind::Alu:
          ops.push_back(std::string(isa::alu_op_name(static_cast<isa::AluOp>(o.i))));
          break;
        case isa::OperandKind::AccFlag: ops.push_back(o.i ? "acc" : "zero"); break;
        case isa::OperandKind::Queue: ops.push_back(fmt::format("q{}", o.i)); break;
        default:
          if (isa::operand_is_ap(info.operands[k].kind))
            ops.push_back(o.ap.present() ? ap_str(l.prog, o.ap) : "-");
          else
            ops.push_back(std::to_string(o.i));
      }
    }
    std::string sync;
    for (int k = 0; k < li.in.num_waits; ++k)
      sync += fmt::format(" wait(s{}>={})", li.in.waits[k].sem, li.in.waits[k].value);
    for (int k = 0; k < li.in.num_incs; ++k) sync += fmt::format(" inc(s{})", li.in.incs[k].sem);
    s += fmt::format("{:<4} {} {}{} @{}\n", isa::engine_name(li.engine), info.mnemonic,
                     fmt::join(ops, ", "), sync, l.prog.str(li.in.tag));
  }
  return s;
}

}  // namespace trnsim::compiler
