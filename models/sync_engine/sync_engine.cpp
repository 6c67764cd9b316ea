// Sync engine: only control instructions and DMA triggers (costed by EngineBase).
#include "models/sync_engine/sync_engine.h"

#include "models/core/core.h"

namespace trnsim::model {

SyncEngine::SyncEngine(sc_core::sc_module_name name, Core& core)
    : EngineBase(name, core, isa::Engine::Sp, core.cfg().sp_clock_ghz, &SyncEngine::latency) {}

// sp has no data path; validation rejects data instructions on it. A nop-like zero if one
// slips through.
Cycles SyncEngine::latency(const isa::Instr&, const config::ChipConfig&) { return Cycles(0); }

}  // namespace trnsim::model
