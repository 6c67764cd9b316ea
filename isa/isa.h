// The instruction set as C++ types: enums and the opcode table, all generated from isa.def.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "isa/dtype.h"

namespace trnsim::isa {

enum class Engine : uint8_t {
#define TRNSIM_ENGINE(e, n, d) e,
#include "isa/isa.def"
#undef TRNSIM_ENGINE
};
constexpr int kNumEngines = 0
#define TRNSIM_ENGINE(e, n, d) +1
#include "isa/isa.def"
#undef TRNSIM_ENGINE
    ;

// Bit masks of engines (which engines may execute an opcode; barrier participants).
using EngineMask = uint8_t;
constexpr EngineMask E_PE = 1u << static_cast<int>(Engine::Pe);
constexpr EngineMask E_ACT = 1u << static_cast<int>(Engine::Act);
constexpr EngineMask E_DVE = 1u << static_cast<int>(Engine::Dve);
constexpr EngineMask E_POOL = 1u << static_cast<int>(Engine::Pool);
constexpr EngineMask E_SP = 1u << static_cast<int>(Engine::Sp);
constexpr EngineMask E_ALL = E_PE | E_ACT | E_DVE | E_POOL | E_SP;
constexpr EngineMask engine_bit(Engine e) { return EngineMask(1u << static_cast<int>(e)); }

enum class Opcode : uint8_t {
#define TRNSIM_OPCODE(e, m, eng, ops, doc) e,
#include "isa/isa.def"
#undef TRNSIM_OPCODE
};
constexpr int kNumOpcodes = 0
#define TRNSIM_OPCODE(e, m, eng, ops, doc) +1
#include "isa/isa.def"
#undef TRNSIM_OPCODE
    ;

enum class ActFn : uint8_t {
#define TRNSIM_ACTFN(e, n, d) e,
#include "isa/isa.def"
#undef TRNSIM_ACTFN
};
constexpr int kNumActFns = 0
#define TRNSIM_ACTFN(e, n, d) +1
#include "isa/isa.def"
#undef TRNSIM_ACTFN
    ;

enum class AluOp : uint8_t {
#define TRNSIM_ALU(e, n, i, d) e,
#include "isa/isa.def"
#undef TRNSIM_ALU
};
constexpr int kNumAluOps = 0
#define TRNSIM_ALU(e, n, i, d) +1
#include "isa/isa.def"
#undef TRNSIM_ALU
    ;

// Matmul accumulate flag: `zero` overwrites the PSUM bytes, `acc` adds to them.
enum class AccFlag : uint8_t { Zero, Acc };

enum class MemSpace : uint8_t { None, Hbm, Sbuf, Psum };

// What an operand slot holds. The roles (read/write, which memories) drive the assembler,
// validation and later the race detector.
enum class OperandKind : uint8_t {
  PsumAcc,  // PSUM access pattern, written; also read when the acc flag says accumulate
  PsumOut,  // PSUM access pattern, written
  SbufIn,   // SBUF access pattern, read
  Out,      // SBUF or PSUM access pattern, written
  In,       // SBUF or PSUM access pattern, read
  OutOpt,   // like Out, or absent (`-`)
  MemOut,   // HBM, SBUF or PSUM access pattern, written (DMA)
  MemIn,    // HBM, SBUF or PSUM access pattern, read (DMA)
  Scalar,   // fp32 immediate, or a per-partition [P,1] SBUF/PSUM access pattern (read)
  ActFn,    // activation function name
  Alu,      // ALU op name
  AccFlag,  // zero | acc
  Int,      // signed integer immediate
  Float,    // fp32 immediate
  Reg,      // engine-local scalar register r0..r15
  Target,   // branch target: a label in the same engine stream
  Queue,    // DMA queue q0..q15
  Engines,  // engine set, e.g. pe|act|dve
};
bool operand_is_ap(OperandKind k);      // kinds that always hold an access pattern (or `-`)
bool operand_writes(OperandKind k);     // the AP is written
bool operand_reads(OperandKind k);      // the AP is read (Scalar reads when it is an AP)
std::string_view operand_kind_name(OperandKind k);

constexpr int kMaxOperands = 6;
constexpr int kNumRegisters = 16;

struct OperandSpec {
  OperandKind kind;
  const char* name;
};

struct OpcodeInfo {
  Opcode op;
  const char* mnemonic;
  EngineMask engines;
  uint8_t num_operands;
  std::array<OperandSpec, kMaxOperands> operands;
  const char* doc;
};

const OpcodeInfo& opcode_info(Opcode op);
const std::array<OpcodeInfo, kNumOpcodes>& opcode_table();
std::optional<Opcode> parse_mnemonic(std::string_view s);

std::string_view engine_name(Engine e);
std::string_view engine_doc(Engine e);
std::optional<Engine> parse_engine(std::string_view s);
std::string_view act_fn_name(ActFn f);
std::string_view act_fn_doc(ActFn f);
std::optional<ActFn> parse_act_fn(std::string_view s);
std::string_view alu_op_name(AluOp op);
std::string_view alu_op_doc(AluOp op);
bool alu_op_int_only(AluOp op);
std::optional<AluOp> parse_alu_op(std::string_view s);
std::string_view mem_space_name(MemSpace s);
// send, recv: one AP operand (ops[1]), paired by the hub between two ranks of a group.
constexpr bool opcode_is_p2p(Opcode op) { return op == Opcode::Send || op == Opcode::Recv; }
// all_reduce, all_gather, reduce_scatter, all_to_all, permute, send, recv: queued like dma,
// completed by the system's collective hub on the ranks of the replica group.
constexpr bool opcode_is_collective(Opcode op) {
  return op == Opcode::AllReduce || op == Opcode::AllGather || op == Opcode::ReduceScatter ||
         op == Opcode::AllToAll || op == Opcode::Permute || op == Opcode::Send ||
         op == Opcode::Recv;
}

}  // namespace trnsim::isa
