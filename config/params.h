// Reflection over config/params.def: one ParamInfo per chip parameter, for the YAML loader,
// validation, `trnsim describe` and the generated docs table.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/chip_config.h"

namespace trnsim::config {

enum class ParamType { Int, Float, String };

struct ParamInfo {
  std::string_view key;        // dotted YAML key, e.g. "pe.rows"
  std::string_view field;      // ChipConfig member name
  ParamType type;
  std::string_view unit;
  std::string_view doc;
  double min = 0, max = 0;     // inclusive bounds for Float
  int64_t imin = 0, imax = 0;  // inclusive bounds for Int
  std::vector<std::string_view> choices;  // allowed values of an enumerated String; empty = any
  // Exactly one of these is set, matching `type`.
  int64_t ChipConfig::*int_field = nullptr;
  double ChipConfig::*float_field = nullptr;
  std::string ChipConfig::*string_field = nullptr;
};

// Every parameter, in params.def order.
const std::vector<ParamInfo>& param_table();
// nullptr when `key` is not a parameter.
const ParamInfo* find_param(std::string_view key);
// The known key closest to `key` by edit distance, or "" when nothing is reasonably close.
std::string closest_param_key(std::string_view key);

// The candidate closest to `key` by edit distance, or "" when nothing is reasonably close; a
// candidate whose last dotted part equals `key` ("rows" for "pe.rows") counts as close.
std::string closest_key(std::string_view key, const std::vector<std::string_view>& candidates);

// Parse one number of parameter `key`, checking the inclusive range; throw
// InputError("<where>: key <key>: <what>") on a problem. Shared with the system parameters.
int64_t parse_int_value(std::string_view key, std::string_view text, int64_t lo, int64_t hi,
                        const std::string& where);
double parse_float_value(std::string_view key, std::string_view text, double lo, double hi,
                         const std::string& where);
// A non-empty string, one of `choices` unless that is empty.
std::string parse_string_value(std::string_view key, std::string_view text,
                               const std::vector<std::string_view>& choices,
                               const std::string& where);

// "a,b,c" -> {"a", "b", "c"} (an enumerated parameter's choices).
std::vector<std::string_view> split_choices(std::string_view s);

// "int", "float" or "string".
std::string_view param_type_name(ParamType t);
// The value as text: integers in decimal, floats shortest round-trip, strings as is.
std::string param_value_text(const ChipConfig& c, const ParamInfo& p);
// "[1, 4096]" for numbers, "ws|os|is" for enumerations, "" for free strings.
std::string param_range_text(const ParamInfo& p);

// Parses `text` as the parameter's type, checks range/choices and stores it. On a problem,
// throws InputError("<where>: key <key>: <what>"), `where` naming the file and place.
void set_param_from_text(ChipConfig& c, const ParamInfo& p, std::string_view text,
                         const std::string& where);

}  // namespace trnsim::config
