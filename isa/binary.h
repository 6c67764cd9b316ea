// Binary program format (.tbin): compact encode and a bounds-checked decode.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "isa/program.h"

namespace trnsim::isa {

// Version 2 added tensors' external names and const tensors without data (timing-only
// programs); version 1 files still decode.
constexpr uint16_t kTbinVersion = 2;

// Encodes a program. Throws InputError when the program cannot be represented (an operand
// value out of its encodable range, a label that is not an identifier, ...).
std::vector<uint8_t> encode_program(const Program& prog);

// Decodes a .tbin image. Never reads past `size`, never allocates more than the input can
// describe; throws InputError "FILE: truncated .tbin at byte N" / "FILE: corrupt .tbin at
// byte N: WHAT" / "FILE: unsupported .tbin version N (this trnsim reads 1 to 2)".
// With keep_const_data = false, const tensors are left without their bytes (`absent`), which
// are skipped, not read: a timing-only run loads a large program without its weights.
Program decode_program(const uint8_t* data, size_t size, const std::string& file_name,
                       bool keep_const_data = true);
inline Program decode_program(const std::vector<uint8_t>& bytes, const std::string& file_name) {
  return decode_program(bytes.data(), bytes.size(), file_name);
}

// Checks a .tbin image exactly as decode_program does (same errors), without building the
// program's copy of the tensor data.
void check_encoding(const uint8_t* data, size_t size, const std::string& file_name);

}  // namespace trnsim::isa
