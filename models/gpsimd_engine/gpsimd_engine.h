// GpSimd engine (pool): iota, gathers, partition reductions, elementwise ops, DMA triggers.
#pragma once

#include "models/core/engine.h"

namespace trnsim::model {

class GpSimdEngine : public EngineBase {
 public:
  GpSimdEngine(sc_core::sc_module_name name, Core& core);
  // Cycles of a data-path instruction on this engine (pool.clock_ghz).
  static Cycles latency(const isa::Instr& in, const config::ChipConfig& p);
};

}  // namespace trnsim::model
