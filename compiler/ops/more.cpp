// Shape inference of the model-zoo coverage ops: InstanceNormalization, LRN, Upsample, Tile,
// DepthToSpace, SpaceToDepth, ArgMax/ArgMin; and their strided-copy geometry (ops/more.h).
#include "compiler/ops/more.h"

#include <fmt/format.h>

#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

namespace {
void need(const std::vector<const Tensor*>& in, size_t k) {
  if (in.size() < k) throw InputError(fmt::format("expected at least {} inputs", k));
  for (size_t i = 0; i < k; ++i)
    if (!in[i]) throw InputError(fmt::format("input {} is missing", i));
}
std::vector<const Value*> values(const std::vector<const Tensor*>& in) {
  std::vector<const Value*> v;
  for (const Tensor* t : in) v.push_back(t && t->is_const() ? &*t->value : nullptr);
  return v;
}
}  // namespace

StridedCopy strided_copy_of(const Node& n, const Shape& x, const std::vector<const Value*>& in) {
  StridedCopy c;
  const int64_t r = static_cast<int64_t>(x.size());
  const auto xs = row_major_strides(x);
  if (n.op == "Tile") {
    if (in.size() < 2 || !in[1]) throw InputError("input 'repeats' must be a compile-time constant");
    if (in[1]->numel() != r)
      throw InputError(fmt::format("repeats has {} values, expected {}", in[1]->numel(), r));
    for (int64_t a = 0; a < r; ++a) {
      const auto rep = static_cast<int64_t>(in[1]->data[a]);
      if (rep < 0) throw InputError(fmt::format("repeats[{}] = {} is negative", a, rep));
      c.out_shape.push_back(x[a] * rep);
      c.shape.push_back(rep);
      c.src_strides.push_back(0);
      c.shape.push_back(x[a]);
      c.src_strides.push_back(xs[a]);
    }
    return c;
  }
  if (r != 4) throw InputError(fmt::format("{} needs a 4-D input, got rank {}", n.op, r));
  const int64_t bs = n.attr_int("blocksize", 0);
  if (bs <= 0) throw InputError("attribute 'blocksize' must be positive");
  const int64_t N = x[0], C = x[1], H = x[2], W = x[3];
  if (n.op == "DepthToSpace") {
    if (C % (bs * bs))
      throw InputError(fmt::format("channels {} are not a multiple of blocksize^2 = {}", C, bs * bs));
    const std::string mode = n.attr_string("mode", "DCR");
    if (mode != "DCR" && mode != "CRD")
      throw InputError(fmt::format("attribute 'mode' = '{}' is not supported (DCR or CRD)", mode));
    const int64_t Co = C / (bs * bs), HW = H * W;
    c.out_shape = {N, Co, H * bs, W * bs};
    // Output as [N, Co, H, bs(i), W, bs(j)]; input channel DCR: (i*bs + j)*Co + c, CRD: c*bs*bs + i*bs + j.
    c.shape = {N, Co, H, bs, W, bs};
    if (mode == "DCR") c.src_strides = {C * HW, HW, W, bs * Co * HW, 1, Co * HW};
    else c.src_strides = {C * HW, bs * bs * HW, W, bs * HW, 1, HW};
    return c;
  }
  // SpaceToDepth: output channel (i*bs + j)*C + c holds x[n, c, h*bs + i, w*bs + j].
  if (H % bs || W % bs)
    throw InputError(fmt::format("spatial size {}x{} is not a multiple of blocksize {}", H, W, bs));
  c.out_shape = {N, C * bs * bs, H / bs, W / bs};
  c.shape = {N, bs, bs, C, H / bs, W / bs};
  c.src_strides = {C * H * W, W, 1, H * W, bs * W, bs};
  return c;
}

int64_t cumsum_axis(const Node&, const Value* axis, int64_t rank) {
  if (!axis) throw InputError("input 'axis' must be a compile-time constant");
  if (axis->numel() != 1) throw InputError("input 'axis' must be a scalar");
  return normalize_axis(static_cast<int64_t>(axis->data[0]), rank);
}

std::vector<TypeShape> infer_cumsum(const Node& n, const std::vector<const Tensor*>& in) {
  need(in, 2);
  cumsum_axis(n, values(in)[1], static_cast<int64_t>(in[0]->shape.size()));
  return {{in[0]->dtype, in[0]->shape}};
}

std::vector<TypeShape> infer_strided_copy(const Node& n, const std::vector<const Tensor*>& in) {
  need(in, 1);
  return {{in[0]->dtype, strided_copy_of(n, in[0]->shape, values(in)).out_shape}};
}

std::vector<TypeShape> infer_instance_norm(const Node&, const std::vector<const Tensor*>& in) {
  need(in, 3);
  const Shape& s = in[0]->shape;
  if (s.size() < 3) throw InputError("InstanceNormalization needs an input of rank >= 3");
  if (num_elements(in[1]->shape) != s[1] || num_elements(in[2]->shape) != s[1])
    throw InputError("scale and B must have one value per channel");
  return {{in[0]->dtype, s}};
}

std::vector<TypeShape> infer_lrn(const Node& n, const std::vector<const Tensor*>& in) {
  need(in, 1);
  if (in[0]->shape.size() < 3) throw InputError("LRN needs an input of rank >= 3");
  if (n.attr_int("size", 0) <= 0) throw InputError("attribute 'size' must be positive");
  return {{in[0]->dtype, in[0]->shape}};
}

std::vector<TypeShape> infer_arg_reduce(const Node& n, const std::vector<const Tensor*>& in) {
  need(in, 1);
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

}  // namespace trnsim::compiler
