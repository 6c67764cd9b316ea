// `trnsim run`: simulate a program (.tasm/.tbin) or an ONNX model on a chip; write outputs,
// stats and timeline; print a summary.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "compiler/compile.h"
#include "config/chip_config.h"
#include "isa/asm.h"
#include "isa/program_io.h"
#include "isa/validate.h"
#include "models/check/check.h"
#include "models/sim.h"
#include "models/stats/stats.h"
#include "models/system/system_sim.h"
#include "support/error.h"
#include "support/file_util.h"
#include "tools/cli.h"
#include "tools/model_options.h"
#include "tools/npy.h"

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
  bool check = false;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// "NAME=VALUE" -> (NAME, VALUE); `flag` names the option in errors.
std::pair<std::string, std::string> split_assignment(const std::string& s, const char* flag) {
  auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
    throw InputError(fmt::format("{} {}: expected NAME=VALUE", flag, s));
  return {s.substr(0, eq), s.substr(eq + 1)};
}

// An --input NAME=FILE.npy, read once: its shape pins the model's input, its bytes feed it.
struct InputFile {
  std::string arg;  // as given, for messages
  std::string name;
  std::string path;
  NpyArray array;
};

isa::Program load(const RunArgs& a, const config::ChipConfig& chip,
                  const std::vector<InputFile>& inputs) {
  if (ends_with(a.program, ".onnx")) {
    compiler::CompileOptions co = model_options(a.shapes, a.dtype, a.cores);
    for (const auto& in : inputs) co.data_shapes[in.name] = {in.array.shape, in.path};
    co.timing_only = a.timing_only;  // timing never depends on values: weights are not read
    return compiler::compile_onnx(a.program, chip, co);
  }
  if (!a.shapes.empty())
    throw InputError("--shape applies only to .onnx models, not " + a.program);
  if (a.cores != 1)
    throw InputError("--cores applies only to .onnx models, not " + a.program);
  return isa::load_program(a.program, /*const_data=*/!a.timing_only);
}

// The input tensor `name` designates: by the name users know it by (a model's own name), by
// the program's name, else by the identifier form of `name` (programs from before external
// names).
std::optional<int> find_input(const isa::Program& prog, const std::string& name) {
  auto is_input = [&](size_t i) { return prog.tensors[i].role == isa::TensorRole::Input; };
  for (size_t i = 0; i < prog.tensors.size(); ++i)
    if (is_input(i) && prog.tensors[i].display_name() == name) return static_cast<int>(i);
  for (size_t i = 0; i < prog.tensors.size(); ++i)
    if (is_input(i) && prog.tensors[i].name == name) return static_cast<int>(i);
  const std::string id = isa::to_identifier(name);
  for (size_t i = 0; i < prog.tensors.size(); ++i)
    if (is_input(i) && prog.tensors[i].external_name.empty() && prog.tensors[i].name == id)
      return static_cast<int>(i);
  return std::nullopt;
}

// The bytes of input `t` from an .npy array; dtype and shape must match. bf16/fp8 tensors
// accept float32 files (NumPy has no such dtypes) and are rounded to the tensor's dtype.
std::vector<uint8_t> input_bytes(const isa::TensorDecl& t, const std::string& path,
                                 NpyArray arr) {
  bool narrow_float = t.dtype == isa::DType::Bf16 || t.dtype == isa::DType::Fp8e4m3 ||
                      t.dtype == isa::DType::Fp8e5m2;
  bool dtype_ok = arr.dtype == t.dtype || (narrow_float && arr.dtype == isa::DType::Fp32);
  if (!dtype_ok || arr.shape != t.shape)
    throw InputError(fmt::format("{}: {} {} does not match input '{}' {} {}", path,
                                 isa::dtype_name(arr.dtype), shape_text(arr.shape),
                                 t.display_name(), isa::dtype_name(t.dtype), shape_text(t.shape)));
  if (arr.dtype == t.dtype) return std::move(arr.data);
  std::vector<uint8_t> out(static_cast<size_t>(t.num_bytes()));
  const int es = isa::dtype_size(t.dtype);
  for (int64_t i = 0; i < t.num_elements(); ++i)
    isa::store_from_float(t.dtype, isa::load_as_float(isa::DType::Fp32, arr.data.data() + 4 * i),
                          out.data() + es * i);
  return out;
}

void write_outputs(const isa::Program& prog, const model::SimResult& r, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw InputError(dir + ": cannot create directory: " + ec.message());
  // Files are named after the model's output names (docs/simulator.md, "Outputs").
  std::vector<std::string> names;
  for (const auto& o : r.outputs) {
    auto idx = prog.find_tensor(o.name);
    names.push_back(idx ? prog.tensors[*idx].display_name() : o.name);
  }
  const std::vector<std::string> stems = unique_file_stems(names);
  for (size_t i = 0; i < r.outputs.size(); ++i) {
    const auto& o = r.outputs[i];
    std::string path = (std::filesystem::path(dir) / (stems[i] + ".npy")).string();
    write_npy(path, NpyArray{o.dtype, o.shape, o.bytes});
    std::printf("output %s: %s\n", names[i].c_str(), path.c_str());
  }
}

// The first collective instruction of `prog`, described ("" if none).
std::string first_collective(const isa::Program& prog) {
  for (size_t c = 0; c < prog.cores.size(); ++c)
    for (int e = 0; e < isa::kNumEngines; ++e) {
      const auto& s = prog.cores[c].streams[e];
      for (size_t i = 0; i < s.size(); ++i)
        if (isa::opcode_is_collective(s[i].op))
          return fmt::format("core{} {} #{} ({})", c, isa::engine_name(static_cast<isa::Engine>(e)),
                             i, s[i].info().mnemonic);
    }
  return "";
}

// --check: static race / uninitialised-read analysis (models/check), reported before the run;
// returns the number of problems (the run exits 3 after its outputs and stats are written).
size_t run_check(const RunArgs& a, const isa::Program& prog, const config::ChipConfig& chip) {
  model::CheckOptions co;
  co.max_instructions_per_engine = a.max_instructions;
  model::CheckReport cr = model::check_program(prog, chip.target(), co);
  std::string text = cr.text();
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::string paths;
  if (cr.paths > 1 || cr.paths_truncated)
    paths = fmt::format(" on {} path(s) through branches on ldr values{}", cr.paths,
                        cr.paths_truncated ? " (more not analysed)" : "");
  std::printf("check: %zu race(s), %zu uninitialised read(s)%s%s\n", cr.races.size(),
              cr.uninit.size(), cr.deadlock ? ", a deadlock" : "", paths.c_str());
  // A deadlock on a path the simulation does not take would otherwise go unnoticed.
  return cr.races.size() + cr.uninit.size() + cr.dropped + (cr.deadlock ? 1 : 0);
}

// `run --system S`: the same program on every chip (SPMD: one program, the data and the
// replica groups differ by rank), in one simulation with the collective hub.
void run_system(const RunArgs& a) {
  if (ends_with(a.program, ".onnx"))
    throw InputError("--system runs programs (.tasm, .tbin), not .onnx models: " + a.program);
  if (a.chip != "trn1")
    throw InputError("--chip and --system: the system names its chip (use --set KEY=VALUE for chip keys)");
  config::SystemConfig sys = config::load_system(a.system, a.sets);
  const config::ChipConfig& chip = sys.chip_config;
  const int chips = static_cast<int>(sys.total_chips());
  isa::Program prog = load(a, chip, {});
  isa::validate(prog, chip.target());

  model::SystemSimOptions opts;
  opts.common.timing_only = a.timing_only;
  opts.common.trace_path = a.trace;
  opts.common.seed = a.seed;
  opts.common.max_instructions_per_engine = a.max_instructions;
  opts.chip_inputs.resize(static_cast<size_t>(chips));
  std::set<std::pair<int, std::string>> given;  // (chip or -1, tensor)
  for (const auto& s : a.inputs) {
    auto [spec, path] = split_assignment(s, "--input");
    std::string name = spec;
    int target = -1;
    const auto at = spec.rfind('@');
    if (at != std::string::npos) {
      name = spec.substr(0, at);
      const std::string c = spec.substr(at + 1);
      char* end = nullptr;
      const long v = c.empty() ? -1 : std::strtol(c.c_str(), &end, 10);
      if (c.empty() || *end != '\0' || v < 0 || v >= chips)
        throw InputError(fmt::format("--input {}: chip '{}' is not one of 0..{} of system {}", s, c,
                                     chips - 1, sys.name));
      target = static_cast<int>(v);
    }
    auto idx = find_input(prog, name);
    if (!idx)
      throw InputError(fmt::format("--input {}: the program has no input '{}'", s, name));
    const isa::TensorDecl& t = prog.tensors[*idx];
    if (!given.insert({target, t.name}).second)
      throw InputError(fmt::format("--input {}: input '{}' is given twice", s, t.display_name()));
    std::vector<uint8_t> bytes = input_bytes(t, path, read_npy(path));
    if (target < 0) opts.common.inputs[t.name] = std::move(bytes);
    else opts.chip_inputs[static_cast<size_t>(target)][t.name] = std::move(bytes);
  }
  const size_t check_problems = a.check ? run_check(a, prog, chip) : 0;

  model::SystemResult r = model::simulate_system(prog, sys, opts);

  for (int c = 0; c < chips; ++c)
    for (const auto& name : r.chips[static_cast<size_t>(c)].generated_inputs) {
      auto idx = prog.find_tensor(name);
      std::printf("chip%d input %s: %s\n", c,
                  idx ? prog.tensors[*idx].display_name().c_str() : name.c_str(),
                  a.timing_only ? "not needed (timing only)"
                                : fmt::format("generated from seed {}",
                                              model::chip_seed(a.seed, c)).c_str());
    }
  if (!a.timing_only) {
    if (!a.output_dir.empty()) {
      for (int c = 0; c < chips; ++c)
        write_outputs(prog, r.chips[static_cast<size_t>(c)],
                      (std::filesystem::path(a.output_dir) / fmt::format("chip{}", c)).string());
    } else if (!r.chips.empty() && !r.chips[0].outputs.empty()) {
      std::printf("outputs not written (use --output-dir DIR)\n");
    }
  }
  if (!a.stats.empty()) write_file_atomic(a.stats, model::system_stats_json(r));
  if (!a.trace.empty()) std::printf("timeline: %s (open in https://ui.perfetto.dev)\n", a.trace.c_str());
  std::string summary = model::system_summary(r);
  std::fwrite(summary.data(), 1, summary.size(), stdout);
  if (check_problems > 0)
    throw SimFault(fmt::format("check: {} problem(s) found (see above)", check_problems));
}

void run(const RunArgs& a) {
  // SystemC prints a banner on first use unless told not to (the user may still enable it).
  setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 0);
  if (!a.system.empty()) return run_system(a);
  config::ChipConfig chip = config::load_chip(a.chip, a.sets);
  std::vector<InputFile> inputs;
  for (const auto& s : a.inputs) {
    auto [name, path] = split_assignment(s, "--input");
    for (const auto& in : inputs)
      if (in.name == name) throw InputError(fmt::format("--input {}: given twice", name));
    inputs.push_back({s, name, path, read_npy(path)});
  }
  isa::Program prog = load(a, chip, inputs);
  isa::validate(prog, chip.target());
  const std::string cc = first_collective(prog);
  if (!cc.empty())
    throw InputError(fmt::format("{}: {} is a collective: run the program on a system of chips "
                                 "with --system S (e.g. --system tiny4)",
                                 a.program, cc));

  model::SimOptions opts;
  opts.timing_only = a.timing_only;
  opts.trace_path = a.trace;
  opts.seed = a.seed;
  opts.max_instructions_per_engine = a.max_instructions;
  for (auto& in : inputs) {
    auto idx = find_input(prog, in.name);
    if (!idx) {
      std::string names;
      for (const auto& t : prog.tensors)
        if (t.role == isa::TensorRole::Input)
          names += (names.empty() ? "" : ", ") + t.display_name();
      throw InputError(fmt::format("--input {}: the program has no input '{}' (inputs: {})",
                                   in.arg, in.name, names.empty() ? "none" : names));
    }
    const isa::TensorDecl& t = prog.tensors[*idx];
    if (opts.inputs.count(t.name))
      throw InputError(fmt::format("--input {}: input '{}' is given twice", in.arg,
                                   t.display_name()));
    opts.inputs[t.name] = input_bytes(t, in.path, std::move(in.array));
  }

  // --check: static race / uninitialised-read analysis (models/check), reported before the run;
  // problems make the run exit 3 after its outputs and stats are written.
  const size_t check_problems = a.check ? run_check(a, prog, chip) : 0;

  model::SimResult r = model::simulate(prog, chip, opts);

  for (const auto& name : r.generated_inputs) {
    auto idx = prog.find_tensor(name);
    std::printf("input %s: %s\n", idx ? prog.tensors[*idx].display_name().c_str() : name.c_str(),
                a.timing_only ? "not needed (timing only)"
                              : fmt::format("generated from seed {}", a.seed).c_str());
  }
  if (!a.timing_only) {
    if (!a.output_dir.empty()) write_outputs(prog, r, a.output_dir);
    else if (!r.outputs.empty()) std::printf("outputs not written (use --output-dir DIR)\n");
  }
  if (!a.stats.empty()) write_file_atomic(a.stats, model::stats_json(r.stats));
  if (!a.trace.empty()) std::printf("timeline: %s (open in https://ui.perfetto.dev)\n", a.trace.c_str());
  std::string summary = model::stats_summary(r.stats);
  std::fwrite(summary.data(), 1, summary.size(), stdout);
  if (check_problems > 0)
    throw SimFault(fmt::format("check: {} problem(s) found (see above)", check_problems));
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
  cmd->add_flag("--check", a->check,
                "check for races, uninitialised reads and deadlocks first, on every path (docs/checks.md); exit 3 if any");
  cmd->callback([a] { run(*a); });
}

}  // namespace trnsim::cli
