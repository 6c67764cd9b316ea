// The preset files config/presets/*.yaml (chips) and config/systems/*.yaml (systems), compiled
// into the library by config/embed_presets.cmake.
#pragma once

#include <string>
#include <vector>

namespace trnsim::config {

struct EmbeddedPreset {
  const char* name;  // file name without .yaml
  const char* yaml;  // the file's text
};

// In the order of TRNSIM_PRESETS in the top-level CMakeLists.txt. Defined in the generated
// <build>/generated/config/presets_embedded.cpp.
extern const EmbeddedPreset kEmbeddedPresets[];
extern const int kNumEmbeddedPresets;
// System presets, in the order of TRNSIM_SYSTEMS; in <build>/generated/config/systems_embedded.cpp.
extern const EmbeddedPreset kEmbeddedSystems[];
extern const int kNumEmbeddedSystems;

// The names of a list of embedded presets, in order.
std::vector<std::string> embedded_names(const EmbeddedPreset* list, int count);
// The YAML text of preset `name` of the list; throws InputError "unknown <what> 'name'
// (<plural>: a, b, c)" when it is not one.
const char* embedded_yaml(const EmbeddedPreset* list, int count, const std::string& name,
                          const char* what, const char* plural);

}  // namespace trnsim::config
