// The simulator's entry point: run a program on a chip, get time, stats and output tensors.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/chip_config.h"
#include "isa/program.h"
#include "models/stats/stats.h"

namespace trnsim::model {

struct SimOptions {
  // Skip all data work (no memories are allocated); the simulated time is identical, except
  // for programs that branch on data: `ldr` then loads 0.
  bool timing_only = false;
  // Write a Chrome Trace Event timeline here ("" = no tracing, which costs nothing).
  std::string trace_path;
  // Raw bytes of input tensors by name (little-endian, row-major, exactly num_bytes() long).
  std::map<std::string, std::vector<uint8_t>> inputs;
  // Inputs not given are filled from this seed: uniform [-1, 1) for floats, small ints for ints.
  uint64_t seed = 0;
  // Guard against infinite loops: a fault once one engine has retired this many instructions.
  int64_t max_instructions_per_engine = 1000000000;
};

struct OutputTensor {
  std::string name;
  isa::DType dtype = isa::DType::Fp32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

struct SimResult {
  double sim_time_ns = 0;
  SimStats stats;
  std::vector<OutputTensor> outputs;          // program order; empty in timing-only runs
  std::vector<std::string> generated_inputs;  // inputs filled from the seed
};

// Simulates `prog` on `cfg`. Throws InputError for bad inputs (an input of the wrong size, an
// unknown input name) and SimFault for run-time faults: deadlock (with a report of every
// blocked engine), out-of-bounds access, instruction budget exceeded. The program should have
// passed isa::validate() for cfg.target().
//
// SystemC allows one elaboration and simulation per process: simulate() may be called ONCE
// per process (a second call throws std::logic_error). Tests run each case as its own process.
SimResult simulate(const isa::Program& prog, const config::ChipConfig& cfg,
                   const SimOptions& opts);

struct HbmStore;
// What simulate() does before and after the run, for a system that runs a program on every
// chip (models/system/system_sim.h). load_hbm: checks `opts.inputs` (InputError) and fills
// `hbm` (nothing in timing-only runs: no data); appends the inputs filled from the seed.
void load_hbm(const isa::Program& prog, const SimOptions& opts, HbmStore& hbm,
              std::vector<std::string>& generated);
// The output tensors, moved out of `hbm`, in program order.
std::vector<OutputTensor> take_outputs(const isa::Program& prog, HbmStore& hbm);

// Deterministic fill of an input tensor from a seed (what simulate() uses for missing inputs).
std::vector<uint8_t> generate_input(const isa::TensorDecl& t, uint64_t seed, size_t index);

}  // namespace trnsim::model
