// Helpers shared by the chip and system loaders (load_util.h).
#include "config/load_util.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <string_view>

#include "config/params.h"

namespace trnsim::config {

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool looks_like_path(const std::string& s) {
  auto ends_with = [&](std::string_view suf) {
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
  };
  return s.find('/') != std::string::npos || ends_with(".yaml") || ends_with(".yml");
}

std::string trim_blanks(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string yaml_at(const std::string& path, const YAML::Mark& m) {
  if (m.line < 0) return path;
  return fmt::format("{}:{}:{}", path, m.line + 1, m.column + 1);
}

bool is_chip_group(const std::string& prefix) {
  for (const auto& p : param_table())
    if (p.key.size() > prefix.size() && p.key.substr(0, prefix.size()) == prefix &&
        p.key[prefix.size()] == '.')
      return true;
  return false;
}

}  // namespace trnsim::config
