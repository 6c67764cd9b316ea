// `trnsim run` as a function: the CLI (tools/cmd_run.cpp) and the Python module (python/) both
// call run_program, so both give the same outputs and stats; printing and files are theirs.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tools/npy.h"

namespace trnsim::isa {
struct Program;
}

namespace trnsim::cli {

// One input tensor given as data. `name` is the model's input name (with a system, NAME@C feeds
// chip C only). `label` starts messages about it ("--input x=a.npy", "inputs['x']"); `source`
// names the data in shape/dtype messages (the .npy path). Without `array`, `source` is read as
// an .npy file when the input is needed.
struct RunInput {
  std::string label;
  std::string name;
  std::string source;
  std::optional<NpyArray> array;
};

struct RunRequest {
  std::string program;                     // .tasm, .tbin or .onnx (also names it in messages)
  const isa::Program* compiled = nullptr;  // a program already in memory: `program` is not read
  std::string chip = "trn1";
  std::string system;  // non-empty: run SPMD on every chip of this system
  std::vector<std::string> sets;
  std::vector<RunInput> inputs;
  std::string trace;
  bool timing_only = false;
  uint64_t seed = 0;
  int64_t max_instructions = 1000000000;
  std::vector<std::string> shapes;  // .onnx only, as --shape
  std::string dtype = "bf16";
  int cores = 1;
  int tp = 1;  // .onnx only: tensor parallelism (docs/distributed.md)
  bool check = false;
  // Receives the --check report before the simulation starts (libraries do not print).
  std::function<void(const std::string&)> check_sink;
};

// What one chip of the run produced.
struct RunChipResult {
  std::vector<std::pair<std::string, NpyArray>> outputs;  // by the model's names; none if timing only
  std::vector<std::string> generated_inputs;  // inputs filled from `seed`, by the model's names
  uint64_t seed = 0;
};

struct RunResult {
  double sim_time_ns = 0;
  std::string stats_json;            // the --stats document
  std::string summary;               // the human summary printed at the end
  std::vector<RunChipResult> chips;  // one for a chip run; one per chip of a system
  size_t check_problems = 0;         // --check: problems found (the CLI then exits 3)
};

// Loads or compiles the program, validates it and simulates it once. Throws InputError for bad
// input and SimFault for run-time faults. SystemC runs one simulation per process: a caller that
// runs several forks a process for each.
RunResult run_program(RunRequest& r);

}  // namespace trnsim::cli
