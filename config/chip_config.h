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
// The YAML text of a built-in preset (config/presets/NAME.yaml, compiled in); throws InputError
// listing the presets when `name` is not one.
const char* preset_yaml(const std::string& name);

// `spec` is a preset name or a YAML file path; `sets` are "key=value" overrides applied last.
// Throws InputError naming the file and key on any problem.
// An empty spec means trn1. A YAML file holds `preset: NAME` (optional, default trn1) and keys,
// nested (`pe: {rows: 64}`) or dotted (`pe.rows: 64`).
ChipConfig load_chip(const std::string& spec, const std::vector<std::string>& sets = {});

// One chip parameter override that names its own place in messages: a system file's `chip_set:`
// entry ("sys.yaml:4:9") or a --set routed to the chip ("--set pe.rows=64").
struct ChipOverride {
  std::string key, value, where;
};
// As load_chip, with overrides applied last in order; cross-parameter errors blame the override
// that set an involved key, as for --set.
ChipConfig load_chip_overridden(const std::string& spec,
                                const std::vector<ChipOverride>& overrides);

// Cross-parameter checks (pe.rows <= sbuf.partitions, SBUF holds one fp32 tile, ...), run by
// load_chip. For callers that edit fields directly (sweeps); `where` prefixes the message.
void validate_chip(const ChipConfig& c, const std::string& where = "");
// One line per cross-parameter rule that validate_chip enforces (for docs/config.md).
std::vector<std::string> validation_rule_docs();

}  // namespace trnsim::config
