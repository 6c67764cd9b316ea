// The key metrics of one design point, taken from its stats JSON, as CSV cells.
#pragma once

#include <string>
#include <vector>

namespace trnsim::cli::sweep {

// Column names, in order (sim_time_ns, throughput_per_s, mfu, per-engine utilisation, HBM
// bytes, energy_j, avg_power_w).
const std::vector<std::string>& metric_columns();

struct Metrics {
  std::vector<std::string> values = std::vector<std::string>(metric_columns().size());
};

// Reads the metrics from a `trnsim run --stats` document; `name` is used in errors.
Metrics extract_metrics(const std::string& stats_json, const std::string& name);

}  // namespace trnsim::cli::sweep
