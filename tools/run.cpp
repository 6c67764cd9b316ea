// run_program: what `trnsim run` does between parsing its options and printing its results.
#include "tools/run.h"

#include <fmt/format.h>

#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "compiler/compile.h"
#include "config/chip_config.h"
#include "config/system_config.h"
#include "isa/asm.h"
#include "isa/program_io.h"
#include "isa/validate.h"
#include "models/check/check.h"
#include "models/sim.h"
#include "models/stats/stats.h"
#include "models/system/system_sim.h"
#include "support/error.h"
#include "tools/model_options.h"

namespace trnsim::cli {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

NpyArray take_array(RunInput& in) {
  if (in.array) return std::move(*in.array);
  return read_npy(in.source);
}

// The program to run: the one in memory, or read (compiled, for a model) from r.program. Model
// inputs given as data pin the model's input shapes.
isa::Program load(const RunRequest& r, const config::ChipConfig& chip,
                  const std::vector<std::pair<const RunInput*, const NpyArray*>>& inputs) {
  if (r.compiled) {
    if (!r.shapes.empty()) throw InputError("shapes apply only to .onnx models, not a compiled program");
    if (r.cores != 1) throw InputError("cores apply only to .onnx models, not a compiled program");
    if (r.tp != 1) throw InputError("tp applies only to .onnx models, not a compiled program");
    return *r.compiled;
  }
  if (ends_with(r.program, ".onnx")) {
    compiler::CompileOptions co = model_options(r.shapes, r.dtype, r.cores);
    for (const auto& [in, arr] : inputs) co.data_shapes[in->name] = {arr->shape, in->source};
    co.timing_only = r.timing_only;  // timing never depends on values: weights are not read
    co.tp = r.tp;
    return compiler::compile_onnx(r.program, chip, co);
  }
  if (!r.shapes.empty())
    throw InputError("--shape applies only to .onnx models, not " + r.program);
  if (r.cores != 1)
    throw InputError("--cores applies only to .onnx models, not " + r.program);
  if (r.tp != 1) throw InputError("--tp applies only to .onnx models, not " + r.program);
  return isa::load_program(r.program, /*const_data=*/!r.timing_only);
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

// A chip's results under the model's names (the names files are written and dicts keyed by).
RunChipResult chip_result(const isa::Program& prog, model::SimResult& r, uint64_t seed) {
  auto display = [&](const std::string& name) {
    auto idx = prog.find_tensor(name);
    return idx ? prog.tensors[*idx].display_name() : name;
  };
  RunChipResult c;
  c.seed = seed;
  for (auto& o : r.outputs)
    c.outputs.push_back({display(o.name), NpyArray{o.dtype, o.shape, std::move(o.bytes)}});
  for (const auto& name : r.generated_inputs) c.generated_inputs.push_back(display(name));
  return c;
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
size_t run_check(const RunRequest& r, const isa::Program& prog, const config::ChipConfig& chip) {
  model::CheckOptions co;
  co.max_instructions_per_engine = r.max_instructions;
  model::CheckReport cr = model::check_program(prog, chip.target(), co);
  std::string text = cr.text();
  std::string paths;
  if (cr.paths > 1 || cr.paths_truncated)
    paths = fmt::format(" on {} path(s) through branches on ldr values{}", cr.paths,
                        cr.paths_truncated ? " (more not analysed)" : "");
  text += fmt::format("check: {} race(s), {} uninitialised read(s){}{}\n", cr.races.size(),
                      cr.uninit.size(), cr.deadlock ? ", a deadlock" : "", paths);
  if (r.check_sink) r.check_sink(text);
  // A deadlock on a path the simulation does not take would otherwise go unnoticed.
  return cr.races.size() + cr.uninit.size() + cr.dropped + (cr.deadlock ? 1 : 0);
}

// With a system: the same program on every chip (SPMD: one program, the data and the replica
// groups differ by rank), in one simulation with the collective hub.
RunResult run_system(RunRequest& r) {
  if (r.chip != "trn1")
    throw InputError("--chip and --system: the system names its chip (use --set KEY=VALUE for chip keys)");
  config::SystemConfig sys = config::load_system(r.system, r.sets);
  const config::ChipConfig& chip = sys.chip_config;
  const int chips = static_cast<int>(sys.total_chips());
  isa::Program prog = load(r, chip, {});
  isa::validate(prog, chip.target());

  model::SystemSimOptions opts;
  opts.common.timing_only = r.timing_only;
  opts.common.trace_path = r.trace;
  opts.common.seed = r.seed;
  opts.common.max_instructions_per_engine = r.max_instructions;
  opts.chip_inputs.resize(static_cast<size_t>(chips));
  std::set<std::pair<int, std::string>> given;  // (chip or -1, tensor)
  for (auto& in : r.inputs) {
    std::string name = in.name;
    int target = -1;
    const auto at = in.name.rfind('@');
    if (at != std::string::npos) {
      name = in.name.substr(0, at);
      const std::string c = in.name.substr(at + 1);
      char* end = nullptr;
      const long v = c.empty() ? -1 : std::strtol(c.c_str(), &end, 10);
      if (c.empty() || *end != '\0' || v < 0 || v >= chips)
        throw InputError(fmt::format("{}: chip '{}' is not one of 0..{} of system {}", in.label, c,
                                     chips - 1, sys.name));
      target = static_cast<int>(v);
    }
    auto idx = find_input(prog, name);
    if (!idx) throw InputError(fmt::format("{}: the program has no input '{}'", in.label, name));
    const isa::TensorDecl& t = prog.tensors[*idx];
    if (!given.insert({target, t.name}).second)
      throw InputError(fmt::format("{}: input '{}' is given twice", in.label, t.display_name()));
    std::vector<uint8_t> bytes = input_bytes(t, in.source, take_array(in));
    if (target < 0) opts.common.inputs[t.name] = std::move(bytes);
    else opts.chip_inputs[static_cast<size_t>(target)][t.name] = std::move(bytes);
  }
  RunResult res;
  res.check_problems = r.check ? run_check(r, prog, chip) : 0;

  model::SystemResult sr = model::simulate_system(prog, sys, opts);

  res.sim_time_ns = static_cast<double>(sr.sim_time_ps) / 1e3;
  res.stats_json = model::system_stats_json(sr);
  res.summary = model::system_summary(sr);
  for (int c = 0; c < chips; ++c)
    res.chips.push_back(
        chip_result(prog, sr.chips[static_cast<size_t>(c)], model::chip_seed(r.seed, c)));
  return res;
}

}  // namespace

RunResult run_program(RunRequest& r) {
  // SystemC prints a banner on first use unless told not to (the user may still enable it).
  setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 0);
  if (!r.system.empty()) return run_system(r);
  if (r.tp != 1)
    throw InputError(fmt::format(
        "--tp {}: the ranks' collectives run on a system: add --system S (one chip: --set "
        "system.chips=1 and a one-chip system.dims, docs/distributed.md)",
        r.tp));
  config::ChipConfig chip = config::load_chip(r.chip, r.sets);
  std::vector<NpyArray> arrays;
  arrays.reserve(r.inputs.size());
  std::vector<std::pair<const RunInput*, const NpyArray*>> data;
  for (auto& in : r.inputs) {
    arrays.push_back(take_array(in));
    data.push_back({&in, &arrays.back()});
  }
  isa::Program prog = load(r, chip, data);
  isa::validate(prog, chip.target());
  const std::string cc = first_collective(prog);
  if (!cc.empty())
    throw InputError(fmt::format("{}: {} is a collective: run the program on a system of chips "
                                 "with --system S (e.g. --system tiny4)",
                                 r.program, cc));

  model::SimOptions opts;
  opts.timing_only = r.timing_only;
  opts.trace_path = r.trace;
  opts.seed = r.seed;
  opts.max_instructions_per_engine = r.max_instructions;
  for (size_t i = 0; i < r.inputs.size(); ++i) {
    const RunInput& in = r.inputs[i];
    auto idx = find_input(prog, in.name);
    if (!idx) {
      std::string names;
      for (const auto& t : prog.tensors)
        if (t.role == isa::TensorRole::Input)
          names += (names.empty() ? "" : ", ") + t.display_name();
      throw InputError(fmt::format("{}: the program has no input '{}' (inputs: {})", in.label,
                                   in.name, names.empty() ? "none" : names));
    }
    const isa::TensorDecl& t = prog.tensors[*idx];
    if (opts.inputs.count(t.name))
      throw InputError(fmt::format("{}: input '{}' is given twice", in.label, t.display_name()));
    opts.inputs[t.name] = input_bytes(t, in.source, std::move(arrays[i]));
  }

  RunResult res;
  // Problems make the CLI exit 3 after its outputs and stats are written.
  res.check_problems = r.check ? run_check(r, prog, chip) : 0;

  model::SimResult sr = model::simulate(prog, chip, opts);

  res.sim_time_ns = sr.sim_time_ns;
  res.stats_json = model::stats_json(sr.stats);
  res.summary = model::stats_summary(sr.stats);
  res.chips.push_back(chip_result(prog, sr, r.seed));
  return res;
}

}  // namespace trnsim::cli
