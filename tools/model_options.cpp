#include "tools/model_options.h"

#include <fmt/format.h>

#include <cstdlib>

#include "support/error.h"

namespace trnsim::cli {

std::pair<std::string, std::vector<int64_t>> parse_shape(const std::string& s) {
  auto eq = s.rfind('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError(fmt::format("--shape {}: expected NAME=DIMxDIMx... (NAME= for a scalar)", s));
  std::vector<int64_t> dims;
  if (eq + 1 == s.size()) return {s.substr(0, eq), dims};  // rank 0
  std::string rest = s.substr(eq + 1);
  size_t pos = 0;
  while (pos <= rest.size()) {
    size_t x = rest.find('x', pos);
    std::string tok = rest.substr(pos, x == std::string::npos ? std::string::npos : x - pos);
    char* end = nullptr;
    long long v = std::strtoll(tok.c_str(), &end, 10);
    if (tok.empty() || *end != '\0' || v < 0)  // 0: an empty input (a zero-length past)
      throw InputError(fmt::format("--shape {}: '{}' is not an integer >= 0", s, tok));
    dims.push_back(v);
    if (x == std::string::npos) break;
    pos = x + 1;
  }
  return {s.substr(0, eq), dims};
}

compiler::CompileOptions model_options(const std::vector<std::string>& shapes,
                                       const std::string& dtype, int cores) {
  compiler::CompileOptions opts;
  for (const auto& s : shapes) {
    auto [name, dims] = parse_shape(s);
    if (opts.shapes.count(name)) throw InputError(fmt::format("--shape {}: given twice", name));
    opts.shapes[name] = dims;
  }
  opts.dtype = dtype;
  opts.cores = cores;
  return opts;
}

}  // namespace trnsim::cli
