// Reference kernels of the model-zoo coverage ops: InstanceNormalization, LRN, LogSoftmax, Tile,
// DepthToSpace, SpaceToDepth, Mod.
#include <algorithm>
#include <cmath>
#include <limits>

#include "compiler/ops/more.h"
#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

namespace {
}  // namespace

std::vector<Value> eval_instance_norm(const Node& n, const std::vector<const Value*>& in) {
  const Value& x = *in[0];
  const int64_t N = x.shape[0], C = x.shape[1], S = x.numel() / std::max<int64_t>(1, N * C);
  const double eps = n.attr_float("epsilon", 1e-5f);
  Value out(x.dtype, x.shape);
  for (int64_t r = 0; r < N * C; ++r) {
    const double* p = x.data.data() + r * S;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < S; ++i) mean += p[i];
    mean /= static_cast<double>(S);
    for (int64_t i = 0; i < S; ++i) var += (p[i] - mean) * (p[i] - mean);
    var /= static_cast<double>(S);
    const double a = in[1]->data[r % C] / std::sqrt(var + eps), b = in[2]->data[r % C];
    for (int64_t i = 0; i < S; ++i) out.data[r * S + i] = (p[i] - mean) * a + b;
  }
  round_all(out);
  return {out};
}

std::vector<Value> eval_lrn(const Node& n, const std::vector<const Value*>& in) {
  const Value& x = *in[0];
  const int64_t N = x.shape[0], C = x.shape[1], S = x.numel() / std::max<int64_t>(1, N * C);
  const int64_t size = n.attr_int("size", 1);
  const double alpha = n.attr_float("alpha", 1e-4f), beta = n.attr_float("beta", 0.75f);
  const double bias = n.attr_float("bias", 1.0f);
  const int64_t lo = (size - 1) / 2, hi = size - 1 - lo;
  Value out(x.dtype, x.shape);
  for (int64_t b = 0; b < N; ++b)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < S; ++i) {
        double sq = 0;
        for (int64_t k = std::max<int64_t>(0, c - lo); k <= std::min(C - 1, c + hi); ++k) {
          const double v = x.data[(b * C + k) * S + i];
          sq += v * v;
        }
        const int64_t e = (b * C + c) * S + i;
        out.data[e] = x.data[e] / std::pow(bias + alpha / static_cast<double>(size) * sq, beta);
      }
  round_all(out);
  return {out};
}

std::vector<Value> eval_log_softmax(const Node& n, const std::vector<const Value*>& in) {
  const Value& x = *in[0];
  const int64_t r = static_cast<int64_t>(x.shape.size());
  const int64_t axis = softmax_axis(n, r);
  Split3 p = split3(x.shape, axis, n.attr_int("_legacy", 0) ? r : axis + 1);
  Value out(x.dtype, x.shape);
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t i = 0; i < p.inner; ++i) {
      auto at = [&](int64_t m) { return (o * p.mid + m) * p.inner + i; };
      double mx = -std::numeric_limits<double>::infinity(), sum = 0;
      for (int64_t m = 0; m < p.mid; ++m) mx = std::max(mx, x.data.get(at(m)));
      for (int64_t m = 0; m < p.mid; ++m) sum += std::exp(x.data[at(m)] - mx);
      const double ls = std::log(sum);
      for (int64_t m = 0; m < p.mid; ++m) out.data[at(m)] = x.data[at(m)] - mx - ls;
    }
  round_all(out);
  return {out};
}

// Mod: fmod=0 floored (the sign of the divisor, integers), fmod=1 truncated (C fmod).
std::vector<Value> eval_mod(const Node& n, const std::vector<const Value*>& in) {
  const Value& a = *in[0];
  const Value& b = *in[1];
  const Shape s = broadcast_shapes(a.shape, b.shape);
  const auto as = broadcast_strides(a.shape, s), bs = broadcast_strides(b.shape, s);
  const auto os = row_major_strides(s);
  const bool fm = n.attr_int("fmod", 0) != 0;
  const bool ints = !isa::dtype_is_float(a.dtype);
  Value out(a.dtype, s);
  for (int64_t e = 0; e < out.numel(); ++e) {
    int64_t ia = 0, ib = 0;
    for (size_t d = 0; d < s.size(); ++d) {
      const int64_t c = (e / os[d]) % s[d];
      ia += c * as[d];
      ib += c * bs[d];
    }
    if (ints) {  // exact: C's % truncates; fmod=0 takes the divisor's sign
      const int64_t x = a.data.int_at(ia), y = b.data.int_at(ib);
      if (y == 0) throw InputError("Mod: integer division by zero");
      int64_t r = y == -1 ? 0 : x % y;
      if (!fm && r != 0 && ((r < 0) != (y < 0))) r += y;
      out.data.set_int(e, r);
      continue;
    }
    const double x = a.data[ia], y = b.data[ib];
    double r = std::fmod(x, y);
    if (!fm && r != 0 && ((r < 0) != (y < 0))) r += y;
    out.data[e] = r;
  }
  round_all(out);
  return {out};
}

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
