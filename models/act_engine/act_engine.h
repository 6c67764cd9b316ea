// Scalar (activation) engine (act): activation functions, tensor-scalar ops, copies, DMA triggers.
#pragma once

#include "models/core/engine.h"

namespace trnsim::model {

class ActEngine : public EngineBase {
 public:
  ActEngine(sc_core::sc_module_name name, Core& core);
  // Cycles of a data-path instruction on this engine (act.clock_ghz).
  static Cycles latency(const isa::Instr& in, const config::ChipConfig& p);
};

}  // namespace trnsim::model
