// Human-readable views of chip configurations: `trnsim chips`, `trnsim describe` and docs/config.md.
#pragma once

#include <string>

#include "config/chip_config.h"

namespace trnsim::config {

// "2 cores, PE 128x128 @ 2.8 GHz, SBUF 128 x 192 KiB, HBM 820 GB/s"
std::string chip_summary(const ChipConfig& c);
// The first sentence of the preset file's header comment ("AWS Trainium1 chip, 2 x NeuronCore-v2").
std::string preset_title(const std::string& name);
// One aligned line per preset: name, summary, title.
std::string presets_listing();
// Every parameter as an aligned table: key, value, unit, doc.
std::string describe_chip(const ChipConfig& c);
// The whole of docs/config.md.
std::string config_doc_markdown();

}  // namespace trnsim::config
