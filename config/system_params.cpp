// SysParamInfo table built from system_params.def, plus typed parsing and formatting of values.
#include "config/system_params.h"

#include <fmt/format.h>

#include <type_traits>

#include "config/params.h"
#include "support/error.h"

namespace trnsim::config {
namespace {

template <class M>
SysParamInfo make_info(std::string_view key, std::string_view field, SysParamType type, double lo,
                       double hi, std::string_view unit, std::string_view doc, M member) {
  SysParamInfo p;
  p.key = key;
  p.field = field;
  p.type = type;
  p.unit = unit;
  p.doc = doc;
  p.min = lo;
  p.max = hi;
  p.imin = static_cast<int64_t>(lo);
  p.imax = static_cast<int64_t>(hi);
  if constexpr (std::is_same_v<M, int64_t SystemConfig::*>) p.int_field = member;
  if constexpr (std::is_same_v<M, double SystemConfig::*>) p.float_field = member;
  if constexpr (std::is_same_v<M, std::string SystemConfig::*>) p.string_field = member;
  if constexpr (std::is_same_v<M, std::vector<int64_t> SystemConfig::*>) p.int_list_field = member;
  if constexpr (std::is_same_v<M, std::vector<double> SystemConfig::*>) p.float_list_field = member;
  return p;
}

std::vector<SysParamInfo> build_table() {
  std::vector<SysParamInfo> t;
#define TRNSIM_SYS_PARAM(field, key, type, def, lo, hi, unit, doc)                \
  t.push_back(make_info(key, #field, SysParamType::type, static_cast<double>(lo), \
                        static_cast<double>(hi), unit, doc, &SystemConfig::field));
#define TRNSIM_SYS_PARAM_ENUM(enum_key, values) \
  for (auto& p : t)                             \
    if (p.key == enum_key) p.choices = split_choices(values);
#include "config/system_params.def"
#undef TRNSIM_SYS_PARAM
#undef TRNSIM_SYS_PARAM_ENUM
  return t;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

const std::vector<SysParamInfo>& system_param_table() {
  static const std::vector<SysParamInfo> table = build_table();
  return table;
}

const SysParamInfo* find_system_param(std::string_view key) {
  for (const auto& p : system_param_table())
    if (p.key == key) return &p;
  return nullptr;
}

bool is_system_group(std::string_view prefix) {
  for (const auto& p : system_param_table())
    if (p.key.size() > prefix.size() && p.key.substr(0, prefix.size()) == prefix &&
        p.key[prefix.size()] == '.')
      return true;
  return false;
}

std::string closest_system_param_key(std::string_view key) {
  std::vector<std::string_view> keys;
  for (const auto& p : system_param_table()) keys.push_back(p.key);
  return closest_key(key, keys);
}

std::string_view system_param_type_name(SysParamType t) {
  switch (t) {
    case SysParamType::Int:
      return "int";
    case SysParamType::Float:
      return "float";
    case SysParamType::String:
      return "string";
    case SysParamType::IntList:
      return "int list";
    case SysParamType::FloatList:
      return "float list";
  }
  return "?";
}

std::string system_param_value_text(const SystemConfig& s, const SysParamInfo& p) {
  switch (p.type) {
    case SysParamType::Int:
      return fmt::format("{}", s.*p.int_field);
    case SysParamType::Float:
      return fmt::format("{}", s.*p.float_field);
    case SysParamType::String:
      return s.*p.string_field;
    case SysParamType::IntList:
      return fmt::format("[{}]", fmt::join(s.*p.int_list_field, ", "));
    case SysParamType::FloatList:
      return fmt::format("[{}]", fmt::join(s.*p.float_list_field, ", "));
  }
  return "";
}

std::string system_param_range_text(const SysParamInfo& p) {
  switch (p.type) {
    case SysParamType::Int:
    case SysParamType::IntList:
      return fmt::format("[{}, {}]", p.imin, p.imax);
    case SysParamType::Float:
    case SysParamType::FloatList:
      return fmt::format("[{}, {}]", p.min, p.max);
    case SysParamType::String:
      return fmt::format("{}", fmt::join(p.choices, "|"));
  }
  return "";
}

void set_system_param_from_items(SystemConfig& s, const SysParamInfo& p,
                                 const std::vector<std::string>& items,
                                 const std::vector<std::string>& wheres) {
  if (p.type == SysParamType::IntList) {
    std::vector<int64_t> v;
    for (size_t i = 0; i < items.size(); ++i)
      v.push_back(parse_int_value(p.key, items[i], p.imin, p.imax, wheres.at(i)));
    s.*p.int_list_field = std::move(v);
  } else if (p.type == SysParamType::FloatList) {
    std::vector<double> v;
    for (size_t i = 0; i < items.size(); ++i)
      v.push_back(parse_float_value(p.key, items[i], p.min, p.max, wheres.at(i)));
    s.*p.float_list_field = std::move(v);
  } else {
    throw std::logic_error(fmt::format("{} is not a list parameter", p.key));
  }
}

void set_system_param_from_text(SystemConfig& s, const SysParamInfo& p, std::string_view text,
                                const std::string& where) {
  switch (p.type) {
    case SysParamType::Int:
      s.*p.int_field = parse_int_value(p.key, text, p.imin, p.imax, where);
      return;
    case SysParamType::Float:
      s.*p.float_field = parse_float_value(p.key, text, p.min, p.max, where);
      return;
    case SysParamType::String:
      s.*p.string_field = parse_string_value(p.key, text, p.choices, where);
      return;
    case SysParamType::IntList:
    case SysParamType::FloatList:
      break;
  }
  std::string prefix = where.empty() ? "" : where + ": ";
  std::string_view body = trim(text);
  if (body.empty())
    throw InputError(
        fmt::format("{}key {}: expected a list such as [4, 4], got nothing", prefix, p.key));
  if (body.front() == '[' || body.back() == ']') {
    if (body.size() < 2 || body.front() != '[' || body.back() != ']')
      throw InputError(fmt::format("{}key {}: unbalanced brackets in '{}'", prefix, p.key, text));
    body = trim(body.substr(1, body.size() - 2));
  }
  std::vector<std::string> items;
  // "4x4" reads as a shape for integer lists only ("1e3" must stay a float).
  bool x_separates = p.type == SysParamType::IntList && body.find(',') == std::string_view::npos;
  char sep = x_separates ? 'x' : ',';
  while (!body.empty()) {
    size_t cut = body.find(sep);
    items.emplace_back(trim(body.substr(0, cut)));
    if (cut == std::string_view::npos) break;
    body.remove_prefix(cut + 1);
    if (trim(body).empty()) items.emplace_back();  // a trailing separator leaves an empty item
  }
  set_system_param_from_items(s, p, items, std::vector<std::string>(items.size(), where));
}

}  // namespace trnsim::config
