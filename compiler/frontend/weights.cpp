// Deferred weights (weights.h): a scan of the protobuf wire format that copies a model without
// the bytes of its large float initializers, and the reads that fetch them on demand.
//
// Wire format (protobuf encoding): a message is a sequence of fields, each a varint key
// (field number << 3 | wire type) and a payload: varint (type 0), 8 bytes (1), a varint length
// and that many bytes (2), or 4 bytes (5). ModelProto.graph is field 7, GraphProto.initializer
// field 5, and in TensorProto dims is 1, data_type 2, name 8, raw_data 9, data_location 14.
#include "compiler/frontend/weights.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <onnx/onnx_pb.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "support/error.h"

namespace trnsim::compiler {

namespace {

constexpr uint32_t kModelGraph = 7, kGraphInitializer = 5;
constexpr uint32_t kTensorDims = 1, kTensorDataType = 2, kTensorName = 8, kTensorRawData = 9,
                   kTensorDataLocation = 14;
constexpr int kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5;
const std::string kPlaceholder(1, '\0');

struct Field {
  uint32_t number = 0;
  int type = 0;
  size_t start = 0;    // first byte of the key
  size_t payload = 0;  // first byte of the payload (after the length for type 2)
  size_t end = 0;      // one past the last byte
  uint64_t value = 0;  // type 0: the varint
};

// A cursor over [pos, end) of `d`; every read is bounds-checked and sets ok = false on failure.
class Scanner {
 public:
  Scanner(const uint8_t* d, size_t pos, size_t end) : d_(d), pos_(pos), end_(end) {}

  bool done() const { return pos_ >= end_; }

  bool varint(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= end_) return false;
      const uint8_t b = d_[pos_++];
      r |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) {
        *v = r;
        return true;
      }
    }
    return false;
  }

  bool next(Field* f) {
    f->start = pos_;
    uint64_t key = 0;
    if (!varint(&key) || (key >> 3) == 0 || (key >> 3) > UINT32_MAX) return false;
    f->number = static_cast<uint32_t>(key >> 3);
    f->type = static_cast<int>(key & 7);
    f->value = 0;
    switch (f->type) {
      case kVarint:
        if (!varint(&f->value)) return false;
        f->payload = pos_;
        break;
      case kFixed64:
      case kFixed32: {
        const size_t n = f->type == kFixed64 ? 8 : 4;
        if (end_ - pos_ < n) return false;
        f->payload = pos_;
        pos_ += n;
        break;
      }
      case kBytes: {
        uint64_t len = 0;
        if (!varint(&len) || len > end_ - pos_) return false;
        f->payload = pos_;
        pos_ += static_cast<size_t>(len);
        break;
      }
      default:
        return false;  // groups (types 3, 4) do not occur in ONNX
    }
    f->end = pos_;
    return true;
  }

 private:
  const uint8_t* d_;
  size_t pos_, end_;
};

void put_varint(std::string& out, uint64_t v) {
  do {
    uint8_t b = v & 0x7F;
    v >>= 7;
    out.push_back(static_cast<char>(b | (v ? 0x80 : 0)));
  } while (v);
}

void put_bytes_field(std::string& out, uint32_t number, const std::string& payload) {
  put_varint(out, (static_cast<uint64_t>(number) << 3) | kBytes);
  put_varint(out, payload.size());
  out += payload;
}

int64_t type_size(int onnx_type) {
  switch (onnx_type) {
    case onnx::TensorProto_DataType_FLOAT: return 4;
    case onnx::TensorProto_DataType_FLOAT16:
    case onnx::TensorProto_DataType_BFLOAT16: return 2;
    default: return 0;
  }
}

// One initializer: its bytes with raw_data emptied when it is a large float tensor whose raw
// bytes match its dims (else unchanged). False: malformed.
bool strip_tensor(const uint8_t* d, size_t begin, size_t end, const std::string& path,
                  WeightRefs* refs, std::string* out) {
  Scanner s(d, begin, end);
  Field f;
  int64_t elements = 1;
  bool overflow = false, external = false;
  int type = 0;
  std::string name;
  const Field* raw = nullptr;
  Field raw_field;
  while (!s.done()) {
    if (!s.next(&f)) return false;
    if (f.number == kTensorDims) {
      auto dim = [&](uint64_t v) {
        const int64_t x = static_cast<int64_t>(v);
        overflow = overflow || x < 0 || __builtin_mul_overflow(elements, x, &elements);
      };
      if (f.type == kVarint) {
        dim(f.value);
      } else if (f.type == kBytes) {  // packed
        Scanner p(d, f.payload, f.end);
        uint64_t v;
        while (!p.done())
          if (p.varint(&v)) dim(v);
          else return false;
      }
    } else if (f.number == kTensorDataType && f.type == kVarint) {
      type = static_cast<int>(f.value);
    } else if (f.number == kTensorName && f.type == kBytes) {
      name.assign(reinterpret_cast<const char*>(d + f.payload), f.end - f.payload);
    } else if (f.number == kTensorRawData && f.type == kBytes) {
      raw_field = f;
      raw = &raw_field;
    } else if (f.number == kTensorDataLocation && f.type == kVarint) {
      external = f.value == onnx::TensorProto_DataLocation_EXTERNAL;
    }
  }
  const int64_t es = type_size(type);
  const int64_t bytes = raw ? static_cast<int64_t>(raw->end - raw->payload) : 0;
  int64_t want = 0;
  const bool defer = raw && !external && es > 0 && !overflow && !name.empty() &&
                     bytes >= kDeferMinBytes && !__builtin_mul_overflow(elements, es, &want) &&
                     want == bytes && !refs->count(name);
  if (!defer) {
    out->append(reinterpret_cast<const char*>(d + begin), end - begin);
    return true;
  }
  // Every field as it was, raw_data cut to one placeholder byte in place (the ONNX checker
  // wants exactly one data field that is not empty; it does not compare its size with the dims).
  out->append(reinterpret_cast<const char*>(d + begin), raw->start - begin);
  put_varint(*out, (static_cast<uint64_t>(kTensorRawData) << 3) | kBytes);
  put_varint(*out, kPlaceholder.size());
  out->append(kPlaceholder);
  out->append(reinterpret_cast<const char*>(d + raw->end), end - raw->end);
  (*refs)[name] = WeightRef{path, static_cast<int64_t>(raw->payload), bytes, type};
  return true;
}

// A message whose field `number` (length-delimited) is rewritten by `rewrite`, the rest copied.
template <typename Rewrite>
bool rewrite_fields(const uint8_t* d, size_t begin, size_t end, uint32_t number,
                    Rewrite rewrite, std::string* out) {
  Scanner s(d, begin, end);
  Field f;
  while (!s.done()) {
    if (!s.next(&f)) return false;
    if (f.number == number && f.type == kBytes) {
      std::string inner;
      if (!rewrite(f.payload, f.end, &inner)) return false;
      put_bytes_field(*out, number, inner);
    } else {
      out->append(reinterpret_cast<const char*>(d + f.start), f.end - f.start);
    }
  }
  return true;
}

// Closes and unmaps on every path out.
struct Mapping {
  int fd = -1;
  void* p = MAP_FAILED;
  size_t n = 0;
  ~Mapping() {
    if (p != MAP_FAILED) ::munmap(p, n);
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

bool deferrable_type(int onnx_type) { return type_size(onnx_type) > 0; }

const std::string& weight_placeholder() { return kPlaceholder; }

std::optional<std::string> strip_weights(const std::string& path, WeightRefs* refs) {
  Mapping m;
  m.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m.fd < 0) return std::nullopt;
  struct stat st {};
  if (::fstat(m.fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return std::nullopt;
  m.n = static_cast<size_t>(st.st_size);
  m.p = ::mmap(nullptr, m.n, PROT_READ, MAP_PRIVATE, m.fd, 0);
  if (m.p == MAP_FAILED) return std::nullopt;
  ::madvise(m.p, m.n, MADV_RANDOM);  // no read-ahead into the weights around what we touch
  const auto* d = static_cast<const uint8_t*>(m.p);
  WeightRefs found;
  std::string out;
  auto graph = [&](size_t b, size_t e, std::string* g) {
    return rewrite_fields(
        d, b, e, kGraphInitializer,
        [&](size_t tb, size_t te, std::string* t) { return strip_tensor(d, tb, te, path, &found, t); },
        g);
  };
  if (!rewrite_fields(d, 0, m.n, kModelGraph, graph, &out)) return std::nullopt;
  *refs = std::move(found);
  return out;
}

Value deferred_weight(const WeightRef& ref, DType dtype, const Shape& shape,
                      const std::string& tensor_name, int64_t* bytes_read) {
  return Value::deferred(dtype, shape, [ref, dtype, tensor_name, bytes_read]() -> Elems {
    auto fail = [&](const std::string& why) {
      return InputError(fmt::format("{}: tensor '{}': cannot read its {} bytes at offset {}: {}",
                                    ref.path, tensor_name, ref.length, ref.offset, why));
    };
    const int fd = ::open(ref.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw fail(std::strerror(errno));
    auto raw = std::make_shared<std::string>(static_cast<size_t>(ref.length), '\0');
    int64_t done = 0;
    while (done < ref.length) {
      const ssize_t r = ::pread(fd, raw->data() + done, static_cast<size_t>(ref.length - done),
                                static_cast<off_t>(ref.offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        ::close(fd);
        throw fail(r == 0 ? "the file is shorter than when it was loaded" : std::strerror(errno));
      }
      done += r;
    }
    ::close(fd);
    if (bytes_read) *bytes_read += ref.length;
    if (dtype == DType::Fp32) return Elems::packed_fp32(std::move(raw));
    const int es = isa::dtype_size(dtype);
    std::vector<double> v(static_cast<size_t>(ref.length / es));
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = isa::load_as_float(dtype, reinterpret_cast<const uint8_t*>(raw->data()) + i * es);
    return Elems(std::move(v));
  });
}

}  // namespace trnsim::compiler
