// Functional semantics of every instruction on real bytes (no SystemC, no timing): what the
// engines compute when numerics are on, plus the byte ranges each instruction touches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "isa/program.h"

namespace trnsim::model {

// HBM contents: one byte vector per program tensor (index = Program::tensors index).
struct HbmStore {
  std::vector<std::vector<uint8_t>> tensors;
};

// One core's SBUF and PSUM, partition-major: partition p's bytes start at p * bytes_per_partition.
struct CoreMem {
  int partitions = 0;
  int64_t sbuf_bytes_per_partition = 0;
  int64_t psum_bytes_per_partition = 0;
  std::vector<uint8_t> sbuf;
  std::vector<uint8_t> psum;
  // Allocates and fills every byte with `fill` (a NaN pattern in numerics runs: 0xFF).
  void init(int parts, int64_t sbuf_pp, int64_t psum_pp, uint8_t fill);
};

// Everything one instruction may touch. `regs` are the issuing engine's registers (for
// register-addressed operands); `core` is the executing core's index (for messages).
struct ExecState {
  const isa::Program* prog = nullptr;
  CoreMem* mem = nullptr;
  HbmStore* hbm = nullptr;
  const int64_t* regs = nullptr;
};

// Names an instruction in messages: "core0 dve #12 (tt) @node".
struct InstrRef {
  int core = 0;
  isa::Engine engine = isa::Engine::Sp;
  size_t index = 0;
};
std::string describe_instr(const isa::Program& prog, const isa::Instr& in, const InstrRef& ref);

// Performs the data work of `in` (all reads, then all writes). DMA-class instructions move
// their bytes here too (the timing model calls this at completion). Control instructions
// (movi/addi/branches/nop/barrier) do nothing here. Throws SimFault naming the instruction
// when an access falls outside SBUF/PSUM/the HBM tensor.
void execute(const isa::Instr& in, ExecState& st, const InstrRef& ref);

// The value `ldr` loads into its register: the single element of its source (SBUF/PSUM),
// integers exact, floats truncated toward zero (saturating; NaN gives 0). Throws SimFault
// naming the instruction when the source is out of bounds. execute() of ldr does nothing.
int64_t load_register_value(const isa::Instr& in, ExecState& st, const InstrRef& ref);

// The static bounds checks of execute() without any data work, for timing-only runs: every AP
// operand against SBUF/PSUM geometry (st.mem's sizes; its byte vectors may be empty) and HBM
// tensor sizes (st.hbm's, or the program's declarations when st.hbm is null). Data-dependent
// checks (gather indices, dma_gather rows) happen only in execute(). Throws SimFault.
void check_bounds(const isa::Instr& in, ExecState& st, const InstrRef& ref);

// Collectives (models/system/hub.h): AP operand k of `in` as fp32 values in row-major order
// (partition, free dims), and a write of such values (rounded to the operand's dtype). Both
// check bounds like execute() and throw SimFault naming the instruction.
std::vector<float> read_operand(const isa::Instr& in, ExecState& st, const InstrRef& ref, int k);
void write_operand(const isa::Instr& in, ExecState& st, const InstrRef& ref, int k,
                   const std::vector<float>& values);

// A contiguous byte span [lo, hi) in each of partitions [p0, p0+np) of SBUF/PSUM, or in HBM
// tensor `tensor` (p0 = 0, np = 1). Spans are conservative hulls of the access pattern.
struct Access {
  isa::MemSpace space = isa::MemSpace::None;
  uint16_t tensor = 0;
  uint16_t p0 = 0;
  uint16_t np = 0;
  int64_t lo = 0;
  int64_t hi = 0;
  bool write = false;
};

// Appends the accesses of `in` (resolving register offsets with `regs`), in operand order.
// Matmul with acc flag `acc` reports its PSUM operand as a read (first) and a write; Scalar
// operands given as APs are reads. A dma_gather table reports the hull of its rows (its
// partitions: the rows idx may name).
void accesses(const isa::Instr& in, const int64_t* regs, std::vector<Access>& out);

}  // namespace trnsim::model
