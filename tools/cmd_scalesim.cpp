// `trnsim scalesim`: runs a SCALE-Sim v2 study (its .cfg + topology CSV) on trnsim's closed-form
// systolic-array model and writes SCALE-Sim's three CSV reports (docs/scalesim.md).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "models/scalesim/reports.h"
#include "models/scalesim/scalesim_input.h"
#include "models/scalesim/systolic_model.h"
#include "support/error.h"
#include "tools/cli.h"

namespace trnsim::cli {
namespace {

struct ScaleSimArgs {
  std::string config, topology, input_type = "conv", out_dir;
  bool save_traces = false;
  bool quiet = false;
};

void run_scalesim(const ScaleSimArgs& a) {
  namespace ss = model::scalesim;
  if (a.save_traces) {
    throw InputError("--save-traces: per-cycle SRAM/DRAM trace files are not implemented by "
                     "trnsim scalesim (reports only; see docs/scalesim.md)");
  }
  const ss::ScaleSimConfig cfg = ss::load_scalesim_config(a.config);
  const std::vector<ss::Layer> layers = ss::load_topology(a.topology, a.input_type == "gemm");
  std::vector<ss::LayerResult> results;
  results.reserve(layers.size());
  ss::LayerScratch scratch;
  for (const ss::Layer& l : layers) results.push_back(ss::simulate_layer(cfg, l, scratch));
  ss::write_reports(a.out_dir, results);
  if (a.quiet) return;
  int64_t total = 0;
  for (const auto& r : results) total += r.total_cycles;
  std::printf("scalesim: %zu layers, %s, %lldx%lld, %s bandwidth: %lld total cycles; reports in %s\n",
              layers.size(), ss::dataflow_name(cfg.dataflow),
              static_cast<long long>(cfg.array_rows), static_cast<long long>(cfg.array_cols),
              cfg.user_bandwidth ? "USER" : "CALC", static_cast<long long>(total),
              a.out_dir.c_str());
}

}  // namespace

void add_scalesim_command(CLI::App& app) {
  auto a = std::make_shared<ScaleSimArgs>();
  auto* cmd = app.add_subcommand(
      "scalesim", "Run a SCALE-Sim v2 config + topology on the closed-form systolic-array model");
  cmd->add_option("-c,--config", a->config, "SCALE-Sim .cfg file")->required();
  cmd->add_option("-t,--topology", a->topology, "SCALE-Sim topology CSV")->required();
  cmd->add_option("-i,--input-type", a->input_type, "topology format: conv (default) or gemm")
      ->check(CLI::IsMember({"conv", "gemm"}));
  cmd->add_option("-o,--output", a->out_dir, "directory for the three CSV reports")->required();
  cmd->add_flag("--save-traces", a->save_traces, "per-cycle trace files (not implemented)");
  cmd->add_flag("-q,--quiet", a->quiet, "no summary line");
  cmd->callback([a] { run_scalesim(*a); });
}

}  // namespace trnsim::cli
