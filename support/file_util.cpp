#include "support/file_util.h"

#include <fmt/format.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "support/error.h"

namespace trnsim {

namespace {

// Reads the whole file into `out` (std::string or std::vector<uint8_t>) with one buffer of the
// file's size when it is a regular file: a model of hundreds of MB is not copied around.
template <typename Buf>
void read_whole_file(const std::string& path, Buf& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  struct stat st {};
  size_t cap = 1 << 16;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) cap = static_cast<size_t>(st.st_size) + 1;
  out.resize(cap);
  size_t n = 0;
  for (;;) {
    if (n == out.size()) out.resize(out.size() * 2);  // the file grew, or not a regular file
    ssize_t r = ::read(fd, &out[n], out.size() - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EISDIR) break;  // a directory reads as empty (as std::ifstream did)
    if (r < 0) {
      ::close(fd);
      throw InputError(fmt::format("{}: read error", path));
    }
    if (r == 0) break;
    n += static_cast<size_t>(r);
  }
  ::close(fd);
  out.resize(n);
}

}  // namespace

std::string read_text_file(const std::string& path) {
  std::string s;
  read_whole_file(path, s);
  return s;
}

std::vector<uint8_t> read_binary_file(const std::string& path) {
  std::vector<uint8_t> v;
  read_whole_file(path, v);
  return v;
}

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw InputError(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
  bool ok = size == 0 || std::fwrite(data, 1, size, f) == size;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    throw InputError(fmt::format("{}: cannot write: {}", path, std::strerror(err)));
  }
}

std::string sanitize_file_name(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) c = '_';
  }
  return out;
}

std::vector<std::string> unique_file_stems(const std::vector<std::string>& names) {
  std::set<std::string> plain;
  for (const auto& n : names) plain.insert(sanitize_file_name(n));
  std::set<std::string> used;
  std::vector<std::string> stems;
  for (const auto& n : names) {
    std::string s = sanitize_file_name(n);
    if (used.count(s)) {
      std::string base = s;
      for (int k = 2; used.count(s) || plain.count(s); ++k) s = fmt::format("{}.{}", base, k);
    }
    used.insert(s);
    stems.push_back(s);
  }
  return stems;
}

}  // namespace trnsim
