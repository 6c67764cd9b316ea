// Human-readable views of chip configurations: `trnsim chips`, `trnsim describe` and docs/config.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/chip_config.h"

namespace trnsim::config {

// "2 cores, PE 128x128 @ 2.8 GHz, SBUF 128 x 192 KiB, HBM 820 GB/s"
std::string chip_summary(const ChipConfig& c);
// The first sentence of the preset file's header comment ("AWS Trainium1 chip, 2 x NeuronCore-v2").
std::string preset_title(const std::string& name);
// The first sentence of a preset text whose first line is "# NAME: sentence. ..."; "" otherwise.
std::string yaml_title(const std::string& name, std::string_view text);
// One aligned line per preset: name, summary, title.
std::string presets_listing();
// Every parameter as an aligned table: key, value, unit, doc.
std::string describe_chip(const ChipConfig& c);
// The whole of docs/config.md.
std::string config_doc_markdown();

// Text helpers shared with the system views (system_describe.cpp).
// Rows as aligned columns (all but the last padded to their widest cell), one line each.
std::string align_columns(const std::vector<std::vector<std::string>>& rows);
// `s` with '|' escaped for a Markdown table cell.
std::string md_escape(std::string_view s);

}  // namespace trnsim::config
