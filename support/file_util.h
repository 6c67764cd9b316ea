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

// File name stems for a list of tensor names: sanitize_file_name of each, except that a stem
// already given to an earlier name gets the first free ".2", ".3", ... ("a:b", "a/b" ->
// "a_b", "a_b.2"). A suffixed stem never takes another name's plain stem, so every name's
// file is the same whatever the list's other names are, unless it collides.
std::vector<std::string> unique_file_stems(const std::vector<std::string>& names);

}  // namespace trnsim
