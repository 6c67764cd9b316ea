// `trnsim sweep`: design-space sweeps (run, list, shard), `sweep merge` and `sweep report`.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <filesystem>

#include "support/error.h"
#include "tools/cli.h"
#include "tools/sweep/sweep.h"

namespace trnsim::cli {
namespace {

std::string self_exe() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) throw std::runtime_error("cannot find the trnsim executable (/proc/self/exe)");
  buf[n] = 0;
  return buf;
}

struct SweepArgs {
  std::string spec, out, shard;
  int jobs = 0;
  bool resume = false, list = false, no_compile_cache = false;
  std::vector<std::string> merge_inputs;
  std::string merge_out, merge_spec;
  std::string report_in, report_dir;
};

}  // namespace

void add_sweep_command(CLI::App& app) {
  auto args = std::make_shared<SweepArgs>();
  CLI::App* sw = app.add_subcommand("sweep", "Run a design-space sweep (see docs/sweeps.md)");
  sw->add_option("spec", args->spec, "sweep spec (YAML)");
  sw->add_option("-o,--output", args->out, "results table (CSV; full stats go to OUT.jsonl)");
  sw->add_option("-j,--jobs", args->jobs, "parallel design points (default: number of cores)")
      ->check(CLI::Range(1, 4096));
  sw->add_flag("--resume", args->resume, "skip points already in the results table");
  sw->add_option("--shard", args->shard, "run only shard K of N (K/N, 1-based), for job arrays");
  sw->add_flag("--list", args->list, "print the design points without running them");
  sw->add_flag("--no-compile-cache", args->no_compile_cache,
               "compile the model for every point (by default once per software-visible chip "
               "configuration; the results are the same)");
  sw->require_subcommand(0, 1);

  CLI::App* merge = sw->add_subcommand("merge", "Join shard result tables into one");
  merge->add_option("inputs", args->merge_inputs, "shard tables (CSV)")->required();
  merge->add_option("-o,--output", args->merge_out, "merged table (CSV)")->required();
  merge->add_option("--spec", args->merge_spec, "sweep spec: check that no point is missing");
  merge->callback([args] {
    sweep::merge_results(args->merge_inputs, args->merge_out, args->merge_spec);
    std::printf("merged %zu tables into %s\n", args->merge_inputs.size(), args->merge_out.c_str());
  });

  CLI::App* report = sw->add_subcommand("report", "Pareto plot and summary of a results table");
  report->add_option("results", args->report_in, "results table (CSV)")->required();
  report->add_option("-o,--output", args->report_dir, "output folder")->required();
  report->callback([args] {
    sweep::write_report(args->report_in, args->report_dir);
    std::printf("wrote %s/pareto.svg, pareto.csv and summary.md\n", args->report_dir.c_str());
  });

  sw->callback([sw, args] {
    if (!sw->get_subcommands().empty()) return;
    if (args->spec.empty()) throw InputError("sweep: give a spec file (trnsim sweep SPEC.yaml -o OUT.csv)");
    sweep::SweepSpec spec = sweep::load_spec(args->spec);
    auto pts = sweep::expand_points(spec);
    if (!args->shard.empty()) pts = sweep::select_shard(pts, args->shard);
    if (args->list) {
      for (const auto& p : pts) {
        std::string line = fmt::format("{:>6} {} {}", p.index, p.id, spec.workloads[p.workload].name);
        for (const auto& [k, v] : p.params) line += fmt::format(" {}={}", k, v);
        std::printf("%s\n", line.c_str());
      }
      std::printf("%zu design points\n", pts.size());
      return;
    }
    if (args->out.empty()) throw InputError("sweep: give the results table with -o RESULTS.csv");
    sweep::RunOptions o;
    o.out_csv = args->out;
    o.jobs = args->jobs;
    o.resume = args->resume;
    o.self_exe = self_exe();
    o.compile_cache = !args->no_compile_cache;
    const sweep::RunSummary r = sweep::run_points(spec, pts, o);
    std::string compiles;
    if (o.compile_cache && (r.compiles || r.reused))
      compiles = fmt::format(", {} model compilation(s){}", r.compiles,
                             r.reused ? fmt::format(" ({} reused from the interrupted run)", r.reused)
                                      : "");
    std::printf("%zu design points, %d not ok%s; results in %s\n", pts.size(), r.not_ok,
                compiles.c_str(), o.out_csv.c_str());
  });
}

}  // namespace trnsim::cli
