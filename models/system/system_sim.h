// Runs one program SPMD on every chip of a system in one SystemC simulation: N chips plus the
// collective hub; per-chip stats and outputs, per-link statistics.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/system_config.h"
#include "isa/program.h"
#include "models/sim.h"
#include "models/system/engine.h"
#include "models/system/topology.h"

namespace trnsim::model {

struct SystemSimOptions {
  // timing_only, trace_path, seed, max_instructions_per_engine as for one chip; `inputs` are
  // given to every chip.
  SimOptions common;
  // Per chip: inputs that replace the common ones (by tensor name).
  std::vector<std::map<std::string, std::vector<uint8_t>>> chip_inputs;
};

struct SystemResult {
  std::string system;
  Picos sim_time_ps = 0;
  std::vector<SimResult> chips;   // per chip: its stats (time = the system's), outputs, and
                                  // the inputs generated from its seed
  std::vector<Link> links;        // the system's NeuronLinks and EFA ports
  std::vector<LinkUse> use;
  int64_t collectives = 0;        // collectives completed (counted once per group)
  int64_t sends = 0;              // send/recv pairs completed
};

// The seed chip `chip`'s missing inputs are generated from: seed + chip x 1000003.
uint64_t chip_seed(uint64_t seed, int chip);

// Simulates `prog` on every chip of `sys` (rank = chip x cores + core). Throws InputError for
// bad input (a replica group naming ranks the system lacks, sizes that do not fit gsize 0,
// inputs), SimFault for faults: a chip's fault or deadlock, mismatched collectives across
// ranks, a collective some ranks never reach. Once per process (SystemC).
SystemResult simulate_system(const isa::Program& prog, const config::SystemConfig& sys,
                             const SystemSimOptions& opts);

// The stats document of a system run: system-level link statistics, then every chip's.
std::string system_stats_json(const SystemResult& r);
// The run summary: the per-link lines, then every chip's summary.
std::string system_summary(const SystemResult& r);

}  // namespace trnsim::model
