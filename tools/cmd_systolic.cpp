// `trnsim systolic`: one random GEMM on the per-PE, cycle-level systolic array, checked against
// the fast model's cycles and reference GEMMs, with an optional VCD waveform (docs/systolic.md).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "models/scalesim/gemm_cycles.h"
#include "models/systolic/gemm_reference.h"
#include "models/systolic/systolic_array.h"
#include "support/error.h"
#include "tools/cli.h"

namespace trnsim::cli {
namespace {

struct SystolicArgs {
  int rows = 0, cols = 0;
  std::string dataflow;
  int64_t m = 0, n = 0, k = 0;
  uint64_t seed = 1;
  std::string vcd;
};

model::scalesim::Dataflow parse_dataflow(const std::string& s) {
  if (s == "os") return model::scalesim::Dataflow::kOs;
  if (s == "is") return model::scalesim::Dataflow::kIs;
  return model::scalesim::Dataflow::kWs;
}

std::string verdict(const model::systolic::Compare& c) {
  if (c.exact) return "bit-exact";
  return fmt::format("DIFFERS (max |err| {:.3g} at element {})", c.max_abs_err, c.worst);
}

void run_systolic_cmd(const SystolicArgs& a) {
  namespace sy = model::systolic;
  const auto df = parse_dataflow(a.dataflow);
  // The fast model first: it also rejects bad sizes before any simulation.
  const auto fast = model::scalesim::gemm_cycles(a.rows, a.cols, df, a.m, a.n, a.k);
  std::vector<sy::GemmProblem> problems{sy::random_problem(a.m, a.n, a.k, a.seed)};
  const sy::SystolicResult res = sy::run_systolic(a.rows, a.cols, df, problems, a.vcd);
  const sy::GemmRun& run = res.runs.at(0);
  const sy::GemmProblem& p = problems[0];

  const sy::Compare c_order = sy::compare_exact(run.c, sy::array_order_gemm(p, df, a.rows));
  const sy::Compare c_exec = sy::compare_exact(run.c, sy::execute_gemm(p, df, a.rows));
  const sy::Compare c_plain = sy::compare_to_plain(p, run.c);
  const bool cycles_ok = run.cycles == fast.compute_cycles;
  const bool macs_ok = run.macs == a.m * a.n * a.k;

  std::printf("systolic: %dx%d array, %s, GEMM M=%lld N=%lld K=%lld, seed %llu\n", a.rows, a.cols,
              a.dataflow.c_str(), static_cast<long long>(a.m), static_cast<long long>(a.n),
              static_cast<long long>(a.k), static_cast<unsigned long long>(a.seed));
  std::printf("per-PE model: %lld cycles (%lld folds), %lld MACs, %.3f s wall\n",
              static_cast<long long>(run.cycles), static_cast<long long>(run.folds),
              static_cast<long long>(run.macs), res.wall_seconds);
  std::printf("fast model: %lld cycles (%lld folds x %lld; SCALE-Sim Total Cycles %lld): %s\n",
              static_cast<long long>(fast.compute_cycles), static_cast<long long>(fast.folds),
              static_cast<long long>(fast.lines_per_fold),
              static_cast<long long>(fast.total_cycles), cycles_ok ? "match" : "MISMATCH");
  std::printf("result vs fp32 GEMM in array order: %s\n", verdict(c_order).c_str());
  std::printf("result vs model::execute matmul (bf16 operands): %s\n", verdict(c_exec).c_str());
  std::printf("result vs plain fp32 GEMM: max |err| %.3g, %s\n", c_plain.max_abs_err,
              c_plain.within ? "within the summation-order bound" : "OUTSIDE the bound");
  if (!a.vcd.empty()) std::printf("waveform: %s\n", a.vcd.c_str());

  if (!cycles_ok || !macs_ok || !c_order.exact || !c_exec.exact || !c_plain.within) {
    throw SimFault(fmt::format("systolic: per-PE model disagrees with the fast model or the "
                               "reference (cycles {} vs {}, MACs {} vs {})", run.cycles,
                               fast.compute_cycles, run.macs, a.m * a.n * a.k));
  }
}

}  // namespace

void add_systolic_command(CLI::App& app) {
  auto a = std::make_shared<SystolicArgs>();
  auto* cmd = app.add_subcommand(
      "systolic", "Run one random GEMM on the per-PE, cycle-level systolic array and check it "
                  "against the fast model");
  cmd->add_option("--rows", a->rows, "array rows (1..256)")
      ->required()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--cols", a->cols, "array columns (1..256)")
      ->required()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--dataflow", a->dataflow, "ws, os or is")
      ->required()
      ->check(CLI::IsMember({"ws", "os", "is"}));
  cmd->add_option("--m", a->m, "rows of A and C (1..4096)")
      ->required()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--n", a->n, "columns of B and C (1..4096)")
      ->required()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--k", a->k, "columns of A, rows of B (1..4096)")
      ->required()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--seed", a->seed, "random seed for A and B (default 1)");
  cmd->add_option("--vcd", a->vcd, "write a VCD waveform (GTKWave) of every PE register");
  cmd->callback([a] { run_systolic_cmd(*a); });
}

}  // namespace trnsim::cli
