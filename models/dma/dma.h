// DMA: each core's DMA engines (shared by its queues) and its queues (FIFO, one SC_THREAD each).
#pragma once

#include <systemc>

#include <cstdint>
#include <deque>
#include <vector>

#include "config/chip_config.h"
#include "isa/program.h"
#include "models/clock/clock.h"
#include "models/core/instr_info.h"
#include "models/stats/stats.h"

namespace trnsim::model {

class Core;

// The dma.engines DMA engines of one core. A transfer's descriptors are dealt round robin over
// all engines (continuing where the previous transfer of any queue stopped); each engine works
// through its share back to back, after whatever it already had: so transfers of several active
// queues interleave on the engines and share their bandwidth.
class DmaEngines {
 public:
  explicit DmaEngines(const config::ChipConfig& cfg);
  // Reserves the engines for a transfer whose data starts moving at `start`; returns when the
  // last engine finishes its share.
  Picos reserve(Picos start, const DmaShape& s);
  // Time of a transfer on idle engines and idle HBM, from queue start to completion:
  // dma.fixed_ns + max over engines (share bytes / dma.engine_gbps + share descriptors *
  // dma.descriptor_ns), at least the HBM/interconnect time, plus hbm.latency_ns if it touches HBM.
  static Picos isolated_ps(const DmaShape& s, const config::ChipConfig& cfg);

 private:
  double gbps_;
  double descriptor_ns_;
  std::vector<Picos> free_at_;
  size_t next_ = 0;
};

// One transfer waiting on a queue: the instruction and the issuing engine's registers.
struct DmaTransfer {
  const isa::Instr* in = nullptr;
  isa::Engine engine = isa::Engine::Sp;
  uint32_t index = 0;
  DmaShape shape;
  MemTraffic traffic;
  bool reg_addressed = false;
  int64_t regs[isa::kNumRegisters];
};

// A DMA queue: runs its transfers in FIFO order; at completion the data moves and the DMA
// instruction's semaphore increments fire.
class DmaQueue : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(DmaQueue);
  DmaQueue(sc_core::sc_module_name name, Core& core, int queue);
  void push(const DmaTransfer& t);
  const QueueStats& stats() const { return stats_; }
  size_t pending() const { return fifo_.size(); }

 private:
  void run();
  Core& core_;
  int queue_;
  std::deque<DmaTransfer> fifo_;
  sc_core::sc_event ev_;
  QueueStats stats_;
};

}  // namespace trnsim::model
