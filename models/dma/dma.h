// DMA: each core's DMA engines (shared by its queues) and its queues (FIFO, one SC_THREAD each).
#pragma once

#include <systemc>

#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "config/chip_config.h"
#include "isa/program.h"
#include "models/clock/clock.h"
#include "models/core/instr_info.h"
#include "models/stats/stats.h"

namespace trnsim::model {

class Core;

// The dma.engines DMA engines of one core. With dma.partitions_per_engine = G > 0, partition p
// of a transfer's on-chip side is served by engine (p / G) mod dma.engines [DMAO: each engine
// moves the data of eight SBUF partitions], its share of bytes and descriptors pro rata;
// HBM -> HBM transfers (and G = 0) deal their descriptors round robin over all engines,
// continuing where the previous such transfer stopped. How transfers share an engine is
// dma.scheduling: `fair` (processor sharing in FluidServer, the fluid limit of round robin over
// queues) or `fcfs` (each share back to back after the engine's earlier work).
class DmaEngines {
 public:
  explicit DmaEngines(const config::ChipConfig& cfg);
  // Engine time each engine needs for this transfer: {engine, ps}. Engine time per share =
  // share of dma_shape's engine_bytes / dma.engine_gbps + share descriptors * dma.descriptor_ns.
  std::vector<std::pair<int, Picos>> shares(const DmaShape& s);
  // fcfs: reserves the engines for a transfer whose data starts moving at `start`; returns
  // when the last engine finishes its share.
  Picos reserve(Picos start, const DmaShape& s);
  // Time of a transfer on idle engines and idle HBM, from queue start to completion:
  // fixed cost + max over engines of the share time, at least the HBM/interconnect time, plus
  // hbm.latency_ns if it touches HBM.
  static Picos isolated_ps(const DmaShape& s, const config::ChipConfig& cfg,
                           isa::Engine trigger = isa::Engine::Sp);
  // The fixed cost of a transfer triggered from `trigger` (dma.hwdge_fixed_ns from sp/act when
  // it is set, else dma.fixed_ns).
  static Picos fixed_ps(const config::ChipConfig& cfg, isa::Engine trigger);

 private:
  double gbps_;
  double descriptor_ns_;
  int64_t per_engine_;
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
  void run_collective(const DmaTransfer& t);
  Core& core_;
  int queue_;
  std::deque<DmaTransfer> fifo_;
  sc_core::sc_event ev_;
  sc_core::sc_event done_;  // the FluidServer's completion of the current transfer
  QueueStats stats_;
};

}  // namespace trnsim::model
