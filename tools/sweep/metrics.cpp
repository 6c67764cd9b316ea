#include "tools/sweep/metrics.h"

#include <fmt/format.h>

#include <cmath>

#include "support/error.h"
#include "support/json.h"

namespace trnsim::cli::sweep {
namespace {

const char* const kEngines[] = {"pe", "act", "dve", "pool", "sp"};

// A stat is either a bare number or {"value": number, "unit": ...}.
const json::Value* lookup(const json::Value& root, const std::string& dotted) {
  const json::Value* v = &root;
  size_t start = 0;
  while (v && start <= dotted.size()) {
    size_t dot = dotted.find('.', start);
    std::string part = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    v = v->find(part);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (v && v->is_object()) v = v->find("value");
  return (v && v->is_number()) ? v : nullptr;
}

std::string cell(const json::Value* v) {
  if (!v) return "";
  double d = v->as_number();
  if (v->is_int()) return fmt::format("{}", v->as_int());
  return std::isfinite(d) ? fmt::format("{:.6g}", d) : "";
}

}  // namespace

const std::vector<std::string>& metric_columns() {
  static const std::vector<std::string> cols = {
      "sim_time_ns",  "throughput_per_s", "mfu",          "pe_util",         "act_util",
      "dve_util",     "pool_util",        "sp_util",      "hbm_read_bytes",  "hbm_write_bytes",
      "energy_j",     "avg_power_w"};
  return cols;
}

Metrics extract_metrics(const std::string& stats_json, const std::string& name) {
  json::Value root = json::parse(stats_json, name);
  Metrics m;
  const json::Value* t = lookup(root, "sim_time_ns");
  if (!t) throw InputError(fmt::format("{}: no sim_time_ns", name));
  m.values[0] = cell(t);
  double ns = t->as_number();
  m.values[1] = ns > 0 ? fmt::format("{:.6g}", 1e9 / ns) : "";
  m.values[2] = cell(lookup(root, "mfu"));
  // Utilisation of each engine kind, averaged over the cores.
  for (int e = 0; e < 5; ++e) {
    double sum = 0;
    int n = 0;
    for (int c = 0; c < 1024; ++c) {
      const json::Value* u = lookup(root, fmt::format("core{}.{}.utilization", c, kEngines[e]));
      if (!u) break;
      sum += u->as_number();
      ++n;
    }
    m.values[3 + e] = n ? fmt::format("{:.6g}", sum / n) : "";
  }
  m.values[8] = cell(lookup(root, "hbm.read_bytes"));
  m.values[9] = cell(lookup(root, "hbm.write_bytes"));
  m.values[10] = cell(lookup(root, "energy.total_j"));
  m.values[11] = cell(lookup(root, "energy.avg_power_w"));
  return m;
}

}  // namespace trnsim::cli::sweep
