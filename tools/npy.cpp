// .npy parsing and writing (see npy.h). The header is a Python dict literal; only the subset that
// NumPy writes is accepted: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }.
#include "tools/npy.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>

#include "support/error.h"
#include "support/file_util.h"

namespace trnsim::cli {
namespace {

using isa::DType;

struct DescrInfo {
  DType dtype;
  const char* descr;       // what we write
  const char* numpy_name;  // for messages
};

constexpr DescrInfo kDescrs[] = {
    {DType::Fp32, "<f4", "float32"}, {DType::Fp16, "<f2", "float16"},
    {DType::Int32, "<i4", "int32"},  {DType::Int64, "<i8", "int64"},
    {DType::Int8, "|i1", "int8"},    {DType::Uint8, "|u1", "uint8"},
    {DType::Bool, "|b1", "bool"},
};

const DescrInfo* info_for(DType t) {
  for (const auto& d : kDescrs)
    if (d.dtype == t) return &d;
  return nullptr;
}

// Plain-language names of common descrs we refuse, for the error message.
std::string descr_hint(std::string_view kind_size) {
  if (kind_size == "f8") return "float64 is not supported; save as float32 (a.astype(np.float32))";
  if (kind_size == "O") return "object arrays are not supported";
  return fmt::format("dtype '{}' is not supported (float32, float16, int32, int64, int8, uint8, "
                     "bool are)",
                     kind_size);
}

std::string shape_text(const std::vector<int64_t>& shape) {
  if (shape.empty()) return "scalar";
  return fmt::format("{}", fmt::join(shape, "x"));
}

class HeaderParser {
 public:
  HeaderParser(std::string_view h, const std::string& name) : h_(h), name_(name) {}

  void parse(std::string& descr, bool& fortran, std::vector<int64_t>& shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    expect('{');
    while (true) {
      ws();
      if (peek() == '}') break;
      std::string key = quoted();
      ws();
      expect(':');
      ws();
      if (key == "descr") {
        if (peek() == '[') fail("structured dtypes are not supported");
        descr = quoted();
        have_descr = true;
      } else if (key == "fortran_order") {
        if (word("True")) fortran = true;
        else if (word("False")) fortran = false;
        else fail("fortran_order must be True or False");
        have_fortran = true;
      } else if (key == "shape") {
        shape = tuple();
        have_shape = true;
      } else {
        fail(fmt::format("unexpected header key '{}'", key));
      }
      ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      ws();
      if (peek() != '}') fail("expected ',' or '}' in header");
    }
    if (!have_descr || !have_fortran || !have_shape)
      fail("header lacks one of 'descr', 'fortran_order', 'shape'");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(fmt::format("{}: bad header: {}", name_, what));
  }
  char peek() const { return pos_ < h_.size() ? h_[pos_] : '\0'; }
  void ws() {
    while (pos_ < h_.size() && (h_[pos_] == ' ' || h_[pos_] == '\t' || h_[pos_] == '\n')) ++pos_;
  }
  void expect(char c) {
    ws();
    if (peek() != c) fail(fmt::format("expected '{}'", c));
    ++pos_;
  }
  bool word(std::string_view w) {
    if (h_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  std::string quoted() {
    char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted string");
    size_t end = h_.find(q, pos_ + 1);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string s(h_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return s;
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> dims;
    expect('(');
    while (true) {
      ws();
      if (peek() == ')') {
        ++pos_;
        return dims;
      }
      if (peek() < '0' || peek() > '9') fail("shape must be a tuple of non-negative integers");
      int64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (v > (INT64_MAX - 9) / 10) fail("shape dimension too large");
        v = v * 10 + (peek() - '0');
        ++pos_;
      }
      if (peek() == 'L') ++pos_;  // Python 2 long suffix
      dims.push_back(v);
      if (dims.size() > 64) fail("more than 64 dimensions");
      ws();
      if (peek() == ',') ++pos_;
      else if (peek() != ')') fail("expected ',' or ')' in shape");
    }
  }

  std::string_view h_;
  const std::string& name_;
  size_t pos_ = 0;
};

uint32_t read_le(const uint8_t* p, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

int64_t NpyArray::num_elements() const {
  // A zero dim first: parse_npy accepts (2^31, 2^32, 0), whose partial products overflow.
  for (int64_t d : shape)
    if (d == 0) return 0;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

NpyArray parse_npy(const uint8_t* bytes, size_t size, const std::string& name) {
  static constexpr uint8_t kMagic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (size < 8 || std::memcmp(bytes, kMagic, 6) != 0)
    throw InputError(fmt::format("{}: not a .npy file (bad magic)", name));
  int major = bytes[6], minor = bytes[7];
  if (major < 1 || major > 3 || minor != 0)
    throw InputError(fmt::format("{}: unsupported .npy version {}.{}", name, major, minor));
  int len_bytes = major == 1 ? 2 : 4;
  size_t prefix = 8 + static_cast<size_t>(len_bytes);
  if (size < prefix) throw InputError(fmt::format("{}: truncated header", name));
  uint64_t header_len = read_le(bytes + 8, len_bytes);
  if (header_len > size - prefix)
    throw InputError(fmt::format("{}: truncated header: says {} bytes but {} follow", name,
                                 header_len, size - prefix));
  std::string_view header(reinterpret_cast<const char*>(bytes + prefix), header_len);

  std::string descr;
  bool fortran = false;
  NpyArray a;
  HeaderParser(header, name).parse(descr, fortran, a.shape);
  if (fortran) throw InputError(fmt::format("{}: Fortran-order arrays are not supported", name));
  if (descr.size() < 2) throw InputError(fmt::format("{}: bad dtype descr '{}'", name, descr));
  char order = descr[0];
  std::string kind_size = descr.substr(1);
  if (order == '>' && kind_size != "i1" && kind_size != "u1" && kind_size != "b1")
    throw InputError(fmt::format("{}: big-endian dtype '{}' is not supported", name, descr));
  if (order != '<' && order != '=' && order != '|' && order != '>')
    kind_size = descr;  // e.g. "O" has no byte-order mark in some writers
  const DescrInfo* info = nullptr;
  for (const auto& d : kDescrs) {
    std::string_view ks = std::string_view(d.descr).substr(1);
    bool one_byte = ks.back() == '1';
    if (ks == kind_size && (order != '|' || one_byte)) info = &d;
  }
  if (!info) throw InputError(fmt::format("{}: {}", name, descr_hint(kind_size)));
  a.dtype = info->dtype;

  // Check the size before allocating anything from header numbers.
  uint64_t count = 1;
  bool overflow = false;
  for (int64_t d : a.shape)
    overflow = overflow || __builtin_mul_overflow(count, static_cast<uint64_t>(d), &count);
  uint64_t nbytes = 0;
  overflow = overflow ||
             __builtin_mul_overflow(count, static_cast<uint64_t>(isa::dtype_size(a.dtype)), &nbytes);
  size_t data_off = prefix + header_len;
  size_t avail = size - data_off;
  if (overflow)
    throw InputError(fmt::format("{}: header says {} {}, whose byte size overflows", name,
                                 shape_text(a.shape), info->numpy_name));
  if (nbytes != avail)
    throw InputError(fmt::format("{}: {}: header says {} {} ({} bytes) but {} bytes follow", name,
                                 nbytes > avail ? "truncated" : "trailing data",
                                 shape_text(a.shape), info->numpy_name, nbytes, avail));
  a.data.assign(bytes + data_off, bytes + size);
  return a;
}

NpyArray read_npy(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw InputError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::vector<uint8_t> bytes;
  // Reserve from the real file size (never from header numbers).
  if (std::fseek(f.get(), 0, SEEK_END) == 0) {
    long end = std::ftell(f.get());
    if (end > 0) bytes.reserve(static_cast<size_t>(end));
    std::rewind(f.get());
  }
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) bytes.insert(bytes.end(), buf, buf + n);
  if (std::ferror(f.get())) throw InputError(fmt::format("{}: read error", path));
  return parse_npy(bytes.data(), bytes.size(), path);
}

std::vector<uint8_t> encode_npy(const NpyArray& a_in) {
  const NpyArray* a = &a_in;
  NpyArray widened;
  if (!info_for(a->dtype)) {
    bool exact_in_fp32 = a->dtype == DType::Bf16 || a->dtype == DType::Fp8e4m3 ||
                         a->dtype == DType::Fp8e5m2;
    if (!exact_in_fp32)
      throw InputError(fmt::format("cannot write {} as .npy", isa::dtype_name(a->dtype)));
    int64_t n = a_in.num_elements();
    int in_size = isa::dtype_size(a_in.dtype);
    if (a_in.data.size() != static_cast<size_t>(n) * in_size)
      throw InputError(fmt::format("npy: {} elements of {} need {} bytes, data has {}", n,
                                   isa::dtype_name(a_in.dtype), n * in_size, a_in.data.size()));
    widened.dtype = DType::Fp32;
    widened.shape = a_in.shape;
    widened.data.resize(static_cast<size_t>(n) * 4);
    for (int64_t i = 0; i < n; ++i)
      isa::store_from_float(DType::Fp32, isa::load_as_float(a_in.dtype, &a_in.data[i * in_size]),
                            &widened.data[i * 4]);
    a = &widened;
  }
  const DescrInfo* info = info_for(a->dtype);
  int64_t n = a->num_elements();
  for (int64_t d : a->shape)
    if (d < 0) throw InputError("npy: negative dimension in shape");
  if (a->data.size() != static_cast<size_t>(n) * isa::dtype_size(a->dtype))
    throw InputError(fmt::format("npy: shape {} of {} needs {} bytes, data has {}",
                                 shape_text(a->shape), info->numpy_name,
                                 n * isa::dtype_size(a->dtype), a->data.size()));
  std::string shape;
  for (int64_t d : a->shape) shape += fmt::format("{}, ", d);
  if (a->shape.size() > 1) shape.resize(shape.size() - 2);  // (3,) keeps its comma
  else if (a->shape.size() == 1) shape.pop_back();
  std::string header =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", info->descr, shape);
  // Pad with spaces so the data starts on a 64-byte boundary; the header ends in '\n'.
  bool v2 = header.size() + 1 + 10 > 65535;
  size_t prefix = v2 ? 12 : 10;
  size_t total = prefix + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(v2 ? 2 : 1), 0};
  uint32_t hl = static_cast<uint32_t>(header.size());
  for (size_t i = 0; i < prefix - 8; ++i) out.push_back(static_cast<uint8_t>(hl >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), a->data.begin(), a->data.end());
  return out;
}

void write_npy(const std::string& path, const NpyArray& a) {
  std::vector<uint8_t> bytes;
  try {
    bytes = encode_npy(a);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", path, e.what()));
  }
  write_file_atomic(path, bytes.data(), bytes.size());
}

}  // namespace trnsim::cli
