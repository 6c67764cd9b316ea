// Reference kernels of MatMul, Gemm, Softmax, LogSoftmax and the normalizations: Layer-, Batch-,
// InstanceNormalization, LRN.
#include <algorithm>
#include <cmath>
#include <limits>

#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

namespace {
// Bias (input 2, along the last axis) and activation of a node fused by fuse_epilogue.
void apply_epilogue(const Node& n, const std::vector<const Value*>& in, Value& out, bool bias) {
  if (bias && in.size() > 2 && in[2]) {
    const int64_t nn = out.shape.back();
    for (int64_t i = 0; i < out.numel(); ++i) out.data[i] += in[2]->data[i % nn];
  }
  std::string act = n.attr_string("_act", "");
  if (!act.empty()) {
    const OpInfo* info = find_op(act);
    for (double& d : out.data) d = info->unary(d, n);
  }
}

}  // namespace

std::vector<Value> eval_matmul(const Node& node, const std::vector<const Value*>& in) {
  Shape a = in[0]->shape, b = in[1]->shape;
  bool va = a.size() == 1, vb = b.size() == 1;
  if (va) a.insert(a.begin(), 1);
  if (vb) b.push_back(1);
  const int64_t m = a[a.size() - 2], k = a.back(), n = b.back();
  Shape ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  Shape batch = broadcast_shapes(ba, bb);
  auto sa = broadcast_strides(ba, batch), sb = broadcast_strides(bb, batch);
  Shape out_shape = batch;
  if (!va) out_shape.push_back(m);
  if (!vb) out_shape.push_back(n);
  Value out(in[0]->dtype, out_shape);
  int64_t nb = num_elements(batch);
  std::vector<int64_t> idx(batch.size(), 0);
  for (int64_t bi = 0; bi < nb; ++bi) {
    int64_t oa = 0, ob = 0, rem = bi;
    for (int d = static_cast<int>(batch.size()) - 1; d >= 0; --d) {
      int64_t i = rem % batch[d];
      rem /= batch[d];
      oa += i * sa[d];
      ob += i * sb[d];
    }
    const double* pa = in[0]->data.data() + oa * m * k;
    const double* pb = in[1]->data.data() + ob * k * n;
    double* po = out.data.data() + bi * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t q = 0; q < k; ++q) acc += pa[i * k + q] * pb[q * n + j];
        po[i * n + j] = acc;
      }
  }
  apply_epilogue(node, in, out, true);
  round_all(out);
  return {out};
}

std::vector<Value> eval_gemm(const Node& node, const std::vector<const Value*>& in) {
  const Value &A = *in[0], &B = *in[1];
  bool ta = node.attr_int("transA", 0), tb = node.attr_int("transB", 0);
  double alpha = node.attr_float("alpha", 1.0f), beta = node.attr_float("beta", 1.0f);
  int64_t m = ta ? A.shape[1] : A.shape[0], k = ta ? A.shape[0] : A.shape[1];
  int64_t n = tb ? B.shape[0] : B.shape[1];
  Value out(A.dtype, {m, n});
  std::vector<int64_t> cs;
  if (in.size() > 2 && in[2]) cs = broadcast_strides(in[2]->shape, {m, n});
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t q = 0; q < k; ++q)
        acc += A.data[ta ? q * m + i : i * k + q] * B.data[tb ? j * k + q : q * n + j];
      acc *= alpha;
      if (!cs.empty()) acc += beta * in[2]->data[i * cs[0] + j * cs[1]];
      out.data[i * n + j] = acc;
    }
  apply_epilogue(node, in, out, false);
  round_all(out);
  return {out};
}

namespace {
// Softmax or LogSoftmax along the axis (opset < 13, `_legacy`: over all axes from it on), each
// row's maximum subtracted before exp.
Value softmax_of(const Node& n, const Value& x, bool log) {
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
      if (log) {
        const double ls = std::log(sum);
        for (int64_t m = 0; m < p.mid; ++m) out.data[at(m)] = x.data[at(m)] - mx - ls;
      } else {
        for (int64_t m = 0; m < p.mid; ++m) out.data[at(m)] = std::exp(x.data[at(m)] - mx) / sum;
      }
    }
  round_all(out);
  return out;
}
}  // namespace

std::vector<Value> eval_softmax(const Node& n, const std::vector<const Value*>& in) {
  return {softmax_of(n, *in[0], false)};
}

std::vector<Value> eval_log_softmax(const Node& n, const std::vector<const Value*>& in) {
  return {softmax_of(n, *in[0], true)};
}

std::vector<Value> eval_layernorm(const Node& node, const std::vector<const Value*>& in) {
  const Value& x = *in[0];
  int64_t r = static_cast<int64_t>(x.shape.size());
  int64_t axis = normalize_axis(node.attr_int("axis", -1), r);
  double eps = node.attr_float("epsilon", 1e-5f);
  Split3 p = split3(x.shape, 0, axis);  // outer=1, mid=rows, inner=normalized size
  int64_t rows = p.mid, cols = p.inner;
  Value out(x.dtype, x.shape);
  Shape stat = x.shape;
  for (int64_t i = axis; i < r; ++i) stat[i] = 1;
  Value mean(DType::Fp32, stat), rstd(DType::Fp32, stat);
  Shape norm_shape(x.shape.begin() + axis, x.shape.end());
  auto gs = broadcast_strides(in[1]->shape, norm_shape);
  std::vector<int64_t> bs;
  if (in.size() > 2 && in[2]) bs = broadcast_strides(in[2]->shape, norm_shape);
  auto ns = row_major_strides(norm_shape);
  for (int64_t row = 0; row < rows; ++row) {
    const double* px = x.data.data() + row * cols;
    double mu = 0, var = 0;
    for (int64_t c = 0; c < cols; ++c) mu += px[c];
    mu /= cols;
    for (int64_t c = 0; c < cols; ++c) var += (px[c] - mu) * (px[c] - mu);
    var /= cols;
    double rs = 1.0 / std::sqrt(var + eps);
    mean.data[row] = mu;
    rstd.data[row] = rs;
    for (int64_t c = 0; c < cols; ++c) {
      int64_t gi = 0, bi = 0;
      for (size_t d = 0; d < norm_shape.size(); ++d) {
        int64_t id = (c / ns[d]) % norm_shape[d];
        gi += id * gs[d];
        if (!bs.empty()) bi += id * bs[d];
      }
      double y = (px[c] - mu) * rs * in[1]->data[gi];
      if (!bs.empty()) y += in[2]->data[bi];
      out.data[row * cols + c] = y;
    }
  }
  round_all(out);
  round_all(mean);
  round_all(rstd);
  return {out, mean, rstd};
}

std::vector<Value> eval_batchnorm(const Node& node, const std::vector<const Value*>& in) {
  const Value& x = *in[0];
  double eps = node.attr_float("epsilon", 1e-5f);
  int64_t c = x.shape[1];
  int64_t inner = num_elements(Shape(x.shape.begin() + 2, x.shape.end()));
  Value out(x.dtype, x.shape);
  for (int64_t e = 0; e < x.numel(); ++e) {
    int64_t ch = (e / inner) % c;
    double scale = in[1]->data[ch] / std::sqrt(in[4]->data[ch] + eps);
    out.data[e] = (x.data[e] - in[3]->data[ch]) * scale + in[2]->data[ch];
  }
  round_all(out);
  return {out};
}

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

}  // namespace trnsim::compiler
