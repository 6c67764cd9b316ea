// Reflection over config/system_params.def: one SysParamInfo per system parameter, for the system
// YAML loader, validation, `trnsim describe --system` and the generated docs/multichip.md table.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/system_config.h"

namespace trnsim::config {

enum class SysParamType { Int, Float, String, IntList, FloatList };

struct SysParamInfo {
  std::string_view key;    // dotted YAML key, e.g. "system.dims"
  std::string_view field;  // SystemConfig member name
  SysParamType type;
  std::string_view unit;
  std::string_view doc;
  double min = 0, max = 0;                // inclusive bounds of a Float (or of each FloatList item)
  int64_t imin = 0, imax = 0;             // inclusive bounds of an Int (or of each IntList item)
  std::vector<std::string_view> choices;  // allowed values of an enumerated String; empty = any
  // Exactly one of these is set, matching `type`.
  int64_t SystemConfig::*int_field = nullptr;
  double SystemConfig::*float_field = nullptr;
  std::string SystemConfig::*string_field = nullptr;
  std::vector<int64_t> SystemConfig::*int_list_field = nullptr;
  std::vector<double> SystemConfig::*float_list_field = nullptr;

  bool is_list() const { return type == SysParamType::IntList || type == SysParamType::FloatList; }
};

// Every system parameter, in system_params.def order.
const std::vector<SysParamInfo>& system_param_table();
// nullptr when `key` is not a system parameter.
const SysParamInfo* find_system_param(std::string_view key);
// True when `prefix` groups system parameters ("link" for link.*).
bool is_system_group(std::string_view prefix);
// The system key closest to `key` by edit distance, or "" when nothing is reasonably close.
std::string closest_system_param_key(std::string_view key);

// "int", "float", "string", "int list" or "float list".
std::string_view system_param_type_name(SysParamType t);
// The value as text: numbers as params.h does, lists as "[4, 4]" ("[]" when empty).
std::string system_param_value_text(const SystemConfig& s, const SysParamInfo& p);
// "[1, 4096]" for numbers and for the items of lists, "a|b|c" for enumerations, "" for strings.
std::string system_param_range_text(const SysParamInfo& p);

// Parses `text` as the parameter's type, checks range/choices and stores it. Lists are written
// "[4, 4]", "4,4" or (integer lists) "4x4"; "[]" is the empty list. On a problem throws
// InputError("<where>: key <key>: <what>").
void set_system_param_from_text(SystemConfig& s, const SysParamInfo& p, std::string_view text,
                                const std::string& where);
// Stores a list given item by item (a YAML sequence); wheres[i] names item i in messages.
void set_system_param_from_items(SystemConfig& s, const SysParamInfo& p,
                                 const std::vector<std::string>& items,
                                 const std::vector<std::string>& wheres);

}  // namespace trnsim::config
