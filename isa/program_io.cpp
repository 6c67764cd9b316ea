#include "isa/program_io.h"

#include <fmt/format.h>

#include "isa/asm.h"
#include "isa/binary.h"
#include "support/error.h"
#include "support/file_util.h"

namespace trnsim::isa {
namespace {

enum class Format { Tasm, Tbin };

Format format_of(const std::string& path) {
  auto ends = [&](const char* ext) {
    size_t n = std::char_traits<char>::length(ext);
    return path.size() >= n && path.compare(path.size() - n, n, ext) == 0;
  };
  if (ends(".tasm")) return Format::Tasm;
  if (ends(".tbin")) return Format::Tbin;
  throw InputError(fmt::format("{}: unknown program file extension (expected .tasm or .tbin)", path));
}

}  // namespace

Program load_program(const std::string& path) {
  Format f = format_of(path);
  if (f == Format::Tasm) return assemble(read_text_file(path), path);
  return decode_program(read_binary_file(path), path);
}

void save_program(const Program& prog, const std::string& path) {
  Format f = format_of(path);
  // Check that what we write loads back: a program built in memory may hold values that the
  // formats cannot express (labels that are not identifiers, out-of-range operands).
  if (f == Format::Tasm) {
    std::string text = disassemble(prog);
    assemble(text, path + " (as written)");
    write_file_atomic(path, text);
  } else {
    std::vector<uint8_t> bin = encode_program(prog);
    check_encoding(bin.data(), bin.size(), path + " (as written)");
    write_file_atomic(path, bin.data(), bin.size());
  }
}

}  // namespace trnsim::isa
