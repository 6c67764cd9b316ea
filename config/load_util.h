// Small helpers shared by the chip and system loaders (config/*.cpp only: includes yaml-cpp).
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

namespace trnsim::config {

bool file_exists(const std::string& path);
// A spec that names a file rather than a preset: it has a '/' or ends in .yaml/.yml.
bool looks_like_path(const std::string& s);
// Without leading and trailing blanks and tabs.
std::string trim_blanks(const std::string& s);
// "path:line:column" of a YAML mark (just `path` when the mark has no line).
std::string yaml_at(const std::string& path, const YAML::Mark& m);
// True when some chip parameter's key starts with "prefix." (pe, dma, ...).
bool is_chip_group(const std::string& prefix);

}  // namespace trnsim::config
