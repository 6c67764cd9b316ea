// Reference kernels of data-movement and shape ops: Reshape family, Transpose, Concat, Split,
// Slice, Gather, the strided copies (Tile, DepthToSpace, SpaceToDepth), Shape, Size,
// ConstantOfShape, Expand, Constant, Range.
#include <fmt/format.h>

#include <cmath>

#include "compiler/ops/op_fns.h"
#include "compiler/ops/strided_copy.h"
#include "support/error.h"

namespace trnsim::compiler {

namespace {
// Runs the op's shape inference on constant values (for ops whose output shape needs it).
std::vector<TypeShape> infer_on_values(const Node& n, const std::vector<const Value*>& in) {
  std::vector<Tensor> ts(in.size());
  std::vector<const Tensor*> ptrs;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!in[i]) {
      ptrs.push_back(nullptr);
      continue;
    }
    ts[i].dtype = in[i]->dtype;
    ts[i].shape = in[i]->shape;
    ts[i].shape_known = true;
    ts[i].value = *in[i];
    ptrs.push_back(&ts[i]);
  }
  return find_op(n.op)->infer(n, ptrs);
}

// Copies src viewed through (offset, strides) over `shape` into a dense value.
Value gather_view(const Value& src, const Shape& shape, int64_t offset,
                  const std::vector<int64_t>& strides) {
  Value out(src.dtype, shape);
  auto os = row_major_strides(shape);
  for (int64_t e = 0; e < out.numel(); ++e) {
    int64_t o = offset;
    for (size_t d = 0; d < shape.size(); ++d) o += (e / os[d]) % shape[d] * strides[d];
    out.data[e] = src.data[o];
  }
  return out;
}
}  // namespace

std::vector<Value> eval_reshape(const Node& n, const std::vector<const Value*>& in) {
  auto ts = infer_on_values(n, in);
  std::vector<Value> out;
  for (const auto& t : ts) {
    Value v = *in[0];
    v.shape = t.shape;
    if (out.size() == 1 && n.op == "Dropout") {  // the inference-mode mask: all true
      v = Value(DType::Bool, t.shape);
      for (int64_t i = 0; i < v.numel(); ++i) v.data[i] = 1.0;
    }
    out.push_back(v);
  }
  return out;
}

std::vector<Value> eval_transpose(const Node& n, const std::vector<const Value*>& in) {
  const Value& x = *in[0];
  auto perm = n.attr_ints("perm");
  if (perm.empty())
    for (int64_t i = static_cast<int64_t>(x.shape.size()) - 1; i >= 0; --i) perm.push_back(i);
  auto xs = row_major_strides(x.shape);
  Shape s;
  std::vector<int64_t> st;
  for (int64_t p : perm) {
    s.push_back(x.shape[p]);
    st.push_back(xs[p]);
  }
  return {gather_view(x, s, 0, st)};
}

std::vector<Value> eval_concat(const Node& n, const std::vector<const Value*>& in) {
  auto ts = infer_on_values(n, in);
  Value out(ts[0].dtype, ts[0].shape);
  int64_t axis = normalize_axis(n.attr_int("axis", 0), static_cast<int64_t>(out.shape.size()));
  int64_t outer = num_elements(Shape(out.shape.begin(), out.shape.begin() + axis));
  int64_t inner = num_elements(Shape(out.shape.begin() + axis + 1, out.shape.end()));
  int64_t pos = 0;
  for (const Value* v : in) {
    if (!v) continue;
    int64_t len = v->shape[axis] * inner;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < len; ++i)
        out.data[o * out.shape[axis] * inner + pos + i] = v->data[o * len + i];
    pos += len;
  }
  return {out};
}

std::vector<Value> eval_split(const Node& n, const std::vector<const Value*>& in) {
  auto ts = infer_on_values(n, in);
  const Value& x = *in[0];
  int64_t axis = normalize_axis(n.attr_int("axis", 0), static_cast<int64_t>(x.shape.size()));
  auto xs = row_major_strides(x.shape);
  std::vector<Value> out;
  int64_t pos = 0;
  for (const auto& t : ts) {
    out.push_back(gather_view(x, t.shape, pos * xs[axis], xs));
    pos += t.shape[axis];
  }
  return out;
}

std::vector<Value> eval_slice(const Node& n, const std::vector<const Value*>& in) {
  const Value& x = *in[0];
  auto w = slice_window(n, x.shape, in);
  auto xs = row_major_strides(x.shape);
  int64_t off = 0;
  std::vector<int64_t> st;
  for (size_t d = 0; d < x.shape.size(); ++d) {
    off += w.start[d] * xs[d];
    st.push_back(w.step[d] * xs[d]);
  }
  return {gather_view(x, w.count, off, st)};
}

std::vector<Value> eval_gather(const Node& n, const std::vector<const Value*>& in) {
  const Value &x = *in[0], &idx = *in[1];
  int64_t axis = normalize_axis(n.attr_int("axis", 0), static_cast<int64_t>(x.shape.size()));
  int64_t outer = num_elements(Shape(x.shape.begin(), x.shape.begin() + axis));
  int64_t inner = num_elements(Shape(x.shape.begin() + axis + 1, x.shape.end()));
  int64_t dim = x.shape[axis];
  Shape s(x.shape.begin(), x.shape.begin() + axis);
  s.insert(s.end(), idx.shape.begin(), idx.shape.end());
  s.insert(s.end(), x.shape.begin() + axis + 1, x.shape.end());
  Value out(x.dtype, s);
  int64_t ni = idx.numel();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < ni; ++j) {
      int64_t k = static_cast<int64_t>(idx.data[j]);
      if (k < 0) k += dim;
      if (k < 0 || k >= dim) throw InputError(fmt::format("Gather: index {} out of range", k));
      for (int64_t i = 0; i < inner; ++i)
        out.data[(o * ni + j) * inner + i] = x.data[(o * dim + k) * inner + i];
    }
  return {out};
}

// Tile, DepthToSpace, SpaceToDepth.
std::vector<Value> eval_strided_copy(const Node& n, const std::vector<const Value*>& in) {
  const Value& x = *in[0];
  const StridedCopy c = strided_copy_of(n, x.shape, in);
  Value out(x.dtype, c.out_shape);
  const int64_t r = static_cast<int64_t>(c.shape.size());
  std::vector<int64_t> idx(r, 0);
  for (int64_t e = 0; e < out.numel(); ++e) {
    int64_t src = 0;
    for (int64_t d = 0; d < r; ++d) src += idx[d] * c.src_strides[d];
    out.data[e] = x.data[src];
    for (int64_t d = r - 1; d >= 0; --d) {
      if (++idx[d] < c.shape[d]) break;
      idx[d] = 0;
    }
  }
  return {out};
}

std::vector<Value> eval_shape(const Node& n, const std::vector<const Value*>& in) {
  auto ts = infer_on_values(n, in);
  int64_t r = static_cast<int64_t>(in[0]->shape.size());
  int64_t start = n.attr_int("start", 0);
  if (start < 0) start += r;
  start = std::max<int64_t>(0, std::min(start, r));
  Value out(DType::Int64, ts[0].shape);
  for (int64_t i = 0; i < out.numel(); ++i) out.data.set_int(i, in[0]->shape[start + i]);
  return {out};
}

std::vector<Value> eval_size(const Node&, const std::vector<const Value*>& in) {
  Value out(DType::Int64, {});
  out.data.set_int(0, num_elements(in[0]->shape));
  return {out};
}

std::vector<Value> eval_constant_of_shape(const Node& n, const std::vector<const Value*>& in) {
  auto ts = infer_on_values(n, in);
  Value out(ts[0].dtype, ts[0].shape);
  if (n.has_attr("value") && !n.attrs.at("value").t.data.empty()) {
    const Elems& v = n.attrs.at("value").t.data;
    for (int64_t i = 0; i < out.numel(); ++i) out.data[i] = v[0];  // exact for int64
  }
  return {out};
}

std::vector<Value> eval_expand(const Node& n, const std::vector<const Value*>& in) {
  auto ts = infer_on_values(n, in);
  return {gather_view(*in[0], ts[0].shape, 0, broadcast_strides(in[0]->shape, ts[0].shape))};
}

std::vector<Value> eval_constant(const Node& n, const std::vector<const Value*>&) {
  return {n.attrs.at("value").t};
}

std::vector<Value> eval_range(const Node& n, const std::vector<const Value*>& in) {
  auto ts = infer_on_values(n, in);
  Value out(ts[0].dtype, ts[0].shape);
  if (!isa::dtype_is_float(out.dtype)) {  // exact integers
    int64_t v = in[0]->data.int_at(0);
    const int64_t d = in[2]->data.int_at(0);
    for (int64_t i = 0; i < out.numel(); ++i, v = *int_binary("Add", v, d))
      out.data.set_int(i, int_wrap(out.dtype, v));
    return {out};
  }
  double s = in[0]->data[0], d = in[2]->data[0];
  for (int64_t i = 0; i < out.numel(); ++i) out.data[i] = round_to(out.dtype, s + i * d);
  return {out};
}

}  // namespace trnsim::compiler
