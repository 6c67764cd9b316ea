#include "isa/isa.h"

#include <string>
#include <unordered_map>

namespace trnsim::isa {
namespace {

#define OPND(kind, name) OperandSpec{OperandKind::kind, name}
#define OPERANDS(...) __VA_ARGS__

// Counts the operands of one OPERANDS(...) list.
template <typename... T>
constexpr uint8_t count_operands(T...) {
  return sizeof...(T);
}

const std::array<OpcodeInfo, kNumOpcodes> kTable = {{
#define TRNSIM_OPCODE(e, m, eng, ops, doc) \
  OpcodeInfo{Opcode::e, m, eng, count_operands(ops), {{ops}}, doc},
#include "isa/isa.def"
#undef TRNSIM_OPCODE
}};

#undef OPND
#undef OPERANDS

struct Names {
  std::string_view name;
  std::string_view doc;
};

const Names kEngineNames[] = {
#define TRNSIM_ENGINE(e, n, d) {n, d},
#include "isa/isa.def"
#undef TRNSIM_ENGINE
};
const Names kActFnNames[] = {
#define TRNSIM_ACTFN(e, n, d) {n, d},
#include "isa/isa.def"
#undef TRNSIM_ACTFN
};
const Names kAluNames[] = {
#define TRNSIM_ALU(e, n, i, d) {n, d},
#include "isa/isa.def"
#undef TRNSIM_ALU
};
const bool kAluIntOnly[] = {
#define TRNSIM_ALU(e, n, i, d) i,
#include "isa/isa.def"
#undef TRNSIM_ALU
};

template <typename E, size_t N>
std::optional<E> find_name(const Names (&names)[N], std::string_view s) {
  for (size_t i = 0; i < N; ++i)
    if (names[i].name == s) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace

bool operand_is_ap(OperandKind k) {
  switch (k) {
    case OperandKind::PsumAcc:
    case OperandKind::PsumOut:
    case OperandKind::SbufIn:
    case OperandKind::Out:
    case OperandKind::In:
    case OperandKind::OutOpt:
    case OperandKind::MemOut:
    case OperandKind::MemIn:
      return true;
    default:
      return false;
  }
}

bool operand_writes(OperandKind k) {
  return k == OperandKind::PsumAcc || k == OperandKind::PsumOut || k == OperandKind::Out ||
         k == OperandKind::OutOpt || k == OperandKind::MemOut;
}

bool operand_reads(OperandKind k) {
  return k == OperandKind::SbufIn || k == OperandKind::In || k == OperandKind::MemIn ||
         k == OperandKind::Scalar;
}

std::string_view operand_kind_name(OperandKind k) {
  switch (k) {
    case OperandKind::PsumAcc: return "psum-acc";
    case OperandKind::PsumOut: return "psum-out";
    case OperandKind::SbufIn: return "sbuf-in";
    case OperandKind::Out: return "out";
    case OperandKind::In: return "in";
    case OperandKind::OutOpt: return "out-opt";
    case OperandKind::MemOut: return "mem-out";
    case OperandKind::MemIn: return "mem-in";
    case OperandKind::Scalar: return "scalar";
    case OperandKind::ActFn: return "act-fn";
    case OperandKind::Alu: return "alu";
    case OperandKind::AccFlag: return "acc-flag";
    case OperandKind::Int: return "int";
    case OperandKind::Float: return "float";
    case OperandKind::Reg: return "reg";
    case OperandKind::Target: return "target";
    case OperandKind::Queue: return "queue";
    case OperandKind::Engines: return "engines";
  }
  return "?";
}

const OpcodeInfo& opcode_info(Opcode op) { return kTable[static_cast<int>(op)]; }
const std::array<OpcodeInfo, kNumOpcodes>& opcode_table() { return kTable; }

std::optional<Opcode> parse_mnemonic(std::string_view s) {
  for (const auto& info : kTable)
    if (s == info.mnemonic) return info.op;
  return std::nullopt;
}

std::string_view engine_name(Engine e) { return kEngineNames[static_cast<int>(e)].name; }
std::string_view engine_doc(Engine e) { return kEngineNames[static_cast<int>(e)].doc; }
std::optional<Engine> parse_engine(std::string_view s) { return find_name<Engine>(kEngineNames, s); }
std::string_view act_fn_name(ActFn f) { return kActFnNames[static_cast<int>(f)].name; }
std::string_view act_fn_doc(ActFn f) { return kActFnNames[static_cast<int>(f)].doc; }
std::optional<ActFn> parse_act_fn(std::string_view s) { return find_name<ActFn>(kActFnNames, s); }
std::string_view alu_op_name(AluOp op) { return kAluNames[static_cast<int>(op)].name; }
std::string_view alu_op_doc(AluOp op) { return kAluNames[static_cast<int>(op)].doc; }
bool alu_op_int_only(AluOp op) { return kAluIntOnly[static_cast<int>(op)]; }
std::optional<AluOp> parse_alu_op(std::string_view s) { return find_name<AluOp>(kAluNames, s); }

std::string_view mem_space_name(MemSpace s) {
  switch (s) {
    case MemSpace::None: return "-";
    case MemSpace::Hbm: return "hbm";
    case MemSpace::Sbuf: return "sbuf";
    case MemSpace::Psum: return "psum";
  }
  return "?";
}

}  // namespace trnsim::isa
