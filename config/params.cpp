// ParamInfo table built from params.def, plus typed parsing and formatting of values.
#include "config/params.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "support/error.h"

namespace trnsim::config {

std::vector<std::string_view> split_choices(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    size_t comma = s.find(',');
    out.push_back(s.substr(0, comma));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

namespace {

template <class F>
ParamInfo make_info(std::string_view key, std::string_view field, ParamType type, double lo,
                    double hi, std::string_view unit, std::string_view doc, F member) {
  ParamInfo p;
  p.key = key;
  p.field = field;
  p.type = type;
  p.unit = unit;
  p.doc = doc;
  p.min = lo;
  p.max = hi;
  p.imin = static_cast<int64_t>(lo);
  p.imax = static_cast<int64_t>(hi);
  using M = decltype(member);
  if constexpr (std::is_same_v<M, int64_t ChipConfig::*>) p.int_field = member;
  if constexpr (std::is_same_v<M, double ChipConfig::*>) p.float_field = member;
  if constexpr (std::is_same_v<M, std::string ChipConfig::*>) p.string_field = member;
  return p;
}

std::vector<ParamInfo> build_table() {
  std::vector<ParamInfo> t;
#define TRNSIM_PARAM(field, key, type, def, lo, hi, unit, doc)                                  \
  t.push_back(make_info(key, #field, ParamType::type, static_cast<double>(lo),                \
                        static_cast<double>(hi), unit, doc, &ChipConfig::field));
#define TRNSIM_PARAM_ENUM(enum_key, values) \
  for (auto& p : t)                          \
    if (p.key == enum_key) p.choices = split_choices(values);
#include "config/params.def"
#undef TRNSIM_PARAM
#undef TRNSIM_PARAM_ENUM
  return t;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string shown(std::string_view text) {
  if (text.empty()) return "nothing";
  return fmt::format("'{}'", text);
}

}  // namespace

const std::vector<ParamInfo>& param_table() {
  static const std::vector<ParamInfo> table = build_table();
  return table;
}

const ParamInfo* find_param(std::string_view key) {
  for (const auto& p : param_table())
    if (p.key == key) return &p;
  return nullptr;
}

std::string closest_key(std::string_view key, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  size_t best_d = SIZE_MAX;
  for (std::string_view c : candidates) {
    size_t d = edit_distance(key, c);
    // A key with the right leaf under the wrong group ("rows" for "pe.rows") also counts.
    std::string_view leaf = c.substr(c.rfind('.') + 1);
    if (leaf == key) d = 1;
    if (d < best_d) best_d = d, best = c;
  }
  if (best_d > std::max<size_t>(2, key.size() / 3)) return "";
  return std::string(best);
}

std::string closest_param_key(std::string_view key) {
  std::vector<std::string_view> keys;
  for (const auto& p : param_table()) keys.push_back(p.key);
  return closest_key(key, keys);
}

namespace {

[[noreturn]] void fail_key(std::string_view key, const std::string& where,
                           const std::string& what) {
  std::string prefix = where.empty() ? "" : where + ": ";
  throw InputError(fmt::format("{}key {}: {}", prefix, key, what));
}

}  // namespace

int64_t parse_int_value(std::string_view key, std::string_view text, int64_t lo, int64_t hi,
                        const std::string& where) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (!text.empty() && text[0] == '+') ++first;  // from_chars rejects a leading '+'
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(first, last, v);
  if (ec == std::errc::result_out_of_range)
    fail_key(key, where, fmt::format("{} is out of range [{}, {}]", text, lo, hi));
  if (ec != std::errc() || ptr != last || first == last)
    fail_key(key, where, fmt::format("expected an integer, got {}", shown(text)));
  if (v < lo || v > hi) fail_key(key, where, fmt::format("{} is out of range [{}, {}]", v, lo, hi));
  return v;
}

double parse_float_value(std::string_view key, std::string_view text, double lo, double hi,
                         const std::string& where) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (!text.empty() && text[0] == '+') ++first;
  double v = 0;
  auto [ptr, ec] = std::from_chars(first, last, v);
  if (ec != std::errc() || ptr != last || first == last || !std::isfinite(v))
    fail_key(key, where, fmt::format("expected a number, got {}", shown(text)));
  if (v < lo || v > hi) fail_key(key, where, fmt::format("{} is out of range [{}, {}]", v, lo, hi));
  return v;
}

std::string_view param_type_name(ParamType t) {
  switch (t) {
    case ParamType::Int: return "int";
    case ParamType::Float: return "float";
    case ParamType::String: return "string";
  }
  return "?";
}

std::string param_value_text(const ChipConfig& c, const ParamInfo& p) {
  switch (p.type) {
    case ParamType::Int: return fmt::format("{}", c.*p.int_field);
    case ParamType::Float: return fmt::format("{}", c.*p.float_field);
    case ParamType::String: return c.*p.string_field;
  }
  return "";
}

std::string param_range_text(const ParamInfo& p) {
  switch (p.type) {
    case ParamType::Int: return fmt::format("[{}, {}]", p.imin, p.imax);
    case ParamType::Float: return fmt::format("[{}, {}]", p.min, p.max);
    case ParamType::String: {
      std::string s;
      for (auto c : p.choices) s += (s.empty() ? "" : "|") + std::string(c);
      return s;
    }
  }
  return "";
}

std::string parse_string_value(std::string_view key, std::string_view text,
                               const std::vector<std::string_view>& choices,
                               const std::string& where) {
  if (text.empty()) fail_key(key, where, "expected a string, got nothing");
  if (!choices.empty() && std::find(choices.begin(), choices.end(), text) == choices.end())
    fail_key(key, where,
             fmt::format("expected one of {}, got {}", fmt::join(choices, ", "), shown(text)));
  return std::string(text);
}

void set_param_from_text(ChipConfig& c, const ParamInfo& p, std::string_view text,
                         const std::string& where) {
  switch (p.type) {
    case ParamType::Int:
      c.*p.int_field = parse_int_value(p.key, text, p.imin, p.imax, where);
      return;
    case ParamType::Float:
      c.*p.float_field = parse_float_value(p.key, text, p.min, p.max, where);
      return;
    case ParamType::String:
      c.*p.string_field = parse_string_value(p.key, text, p.choices, where);
      return;
  }
}

}  // namespace trnsim::config
