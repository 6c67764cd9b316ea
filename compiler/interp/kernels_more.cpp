// Reference kernels of the model-zoo coverage ops: Tile, DepthToSpace, SpaceToDepth.
#include <algorithm>
#include <cmath>
#include <limits>

#include "compiler/ops/more.h"
#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

namespace {
}  // namespace

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

}  // namespace trnsim::compiler
