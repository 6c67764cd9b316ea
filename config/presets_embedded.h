// The preset files config/presets/*.yaml (chips) and config/systems/*.yaml (systems), compiled
// into the library by config/embed_presets.cmake.
#pragma once

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

}  // namespace trnsim::config
