// The chip configuration: every parameter of params.def as a typed field, loaded from presets,
// YAML files and --set overrides.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "isa/target.h"

namespace trnsim::config {

struct ChipConfig {
#define TRNSIM_PARAM(field, key, type, def, lo, hi, unit, doc) TRNSIM_PARAM_TYPE_##type field = def;
#define TRNSIM_PARAM_TYPE_Int int64_t
#define TRNSIM_PARAM_TYPE_Float double
#define TRNSIM_PARAM_TYPE_String std::string
#include "config/params.def"
#undef TRNSIM_PARAM

  // The software-visible part, for the compiler and program validation.
  isa::Target target() const;
};

// Names of the built-in presets (trn1, inf2, trn2, tiny).
std::vector<std::string> preset_names();

// `spec` is a preset name or a YAML file path; `sets` are "key=value" overrides applied last.
// Throws InputError naming the file and key on any problem.
ChipConfig load_chip(const std::string& spec, const std::vector<std::string>& sets = {});

}  // namespace trnsim::config
