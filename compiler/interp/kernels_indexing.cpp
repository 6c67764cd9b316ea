// Reference kernels of GatherElements, Trilu and ScatterND (ops/indexing.h).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "compiler/ops/indexing.h"
#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

std::vector<Value> eval_gather_elements(const Node& n, const std::vector<const Value*>& in) {
  const Value &x = *in[0], &idx = *in[1];
  const int64_t r = static_cast<int64_t>(x.shape.size());
  const int64_t axis = normalize_axis(n.attr_int("axis", 0), r);
  const auto xs = row_major_strides(x.shape), is = row_major_strides(idx.shape);
  Value out(x.dtype, idx.shape);
  const int64_t V = x.shape[axis];
  for (int64_t e = 0; e < idx.numel(); ++e) {
    int64_t src = 0;
    for (int64_t d = 0; d < r; ++d) {
      int64_t c = (e / is[d]) % idx.shape[d];
      if (d == axis) {
        const auto k = static_cast<int64_t>(idx.data[e]);
        c = k < 0 ? k + V : k;
        if (c < 0 || c >= V)
          throw InputError(fmt::format("GatherElements: index {} out of range [-{}, {})", k, V, V));
      }
      src += c * xs[d];
    }
    out.data[e] = x.data[src];
  }
  return {out};
}

std::vector<Value> eval_trilu(const Node& n, const std::vector<const Value*>& in) {
  const Value& x = *in[0];
  const int64_t k = trilu_k(in.size() > 1 ? in[1] : nullptr);
  const bool upper = n.attr_int("upper", 1) != 0;
  const int64_t R = x.shape[x.shape.size() - 2], C = x.shape.back();
  Value out = x;
  for (int64_t e = 0; e < out.numel(); ++e) {
    const int64_t j = e % C, i = (e / C) % R;
    if (!trilu_keeps(upper, k, i, j)) out.data[e] = 0;
  }
  return {out};
}

std::vector<Value> eval_scatter_nd(const Node& n, const std::vector<const Value*>& in) {
  const Value &x = *in[0], &idx = *in[1], &upd = *in[2];
  const ScatterSlices s = scatter_slices(x.shape, idx, upd.shape);
  const std::string red = n.attr_string("reduction", "none");
  Value out = x;
  for (size_t i = 0; i < s.offsets.size(); ++i)
    for (int64_t e = 0; e < s.slice; ++e) {
      const int64_t at = s.offsets[i] + e, from = static_cast<int64_t>(i) * s.slice + e;
      if (red == "none") {
        out.data[at] = upd.data[from];  // exact for every dtype
      } else if (!isa::dtype_is_float(out.dtype)) {
        const int64_t o = out.data.int_at(at), u = upd.data.int_at(from);
        const char* op = red == "add" ? "Add" : red == "mul" ? "Mul" : red == "max" ? "Max" : "Min";
        out.data.set_int(at, int_wrap(out.dtype, *int_binary(op, o, u)));
      } else {
        double o = out.data[at];
        const double u = upd.data[from];
        if (red == "add") o += u;
        else if (red == "mul") o *= u;
        else if (red == "max") o = std::max(o, u);
        else o = std::min(o, u);
        out.data[at] = round_to(out.dtype, o);
      }
    }
  return {out};
}

}  // namespace trnsim::compiler
