// Reference kernels of the ops that reduce or scan along axes: every ReduceX, ArgMax/ArgMin,
// CumSum.
#include <algorithm>
#include <cmath>
#include <limits>

#include "compiler/ops/op_fns.h"

namespace trnsim::compiler {

// Every ReduceX: Mean, Sum, Max, Min, L1, L2, SumSquare, Prod, LogSumExp.
std::vector<Value> eval_reduce(const Node& node, const std::vector<const Value*>& in) {
  const Value& x = *in[0];
  auto axes = reduce_axes(node, in, static_cast<int64_t>(x.shape.size()));
  Shape kept = x.shape;
  for (int64_t a : axes) kept[a] = 1;
  Value out(x.dtype, kept);
  const std::string& op = node.op;
  const double inf = std::numeric_limits<double>::infinity();
  const double init = op == "ReduceMax" ? -inf : op == "ReduceMin" ? inf : op == "ReduceProd" ? 1.0 : 0.0;
  auto os = broadcast_strides(kept, x.shape);
  auto xs = row_major_strides(x.shape);
  auto out_of = [&](int64_t e) {
    int64_t o = 0;
    for (size_t d = 0; d < x.shape.size(); ++d) o += (e / xs[d]) % x.shape[d] * os[d];
    return o;
  };
  auto drop_reduced_axes = [&] {  // keepdims=0
    if (node.attr_int("keepdims", 1)) return;
    Shape s;
    for (size_t i = 0; i < x.shape.size(); ++i)
      if (std::find(axes.begin(), axes.end(), static_cast<int64_t>(i)) == axes.end())
        s.push_back(x.shape[i]);
    out.shape = s;
  };
  if (!isa::dtype_is_float(x.dtype) && op != "ReduceL2" && op != "ReduceLogSumExp") {
    // Exact integers, wrapping like ONNX Runtime's int64 accumulators; Mean truncates.
    std::vector<int64_t> acc(out.numel(), op == "ReduceMax"   ? std::numeric_limits<int64_t>::min()
                                          : op == "ReduceMin" ? std::numeric_limits<int64_t>::max()
                                          : op == "ReduceProd" ? 1
                                                               : 0);
    for (int64_t e = 0; e < x.numel(); ++e) {
      const int64_t v = x.data.int_at(e);
      int64_t& a = acc[out_of(e)];
      if (op == "ReduceMax") a = std::max(a, v);
      else if (op == "ReduceMin") a = std::min(a, v);
      else if (op == "ReduceProd") a = *int_binary("Mul", a, v);
      else if (op == "ReduceL1") a = *int_binary("Add", a, v < 0 ? *int_binary("Sub", 0, v) : v);
      else if (op == "ReduceSumSquare") a = *int_binary("Add", a, *int_binary("Mul", v, v));
      else a = *int_binary("Add", a, v);
    }
    const int64_t cnt = x.numel() / std::max<int64_t>(1, out.numel());
    for (int64_t o = 0; o < out.numel(); ++o)
      out.data.set_int(o, int_wrap(out.dtype, op == "ReduceMean" && cnt ? acc[o] / cnt : acc[o]));
    drop_reduced_axes();
    return {out};
  }
  std::vector<double> mx;  // LogSumExp: the max of each output, subtracted for stability
  if (op == "ReduceLogSumExp") {
    mx.assign(out.numel(), -inf);
    for (int64_t e = 0; e < x.numel(); ++e) mx[out_of(e)] = std::max(mx[out_of(e)], x.data.get(e));
  }
  std::vector<double> accs(out.numel(), init);
  for (int64_t e = 0; e < x.numel(); ++e) {
    const int64_t o = out_of(e);
    const double v = x.data[e];
    double& acc = accs[o];
    if (op == "ReduceMax") acc = std::max(acc, v);
    else if (op == "ReduceMin") acc = std::min(acc, v);
    else if (op == "ReduceL1") acc += std::fabs(v);
    else if (op == "ReduceProd") acc *= v;
    else if (op == "ReduceLogSumExp") acc += std::exp(v - mx[o]);
    else if (op == "ReduceL2" || op == "ReduceSumSquare") acc += v * v;
    else acc += v;  // Sum, Mean
  }
  const double cnt = static_cast<double>(x.numel()) / std::max<int64_t>(1, out.numel());
  for (int64_t o = 0; o < out.numel(); ++o) {
    out.data[o] = accs[o];
    if (op == "ReduceMean") out.data[o] /= cnt;
    if (op == "ReduceL2") out.data[o] = std::sqrt(out.data[o]);
    if (op == "ReduceLogSumExp") out.data[o] = std::log(out.data[o]) + mx[o];
  }
  drop_reduced_axes();
  round_all(out);
  return {out};
}

std::vector<Value> eval_arg_reduce(const Node& n, const std::vector<const Value*>& in) {
  const Value& x = *in[0];
  const int64_t r = static_cast<int64_t>(x.shape.size());
  const int64_t axis = normalize_axis(n.attr_int("axis", 0), r);
  const bool is_max = n.op == "ArgMax", last = n.attr_int("select_last_index", 0) != 0;
  Split3 p = split3(x.shape, axis, axis + 1);
  Shape os;
  for (int64_t i = 0; i < r; ++i) {
    if (i != axis) os.push_back(x.shape[i]);
    else if (n.attr_int("keepdims", 1)) os.push_back(1);
  }
  Value out(DType::Int64, os);
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t i = 0; i < p.inner; ++i) {
      int64_t best = 0;
      double bv = x.data[o * p.mid * p.inner + i];
      for (int64_t m = 1; m < p.mid; ++m) {
        const double v = x.data[(o * p.mid + m) * p.inner + i];
        const bool better = is_max ? (v > bv || (last && v == bv)) : (v < bv || (last && v == bv));
        if (better) bv = v, best = m;
      }
      out.data.set_int(o * p.inner + i, best);
    }
  return {out};
}

std::vector<Value> eval_cumsum(const Node& n, const std::vector<const Value*>& in) {
  const Value& x = *in[0];
  const int64_t axis = cumsum_axis(n, in[1], static_cast<int64_t>(x.shape.size()));
  const bool excl = n.attr_int("exclusive", 0) != 0, rev = n.attr_int("reverse", 0) != 0;
  Split3 p = split3(x.shape, axis, axis + 1);
  Value out(x.dtype, x.shape);
  if (!isa::dtype_is_float(x.dtype)) {  // exact integers, wrapping
    for (int64_t o = 0; o < p.outer; ++o)
      for (int64_t i = 0; i < p.inner; ++i) {
        int64_t acc = 0;
        for (int64_t s = 0; s < p.mid; ++s) {
          const int64_t e = (o * p.mid + (rev ? p.mid - 1 - s : s)) * p.inner + i;
          if (excl) out.data.set_int(e, int_wrap(x.dtype, acc));
          acc = *int_binary("Add", acc, x.data.int_at(e));
          if (!excl) out.data.set_int(e, int_wrap(x.dtype, acc));
        }
      }
    return {out};
  }
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t i = 0; i < p.inner; ++i) {
      double acc = 0;
      for (int64_t s = 0; s < p.mid; ++s) {
        const int64_t m = rev ? p.mid - 1 - s : s;
        const int64_t e = (o * p.mid + m) * p.inner + i;
        if (excl) out.data[e] = acc;
        acc += x.data[e];
        if (!excl) out.data[e] = acc;
      }
    }
  round_all(out);
  return {out};
}

}  // namespace trnsim::compiler
