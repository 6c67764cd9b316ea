// `trnsim run`: simulate a program (.tasm/.tbin) or an ONNX model on a chip; write outputs,
// stats and timeline; print a summary. The run itself is run_program (tools/run.h), which the
// Python module calls too.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/error.h"
#include "support/file_util.h"
#include "tools/cli.h"
#include "tools/npy.h"
#include "tools/run.h"

namespace trnsim::cli {
namespace {

struct RunArgs {
  std::string program;
  std::string chip = "trn1";
  std::string system;
  std::vector<std::string> sets;
  std::vector<std::string> inputs;
  std::string output_dir;
  std::string stats;
  std::string trace;
  bool timing_only = false;
  uint64_t seed = 0;
  int64_t max_instructions = 1000000000;
  std::vector<std::string> shapes;
  std::string dtype = "bf16";
  int cores = 1;
  int tp = 1;
  bool check = false;
};

// "NAME=VALUE" -> (NAME, VALUE); `flag` names the option in errors.
std::pair<std::string, std::string> split_assignment(const std::string& s, const char* flag) {
  auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
    throw InputError(fmt::format("{} {}: expected NAME=VALUE", flag, s));
  return {s.substr(0, eq), s.substr(eq + 1)};
}

// Writes DIR/NAME.npy per output (names made file names: docs/simulator.md, "Outputs").
void write_outputs(const RunChipResult& c, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw InputError(dir + ": cannot create directory: " + ec.message());
  std::vector<std::string> names;
  for (const auto& o : c.outputs) names.push_back(o.first);
  const std::vector<std::string> stems = unique_file_stems(names);
  for (size_t i = 0; i < c.outputs.size(); ++i) {
    std::string path = (std::filesystem::path(dir) / (stems[i] + ".npy")).string();
    write_npy(path, c.outputs[i].second);
    std::printf("output %s: %s\n", names[i].c_str(), path.c_str());
  }
}

void run(const RunArgs& a) {
  RunRequest r;
  r.program = a.program;
  r.chip = a.chip;
  r.system = a.system;
  r.sets = a.sets;
  r.trace = a.trace;
  r.timing_only = a.timing_only;
  r.seed = a.seed;
  r.max_instructions = a.max_instructions;
  r.shapes = a.shapes;
  r.dtype = a.dtype;
  r.cores = a.cores;
  r.tp = a.tp;
  r.check = a.check;
  r.check_sink = [](const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); };
  for (const auto& s : a.inputs) {
    auto [name, path] = split_assignment(s, "--input");
    if (a.system.empty())
      for (const auto& in : r.inputs)
        if (in.name == name) throw InputError(fmt::format("--input {}: given twice", name));
    r.inputs.push_back({"--input " + s, name, path, std::nullopt});
  }

  const RunResult res = run_program(r);

  const bool system = !a.system.empty();
  for (size_t c = 0; c < res.chips.size(); ++c)
    for (const auto& name : res.chips[c].generated_inputs)
      std::printf("%sinput %s: %s\n", system ? fmt::format("chip{} ", c).c_str() : "",
                  name.c_str(),
                  a.timing_only ? "not needed (timing only)"
                                : fmt::format("generated from seed {}", res.chips[c].seed).c_str());
  if (!a.timing_only) {
    if (!a.output_dir.empty()) {
      for (size_t c = 0; c < res.chips.size(); ++c)
        write_outputs(res.chips[c], system ? (std::filesystem::path(a.output_dir) /
                                              fmt::format("chip{}", c)).string()
                                           : a.output_dir);
    } else if (!res.chips.empty() && !res.chips[0].outputs.empty()) {
      std::printf("outputs not written (use --output-dir DIR)\n");
    }
  }
  if (!a.stats.empty()) write_file_atomic(a.stats, res.stats_json);
  if (!a.trace.empty()) std::printf("timeline: %s (open in https://ui.perfetto.dev)\n", a.trace.c_str());
  std::fwrite(res.summary.data(), 1, res.summary.size(), stdout);
  if (res.check_problems > 0)
    throw SimFault(fmt::format("check: {} problem(s) found (see above)", res.check_problems));
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "simulate a program (.tasm/.tbin) or an ONNX model");
  cmd->add_option("program", a->program, "program (.tasm, .tbin) or model (.onnx)")->required();
  cmd->add_option("--chip", a->chip, "preset name or chip YAML file (default trn1)");
  cmd->add_option("--system", a->system,
                  "run the program SPMD on every chip of this system (preset or YAML; "
                  "docs/multichip.md): one simulation, outputs in DIR/chipC/, link stats");
  cmd->add_option("--set", a->sets,
                  "override a chip (or, with --system, system) parameter: KEY=VALUE (repeatable)");
  cmd->add_option("--input", a->inputs,
                  "input tensor from a .npy file: NAME=FILE.npy (repeatable; NAME as in the model; "
                  "the file's shape pins the input, no --shape needed; missing inputs are "
                  "generated from --seed; with --system NAME@C=FILE.npy feeds chip C only, "
                  "and chip C's missing inputs come from seed + C x 1000003)");
  cmd->add_option("--output-dir", a->output_dir,
                  "write each output tensor as DIR/NAME.npy (characters outside [A-Za-z0-9_.-] "
                  "become _; a name taken by an earlier output gets .2, .3, ...)");
  cmd->add_option("--stats", a->stats, "write the stats JSON document here");
  cmd->add_option("--trace", a->trace, "write a Chrome/Perfetto timeline (JSON) here");
  cmd->add_flag("--timing-only", a->timing_only, "skip all data work (same simulated time)");
  cmd->add_option("--seed", a->seed, "seed for generated inputs (default 0)");
  cmd->add_option("--max-instructions", a->max_instructions,
                  "fault when one engine retires more instructions than this (default 1e9)");
  cmd->add_option("--shape", a->shapes,
                  ".onnx only: pin an input shape, NAME=1x3x224x224 (NAME= for a scalar)");
  cmd->add_option("--dtype", a->dtype, ".onnx only: Tensor Engine compute dtype (bf16|fp32)");
  cmd->add_option("--cores", a->cores,
                  ".onnx only: split the batch over this many NeuronCores (data parallel)");
  cmd->add_option("--tp", a->tp,
                  ".onnx only: tensor parallelism over this many NeuronCores (needs --system; "
                  "docs/distributed.md)");
  cmd->add_flag("--check", a->check,
                "check for races, uninitialised reads and deadlocks first, on every path (docs/checks.md); exit 3 if any");
  cmd->callback([a] { run(*a); });
}

}  // namespace trnsim::cli
