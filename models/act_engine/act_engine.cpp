// Scalar engine timing [ISA226, G1].
#include "models/act_engine/act_engine.h"

#include <algorithm>

#include "models/core/core.h"

namespace trnsim::model {

ActEngine::ActEngine(sc_core::sc_module_name name, Core& core)
    : EngineBase(name, core, isa::Engine::Act, core.cfg().act_clock_ghz, &ActEngine::latency) {}

Cycles ActEngine::latency(const isa::Instr& in, const config::ChipConfig& p) {
  // An innermost stride > engine.wide_stride_bytes halves the read/write bandwidth [G1].
  const int64_t n = elements_per_partition(in) * (wide_stride(in, p.wide_stride_bytes) ? 2 : 1);
  // activation / tensor_scalar / tensor_copy: max(MIN_II, N) [ISA226], plus the SBUF/PSUM
  // access-start overhead (~60 cycles [G1]) = engine.access_start_cycles.
  int64_t c = std::max(p.min_ii, n) + p.access_start_cycles;
  // activation_reduce: the row sum is read out by ActReadAccumulator (~64 cycles) [G1, ISA226].
  if (in.op == isa::Opcode::Act && in.ops[5].ap.present()) c += p.act_table_cycles;
  return Cycles(c);
}

}  // namespace trnsim::model
