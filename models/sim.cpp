// simulate(): elaborate the chip, load HBM, run, collect stats, outputs and the timeline.
#include "models/sim.h"

#include <fmt/format.h>

#include <memory>
#include <random>
#include <stdexcept>

#include "models/chip/chip.h"
#include "models/trace/trace.h"
#include "support/error.h"
#include "support/file_util.h"

namespace trnsim::model {

std::vector<uint8_t> generate_input(const isa::TensorDecl& t, uint64_t seed, size_t index) {
  std::vector<uint8_t> bytes(static_cast<size_t>(t.num_bytes()));
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + index + 1);
  const int es = isa::dtype_size(t.dtype);
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    uint64_t r = rng();
    uint8_t* p = bytes.data() + i * es;
    if (isa::dtype_is_float(t.dtype)) {
      // 24 random bits -> [-1, 1), identical on every platform.
      float v = static_cast<float>(r >> 40) * (2.0f / 16777216.0f) - 1.0f;
      isa::store_from_float(t.dtype, v, p);
    } else if (t.dtype == isa::DType::Bool) {
      isa::store_from_int(t.dtype, static_cast<int64_t>(r & 1), p);
    } else if (t.dtype == isa::DType::Uint8) {
      isa::store_from_int(t.dtype, static_cast<int64_t>(r % 8), p);
    } else {
      isa::store_from_int(t.dtype, static_cast<int64_t>(r % 9) - 4, p);  // [-4, 4]
    }
  }
  return bytes;
}

void load_hbm(const isa::Program& prog, const SimOptions& opts, HbmStore& hbm,
              std::vector<std::string>& generated) {
  for (const auto& [name, bytes] : opts.inputs) {
    auto idx = prog.find_tensor(name);
    if (!idx || prog.tensors[*idx].role != isa::TensorRole::Input)
      throw InputError(fmt::format("input {}: the program has no input tensor of that name", name));
    if (static_cast<int64_t>(bytes.size()) != prog.tensors[*idx].num_bytes())
      throw InputError(fmt::format("input {}: {} bytes given, the tensor has {}", name,
                                   bytes.size(), prog.tensors[*idx].num_bytes()));
  }
  const bool numerics = !opts.timing_only;
  if (numerics)
    for (const auto& t : prog.tensors)
      if (t.data_absent())
        throw InputError(fmt::format(
            "{}: const tensor '{}' has no data (a timing-only program, compiled with "
            "--timing-only); simulate it with --timing-only",
            prog.source_name.empty() ? "program" : prog.source_name, t.name));
  hbm.tensors.resize(prog.tensors.size());
  for (size_t i = 0; i < prog.tensors.size(); ++i) {
    const isa::TensorDecl& t = prog.tensors[i];
    if (t.role == isa::TensorRole::Input && !opts.inputs.count(t.name))
      generated.push_back(t.name);
    if (!numerics) continue;
    auto& b = hbm.tensors[i];
    switch (t.role) {
      case isa::TensorRole::Input: {
        auto it = opts.inputs.find(t.name);
        b = it != opts.inputs.end() ? it->second : generate_input(t, opts.seed, i);
        break;
      }
      case isa::TensorRole::Const:
        b = t.data;
        b.resize(static_cast<size_t>(t.num_bytes()), 0);
        break;
      default:
        // Outputs and scratch start as a NaN pattern so unwritten bytes stand out.
        b.assign(static_cast<size_t>(t.num_bytes()), 0xFF);
        break;
    }
  }
}

std::vector<OutputTensor> take_outputs(const isa::Program& prog, HbmStore& hbm) {
  std::vector<OutputTensor> out;
  for (size_t i = 0; i < prog.tensors.size(); ++i) {
    const isa::TensorDecl& t = prog.tensors[i];
    if (t.role != isa::TensorRole::Output) continue;
    out.push_back({t.name, t.dtype, t.shape, std::move(hbm.tensors[i])});
  }
  return out;
}

SimResult simulate(const isa::Program& prog, const config::ChipConfig& cfg,
                   const SimOptions& opts) {
  if (sc_core::sc_get_status() != sc_core::SC_ELABORATION)
    throw std::logic_error("simulate() may be called once per process (SystemC restriction)");
  if (static_cast<int64_t>(prog.cores.size()) > cfg.cores)
    throw InputError(fmt::format("{}: program uses {} cores but chip {} has {}",
                                 prog.source_name.empty() ? "program" : prog.source_name,
                                 prog.cores.size(), cfg.name, cfg.cores));
  // Libraries do not print: silence SystemC's own informational messages and warnings
  // (e.g. "simulation stopped by user" when a fault stops the run).
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_report_handler::set_actions(sc_core::SC_WARNING, sc_core::SC_DO_NOTHING);

  SimResult res;
  HbmStore hbm;
  load_hbm(prog, opts, hbm, res.generated_inputs);
  const bool numerics = !opts.timing_only;
  Tracer tracer(!opts.trace_path.empty());
  ChipRunOptions ro;
  ro.numerics = numerics;
  ro.max_instructions_per_engine = opts.max_instructions_per_engine;
  auto chip = std::make_unique<Chip>("chip", prog, cfg, ro, tracer, hbm);
  auto write_trace = [&] {
    if (tracer.enabled()) {
      tracer.write_json(opts.trace_path, prog, static_cast<int>(cfg.cores),
                        static_cast<int>(cfg.dma_queues), now_ps());
    }
  };
  try {
    chip->run();
  } catch (const SimFault&) {
    write_trace();  // the timeline up to the fault helps to find it
    throw;
  }
  write_trace();
  res.stats = chip->stats();
  res.sim_time_ns = ps_to_ns(res.stats.sim_time_ps);
  if (numerics) res.outputs = take_outputs(prog, hbm);
  return res;
}

}  // namespace trnsim::model

