#include "compiler/data_parallel.h"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <map>
#include <set>

#include "compiler/ops/op_table.h"
#include "support/error.h"

namespace trnsim::compiler {

namespace {

bool runtime(const Graph& g, int id) { return id >= 0 && !g.t(id).is_const(); }

// Constant integer list of input `k` (axes/repeats given as inputs), or nullopt.
std::optional<std::vector<int64_t>> const_input_ints(const Graph& g, const Node& n, int k) {
  if (!n.has_input(k) || !g.t(n.inputs[k]).is_const()) return std::nullopt;
  std::vector<int64_t> v;
  for (double d : g.t(n.inputs[k]).value->data) v.push_back(static_cast<int64_t>(d));
  return v;
}

// Why node `n` (with at least one runtime input) mixes batch elements, or "" if it does not.
std::string mixes_batch(const Graph& g, const Node& n) {
  const OpInfo* info = find_op(n.op);
  const int x = n.inputs.empty() ? -1 : n.inputs[0];
  const int64_t rank = x >= 0 ? static_cast<int64_t>(g.t(x).shape.size()) : 0;
  auto axis_is_0 = [&](int64_t def) {
    return rank > 0 && normalize_axis(n.attr_int("axis", def), rank) == 0;
  };
  auto axes_have_0 = [&](const std::vector<int64_t>& axes) {
    return std::any_of(axes.begin(), axes.end(),
                       [&](int64_t a) { return normalize_axis(a, rank) == 0; });
  };
  const std::string& op = n.op;
  if (info && (info->unary || info->binary)) return "";
  static const std::set<std::string> kIndependent = {
      "Where", "Cast", "Clip", "Mean", "Conv", "ConvTranspose", "MaxPool", "AveragePool",
      "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization", "InstanceNormalization", "LRN",
      "MatMul", "Gemm", "Identity", "Dropout", "Reshape", "Flatten", "Squeeze", "Unsqueeze",
      "Expand", "Pad", "Resize", "Upsample", "DepthToSpace", "SpaceToDepth", "Shape", "Size",
      "Constant", "ConstantOfShape", "Range", "Round", "Sign", "Floor", "Ceil"};
  if (op == "BatchNormalization" && n.attr_int("training_mode", 0) != 0)
    return "batch statistics (training_mode)";
  if (kIndependent.count(op)) return "";
  if (op == "Softmax" || op == "LogSoftmax") {
    const bool legacy = n.has_attr("_legacy") || g.opset < 13;
    return axis_is_0(legacy ? 1 : -1) ? "normalises over axis 0 (the batch)" : "";
  }
  if (op == "LayerNormalization") return axis_is_0(-1) ? "normalises over axis 0 (the batch)" : "";
  if (op == "Concat" || op == "Split" || op == "ArgMax" || op == "ArgMin" || op == "Gather" ||
      op == "GatherElements") {
    if (op == "Gather" && !runtime(g, n.inputs[0])) return "";  // embedding lookup by indices
    return axis_is_0(op == "Concat" ? -1 : 0) ? "works along axis 0 (the batch)" : "";
  }
  if (op.rfind("Reduce", 0) == 0) {
    std::vector<int64_t> axes = n.attr_ints("axes");
    if (auto in = const_input_ints(g, n, 1)) axes = *in;
    if (axes.empty()) return n.attr_int("noop_with_empty_axes", 0) ? "" : "reduces every axis";
    return axes_have_0(axes) ? "reduces axis 0 (the batch)" : "";
  }
  if (op == "Slice") {
    std::vector<int64_t> axes = n.attr_ints("axes");
    if (auto in = const_input_ints(g, n, 3)) axes = *in;
    if (axes.empty()) {  // default: the first len(starts) axes, axis 0 among them
      return "slices axis 0 (the batch)";
    }
    return axes_have_0(axes) ? "slices axis 0 (the batch)" : "";
  }
  if (op == "Transpose") {
    auto perm = n.attr_ints("perm");
    bool keeps = perm.empty() ? rank <= 1 : perm[0] == 0;
    return keeps ? "" : "moves axis 0 (the batch)";
  }
  if (op == "Tile") {
    auto rep = const_input_ints(g, n, 1);
    return rep && !rep->empty() && (*rep)[0] == 1 ? "" : "repeats along axis 0 (the batch)";
  }
  if (op == "CumSum") {
    auto ax = const_input_ints(g, n, 1);
    return ax && !ax->empty() && normalize_axis((*ax)[0], rank) != 0
               ? ""
               : "accumulates along axis 0 (the batch)";
  }
  if (op == "LSTM") return "is a recurrence whose batch is axis 1";
  if (op == "Trilu")  // the triangle is over the last two axes
    return rank > 2 ? "" : "takes a triangle of a matrix whose rows are the batch";
  return "is not known to keep batch elements independent";
}

}  // namespace

int64_t batch_of(const Graph& full, int cores) {
  int64_t batch = -1;
  std::string first;
  for (int id : full.inputs) {
    const Tensor& t = full.t(id);
    if (t.shape.empty())
      throw InputError(fmt::format("{}: --cores {}: input '{}' is a scalar; data parallelism "
                                   "splits every input along its leading (batch) dimension",
                                   full.source, cores, t.name));
    if (batch < 0) {
      batch = t.shape[0];
      first = t.name;
    } else if (t.shape[0] != batch) {
      throw InputError(fmt::format("{}: --cores {}: inputs '{}' and '{}' have different leading "
                                   "(batch) dimensions {} and {}",
                                   full.source, cores, first, t.name, batch, t.shape[0]));
    }
  }
  if (batch < 0)
    throw InputError(fmt::format("{}: --cores {}: the model has no runtime inputs to split",
                                 full.source, cores));
  if (batch % cores != 0)
    throw InputError(fmt::format("{}: --cores {}: the batch ({}, leading dimension of '{}') is "
                                 "not divisible by {}; pin a larger batch with --shape",
                                 full.source, cores, batch, first, cores));
  return batch;
}

void check_batch_separable(const Graph& full, const Graph& part, int cores) {
  std::map<int, const Node*> producer;
  for (const Node& n : part.nodes)
    for (int id : n.outputs)
      if (id >= 0) producer[id] = &n;
  for (const Node& n : part.nodes) {
    bool any_runtime = false;
    for (int id : n.inputs) any_runtime = any_runtime || runtime(part, id);
    if (!any_runtime) continue;  // folded at compile time
    std::string why = mixes_batch(part, n);
    if (!why.empty())
      throw InputError(fmt::format("{}: --cores {}: node '{}' (op {}) {}, so the batch cannot be "
                                   "split across cores",
                                   full.source, cores, n.name, n.op, why));
  }
  for (size_t id = 0; id < part.tensors.size(); ++id) {
    const Tensor& p = part.tensors[id];
    if (p.is_const() || !p.shape_known) continue;
    auto fid = full.find_tensor(p.name);
    if (!fid) continue;
    const Tensor& f = full.t(*fid);
    bool scales = !p.shape.empty() && f.shape.size() == p.shape.size() &&
                  f.shape[0] == p.shape[0] * cores &&
                  std::equal(f.shape.begin() + 1, f.shape.end(), p.shape.begin() + 1);
    if (scales) continue;
    auto it = producer.find(static_cast<int>(id));
    throw InputError(fmt::format(
        "{}: --cores {}: tensor '{}'{} is {} at the full batch but {} per core: its leading "
        "dimension is not the batch, so the batch cannot be split across cores",
        full.source, cores, p.name,
        it == producer.end() ? std::string()
                             : fmt::format(" (from node '{}', op {})", it->second->name,
                                           it->second->op),
        shape_str(f.shape), shape_str(p.shape)));
  }
}

std::string with_symbolic_batch(const std::string& bytes, const std::string& source) {
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw InputError(source + ": not a valid ONNX model (truncated or invalid protobuf)");
  std::set<std::string> inits;
  for (const auto& t : model.graph().initializer()) inits.insert(t.name());
  // Inputs: the leading dimension. Outputs: every dimension (shape inference recomputes them;
  // the batch may sit anywhere in a model the checks will refuse).
  auto relax = [](onnx::ValueInfoProto& v, bool all) {
    if (!v.type().has_tensor_type()) return;
    auto* tt = v.mutable_type()->mutable_tensor_type();
    if (!tt->has_shape()) return;
    for (int d = 0; d < tt->shape().dim_size() && (all || d == 0); ++d)
      tt->mutable_shape()->mutable_dim(d)->set_dim_param(fmt::format("trnsim_dim{}", d));
  };
  for (auto& in : *model.mutable_graph()->mutable_input())
    if (!inits.count(in.name())) relax(in, false);
  for (auto& out : *model.mutable_graph()->mutable_output()) relax(out, true);
  // Value infos recorded at the full batch would contradict the per-core shapes.
  model.mutable_graph()->clear_value_info();
  std::string out;
  model.SerializeToString(&out);
  return out;
}

isa::Program replicate_on_cores(const isa::Program& slice, const Graph& full, int cores) {
  isa::Program prog = slice;
  const size_t ntensors = slice.tensors.size();
  // map[c][t]: core c's tensor index for slice tensor t; shift[t]: bytes per core slice.
  std::vector<std::vector<int>> map(cores, std::vector<int>(ntensors));
  std::vector<int64_t> shift(ntensors, 0);
  for (size_t t = 0; t < ntensors; ++t) {
    isa::TensorDecl& d = prog.tensors[t];
    for (int c = 0; c < cores; ++c) map[c][t] = static_cast<int>(t);
    if (d.role == isa::TensorRole::Input || d.role == isa::TensorRole::Output) {
      auto fid = full.find_tensor(d.name);
      if (!fid) throw std::logic_error("data parallel: boundary tensor missing: " + d.name);
      shift[t] = slice.tensors[t].num_bytes();
      d.shape = full.t(*fid).shape;
    } else if (d.role == isa::TensorRole::Scratch) {
      for (int c = 1; c < cores; ++c) {
        isa::TensorDecl copy = slice.tensors[t];
        copy.name = fmt::format("{}_core{}", copy.name, c);
        map[c][t] = static_cast<int>(prog.tensors.size());
        prog.tensors.push_back(std::move(copy));
      }
    }
  }
  if (prog.tensors.size() > 65535)
    throw InputError(fmt::format("{}: --cores {}: too many tensors for one program",
                                 full.source, cores));
  prog.cores.resize(cores);
  for (int c = 1; c < cores; ++c) {
    prog.cores[c] = slice.cores[0];
    for (auto& stream : prog.cores[c].streams) {
      for (isa::Instr& in : stream) {
        for (auto& o : in.ops) {
          if (o.ap.space != isa::MemSpace::Hbm) continue;
          const int t = o.ap.tensor;
          o.ap.offset += c * shift[t];
          o.ap.tensor = static_cast<uint16_t>(map[c][t]);
        }
      }
    }
  }
  return prog;
}

}  // namespace trnsim::compiler
