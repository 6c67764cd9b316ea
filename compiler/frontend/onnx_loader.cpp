#include "compiler/frontend/onnx_loader.h"
#include "compiler/frontend/einsum.h"
#include "compiler/frontend/external_data.h"

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
#include <map>
#include <memory>
#include <optional>
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
      if ((*pin)[d] < 0)
        throw InputError(fmt::format("{}: {}: dimension {} must be >= 0", src, what, d));
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

ModelSignature model_signature(const std::string& path) {
  onnx::ModelProto model;
  WeightRefs refs;
  if (std::optional<std::string> stripped = strip_weights(path, &refs))
    parse_model(*stripped, path, model);
  else if (!parse_model_file(path, model))
    parse_model(read_text_file(path), path, model);
  std::set<std::string> inits;
  for (const auto& t : model.graph().initializer()) inits.insert(t.name());
  auto io = [](const onnx::ValueInfoProto& v) {
    ModelIo m;
    m.name = v.name();
    m.elem_type = v.type().tensor_type().elem_type();
    for (const auto& d : v.type().tensor_type().shape().dim())
      m.dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
    return m;
  };
  ModelSignature sig;
  for (const auto& v : model.graph().input())
    if (!inits.count(v.name())) sig.inputs.push_back(io(v));
  for (const auto& v : model.graph().output()) sig.outputs.push_back(io(v));
  return sig;
}

Graph load_onnx_bytes(const std::string& bytes, const std::string& src, const LoadOptions& opts) {
  onnx::ModelProto model;
  parse_model(bytes, src, model);
  return build_graph(model, src, opts, opts.weights ? *opts.weights : WeightRefs{});
}

namespace {

// Einsum rewriting, in the main graph and in every If branch.
void rewrite_all_einsums(onnx::GraphProto& g, const std::string& src, int opset) {
  rewrite_einsums(g, src, opset);
  for (auto& n : *g.mutable_node())
    for (auto& a : *n.mutable_attribute())
      if (a.has_g()) rewrite_all_einsums(*a.mutable_g(), src, opset);
}

// ONNX nodes -> IR nodes. Names are scoped as in ONNX: a branch sees the names of the lists
// around it, and its own names (which sibling branches may reuse) are new tensors; tensor names
// are made unique across the graph (a reused name gets a suffix).
class Converter {
 public:
  Converter(Graph& g, const std::string& src, int opset) : g_(g), src_(src), opset_(opset) {
    scopes_.emplace_back();
  }

  // The tensor `name` names here (innermost scope first), created in this scope if none does.
  int lookup(const std::string& name) {
    if (auto id = find(name)) return *id;
    return define(name);
  }
  std::optional<int> find(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = it->find(name);
      if (f != it->end()) return f->second;
    }
    return std::nullopt;
  }

  void collect_elem_types(const onnx::GraphProto& gp) {
    for (const auto& vi : gp.value_info())
      if (vi.type().has_tensor_type()) elem_types_[vi.name()] = vi.type().tensor_type().elem_type();
    for (const auto& vi : gp.output())
      if (vi.type().has_tensor_type()) elem_types_.emplace(vi.name(), vi.type().tensor_type().elem_type());
    for (const auto& n : gp.node())
      for (const auto& a : n.attribute())
        if (a.has_g()) collect_elem_types(a.g());
  }

  void add_initializer(onnx::TensorProto& init) {
    int id = define(init.name());
    Tensor& t = g_.t(id);
    // Weights keep the file's fp32 bytes (moved out of the proto): no 8-byte-per-weight copy.
    t.value = tensor_value(init, src_, init.has_raw_data() ? init.mutable_raw_data() : nullptr);
    t.dtype = t.value->dtype;
    t.shape = t.value->shape;
    t.shape_known = true;
  }

  std::vector<Node> nodes(const google::protobuf::RepeatedPtrField<onnx::NodeProto>& nps) {
    std::vector<Node> out;
    for (const auto& np : nps) out.push_back(convert(np));
    return out;
  }

 private:
  int define(const std::string& name) {
    auto& scope = scopes_.back();
    auto f = scope.find(name);
    if (f != scope.end()) return f->second;
    Tensor t;
    t.name = name;
    for (int k = 2; tensor_names_.count(t.name); ++k) t.name = fmt::format("{}_{}", name, k);
    tensor_names_.insert(t.name);
    int id = g_.add_tensor(std::move(t));
    scope[name] = id;
    return id;
  }

  Node convert(const onnx::NodeProto& np) {
    Node n;
    n.op = np.op_type();
    n.name = np.name().empty() ? fmt::format("{}_{}", n.op, index_) : np.name();
    while (node_names_.count(n.name)) n.name += "_";
    node_names_.insert(n.name);
    ++index_;
    std::string where = fmt::format("{}: node '{}' (op {})", src_, n.name, n.op);
    if (!np.domain().empty() && np.domain() != "ai.onnx")
      throw InputError(fmt::format("{}: domain '{}' is not supported; supported ops: {}", where,
                                   np.domain(), supported_ops()));
    const OpInfo* info = find_op(n.op);
    if (!info)
      throw InputError(fmt::format("{}: not supported; supported ops: {}", where,
                                   supported_ops()));
    if (n.op == "If") return convert_if(np, std::move(n), where);
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
    if ((n.op == "Softmax" || n.op == "LogSoftmax") && opset_ < 13) {
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
    for (const auto& name : np.input()) n.inputs.push_back(name.empty() ? -1 : lookup(name));
    add_outputs(np, n);
    return n;
  }

  void add_outputs(const onnx::NodeProto& np, Node& n) {
    for (const auto& name : np.output()) {
      if (name.empty()) {
        n.outputs.push_back(-1);
        continue;
      }
      int id = define(name);
      auto et = elem_types_.find(name);
      if (et != elem_types_.end())
        if (auto dt = map_dtype(et->second)) g_.t(id).dtype = *dt;
      n.outputs.push_back(id);
    }
  }

  // If: the condition, both branches as node lists of their own scope, the captured tensors
  // as further inputs (update_captures).
  Node convert_if(const onnx::NodeProto& np, Node n, const std::string& where) {
    const onnx::GraphProto* gs[2] = {nullptr, nullptr};
    for (const auto& a : np.attribute()) {
      if (a.name() == "then_branch" && a.has_g()) gs[0] = &a.g();
      else if (a.name() == "else_branch" && a.has_g()) gs[1] = &a.g();
      else throw InputError(fmt::format("{}: attribute '{}' is not supported", where, a.name()));
    }
    if (!gs[0] || !gs[1]) throw InputError(where + ": missing branch");
    n.inputs.push_back(lookup(np.input(0)));
    for (const onnx::GraphProto* bg : gs) {
      if (bg->input_size() > 0) throw InputError(where + ": a branch with inputs is not valid");
      if (bg->output_size() != np.output_size())
        throw InputError(where + ": the branch's outputs differ from the node's");
      onnx::GraphProto copy = *bg;  // initializers are taken over like the main graph's
      scopes_.emplace_back();
      Branch b;
      for (onnx::TensorProto& init : *copy.mutable_initializer()) add_initializer(init);
      b.nodes = nodes(copy.node());
      for (const auto& o : copy.output()) {
        auto id = find(o.name());
        if (!id)
          throw InputError(fmt::format("{}: branch output '{}' is not produced", where, o.name()));
        b.outputs.push_back(*id);
      }
      // Yielded tensors produced in this branch stay (passes keep them and their producer).
      for (int id : b.outputs)
        for (const auto& [name, sid] : scopes_.back())
          if (sid == id && !g_.t(id).is_const()) g_.t(id).is_branch_output = true;
      scopes_.pop_back();
      n.branches.push_back(std::move(b));
    }
    add_outputs(np, n);
    update_captures(n);
    return n;
  }

  Graph& g_;
  const std::string& src_;
  int opset_;
  std::vector<std::map<std::string, int>> scopes_;
  std::set<std::string> tensor_names_;
  std::set<std::string> node_names_;
  std::map<std::string, int> elem_types_;
  int index_ = 0;
};

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

  rewrite_all_einsums(*gp, src, opset);  // into Transpose/Unsqueeze/MatMul/Squeeze

  Graph g;
  g.source = src;
  g.opset = opset;
  Converter cv(g, src, opset);
  // dtypes the ONNX shape inference found (ours re-derives shapes after constant folding).
  cv.collect_elem_types(*gp);

  for (onnx::TensorProto& init : *gp->mutable_initializer()) {
    auto ref = refs.find(init.name());
    if (ref != refs.end() && init.raw_data() == weight_placeholder() &&
        init.data_location() != onnx::TensorProto_DataLocation_EXTERNAL) {
      Tensor& t = g.t(cv.lookup(init.name()));
      // Left in its file (timing-only): dtype and shape now, bytes only if something reads them.
      t.dtype = *map_dtype(init.data_type());
      t.shape.assign(init.dims().begin(), init.dims().end());
      t.value = deferred_weight(ref->second, t.dtype, t.shape, init.name(), opts.weight_bytes_read);
      t.shape_known = true;
      continue;
    }
    cv.add_initializer(init);
  }
  for (const auto& in : gp->input()) {
    if (inits.count(in.name())) continue;
    int id = cv.lookup(in.name());
    Tensor& t = g.t(id);
    const auto& tt = in.type().tensor_type();
    auto dt = map_dtype(tt.elem_type());
    if (!dt)
      throw InputError(fmt::format("{}: input '{}' has unsupported dtype {}", src, in.name(),
                                   onnx_type_name(tt.elem_type())));
    t.dtype = *dt;
    for (const auto& d : tt.shape().dim()) {
      // Zero is valid (an empty input, e.g. a zero-length KV-cache past).
      if (d.dim_value() < 0)
        throw InputError(fmt::format("{}: input '{}' dimension {} is {}; dimensions must be "
                                     ">= 0", src, in.name(), t.shape.size(), d.dim_value()));
      t.shape.push_back(d.dim_value());
    }
    t.shape_known = true;
    t.is_input = true;
    g.inputs.push_back(id);
  }

  g.nodes = cv.nodes(gp->node());
  for (const auto& out : gp->output()) {
    auto id = cv.find(out.name());
    if (!id)
      throw InputError(fmt::format("{}: output '{}' is not produced by any node", src, out.name()));
    g.t(*id).is_output = true;
    g.outputs.push_back(*id);
  }
  return g;
}

}  // namespace

}  // namespace trnsim::compiler
