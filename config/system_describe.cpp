// Text views of system configurations: `trnsim systems`, `trnsim describe --system` and the
// generated section of docs/multichip.md.
#include <fmt/format.h>

#include <cstring>

#include "config/describe.h"
#include "config/system_config.h"
#include "config/system_params.h"
#include "support/error.h"

namespace trnsim::config {
namespace {

constexpr const char* kDocBegin =
    "<!-- generated from config/system_params.def and config/systems/*.yaml by `trnsim "
    "system-doc`, do not edit -->\n";
constexpr const char* kDocEnd = "<!-- end of generated section -->\n";

// "4x4", "12".
std::string shape_text(const SystemConfig& s) { return fmt::format("{}", fmt::join(s.dims, "x")); }

// "103.079215104 GB/s", or "256/256/128 GB/s" when the dimensions differ.
std::string link_text(const SystemConfig& s) {
  if (s.link_dim_bandwidth_gbps.empty()) return fmt::format("{} GB/s", s.link_bandwidth_gbps);
  return fmt::format("{} GB/s", fmt::join(s.link_dim_bandwidth_gbps, "/"));
}

// "16 x trn1", "2 x 16 x trn1" with two instances.
std::string chips_text(const SystemConfig& s) {
  std::string chip = s.chip_config.name;
  if (s.instances > 1) return fmt::format("{} x {} x {}", s.instances, s.chips, chip);
  return fmt::format("{} x {}", s.chips, chip);
}

}  // namespace

std::string systems_listing() {
  std::vector<std::vector<std::string>> rows;
  for (const auto& n : system_preset_names()) {
    SystemConfig s = load_system(n);
    rows.push_back({n, chips_text(s), s.topology + " " + shape_text(s), "links " + link_text(s),
                    yaml_title(n, system_preset_yaml(n))});
  }
  return align_columns(rows);
}

std::string describe_system(const SystemConfig& s) {
  std::vector<std::vector<std::string>> rows{{"key", "value", "unit", "description"}};
  for (const auto& p : system_param_table())
    rows.push_back({std::string(p.key), system_param_value_text(s, p), std::string(p.unit),
                    std::string(p.doc)});
  std::string out = "system " + s.name + ": " + std::to_string(s.total_chips()) + " chips, " +
                    std::to_string(s.total_ranks()) + " ranks (NeuronCores)\n";
  out += align_columns(rows);
  out += "\nchip " + s.chip_config.name + " (every chip of the system):\n";
  out += describe_chip(s.chip_config);
  return out;
}

std::string system_doc_markdown() {
  std::vector<std::string> names = system_preset_names();
  std::vector<SystemConfig> presets;
  for (const auto& n : names) presets.push_back(load_system(n));

  std::string md = kDocBegin;
  md += "## Presets\n\n";
  md +=
      "Preset files are `config/systems/NAME.yaml` (compiled into trnsim); each value carries "
      "its source as a comment, keys from `reference/multichip.md`.\n\n";
  md +=
      "| system | description | chips | topology | link (per direction) | hop latency | EFA per "
      "chip |\n|---|---|---|---|---|---|---|\n";
  for (size_t i = 0; i < names.size(); ++i) {
    const SystemConfig& s = presets[i];
    md += fmt::format("| `{}` | {} | {} | {} {} | {} | {} ns | {} GB/s |\n", names[i],
                      md_escape(yaml_title(names[i], system_preset_yaml(names[i]))), chips_text(s),
                      s.topology, shape_text(s), link_text(s), s.link_latency_ns,
                      s.efa_bandwidth_gbps);
  }
  md += "\n## Parameters\n\n";
  md += "| key | type | range | unit |";
  for (const auto& n : names) md += fmt::format(" {} |", n);
  md += " description |\n|---|---|---|---|";
  for (size_t i = 0; i < names.size(); ++i) md += "---|";
  md += "---|\n";
  for (const auto& p : system_param_table()) {
    md += fmt::format("| `{}` | {} | {} | {} |", p.key, system_param_type_name(p.type),
                      md_escape(system_param_range_text(p)), md_escape(p.unit));
    for (const auto& s : presets)
      md += fmt::format(" {} |", md_escape(system_param_value_text(s, p)));
    md += fmt::format(" {} |\n", md_escape(p.doc));
  }
  md += "\n## Cross-parameter rules\n\n";
  for (const auto& r : system_validation_rule_docs()) md += "- " + r + "\n";
  md += kDocEnd;
  return md;
}

std::string splice_system_doc(const std::string& page, const std::string& where) {
  size_t begin = page.find(kDocBegin);
  size_t end = page.find(kDocEnd);
  if (begin == std::string::npos || end == std::string::npos || end < begin)
    throw InputError(fmt::format("{}: no generated section (the lines {} ... {}) to replace", where,
                                 std::string(kDocBegin, std::strlen(kDocBegin) - 1),
                                 std::string(kDocEnd, std::strlen(kDocEnd) - 1)));
  return page.substr(0, begin) + system_doc_markdown() + page.substr(end + std::strlen(kDocEnd));
}

}  // namespace trnsim::config
