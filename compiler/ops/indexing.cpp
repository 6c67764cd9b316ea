// Shape inference and shared geometry of GatherElements, Trilu and ScatterND (ops/indexing.h).
#include "compiler/ops/indexing.h"

#include <fmt/format.h>

#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

std::vector<TypeShape> infer_gather_elements(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 2);
  const Shape &d = in[0]->shape, &ix = in[1]->shape;
  if (d.size() != ix.size() || d.empty())
    throw InputError(fmt::format("indices have rank {}, data rank {}; they must be equal and > 0",
                                 ix.size(), d.size()));
  const int64_t axis = normalize_axis(n.attr_int("axis", 0), static_cast<int64_t>(d.size()));
  for (size_t i = 0; i < d.size(); ++i)
    if (static_cast<int64_t>(i) != axis && ix[i] > d[i])
      throw InputError(fmt::format("indices dimension {} is {}, larger than data's {}", i, ix[i],
                                   d[i]));
  if (ix[axis] > 0 && d[axis] == 0) throw InputError("gather from an empty axis");
  return {{in[0]->dtype, ix}};
}

int64_t trilu_k(const Value* k) {
  if (!k) return 0;
  if (k->numel() != 1) throw InputError("input 'k' must be a scalar");
  return static_cast<int64_t>(k->data[0]);
}

std::vector<TypeShape> infer_trilu(const Node&, const std::vector<const Tensor*>& in) {
  need_inputs(in, 1);
  if (in[0]->shape.size() < 2) throw InputError("Trilu needs an input of rank >= 2");
  if (in.size() > 1 && in[1]) {
    if (!in[1]->is_const()) throw InputError("input 'k' must be a compile-time constant");
    trilu_k(&*in[1]->value);
  }
  return {{in[0]->dtype, in[0]->shape}};
}

ScatterSlices scatter_slices(const Shape& data, const Value& indices, const Shape& updates) {
  if (indices.shape.empty()) throw InputError("indices must have rank >= 1");
  const int64_t q = indices.shape.back();
  const int64_t r = static_cast<int64_t>(data.size());
  if (q < 1 || q > r)
    throw InputError(fmt::format("indices' last dimension is {}; expected 1..{}", q, r));
  Shape want(indices.shape.begin(), indices.shape.end() - 1);
  want.insert(want.end(), data.begin() + q, data.end());
  if (want != updates)
    throw InputError(fmt::format("updates have shape [{}], expected [{}]", fmt::join(updates, ","),
                                 fmt::join(want, ",")));
  ScatterSlices s;
  for (int64_t d = q; d < r; ++d) s.slice *= data[d];
  const auto st = row_major_strides(data);
  const int64_t m = q ? indices.numel() / q : 0;
  s.offsets.reserve(m);
  for (int64_t i = 0; i < m; ++i) {
    int64_t off = 0;
    for (int64_t d = 0; d < q; ++d) {
      int64_t k = static_cast<int64_t>(indices.data[i * q + d]);
      if (k < 0) k += data[d];
      if (k < 0 || k >= data[d])
        throw InputError(fmt::format("index {} out of range for dimension {} of size {}",
                                     static_cast<int64_t>(indices.data[i * q + d]), d, data[d]));
      off += k * st[d];
    }
    s.offsets.push_back(off);
  }
  return s;
}

std::vector<TypeShape> infer_scatter_nd(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 3);
  const std::string red = n.attr_string("reduction", "none");
  if (red != "none" && red != "add" && red != "mul" && red != "max" && red != "min")
    throw InputError(fmt::format("attribute 'reduction' = '{}' is not supported", red));
  if (in[1]->is_const()) scatter_slices(in[0]->shape, *in[1]->value, in[2]->shape);
  return {{in[0]->dtype, in[0]->shape}};
}

}  // namespace trnsim::compiler
