// Vector engine (dve): elementwise, reductions, batch-norm statistics, copies.
#pragma once

#include "models/core/engine.h"

namespace trnsim::model {

class VectorEngine : public EngineBase {
 public:
  VectorEngine(sc_core::sc_module_name name, Core& core);
  // Cycles of a data-path instruction on this engine (dve.clock_ghz).
  static Cycles latency(const isa::Instr& in, const config::ChipConfig& p);
};

}  // namespace trnsim::model
