#include "compiler/frontend/onnx_loader.h"
#include "compiler/frontend/einsum.h"
#include "compiler/frontend/external_data.h"
#include "compiler/frontend/inline_if.h"

#include <fmt/format.h>
#include <fcntl.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <set>

#include "compiler/ops/op_table.h"
#include "isa/asm.h"
#include "support/error.h"
#include "support/file_util.h"

namespace trnsim::compiler {

namespace {

constexpr int kMinOpset = 7;  // the model zoo's opset-7/8 CNNs (ResNet, MobileNet, ...)
constexpr int kMaxOpset = 17;
constexpr size_t kMaxModelBytes = size_t{2} << 30;  // protobuf's hard limit

std::string first_line(const std::string& s) {
  auto p = s.find('\n');
  return p == std::string::npos ? s : s.substr(0, p);
}

std::optional<DType> map_dtype(int onnx_type) {
  switch (onnx_type) {
    case onnx::TensorProto_DataType_FLOAT: return DType::Fp32;
    case onnx::TensorProto_DataType_FLOAT16: return DType::Fp16;
    case onnx::TensorProto_DataType_BFLOAT16: return DType::Bf16;
    case onnx::TensorProto_DataType_INT8: return DType::Int8;
    case onnx::TensorProto_DataType_UINT8: return DType::Uint8;
    case onnx::TensorProto_DataType_INT32: return DType::Int32;
    case onnx::TensorProto_DataType_INT64: return DType::Int64;
    case onnx::TensorProto_DataType_BOOL: return DType::Bool;
    default: return std::nullopt;
  }
}

std::string onnx_type_name(int t) {
  return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(t));
}

// `take_raw`, when given, is tp's own raw_data, which an fp32 tensor takes over (packed, no
// copy); tp is left without it.
Value tensor_value(const onnx::TensorProto& tp, const std::string& where,
                   std::string* take_raw = nullptr) {
  auto dt = map_dtype(tp.data_type());
  if (!dt) throw InputError(fmt::format("{}: tensor '{}' has unsupported dtype {}", where,
                                        tp.name(), onnx_type_name(tp.data_type())));
  if (tp.data_location() == onnx::TensorProto_DataLocation_EXTERNAL)
    throw InputError(fmt::format("{}: tensor '{}' uses external data (not supported)", where,
                                 tp.name()));
  Shape s(tp.dims().begin(), tp.dims().end());
  auto bad = [&]() {
    return InputError(fmt::format("{}: tensor '{}' holds the wrong number of elements", where,
                                  tp.name()));
  };
  // Count the elements the dims claim without overflow, and compare with the data the file
  // really holds before allocating: dims alone may claim 2^40 elements.
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0)
      throw InputError(fmt::format("{}: tensor '{}' has a negative dimension", where, tp.name()));
    if (d != 0 && n > INT64_MAX / d) throw bad();
    n *= d;
  }
  const int es = isa::dtype_size(*dt);
  int64_t held;
  if (tp.has_raw_data()) held = static_cast<int64_t>(tp.raw_data().size() / es);
  else if (tp.data_type() == onnx::TensorProto_DataType_FLOAT) held = tp.float_data_size();
  else if (tp.data_type() == onnx::TensorProto_DataType_INT64) held = tp.int64_data_size();
  else held = tp.int32_data_size();
  if (n != held) throw bad();
  if (take_raw && *dt == DType::Fp32 && tp.has_raw_data()) {
    if (static_cast<int64_t>(take_raw->size()) != n * es) throw bad();
    Value v;
    v.dtype = *dt;
    v.shape = s;
    v.data = Elems::packed_fp32(std::make_shared<const std::string>(std::move(*take_raw)));
    return v;
  }
  Value v(*dt, s);
  if (tp.has_raw_data()) {
    const std::string& raw = tp.raw_data();
    if (static_cast<int64_t>(raw.size()) != n * es) throw bad();
    const auto* p = reinterpret_cast<const uint8_t*>(raw.data());
    if (*dt == DType::Fp32) {  // the common case (weights): no per-element dispatch
      for (int64_t i = 0; i < n; ++i) {
        float f;
        std::memcpy(&f, p + i * 4, 4);
        v.data[i] = f;
      }
    } else if (isa::dtype_is_float(*dt)) {
      for (int64_t i = 0; i < n; ++i) v.data[i] = isa::load_as_float(*dt, p + i * es);
    } else {
      for (int64_t i = 0; i < n; ++i) v.data.set_int(i, isa::load_as_int(*dt, p + i * es));
    }
    return v;
  }
  switch (tp.data_type()) {
    case onnx::TensorProto_DataType_FLOAT:
      if (tp.float_data_size() != n) throw bad();
      for (int64_t i = 0; i < n; ++i) v.data[i] = tp.float_data(i);
      break;
    case onnx::TensorProto_DataType_INT64:
      if (tp.int64_data_size() != n) throw bad();
      for (int64_t i = 0; i < n; ++i) v.data.set_int(i, tp.int64_data(i));
      break;
    case onnx::TensorProto_DataType_FLOAT16:
    case onnx::TensorProto_DataType_BFLOAT16: {
      if (tp.int32_data_size() != n) throw bad();
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h = static_cast<uint16_t>(tp.int32_data(i));
        v.data[i] = *dt == DType::Fp16 ? isa::fp16_to_float(h) : isa::bf16_to_float(h);
      }
      break;
    }
    default:
      if (tp.int32_data_size() != n) throw bad();
      for (int64_t i = 0; i < n; ++i) v.data[i] = tp.int32_data(i);
  }
  return v;
}

Attr convert_attr(const onnx::AttributeProto& a, const std::string& where) {
  Attr r;
  switch (a.type()) {
    case onnx::AttributeProto_AttributeType_INT: r.kind = Attr::Kind::Int; r.i = a.i(); break;
    case onnx::AttributeProto_AttributeType_FLOAT: r.kind = Attr::Kind::Float; r.f = a.f(); break;
    case onnx::AttributeProto_AttributeType_STRING: r.kind = Attr::Kind::String; r.s = a.s(); break;
    case onnx::AttributeProto_AttributeType_INTS:
      r.kind = Attr::Kind::Ints;
      r.ints.assign(a.ints().begin(), a.ints().end());
      break;
    case onnx::AttributeProto_AttributeType_FLOATS:
      r.kind = Attr::Kind::Floats;
      r.floats.assign(a.floats().begin(), a.floats().end());
      break;
    case onnx::AttributeProto_AttributeType_TENSOR:
      r.kind = Attr::Kind::Tensor;
      r.t = tensor_value(a.t(), where);
      break;
    default:
      throw InputError(fmt::format("{}: attribute '{}' has an unsupported type", where, a.name()));
  }
  return r;
}

// Turns Constant's value_float/value_ints/... into one "value" tensor attribute.
void normalize_constant(Node& n, const std::string& where) {
  Attr v;
  v.kind = Attr::Kind::Tensor;
  if (n.has_attr("value")) return;
  if (n.has_attr("value_float")) v.t = Value(DType::Fp32, {}), v.t.data[0] = n.attrs["value_float"].f;
  else if (n.has_attr("value_int")) v.t = Value(DType::Int64, {}), v.t.data[0] = n.attrs["value_int"].i;
  else if (n.has_attr("value_floats")) {
    const auto& f = n.attrs["value_floats"].floats;
    v.t = Value(DType::Fp32, {static_cast<int64_t>(f.size())});
    for (size_t i = 0; i < f.size(); ++i) v.t.data[i] = f[i];
  } else if (n.has_attr("value_ints")) {
    const auto& f = n.attrs["value_ints"].ints;
    v.t = Value(DType::Int64, {static_cast<int64_t>(f.size())});
    for (size_t i = 0; i < f.size(); ++i) v.t.data[i] = static_cast<double>(f[i]);
  } else {
    throw InputError(where + ": Constant without a supported value attribute");
  }
  n.attrs.clear();
  n.attrs["value"] = v;
}

// The data shape given for input `name`: by its name, else by its identifier form.
const DataShape* find_data_shape(const std::map<std::string, DataShape>& data_shapes,
                                 const std::string& name) {
  auto it = data_shapes.find(name);
  if (it == data_shapes.end()) it = data_shapes.find(isa::to_identifier(name));
  return it == data_shapes.end() ? nullptr : &it->second;
}

// Pins the symbolic dims of the graph inputs in the proto (before shape inference): from
// --shape, else from the input's data.
void pin_input_shapes(onnx::GraphProto& g, const std::set<std::string>& inits,
                      const LoadOptions& opts, const std::string& src) {
  std::set<std::string> names;
  for (const auto& in : g.input())
    if (!inits.count(in.name())) names.insert(in.name());
  for (const auto& [name, s] : opts.shapes)
    if (!names.count(name))
      throw InputError(fmt::format("{}: --shape names '{}', which is not an input of the model",
                                   src, name));
  for (auto& in : *g.mutable_input()) {
    if (inits.count(in.name())) continue;
    if (!in.type().has_tensor_type())
      throw InputError(fmt::format("{}: input '{}' is not a tensor", src, in.name()));
    auto* tt = in.mutable_type()->mutable_tensor_type();
    const Shape* pin = nullptr;
    std::string what;  // where the pinned shape comes from, for messages
    if (auto it = opts.shapes.find(in.name()); it != opts.shapes.end()) {
      pin = &it->second;
      what = "--shape " + in.name();
    } else if (const DataShape* ds = find_data_shape(opts.data_shapes, in.name())) {
      pin = &ds->shape;
      what = fmt::format("--input {} ({}, shape {})", in.name(), ds->source, shape_str(ds->shape));
    }
    if (!tt->has_shape()) {
      if (!pin)
        throw InputError(fmt::format("{}: input '{}' has no shape; give it with --shape {}=...",
                                     src, in.name(), in.name()));
      for (size_t i = 0; i < pin->size(); ++i) tt->mutable_shape()->add_dim();
    }
    auto* sh = tt->mutable_shape();
    if (pin && static_cast<size_t>(sh->dim_size()) != pin->size())
      throw InputError(fmt::format("{}: {} has rank {}, the model's input has rank {}", src, what,
                                   pin->size(), sh->dim_size()));
    for (int d = 0; d < sh->dim_size(); ++d) {
      auto* dim = sh->mutable_dim(d);
      if (dim->has_dim_value()) {
        if (pin && (*pin)[d] != dim->dim_value())
          throw InputError(fmt::format("{}: {}: dimension {} is {} in the model, not {}", src,
                                       what, d, dim->dim_value(), (*pin)[d]));
        continue;
      }
      if (!pin)
        throw InputError(fmt::format(
            "{}: input '{}' dimension {} ('{}') is symbolic; pin it with --shape {}=... (or give "
            "its data: run --input {}=FILE.npy)",
            src, in.name(), d, dim->dim_param(), in.name(), in.name()));
      if ((*pin)[d] <= 0)
        throw InputError(fmt::format("{}: {}: dimension {} must be positive", src, what, d));
      dim->clear_dim_param();
      dim->set_dim_value((*pin)[d]);
    }
  }
}

void check_model_size(size_t bytes, const std::string& src) {
  if (bytes >= kMaxModelBytes)
    throw InputError(fmt::format("{}: model is {} bytes; at most 2 GiB is supported", src,
                                 bytes));
  if (bytes == 0) throw InputError(src + ": empty file, not an ONNX model");
}

[[noreturn]] void not_a_model(const std::string& src) {
  throw InputError(src + ": not a valid ONNX model (truncated or invalid protobuf)");
}

void parse_model(const std::string& bytes, const std::string& src, onnx::ModelProto& model) {
  check_model_size(bytes.size(), src);
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) not_a_model(src);
}

// Parses a regular file straight from its descriptor, so that a model of hundreds of MB is
// never held twice (file bytes and proto). Returns false, having read nothing, when `path` is
// not a regular file that opens (read_text_file then gives the usual error or contents).
bool parse_model_file(const std::string& path, onnx::ModelProto& model) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return false;
  }
  bool ok = false;
  int err = 0;
  try {
    check_model_size(static_cast<size_t>(st.st_size), path);
    google::protobuf::io::FileInputStream in(fd, 1 << 20);
    ok = model.ParseFromZeroCopyStream(&in);
    err = in.GetErrno();
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (err != 0) throw InputError(fmt::format("{}: read error", path));
  if (!ok) not_a_model(path);
  return true;
}

Graph build_graph(onnx::ModelProto& model, const std::string& src, const LoadOptions& opts,
                  WeightRefs refs);

}  // namespace

Graph load_onnx(const std::string& path, const LoadOptions& opts) {
  onnx::ModelProto model;
  if (opts.defer_weights) {
    WeightRefs refs;
    if (std::optional<std::string> stripped = strip_weights(path, &refs)) {
      parse_model(*stripped, path, model);
      return build_graph(model, path, opts, std::move(refs));
    }
  }
  if (!parse_model_file(path, model)) parse_model(read_text_file(path), path, model);
  return build_graph(model, path, opts, {});
}

Graph load_onnx_bytes(const std::string& bytes, const std::string& src, const LoadOptions& opts) {
  onnx::ModelProto model;
  parse_model(bytes, src, model);
  return build_graph(model, src, opts, opts.weights ? *opts.weights : WeightRefs{});
}

namespace {

Graph build_graph(onnx::ModelProto& model, const std::string& src, const LoadOptions& opts,
                  WeightRefs refs) {
  if (!model.has_graph()) throw InputError(src + ": not a valid ONNX model (no graph)");

  int opset = -1;
  for (const auto& imp : model.opset_import())
    if (imp.domain().empty() || imp.domain() == "ai.onnx") opset = static_cast<int>(imp.version());
  if (opset < kMinOpset || opset > kMaxOpset)
    throw InputError(fmt::format("{}: opset {} is not supported (supported: {}..{})", src,
                                 opset < 0 ? std::string("(none)") : std::to_string(opset),
                                 kMinOpset, kMaxOpset));

  // Side files of externally stored tensors, relative to the model's directory: read in
  // before the checker, which would look for them relative to the working directory.
  load_external_data(model, model_dir_of(src), src, opts.defer_weights ? &refs : nullptr);

  onnx::GraphProto* gp = model.mutable_graph();
  std::set<std::string> inits;
  for (const auto& t : gp->initializer()) inits.insert(t.name());
  pin_input_shapes(*gp, inits, opts, src);

  // Graph outputs declared without a shape are valid for ONNX Runtime (inference gives the
  // shape), but the checker insists on the field: give them one for the check only.
  std::vector<onnx::ValueInfoProto*> shapeless;
  for (auto& o : *gp->mutable_output())
    if (o.type().has_tensor_type() && !o.type().tensor_type().has_shape()) shapeless.push_back(&o);
  for (auto* o : shapeless) o->mutable_type()->mutable_tensor_type()->mutable_shape();
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw InputError(fmt::format("{}: ONNX checker: {}", src, first_line(e.what())));
  }
  for (auto* o : shapeless) o->mutable_type()->mutable_tensor_type()->clear_shape();
  try {
    onnx::ShapeInferenceOptions opt{true, 1, false};
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), opt);
  } catch (const std::exception& e) {
    // The ONNX library's inference has known gaps (e.g. opset-10+ pooling with ceil_mode, whose
    // last window ONNX Runtime drops when it starts in the padding): when it disagrees with a
    // declared shape, trnsim's own inference (fold_constants) decides, as ONNX Runtime's does.
    const std::string msg = e.what();
    if (msg.find("Inferred shape and existing shape differ") == std::string::npos)
      throw InputError(fmt::format("{}: ONNX shape inference: {}", src, first_line(msg)));
    for (auto& o : *gp->mutable_output()) o.mutable_type()->mutable_tensor_type()->clear_shape();
    gp->clear_value_info();
    try {
      onnx::ShapeInferenceOptions opt{true, 1, false};
      onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), opt);
    } catch (const std::exception& e2) {
      throw InputError(fmt::format("{}: ONNX shape inference: {}", src, first_line(e2.what())));
    }
  }

  inline_constant_ifs(*gp, src);  // before reading value_info: branches bring their own
  rewrite_einsums(*gp, src, opset);  // into Transpose/Unsqueeze/MatMul/Squeeze

  Graph g;
  g.source = src;
  g.opset = opset;
  std::map<std::string, int> ids;
  auto tensor_id = [&](const std::string& name) {
    auto it = ids.find(name);
    if (it != ids.end()) return it->second;
    Tensor t;
    t.name = name;
    int id = g.add_tensor(std::move(t));
    ids[name] = id;
    return id;
  };
  // dtypes the ONNX shape inference found (ours re-derives shapes after constant folding).
  std::map<std::string, int> elem_types;
  for (const auto& vi : gp->value_info())
    if (vi.type().has_tensor_type()) elem_types[vi.name()] = vi.type().tensor_type().elem_type();

  for (onnx::TensorProto& init : *gp->mutable_initializer()) {
    int id = tensor_id(init.name());
    Tensor& t = g.t(id);
    auto ref = refs.find(init.name());
    if (ref != refs.end() && init.raw_data() == weight_placeholder() &&
        init.data_location() != onnx::TensorProto_DataLocation_EXTERNAL) {
      // Left in its file (timing-only): dtype and shape now, bytes only if something reads them.
      t.dtype = *map_dtype(init.data_type());
      t.shape.assign(init.dims().begin(), init.dims().end());
      t.value = deferred_weight(ref->second, t.dtype, t.shape, init.name(), opts.weight_bytes_read);
      t.shape_known = true;
      continue;
    }
    // Weights keep the file's fp32 bytes (moved out of the proto): no 8-byte-per-weight copy.
    t.value = tensor_value(init, src, init.has_raw_data() ? init.mutable_raw_data() : nullptr);
    t.dtype = t.value->dtype;
    t.shape = t.value->shape;
    t.shape_known = true;
  }
  for (const auto& in : gp->input()) {
    if (inits.count(in.name())) continue;
    int id = tensor_id(in.name());
    Tensor& t = g.t(id);
    const auto& tt = in.type().tensor_type();
    auto dt = map_dtype(tt.elem_type());
    if (!dt)
      throw InputError(fmt::format("{}: input '{}' has unsupported dtype {}", src, in.name(),
                                   onnx_type_name(tt.elem_type())));
    t.dtype = *dt;
    for (const auto& d : tt.shape().dim()) {
      if (d.dim_value() <= 0)
        throw InputError(fmt::format("{}: input '{}' dimension {} is {}; dimensions must be "
                                     "positive", src, in.name(), t.shape.size(), d.dim_value()));
      t.shape.push_back(d.dim_value());
    }
    t.shape_known = true;
    t.is_input = true;
    g.inputs.push_back(id);
  }

  std::set<std::string> node_names;
  int index = 0;
  for (const auto& np : gp->node()) {
    Node n;
    n.op = np.op_type();
    n.name = np.name().empty() ? fmt::format("{}_{}", n.op, index) : np.name();
    while (node_names.count(n.name)) n.name += "_";
    node_names.insert(n.name);
    ++index;
    std::string where = fmt::format("{}: node '{}' (op {})", src, n.name, n.op);
    if (!np.domain().empty() && np.domain() != "ai.onnx")
      throw InputError(fmt::format("{}: domain '{}' is not supported; supported ops: {}", where,
                                   np.domain(), supported_ops()));
    const OpInfo* info = find_op(n.op);
    if (!info)
      throw InputError(fmt::format("{}: not supported; supported ops: {}", where,
                                   supported_ops()));
    for (const auto& a : np.attribute()) n.attrs[a.name()] = convert_attr(a, where);
    if (n.op == "Constant") normalize_constant(n, where);
    if (n.op == "Cast") {
      auto dt = map_dtype(static_cast<int>(n.attr_int("to", 0)));
      if (!dt)
        throw InputError(fmt::format("{}: cast to {} is not supported", where,
                                     onnx_type_name(static_cast<int>(n.attr_int("to", 0)))));
      Attr a;
      a.kind = Attr::Kind::String;
      a.s = std::string(isa::dtype_name(*dt));
      n.attrs["to_dtype"] = a;
    }
    if ((n.op == "Softmax" || n.op == "LogSoftmax") && opset < 13) {
      // Before opset 13 Softmax and LogSoftmax flatten the input at `axis` (default 1).
      Attr ax, legacy;
      ax.i = n.attr_int("axis", 1);
      legacy.i = 1;
      n.attrs["axis"] = ax;
      n.attrs["_legacy"] = legacy;
    }
    if (n.op == "BatchNormalization" && n.attr_int("training_mode", 0))
      throw InputError(where + ": training_mode=1 is not supported");
    for (const auto& [k, a] : n.attrs) {
      bool ok = false;
      for (auto s : info->attrs) ok = ok || s == k;
      if (!ok)
        throw InputError(fmt::format("{}: attribute '{}' is not supported", where, k));
    }
    for (const auto& name : np.input()) n.inputs.push_back(name.empty() ? -1 : tensor_id(name));
    for (const auto& name : np.output()) {
      if (name.empty()) {
        n.outputs.push_back(-1);
        continue;
      }
      int id = tensor_id(name);
      auto et = elem_types.find(name);
      if (et != elem_types.end())
        if (auto dt = map_dtype(et->second)) g.t(id).dtype = *dt;
      n.outputs.push_back(id);
    }
    g.nodes.push_back(std::move(n));
  }
  for (const auto& out : gp->output()) {
    auto it = ids.find(out.name());
    if (it == ids.end())
      throw InputError(fmt::format("{}: output '{}' is not produced by any node", src, out.name()));
    g.t(it->second).is_output = true;
    g.outputs.push_back(it->second);
  }
  return g;
}

}  // namespace

}  // namespace trnsim::compiler
