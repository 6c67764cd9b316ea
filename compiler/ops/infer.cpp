// Shape and dtype inference for every supported op (the op table's `infer` hooks).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      throw InputError(fmt::format("shapes {} and {} do not broadcast", shape_str(a),
                                   shape_str(b)));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int64_t normalize_axis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    throw InputError(fmt::format("axis {} out of range for rank {}", axis, rank));
  return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> const_ints(const Tensor* t, const char* what) {
  if (!t || !t->is_const())
    throw InputError(fmt::format("input '{}' must be a compile-time constant", what));
  std::vector<int64_t> v;
  for (double d : t->value->data) v.push_back(static_cast<int64_t>(d));
  return v;
}

namespace {
const Value* val(const Tensor* t) { return t && t->is_const() ? &*t->value : nullptr; }
}  // namespace

void need_inputs(const std::vector<const Tensor*>& in, size_t n) {
  if (in.size() < n) throw InputError(fmt::format("expected at least {} inputs", n));
  for (size_t i = 0; i < n; ++i)
    if (!in[i]) throw InputError(fmt::format("input {} is missing", i));
}

std::vector<const Value*> const_values(const std::vector<const Tensor*>& in) {
  std::vector<const Value*> v;
  for (const Tensor* t : in) v.push_back(val(t));
  return v;
}

std::vector<int64_t> reduce_axes(const Node& n, const std::vector<const Value*>& in, int64_t rank) {
  std::vector<int64_t> axes;
  if (n.has_attr("axes")) {
    axes = n.attr_ints("axes");
  } else if (in.size() > 1 && in[1]) {
    for (double d : in[1]->data) axes.push_back(static_cast<int64_t>(d));
  } else if (in.size() > 1 && n.has_input(1)) {
    throw InputError("input 'axes' must be a compile-time constant");
  }
  if (axes.empty()) {
    if (n.attr_int("noop_with_empty_axes", 0)) return {};
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  }
  for (auto& a : axes) a = normalize_axis(a, rank);
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return axes;
}

std::vector<int64_t> squeeze_axes(const Node& n, const Value* axes_input, const Shape& in_shape,
                                  bool unsqueeze, int64_t out_rank) {
  std::vector<int64_t> axes;
  if (n.has_attr("axes")) {
    axes = n.attr_ints("axes");
  } else if (axes_input) {
    for (double d : axes_input->data) axes.push_back(static_cast<int64_t>(d));
  } else if (n.has_input(1)) {
    throw InputError("input 'axes' must be a compile-time constant");
  } else if (!unsqueeze) {
    for (size_t i = 0; i < in_shape.size(); ++i)
      if (in_shape[i] == 1) axes.push_back(static_cast<int64_t>(i));
  }
  int64_t rank = unsqueeze ? out_rank : static_cast<int64_t>(in_shape.size());
  for (auto& a : axes) a = normalize_axis(a, rank);
  std::sort(axes.begin(), axes.end());
  return axes;
}

int64_t softmax_axis(const Node& n, int64_t rank) {
  return normalize_axis(n.attr_int("axis", -1), rank);
}

int64_t cumsum_axis(const Node&, const Value* axis, int64_t rank) {
  if (!axis) throw InputError("input 'axis' must be a compile-time constant");
  if (axis->numel() != 1) throw InputError("input 'axis' must be a scalar");
  return normalize_axis(static_cast<int64_t>(axis->data[0]), rank);
}

std::vector<TypeShape> infer_unary(const Node&, const std::vector<const Tensor*>& in) {
  need_inputs(in, 1);
  return {{in[0]->dtype, in[0]->shape}};
}

std::vector<TypeShape> infer_dropout(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 1);
  // Inference mode only: training_mode (opset 12+) must be absent or a constant false (a
  // training-mode Dropout draws random masks, which no reference can reproduce).
  if (in.size() > 2 && in[2] &&
      (!in[2]->is_const() || in[2]->value->numel() != 1 || in[2]->value->data[0] != 0.0))
    throw InputError("Dropout in training mode (random masks) is not supported");
  std::vector<TypeShape> out{{in[0]->dtype, in[0]->shape}};
  if (n.outputs.size() > 1) out.push_back({DType::Bool, in[0]->shape});
  return out;
}

std::vector<TypeShape> infer_broadcast(const Node&, const std::vector<const Tensor*>& in) {
  need_inputs(in, 1);
  Shape s = in[0]->shape;
  for (size_t i = 1; i < in.size(); ++i)
    if (in[i]) s = broadcast_shapes(s, in[i]->shape);
  return {{in[0]->dtype, s}};
}

std::vector<TypeShape> infer_compare(const Node& n, const std::vector<const Tensor*>& in) {
  auto r = infer_broadcast(n, in);
  r[0].dtype = DType::Bool;
  return r;
}

std::vector<TypeShape> infer_where(const Node&, const std::vector<const Tensor*>& in) {
  need_inputs(in, 3);
  return {{in[1]->dtype,
           broadcast_shapes(broadcast_shapes(in[0]->shape, in[1]->shape), in[2]->shape)}};
}

std::vector<TypeShape> infer_cast(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 1);
  // The frontend stores the ONNX "to" attribute as a trnsim dtype name in "to_dtype".
  auto t = isa::parse_dtype(n.attr_string("to_dtype", ""));
  if (!t) throw InputError("unsupported target dtype of Cast");
  return {{*t, in[0]->shape}};
}

std::vector<TypeShape> infer_matmul(const Node&, const std::vector<const Tensor*>& in) {
  need_inputs(in, 2);
  Shape a = in[0]->shape, b = in[1]->shape;
  if (a.empty() || b.empty()) throw InputError("MatMul of a scalar");
  bool va = a.size() == 1, vb = b.size() == 1;
  if (va) a.insert(a.begin(), 1);
  if (vb) b.push_back(1);
  int64_t k = a.back();
  if (b[b.size() - 2] != k)
    throw InputError(fmt::format("MatMul inner dimensions differ: {} x {}", shape_str(in[0]->shape),
                                 shape_str(in[1]->shape)));
  Shape ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  Shape out = broadcast_shapes(ba, bb);
  if (!va) out.push_back(a[a.size() - 2]);
  if (!vb) out.push_back(b.back());
  return {{in[0]->dtype, out}};
}

std::vector<TypeShape> infer_gemm(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 2);
  const Shape &a = in[0]->shape, &b = in[1]->shape;
  if (a.size() != 2 || b.size() != 2) throw InputError("Gemm inputs must be 2-D");
  int64_t m = n.attr_int("transA", 0) ? a[1] : a[0];
  int64_t ka = n.attr_int("transA", 0) ? a[0] : a[1];
  int64_t kb = n.attr_int("transB", 0) ? b[1] : b[0];
  int64_t nn = n.attr_int("transB", 0) ? b[0] : b[1];
  if (ka != kb) throw InputError("Gemm inner dimensions differ");
  if (in.size() > 2 && in[2]) broadcast_shapes({m, nn}, in[2]->shape);
  return {{in[0]->dtype, {m, nn}}};
}

std::vector<TypeShape> infer_reduce(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 1);
  const Shape& s = in[0]->shape;
  auto axes = reduce_axes(n, const_values(in), static_cast<int64_t>(s.size()));
  bool keep = n.attr_int("keepdims", 1) != 0;
  Shape out;
  for (size_t i = 0; i < s.size(); ++i) {
    bool red = std::find(axes.begin(), axes.end(), static_cast<int64_t>(i)) != axes.end();
    if (!red) out.push_back(s[i]);
    else if (keep) out.push_back(1);
  }
  return {{in[0]->dtype, out}};
}

std::vector<TypeShape> infer_arg_reduce(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 1);
  const Shape& s = in[0]->shape;
  const int64_t axis = normalize_axis(n.attr_int("axis", 0), static_cast<int64_t>(s.size()));
  Shape out;
  for (int64_t i = 0; i < static_cast<int64_t>(s.size()); ++i) {
    if (i != axis) out.push_back(s[i]);
    else if (n.attr_int("keepdims", 1)) out.push_back(1);
  }
  if (s[axis] == 0) throw InputError("arg reduction over an empty axis");
  return {{DType::Int64, out}};
}

std::vector<TypeShape> infer_cumsum(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 2);
  cumsum_axis(n, val(in[1]), static_cast<int64_t>(in[0]->shape.size()));
  return {{in[0]->dtype, in[0]->shape}};
}

std::vector<TypeShape> infer_layernorm(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 2);
  const Shape& s = in[0]->shape;
  int64_t axis = normalize_axis(n.attr_int("axis", -1), static_cast<int64_t>(s.size()));
  Shape stat = s;
  for (size_t i = axis; i < s.size(); ++i) stat[i] = 1;
  std::vector<TypeShape> out{{in[0]->dtype, s}};
  for (size_t i = 1; i < n.outputs.size(); ++i) out.push_back({DType::Fp32, stat});
  return out;
}

std::vector<TypeShape> infer_batchnorm(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 5);
  if (n.attr_int("spatial", 1) != 1)  // opset 7/8: per-activation statistics
    throw InputError("BatchNormalization: spatial=0 is not supported");
  if (in[0]->shape.size() < 2) throw InputError("BatchNormalization input must have rank >= 2");
  return {{in[0]->dtype, in[0]->shape}};
}

std::vector<TypeShape> infer_instance_norm(const Node&, const std::vector<const Tensor*>& in) {
  need_inputs(in, 3);
  const Shape& s = in[0]->shape;
  if (s.size() < 3) throw InputError("InstanceNormalization needs an input of rank >= 3");
  if (num_elements(in[1]->shape) != s[1] || num_elements(in[2]->shape) != s[1])
    throw InputError("scale and B must have one value per channel");
  return {{in[0]->dtype, s}};
}

std::vector<TypeShape> infer_lrn(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 1);
  if (in[0]->shape.size() < 3) throw InputError("LRN needs an input of rank >= 3");
  if (n.attr_int("size", 0) <= 0) throw InputError("attribute 'size' must be positive");
  return {{in[0]->dtype, in[0]->shape}};
}

std::vector<TypeShape> infer_reshape(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 2);
  if (in[1]->shape.size() != 1)
    throw InputError(fmt::format("Reshape: the shape input must be 1-D, not {}",
                                 shape_str(in[1]->shape)));
  auto target = const_ints(in[1], "shape");
  const Shape& s = in[0]->shape;
  bool allowzero = n.attr_int("allowzero", 0) != 0;
  Shape out;
  int infer_at = -1;
  int64_t known = 1;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t d = target[i];
    if (d == 0 && !allowzero) {
      if (i >= s.size()) throw InputError("Reshape: 0 refers past the input rank");
      d = s[i];
    }
    if (d == -1) {
      if (infer_at >= 0) throw InputError("Reshape: more than one -1");
      infer_at = static_cast<int>(i);
      out.push_back(1);
      continue;
    }
    if (d < 0) throw InputError("Reshape: negative dimension");
    if (d != 0 && known > INT64_MAX / d) throw InputError("Reshape: target shape overflows");
    known *= d;
    out.push_back(d);
  }
  int64_t total = num_elements(s);
  if (infer_at >= 0) {
    if (known == 0 || total % known != 0)
      throw InputError(fmt::format("Reshape: cannot reshape {} to {}", shape_str(s),
                                   fmt::format("[{}]", fmt::join(target, ","))));
    out[infer_at] = total / known;
  }
  if (num_elements(out) != total)
    throw InputError(fmt::format("Reshape: cannot reshape {} to {}", shape_str(s), shape_str(out)));
  return {{in[0]->dtype, out}};
}

std::vector<TypeShape> infer_flatten(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 1);
  const Shape& s = in[0]->shape;
  int64_t r = static_cast<int64_t>(s.size());
  int64_t axis = n.attr_int("axis", 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r) throw InputError("Flatten: axis out of range");
  int64_t a = 1, b = 1;
  for (int64_t i = 0; i < r; ++i) (i < axis ? a : b) *= s[i];
  return {{in[0]->dtype, {a, b}}};
}

std::vector<TypeShape> infer_transpose(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 1);
  const Shape& s = in[0]->shape;
  auto perm = n.attr_ints("perm");
  if (perm.empty())
    for (int64_t i = static_cast<int64_t>(s.size()) - 1; i >= 0; --i) perm.push_back(i);
  if (perm.size() != s.size()) throw InputError("Transpose: perm has the wrong length");
  Shape out;
  std::vector<char> seen(s.size(), 0);
  for (int64_t p : perm) {
    p = normalize_axis(p, static_cast<int64_t>(s.size()));
    if (seen[p]++) throw InputError("Transpose: perm repeats an axis");
    out.push_back(s[p]);
  }
  return {{in[0]->dtype, out}};
}

std::vector<TypeShape> infer_squeeze(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 1);
  const Shape& s = in[0]->shape;
  auto axes = squeeze_axes(n, in.size() > 1 ? val(in[1]) : nullptr, s, false, 0);
  Shape out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (std::find(axes.begin(), axes.end(), static_cast<int64_t>(i)) != axes.end()) {
      if (s[i] != 1) throw InputError(fmt::format("Squeeze: dimension {} is not 1", i));
      continue;
    }
    out.push_back(s[i]);
  }
  return {{in[0]->dtype, out}};
}

std::vector<TypeShape> infer_unsqueeze(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 1);
  const Shape& s = in[0]->shape;
  size_t naxes = n.has_attr("axes") ? n.attr_ints("axes").size()
                 : (in.size() > 1 && val(in[1])) ? val(in[1])->data.size() : 0;
  int64_t out_rank = static_cast<int64_t>(s.size() + naxes);
  auto axes = squeeze_axes(n, in.size() > 1 ? val(in[1]) : nullptr, s, true, out_rank);
  Shape out;
  size_t k = 0;
  for (int64_t i = 0; i < out_rank; ++i) {
    if (std::find(axes.begin(), axes.end(), i) != axes.end()) out.push_back(1);
    else out.push_back(s.at(k++));
  }
  return {{in[0]->dtype, out}};
}

std::vector<TypeShape> infer_concat(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 1);
  Shape out = in[0]->shape;
  int64_t axis = normalize_axis(n.attr_int("axis", 0), static_cast<int64_t>(out.size()));
  out[axis] = 0;
  for (const Tensor* t : in) {
    if (!t) continue;
    if (t->shape.size() != out.size()) throw InputError("Concat: inputs differ in rank");
    for (size_t i = 0; i < out.size(); ++i)
      if (static_cast<int64_t>(i) != axis && t->shape[i] != out[i])
        throw InputError("Concat: inputs differ outside the axis");
    out[axis] += t->shape[axis];
  }
  return {{in[0]->dtype, out}};
}

namespace {
std::vector<int64_t> split_sizes(const Node& n, const std::vector<const Tensor*>& in,
                                 int64_t dim) {
  std::vector<int64_t> sizes = n.attr_ints("split");
  if (sizes.empty() && in.size() > 1 && in[1]) sizes = const_ints(in[1], "split");
  size_t k = n.outputs.size();
  if (sizes.empty()) {
    if (dim % static_cast<int64_t>(k) != 0)
      throw InputError("Split: dimension does not divide evenly");
    sizes.assign(k, dim / static_cast<int64_t>(k));
  }
  int64_t sum = 0;
  for (int64_t v : sizes) sum += v;
  if (sizes.size() != k || sum != dim) throw InputError("Split: sizes do not match the input");
  return sizes;
}
}  // namespace

std::vector<TypeShape> infer_split(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 1);
  const Shape& s = in[0]->shape;
  int64_t axis = normalize_axis(n.attr_int("axis", 0), static_cast<int64_t>(s.size()));
  std::vector<TypeShape> out;
  for (int64_t sz : split_sizes(n, in, s[axis])) {
    Shape o = s;
    o[axis] = sz;
    out.push_back({in[0]->dtype, o});
  }
  return out;
}

std::vector<TypeShape> infer_slice(const Node& n, const std::vector<const Tensor*>& in);

std::vector<TypeShape> infer_gather(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 2);
  const Shape& s = in[0]->shape;
  int64_t axis = normalize_axis(n.attr_int("axis", 0), static_cast<int64_t>(s.size()));
  Shape out(s.begin(), s.begin() + axis);
  for (int64_t d : in[1]->shape) out.push_back(d);
  out.insert(out.end(), s.begin() + axis + 1, s.end());
  return {{in[0]->dtype, out}};
}

std::vector<TypeShape> infer_shape(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 1);
  int64_t r = static_cast<int64_t>(in[0]->shape.size());
  int64_t start = n.attr_int("start", 0), end = n.attr_int("end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, start, r);
  return {{DType::Int64, {end - start}}};
}

std::vector<TypeShape> infer_size(const Node&, const std::vector<const Tensor*>& in) {
  need_inputs(in, 1);
  return {{DType::Int64, {}}};
}

std::vector<TypeShape> infer_constant_of_shape(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 1);
  DType t = n.has_attr("value") ? n.attrs.at("value").t.dtype : DType::Fp32;
  auto s = const_ints(in[0], "shape");
  return {{t, Shape(s.begin(), s.end())}};
}

std::vector<TypeShape> infer_expand(const Node&, const std::vector<const Tensor*>& in) {
  need_inputs(in, 2);
  auto s = const_ints(in[1], "shape");
  return {{in[0]->dtype, broadcast_shapes(in[0]->shape, Shape(s.begin(), s.end()))}};
}

std::vector<TypeShape> infer_constant(const Node& n, const std::vector<const Tensor*>&) {
  if (!n.has_attr("value")) throw InputError("Constant: only the 'value' attribute is supported");
  const Value& v = n.attrs.at("value").t;
  return {{v.dtype, v.shape}};
}

std::vector<TypeShape> infer_range(const Node&, const std::vector<const Tensor*>& in) {
  need_inputs(in, 3);
  double s = const_ints(in[0], "start").empty() ? 0 : in[0]->value->data.at(0);
  double l = in[1]->is_const() ? in[1]->value->data.at(0) : 0;
  double d = in[2]->is_const() ? in[2]->value->data.at(0) : 0;
  if (!in[1]->is_const() || !in[2]->is_const() || d == 0)
    throw InputError("Range: inputs must be compile-time constants");
  int64_t count = std::max<int64_t>(0, static_cast<int64_t>(std::ceil((l - s) / d)));
  return {{in[0]->dtype, {count}}};
}

}  // namespace trnsim::compiler
