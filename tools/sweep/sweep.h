// Design-space sweeps: the sweep spec, its design points, the parallel runner and result tables.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace trnsim::cli::sweep {

struct Axis {
  std::string key;                  // a chip parameter, e.g. "pe.rows"
  std::vector<std::string> values;  // as text, parsed by the chip loader
};

struct Workload {
  std::string name;
  std::string path;                 // resolved: relative paths are relative to the spec file
  bool is_model = false;            // .onnx (compiled once per software-visible config)
  std::vector<std::string> shapes;  // "NAME=1x3x224x224" for --shape
  std::string dtype = "bf16";
  // Models only: compile --cores (data parallel); 0 = "all", each point's chip core count.
  int cores = 1;
};

struct SweepSpec {
  std::string path;                 // the spec file, for messages
  std::string chip = "trn1";        // preset name or YAML file (resolved like workloads)
  std::vector<std::string> sets;    // fixed overrides for every point
  std::vector<Axis> axes;
  std::string mode = "grid";        // grid | zip | random
  int64_t samples = 0;              // random mode: number of points
  uint64_t seed = 1;
  std::vector<Workload> workloads;
  bool timing_only = true;
  double timeout_s = 600;
};

struct DesignPoint {
  int index = 0;                    // position in the full, deterministic point list
  std::string id;                   // stable hash of workload + parameters (16 hex digits)
  int workload = 0;                 // index into SweepSpec::workloads
  std::vector<std::pair<std::string, std::string>> params;  // axis key -> value
};

// Parses and checks a spec; every point's chip configuration is loaded once to catch bad keys
// and values before anything runs. Throws InputError naming the spec file and key.
SweepSpec load_spec(const std::string& path);
std::vector<DesignPoint> expand_points(const SweepSpec& spec);
// "K/N" (1 <= K <= N): the points whose index % N == K-1.
std::vector<DesignPoint> select_shard(const std::vector<DesignPoint>& pts, const std::string& shard);

struct RunOptions {
  std::string out_csv;
  int jobs = 0;          // 0: number of cores
  bool resume = false;
  std::string self_exe;  // the trnsim binary to fork for each point
  bool progress = true;  // progress line on a terminal (never when CI is set or not a tty)
  // Compile each model once per compile_key() and run the points from the program. Off: every
  // point compiles its model itself (slower; the results are the same).
  bool compile_cache = true;
};

struct RunSummary {
  int not_ok = 0;    // points that did not finish with status ok
  int compiles = 0;  // model compilations run (cache misses)
  int reused = 0;    // compiled programs found from an earlier, interrupted run (--resume)
};

// Runs the points (each in its own process), appending a CSV row and a JSON-lines record
// (OUT.csv.jsonl) per point as it finishes; at the end rewrites the CSV sorted by index.
RunSummary run_points(const SweepSpec& spec, const std::vector<DesignPoint>& pts,
                      const RunOptions& o);

// What a model workload's programs depend on besides the chip, as text: the trnsim binary and
// the model's files (compiler::model_files: path, size, modification time), the workload's
// shapes, dtype and cores, and the timing-only flag. Reads the model (without its weights).
std::string workload_identity(const SweepSpec& spec, int workload, const std::string& self_exe);
// The compile-cache key of a model point: its workload's identity and every field of the
// point's isa::Target (isa::target_key), the only view of the chip the compiler has. Points
// with equal keys share one compilation; clocks, bandwidths, latencies and energy are not in it.
std::string compile_key(const SweepSpec& spec, const DesignPoint& p, const std::string& identity);

// Joins shard CSVs into one table sorted by index; with a spec, checks that every point is
// present exactly once. Throws InputError on duplicates, missing points or mismatched headers.
void merge_results(const std::vector<std::string>& inputs, const std::string& out_csv,
                   const std::string& spec_path);

// Writes DIR/pareto.svg (latency vs energy, or latency vs the first axis when no energy) via
// gnuplot, DIR/pareto.csv and DIR/summary.md with the best points.
void write_report(const std::string& csv, const std::string& dir);

// CSV helpers shared by runner, merge and report.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int column(const std::string& name) const;  // -1 when absent
};
Table read_csv(const std::string& path);  // ignores a trailing partial line (killed writer)
std::string csv_line(const std::vector<std::string>& cells);
std::vector<std::string> result_columns(const SweepSpec& spec);

}  // namespace trnsim::cli::sweep
