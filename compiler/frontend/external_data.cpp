// ONNX external data (external_data.h): side files read into raw_data, every size checked first.
#include "compiler/frontend/external_data.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <string>

#include "support/error.h"

namespace trnsim::compiler {

namespace {

// Bytes per element of the dtypes the loader supports; 0 for the others.
int64_t element_bytes(int onnx_type) {
  switch (onnx_type) {
    case onnx::TensorProto_DataType_FLOAT:
    case onnx::TensorProto_DataType_INT32: return 4;
    case onnx::TensorProto_DataType_FLOAT16:
    case onnx::TensorProto_DataType_BFLOAT16: return 2;
    case onnx::TensorProto_DataType_INT8:
    case onnx::TensorProto_DataType_UINT8:
    case onnx::TensorProto_DataType_BOOL: return 1;
    case onnx::TensorProto_DataType_INT64: return 8;
    default: return 0;
  }
}

// A decimal count: digits only, no sign, fits int64.
bool parse_count(const std::string& s, int64_t* v) {
  if (s.empty() || s.size() > 18) return false;
  int64_t r = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    r = r * 10 + (c - '0');
  }
  *v = r;
  return true;
}

// Closes the descriptor on every path out.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void load_tensor(onnx::TensorProto& tp, const std::string& dir, const std::string& src,
                 WeightRefs* defer = nullptr) {
  std::string location, offset_s, length_s;
  bool has_offset = false, has_length = false;
  for (const auto& kv : tp.external_data()) {
    if (kv.key() == "location") location = kv.value();
    if (kv.key() == "offset") offset_s = kv.value(), has_offset = true;
    if (kv.key() == "length") length_s = kv.value(), has_length = true;
  }  // "checksum" (SHA-1 of the bytes) is optional and not verified, as in onnx.load
  const std::string where = fmt::format("{}: tensor '{}'", src, tp.name());
  if (location.empty())
    throw InputError(where + ": external data without a 'location'");
  const std::string file = fmt::format("external data file '{}'", location);
  if (location[0] == '/')
    throw InputError(fmt::format("{}: {} is an absolute path; it must be relative to the "
                                 "model's directory", where, file));
  for (size_t b = 0; b <= location.size();) {
    size_t e = location.find('/', b);
    if (e == std::string::npos) e = location.size();
    if (location.compare(b, e - b, "..") == 0 && e - b == 2)
      throw InputError(fmt::format("{}: {} leaves the model's directory ('..')", where, file));
    b = e + 1;
  }
  const int64_t es = element_bytes(tp.data_type());
  if (es == 0)
    throw InputError(fmt::format(
        "{}: has unsupported dtype {} ({})", where,
        onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(tp.data_type())),
        file));
  // The bytes the dims claim, without overflow (dims alone may claim 2^40 elements).
  int64_t n = 1;
  for (int64_t d : tp.dims()) {
    if (d < 0) throw InputError(where + ": has a negative dimension");
    if (d != 0 && n > INT64_MAX / es / d)
      throw InputError(fmt::format("{}: dims claim more than 2^63 bytes ({})", where, file));
    n *= d;
  }
  const int64_t need = n * es;
  int64_t offset = 0, length = -1;
  if (has_offset && !parse_count(offset_s, &offset))
    throw InputError(fmt::format("{}: {}: offset '{}' is not a byte count", where, file,
                                 offset_s));
  if (has_length && !parse_count(length_s, &length))
    throw InputError(fmt::format("{}: {}: length '{}' is not a byte count", where, file,
                                 length_s));
  const std::string path = dir + "/" + location;
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0)
    throw InputError(fmt::format("{}: {}: cannot open: {}", where, file, std::strerror(errno)));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode))
    throw InputError(fmt::format("{}: {} is not a regular file", where, file));
  const int64_t size = st.st_size;
  if (offset > size)
    throw InputError(fmt::format("{}: {} is {} bytes; offset {} is beyond its end", where, file,
                                 size, offset));
  if (length < 0) length = size - offset;
  else if (length > size - offset)
    throw InputError(fmt::format("{}: {} is {} bytes; offset {} + length {} is beyond its end",
                                 where, file, size, offset, length));
  if (length != need)
    throw InputError(fmt::format("{}: {} gives {} bytes, the dims ({} elements of {} bytes) "
                                 "need {}", where, file, length, n, es, need));
  if (defer && deferrable_type(tp.data_type()) && length >= kDeferMinBytes && !tp.name().empty() &&
      !defer->count(tp.name())) {
    (*defer)[tp.name()] = WeightRef{path, offset, length, tp.data_type()};
    tp.set_raw_data(weight_placeholder());  // as for deferred inline weights
    tp.clear_external_data();
    tp.set_data_location(onnx::TensorProto_DataLocation_DEFAULT);
    return;
  }
  std::string* raw = tp.mutable_raw_data();
  raw->resize(static_cast<size_t>(length));
  int64_t done = 0;
  while (done < length) {
    const ssize_t r = ::pread(f.fd, raw->data() + done, static_cast<size_t>(length - done),
                              static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0)
      throw InputError(fmt::format("{}: {}: read error at byte {}", where, file, offset + done));
    done += r;
  }
  tp.clear_external_data();
  tp.set_data_location(onnx::TensorProto_DataLocation_DEFAULT);
}

void load_graph(onnx::GraphProto& g, const std::string& dir, const std::string& src);

void load_attr(onnx::AttributeProto& a, const std::string& dir, const std::string& src) {
  if (a.has_t() && a.t().data_location() == onnx::TensorProto_DataLocation_EXTERNAL)
    load_tensor(*a.mutable_t(), dir, src);
  for (auto& t : *a.mutable_tensors())
    if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL) load_tensor(t, dir, src);
  if (a.has_g()) load_graph(*a.mutable_g(), dir, src);
  for (auto& sg : *a.mutable_graphs()) load_graph(sg, dir, src);
}

void load_graph(onnx::GraphProto& g, const std::string& dir, const std::string& src) {
  for (auto& t : *g.mutable_initializer())
    if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL) load_tensor(t, dir, src);
  for (auto& node : *g.mutable_node())
    for (auto& a : *node.mutable_attribute()) load_attr(a, dir, src);
}

}  // namespace

namespace {

void collect_graph(const onnx::GraphProto& g, const std::string& dir,
                   std::vector<std::string>* files);

void collect_tensor(const onnx::TensorProto& t, const std::string& dir,
                    std::vector<std::string>* files) {
  if (t.data_location() != onnx::TensorProto_DataLocation_EXTERNAL) return;
  for (const auto& kv : t.external_data()) {
    if (kv.key() != "location") continue;
    const std::string f = dir + "/" + kv.value();
    if (std::find(files->begin(), files->end(), f) == files->end()) files->push_back(f);
  }
}

void collect_graph(const onnx::GraphProto& g, const std::string& dir,
                   std::vector<std::string>* files) {
  for (const auto& t : g.initializer()) collect_tensor(t, dir, files);
  for (const auto& node : g.node())
    for (const auto& a : node.attribute()) {
      if (a.has_t()) collect_tensor(a.t(), dir, files);
      for (const auto& t : a.tensors()) collect_tensor(t, dir, files);
      if (a.has_g()) collect_graph(a.g(), dir, files);
      for (const auto& sg : a.graphs()) collect_graph(sg, dir, files);
    }
}

}  // namespace

std::vector<std::string> external_data_files(const onnx::ModelProto& model,
                                             const std::string& model_dir) {
  std::vector<std::string> files;
  if (model.has_graph()) collect_graph(model.graph(), model_dir, &files);
  return files;
}

std::string model_dir_of(const std::string& path) {
  const size_t p = path.rfind('/');
  if (p == std::string::npos) return ".";
  if (p == 0) return "/";
  return path.substr(0, p);
}

void load_external_data(onnx::ModelProto& model, const std::string& model_dir,
                        const std::string& src, WeightRefs* defer) {
  if (!model.has_graph()) return;
  if (defer)  // the main graph's initializers first, so that load_graph finds them done
    for (auto& t : *model.mutable_graph()->mutable_initializer())
      if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL)
        load_tensor(t, model_dir, src, defer);
  load_graph(*model.mutable_graph(), model_dir, src);
}

}  // namespace trnsim::compiler
