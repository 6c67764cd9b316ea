// Per-instruction facts the timing model precomputes once per static instruction: kind, byte
// traffic per memory, FLOPs, DMA shape. Keeps the per-instruction simulation path lean.
#pragma once

#include <cstdint>

#include "config/chip_config.h"
#include "isa/program.h"

namespace trnsim::model {

// Bytes an instruction reads/writes in each memory (from its access patterns).
struct MemTraffic {
  int64_t sbuf_read = 0, sbuf_write = 0;
  int64_t psum_read = 0, psum_write = 0;
  int64_t hbm_read = 0, hbm_write = 0;
};
MemTraffic mem_traffic(const isa::Instr& in);

// Shape of a DMA transfer: what the queue's cost model needs.
struct DmaShape {
  int64_t bytes = 0;        // bytes moved: the larger of the bytes read and written
  int64_t descriptors = 0;  // contiguous chunks (per partition row, at most dma.descriptor_bytes)
  // Bytes the DMA engines are charged: every contiguous run counts at least dma.min_run_bytes
  // (the larger of the two sides). Equals `bytes` when every run is long enough.
  int64_t engine_bytes = 0;
  // HBM bytes read / written with the same per-run floor (what the HBM link and its energy see).
  int64_t hbm_read = 0, hbm_write = 0;
  bool touches_hbm = false;
  // Partitions of the on-chip (SBUF/PSUM) side, which choose the DMA engines
  // (dma.partitions_per_engine); part_count 0 = HBM -> HBM (engines dealt round robin).
  int part_start = 0, part_count = 0;
};
DmaShape dma_shape(const isa::Instr& in, const config::ChipConfig& cfg);

// Contiguous chunks of one access pattern: per partition row, the innermost contiguous run,
// split at `max_bytes`.
int64_t ap_descriptors(const isa::AccessPattern& ap, int64_t max_bytes);
// Bytes of one access pattern with every contiguous run (per partition row, innermost
// contiguous elements) charged at least `min_run` bytes. min_run <= 0: the plain byte count.
int64_t ap_charged_bytes(const isa::AccessPattern& ap, int64_t min_run);

// Data: engine-specific latency, memory work at completion. Control: register/branch/sync ops
// (engine.control_cycles). Dma: issued here, carried out by a DMA queue. RegLoad: `ldr`, a read
// of one SBUF/PSUM element into a register (ldr_cycles).
enum class InstrKind : uint8_t { Data, Control, Dma, RegLoad };
InstrKind instr_kind(isa::Opcode op);

// Cycles of `ldr`: one SBUF/PSUM access start (engine.access_start_cycles, ~60 cycles [G1]) plus
// one control cycle for the register write. The real chip's register load
// (NKI register_load) has no documented cost (trainium.md 3.2: n/a), so this is an assumption.
int64_t ldr_cycles(const config::ChipConfig& cfg);

// 2*K*M*N for a matmul, 0 otherwise.
int64_t matmul_flops(const isa::Instr& in);
// Energy class of a matmul's MACs: 0 = fp32, 1 = 16-bit (bf16/fp16), 2 = fp8.
int matmul_mac_class(const isa::Instr& in);

// True when an operand uses a register offset (its bounds are only known at run time).
bool register_addressed(const isa::Instr& in);

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace trnsim::model

namespace trnsim::model {
// N of the documented cost formulas: elements per partition, the largest free size among the
// instruction's access patterns (the streamed input for reductions, bn_stats, act).
int64_t elements_per_partition(const isa::Instr& in);
}  // namespace trnsim::model

namespace trnsim::model {
// True when an SBUF/PSUM access pattern operand's innermost stride (of its innermost dimension
// with more than one element) exceeds `limit_bytes` [G1: half bandwidth]. limit_bytes <= 0:
// never. `only_operand` >= 0 restricts the check to that operand (the PE's moving operand).
bool wide_stride(const isa::Instr& in, int64_t limit_bytes, int only_operand = -1);
// Input operands streamed from SBUF: present, read, on SBUF, more than one element per partition.
int streamed_sbuf_inputs(const isa::Instr& in);
// Bytes per partition of every streamed (more than one element) input operand, summed.
int64_t streamed_input_bytes(const isa::Instr& in);
}  // namespace trnsim::model
