// Shape inference of Tile, DepthToSpace and SpaceToDepth, and their strided-copy geometry
// (ops/strided_copy.h).
#include "compiler/ops/strided_copy.h"

#include <fmt/format.h>

#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

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

std::vector<TypeShape> infer_strided_copy(const Node& n, const std::vector<const Tensor*>& in) {
  need_inputs(in, 1);
  return {{in[0]->dtype, strided_copy_of(n, in[0]->shape, const_values(in)).out_shape}};
}

}  // namespace trnsim::compiler
