// Helpers shared by the libFuzzer targets: expected-error wrapper and private temp files.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "support/error.h"

namespace trnsim::fuzz {

// Runs `body`; trnsim::InputError and trnsim::SimFault are the expected answers to bad input.
// Anything else (another exception, a crash, a sanitizer report) escapes and libFuzzer
// records the input as a crash.
template <typename F>
void expect_clean(F&& body) {
  try {
    body();
  } catch (const InputError&) {
  } catch (const SimFault&) {
  }
}

// A file name private to this process (fuzzers may run as several jobs), created once per
// process and overwritten by every input. `ext` selects how the loader reads it.
inline std::string temp_path(const char* stem, const char* ext) {
  return "/tmp/trnsim_fuzz_" + std::string(stem) + "_" + std::to_string(::getpid()) + ext;
}

// Writes `data` to `path` with plain stdio (no atomic rename: speed matters here).
inline void write_bytes(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
}

}  // namespace trnsim::fuzz
