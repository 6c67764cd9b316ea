// Text tables for the chips/describe commands and the generated docs/config.md.
#include "config/describe.h"

#include <fmt/format.h>

#include <algorithm>

#include "config/params.h"

namespace trnsim::config {
namespace {

std::string bytes_text(int64_t b) {
  if (b >= (int64_t{1} << 30) && b % (int64_t{1} << 30) == 0)
    return fmt::format("{} GiB", b >> 30);
  if (b >= (1 << 20) && b % (1 << 20) == 0) return fmt::format("{} MiB", b >> 20);
  if (b >= 1024 && b % 1024 == 0) return fmt::format("{} KiB", b >> 10);
  return fmt::format("{} B", b);
}

}  // namespace

std::string align_columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      if (i + 1 == r.size()) line += r[i];
      else line += fmt::format("{:<{}}  ", r[i], width[i]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string md_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else out += c;
  }
  return out;
}

std::string chip_summary(const ChipConfig& c) {
  return fmt::format("{} cores, PE {}x{} @ {} GHz, SBUF {} x {}, HBM {} GB/s", c.cores, c.pe_rows,
                     c.pe_cols, c.pe_clock_ghz, c.partitions,
                     bytes_text(c.sbuf_bytes_per_partition), c.hbm_gbps);
}

std::string preset_title(const std::string& name) { return yaml_title(name, preset_yaml(name)); }

std::string yaml_title(const std::string& name, std::string_view text) {
  std::string_view line = text.substr(0, text.find('\n'));
  std::string head = "# " + name + ":";
  if (line.substr(0, head.size()) != head) return "";
  line.remove_prefix(head.size());
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  size_t stop = line.find(". ");
  if (stop != std::string_view::npos) line = line.substr(0, stop);
  if (!line.empty() && line.back() == '.') line.remove_suffix(1);
  return std::string(line);
}

std::string presets_listing() {
  std::vector<std::vector<std::string>> rows;
  for (const auto& n : preset_names())
    rows.push_back({n, chip_summary(load_chip(n)), preset_title(n)});
  return align_columns(rows);
}

std::string describe_chip(const ChipConfig& c) {
  std::vector<std::vector<std::string>> rows{{"key", "value", "unit", "description"}};
  for (const auto& p : param_table())
    rows.push_back({std::string(p.key), param_value_text(c, p), std::string(p.unit),
                    std::string(p.doc)});
  return align_columns(rows);
}

std::string config_doc_markdown() {
  std::vector<std::string> names = preset_names();
  std::vector<ChipConfig> presets;
  for (const auto& n : names) presets.push_back(load_chip(n));

  std::string md;
  md += "<!-- generated from config/params.def by `trnsim config-doc`, do not edit -->\n";
  md += "# Chip configuration\n\n";
  md += "Every chip parameter is declared once in `config/params.def`; this page, the YAML loader, "
        "validation and `trnsim describe` are all generated from that table. Regenerate this page "
        "with `trnsim config-doc -o docs/config.md` (a test fails when it is stale).\n\n";
  md += "## Choosing a chip\n\n";
  md += "`--chip NAME` picks a built-in preset, `--chip FILE.yaml` a chip file, and "
        "`--set KEY=VALUE` (repeatable) overrides single parameters last. A chip file names a "
        "preset (default `trn1`) and overrides keys, nested or dotted:\n\n";
  md += "```yaml\npreset: tiny\npe:\n  rows: 16\n  cols: 16\nsbuf.bytes_per_partition: 32768\n"
        "```\n\n";
  md += "`trnsim chips` lists the presets; `trnsim describe --chip X [--set k=v]...` prints "
        "every parameter of the result.\n\n";
  md += "Unknown keys (with the closest known key suggested), wrong types, values out of range, "
        "unknown presets, malformed YAML and missing files are errors naming the file, line and "
        "key, exit code 2.\n\n";
  md += "## Presets\n\n";
  md += "Preset files are `config/presets/NAME.yaml` (compiled into trnsim); each value carries "
        "its source as a comment, keys from `reference/trainium.md`.\n\n";
  md += "| preset | description | summary |\n|---|---|---|\n";
  for (size_t i = 0; i < names.size(); ++i)
    md += fmt::format("| `{}` | {} | {} |\n", names[i], md_escape(preset_title(names[i])),
                      md_escape(chip_summary(presets[i])));
  md += "\n## Parameters\n\n";
  md += "| key | type | range | unit |";
  for (const auto& n : names) md += fmt::format(" {} |", n);
  md += " description |\n|---|---|---|---|";
  for (size_t i = 0; i < names.size(); ++i) md += "---|";
  md += "---|\n";
  for (const auto& p : param_table()) {
    md += fmt::format("| `{}` | {} | {} | {} |", p.key, param_type_name(p.type),
                      md_escape(param_range_text(p)), md_escape(p.unit));
    for (const auto& c : presets) md += fmt::format(" {} |", md_escape(param_value_text(c, p)));
    md += fmt::format(" {} |\n", md_escape(p.doc));
  }
  md += "\n## Cross-parameter rules\n\n";
  for (const auto& r : validation_rule_docs()) md += "- " + r + "\n";
  return md;
}

}  // namespace trnsim::config
