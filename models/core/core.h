// A NeuronCore: five engines, semaphores and barriers, SBUF/PSUM, DMA engines and queues.
#pragma once

#include <systemc>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "config/chip_config.h"
#include "isa/program.h"
#include "models/core/engine.h"
#include "models/dma/dma.h"
#include "models/exec/exec.h"
#include "models/sbuf/sbuf.h"
#include "models/stats/stats.h"

namespace trnsim::model {

class Chip;

class Core : public sc_core::sc_module {
 public:
  Core(sc_core::sc_module_name name, Chip& chip, int index);

  int index() const { return index_; }
  Chip& chip() { return chip_; }
  const config::ChipConfig& cfg() const;
  const isa::Program& prog() const;
  const std::vector<isa::Instr>& stream(isa::Engine e) const;

  // Semaphores: per-core counters, only incremented. Waiting never polls: each semaphore has
  // an sc_event notified on every increment. Returns true if the caller had to block.
  bool sem_wait(uint16_t sem, int64_t target, EngineBase::Block& block);
  void sem_add(uint16_t sem, int64_t amount);
  int64_t sem_value(uint16_t sem) const { return sem_[sem]; }
  int num_semaphores() const { return static_cast<int>(sem_.size()); }
  // Fires the increments of a completed instruction (possibly on other cores).
  void fire_incs(const isa::Instr& in, const InstrRef& ref);

  // Rendezvous of the engines in `mask` (which includes `self`).
  void barrier(isa::EngineMask mask, isa::Engine self, EngineBase::Block& block);

  // Data work of a completed instruction (numerics), or only the run-time bounds check of
  // register-addressed operands (timing-only); then counts its memory traffic.
  void complete(const isa::Instr& in, const InstrRef& ref, const int64_t* regs,
                const MemTraffic& traffic, bool reg_addressed);

  // `ldr`: the value its source holds (numerics), or 0 in a timing-only run (after the same
  // bounds check of a register-addressed source); counts its memory traffic.
  int64_t load_register(const isa::Instr& in, const InstrRef& ref, const int64_t* regs,
                        const MemTraffic& traffic, bool reg_addressed);

  void count_traffic(const MemTraffic& t) { mem_.count(t); }
  void add_flops(int64_t f, int mac_class) {
    flops_ += f;
    flops_by_class_[mac_class] += f;
  }
  int64_t flops() const { return flops_; }
  const std::array<int64_t, 3>& flops_by_class() const { return flops_by_class_; }

  // Collectives (models/system/hub.h): operand k of `in` as fp32 values / written from them
  // (numerics runs); the bounds checks alone (timing-only runs). regs: the issuing engine's.
  std::vector<float> read_operand(const isa::Instr& in, const InstrRef& ref, const int64_t* regs,
                                  int k);
  void write_operand(const isa::Instr& in, const InstrRef& ref, const int64_t* regs, int k,
                     const std::vector<float>& values);
  void check_operands(const isa::Instr& in, const InstrRef& ref, const int64_t* regs);

  void enqueue_dma(int queue, const DmaTransfer& t);
  DmaEngines& dma_engines() { return dma_engines_; }

  const EngineBase& engine(isa::Engine e) const { return *engines_[static_cast<int>(e)]; }
  CoreStats stats() const;

 private:
  struct BarrierState {
    isa::EngineMask arrived = 0;
    uint64_t generation = 0;
    sc_core::sc_event ev;
  };
  Chip& chip_;
  int index_;
  std::vector<int64_t> sem_;
  std::unique_ptr<sc_core::sc_event[]> sem_ev_;
  std::array<BarrierState, 1 << isa::kNumEngines> barriers_;
  std::array<std::unique_ptr<EngineBase>, isa::kNumEngines> engines_;
  DmaEngines dma_engines_;
  std::vector<std::unique_ptr<DmaQueue>> queues_;
  OnChipMemory mem_;
  int64_t flops_ = 0;
  std::array<int64_t, 3> flops_by_class_{};
};

}  // namespace trnsim::model
