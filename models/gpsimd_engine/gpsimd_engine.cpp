// GpSimd engine timing [ISA226].
#include "models/gpsimd_engine/gpsimd_engine.h"

#include "models/core/core.h"

#include <algorithm>

namespace trnsim::model {

GpSimdEngine::GpSimdEngine(sc_core::sc_module_name name, Core& core)
    : EngineBase(name, core, isa::Engine::Pool, core.cfg().pool_clock_ghz,
                 &GpSimdEngine::latency) {}

Cycles GpSimdEngine::latency(const isa::Instr& in, const config::ChipConfig& p) {
  // An innermost stride > engine.wide_stride_bytes halves the read/write bandwidth [G1].
  const int64_t wf = wide_stride(in, p.wide_stride_bytes) ? 2 : 1;
  const int64_t n = elements_per_partition(in) * wf;
  if (in.op == isa::Opcode::Gather) {
    // [ISA226 local_gather]: 150 + n_idx*e/C, C = ((28+4e)/(4e)) / min(4/dtype_size, e);
    // one element per index (e = 1) gives C = 8 for every dtype.
    return Cycles(p.pool_start_cycles + ceil_div(n, 8));
  }
  // [ISA226 iota, affine_select]: GPSIMD_START (~150) + N. A core reads at most 32 bit per
  // partition per cycle [G1] (pool.read_bytes_per_cycle), so streamed inputs of more bytes per
  // element than that take longer: start + max(N, N x input bytes per element / 4), e.g.
  // 2N for two fp32 inputs, N for two bf16 inputs.
  int64_t c = n;
  if (p.pool_read_bytes_per_cycle > 0)
    c = std::max(c, ceil_div(streamed_input_bytes(in) * wf, p.pool_read_bytes_per_cycle));
  return Cycles(p.pool_start_cycles + c);
}

}  // namespace trnsim::model
