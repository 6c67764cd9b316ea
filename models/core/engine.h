// The in-order instruction stream of one engine of one core: the SC_THREAD every engine shares.
#pragma once

#include <systemc>

#include <cstdint>
#include <vector>

#include "config/chip_config.h"
#include "isa/program.h"
#include "models/clock/clock.h"
#include "models/core/instr_info.h"
#include "models/stats/stats.h"

namespace trnsim::model {

class Core;

// Latency of a data-path instruction in the engine's own cycles (pure, unit-tested per engine).
using LatencyFn = Cycles (*)(const isa::Instr&, const config::ChipConfig&);

// Runs one stream: next instr -> semaphore waits (sc_event per semaphore) -> barrier ->
// wait(latency in this engine's clock) -> data work at completion -> semaphore increments.
// Control ops cost engine.control_cycles; dma/dma_gather cost engine.dma_issue_cycles here and
// are then carried out by the core's DMA queue. Engines override occupy() to model state that
// carries from one instruction to the next (the Tensor Engine's stationary load).
class EngineBase : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(EngineBase);
  EngineBase(sc_core::sc_module_name name, Core& core, isa::Engine engine, double clock_ghz,
             LatencyFn latency);

  // Why the engine is not running, for the deadlock report.
  struct Block {
    enum class Kind : uint8_t { None, Semaphore, Barrier } kind = Kind::None;
    uint16_t sem = 0;
    int64_t target = 0;
    isa::EngineMask mask = 0;
  };
  isa::Engine engine() const { return engine_; }
  bool done() const { return done_; }
  size_t pc() const { return pc_; }
  const Block& block() const { return block_; }
  const EngineStats& stats() const { return stats_; }
  // reached()[i] != 0 once instruction i of the stream started (waits included).
  const std::vector<uint8_t>& reached() const { return reached_; }
  const ClockDomain& clock() const { return clock_; }

 protected:
  // Time the instruction at `pc` occupies this engine when it starts at `now` (after its waits).
  virtual Picos occupy(const isa::Instr& in, size_t pc, Picos now);
  // Precomputed latency of instruction `pc` in picoseconds.
  Picos latency_ps(size_t pc) const { return pre_[pc].dur_ps; }
  const int64_t* regs() const { return regs_; }
  // When this engine last resumed after blocking on a semaphore or barrier.
  Picos last_sync_ps_ = 0;
  Core& core_;

 private:
  void run();
  void run_stream();
  bool wait_semaphores(const isa::Instr& in);
  // Control semantics; returns the next pc.
  size_t control(const isa::Instr& in, size_t pc);

  struct Pre {
    Picos dur_ps = 0;
    InstrKind kind = InstrKind::Data;
    bool reg_addressed = false;
    int64_t flops = 0;
    int mac_class = 0;  // matmul_mac_class, for the energy model
    MemTraffic traffic;
    DmaShape dma;
  };
  isa::Engine engine_;
  ClockDomain clock_;
  const std::vector<isa::Instr>* stream_;
  std::vector<Pre> pre_;
  std::vector<uint8_t> reached_;
  int64_t regs_[isa::kNumRegisters] = {};
  EngineStats stats_;
  Block block_;
  size_t pc_ = 0;
  bool done_ = false;
};

}  // namespace trnsim::model
