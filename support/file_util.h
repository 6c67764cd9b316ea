// Whole-file reads and all-or-nothing writes (no half-written outputs on error).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace trnsim {

// Reads a whole file; throws InputError("PATH: cannot open: REASON") on failure.
std::string read_text_file(const std::string& path);
std::vector<uint8_t> read_binary_file(const std::string& path);

// Writes to PATH.tmp.PID then renames over PATH, so readers never see a partial file and a
// failure leaves nothing behind. Throws InputError naming PATH on failure.
void write_file_atomic(const std::string& path, const void* data, size_t size);
inline void write_file_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, text.data(), text.size());
}

// Replaces characters outside [A-Za-z0-9_.-] with '_' (output tensor names to file names).
std::string sanitize_file_name(const std::string& name);

}  // namespace trnsim
