// Sync engine (sp): control flow and DMA triggers only.
#pragma once

#include "models/core/engine.h"

namespace trnsim::model {

class SyncEngine : public EngineBase {
 public:
  SyncEngine(sc_core::sc_module_name name, Core& core);
  // Cycles of a data-path instruction on this engine (sp.clock_ghz).
  static Cycles latency(const isa::Instr& in, const config::ChipConfig& p);
};

}  // namespace trnsim::model
