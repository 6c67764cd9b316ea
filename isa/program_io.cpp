#include "isa/program_io.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

Program load_program(const std::string& path, bool const_data) {
  Format f = format_of(path);
  if (f == Format::Tasm) return assemble(read_text_file(path), path);
  if (!const_data) {
    // Mapped, so the pages that hold only const data are never read.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      const size_t n = static_cast<size_t>(st.st_size);
      void* p = ::mmap(nullptr, n, PROT_READ, MAP_PRIVATE, fd, 0);
      ::close(fd);
      if (p != MAP_FAILED) {
        ::madvise(p, n, MADV_RANDOM);
        try {
          Program prog = decode_program(static_cast<const uint8_t*>(p), n, path, false);
          ::munmap(p, n);
          return prog;
        } catch (...) {
          ::munmap(p, n);
          throw;
        }
      }
    } else if (fd >= 0) {
      ::close(fd);
    }
  }
  const std::vector<uint8_t> bytes = read_binary_file(path);
  return decode_program(bytes.data(), bytes.size(), path, const_data);
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
