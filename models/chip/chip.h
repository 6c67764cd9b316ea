// The chip: N cores sharing HBM through the interconnect; owns the run's global state.
#pragma once

#include <systemc>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/chip_config.h"
#include "isa/program.h"
#include "models/core/core.h"
#include "models/dma/fluid.h"
#include "models/exec/exec.h"
#include "models/hbm/hbm.h"
#include "models/trace/trace.h"

namespace trnsim::model {

class CollectiveHub;

struct ChipRunOptions {
  bool numerics = true;
  int64_t max_instructions_per_engine = 1000000000;
};

class Chip : public sc_core::sc_module {
 public:
  Chip(sc_core::sc_module_name name, const isa::Program& prog, const config::ChipConfig& cfg,
       const ChipRunOptions& opts, Tracer& tracer, HbmStore& hbm_store, int index = 0,
       CollectiveHub* hub = nullptr);

  // Position in the system (0 on its own) and the system's collective hub (null on its own:
  // a collective instruction then faults).
  int index() const { return index_; }
  CollectiveHub* hub() { return hub_; }

  const isa::Program& prog() const { return prog_; }
  const config::ChipConfig& cfg() const { return cfg_; }
  const ChipRunOptions& opts() const { return opts_; }
  bool numerics() const { return opts_.numerics; }
  Tracer& tracer() { return tracer_; }
  NodeProfile& profile() { return profile_; }
  Hbm& hbm() { return hbm_; }
  // The processor-sharing servers: every core's DMA engines, then the HBM and interconnect.
  FluidServer& fluid() { return fluid_; }
  int engine_resource(int core, int engine) const {
    return core * static_cast<int>(cfg_.dma_engines) + engine;
  }
  // hbm.sharing = fair: the jobs `bytes` of HBM traffic put on the HBM and interconnect links.
  std::vector<std::pair<int, Picos>> hbm_jobs(int64_t bytes) const {
    const int links = static_cast<int>(cfg_.cores * cfg_.dma_engines);
    return {{links, hbm_.hbm_ps(bytes)}, {links + 1, hbm_.noc_ps(bytes)}};
  }
  HbmStore& hbm_store() { return hbm_store_; }
  int num_cores() const { return static_cast<int>(cores_.size()); }
  Core& core(int c) { return *cores_[c]; }
  const Core& core(int c) const { return *cores_[c]; }

  // A process hit a fault: remember the first and stop the simulation.
  void fault(const std::string& msg);

  // Runs until every stream has finished or nothing can move. Throws SimFault on a fault or a
  // deadlock (every blocked engine with its semaphore and who would increment it).
  void run();
  // After sc_start() returned (run() above, or a system running every chip in one
  // simulation): throws SimFault on a fault or a deadlock of this chip.
  void check_finished() const;
  bool faulted() const { return faulted_; }
  SimStats stats() const;

 private:
  std::string deadlock_report() const;
  const isa::Program& prog_;
  const config::ChipConfig& cfg_;
  ChipRunOptions opts_;
  Tracer& tracer_;
  NodeProfile profile_;
  HbmStore& hbm_store_;
  Hbm hbm_;
  FluidServer fluid_;
  std::vector<std::unique_ptr<Core>> cores_;
  std::string fault_;
  bool faulted_ = false;
  int index_ = 0;
  CollectiveHub* hub_ = nullptr;
};

}  // namespace trnsim::model
