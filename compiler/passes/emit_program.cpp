// Pass emit: distributes the program-order list into core 0's per-engine streams, and the
// text listing used by --dump-after for the instruction-level passes.
#include <fmt/format.h>

#include "compiler/passes/passes.h"

namespace trnsim::compiler {

isa::Program emit_program(Lowered&& l) {
  isa::Program p = std::move(l.prog);
  p.cores.resize(1);
  for (const LInstr& li : l.code) p.cores[0].stream(li.engine).push_back(li.in);
  return p;
}

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
