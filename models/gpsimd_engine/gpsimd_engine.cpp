// GpSimd engine timing [ISA226].
#include "models/gpsimd_engine/gpsimd_engine.h"

#include "models/core/core.h"

namespace trnsim::model {

GpSimdEngine::GpSimdEngine(sc_core::sc_module_name name, Core& core)
    : EngineBase(name, core, isa::Engine::Pool, core.cfg().pool_clock_ghz,
                 &GpSimdEngine::latency) {}

Cycles GpSimdEngine::latency(const isa::Instr& in, const config::ChipConfig& p) {
  const int64_t n = elements_per_partition(in);
  if (in.op == isa::Opcode::Gather) {
    // [ISA226 local_gather]: 150 + n_idx*e/C, C = ((28+4e)/(4e)) / min(4/dtype_size, e);
    // one element per index (e = 1) gives C = 8 for every dtype.
    return Cycles(p.pool_start_cycles + ceil_div(n, 8));
  }
  // [ISA226 iota, affine_select]: GPSIMD_START (~150) + N; used for every GpSimd data op.
  return Cycles(p.pool_start_cycles + n);
}

}  // namespace trnsim::model
