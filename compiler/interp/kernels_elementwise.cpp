// Reference kernels of elementwise ops: unary, binary with broadcasting, Mod, Round, Where, Cast.
#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <optional>

#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

std::vector<int64_t> row_major_strides(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int i = static_cast<int>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  auto rs = row_major_strides(in);
  std::vector<int64_t> st(out.size(), 0);
  size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) st[off + i] = in[i] == 1 ? 0 : rs[i];
  return st;
}

double round_to(DType t, double v) {
  switch (t) {
    case DType::Fp32: return static_cast<double>(static_cast<float>(v));
    case DType::Bool: return v != 0.0 ? 1.0 : 0.0;
    case DType::Bf16: return isa::bf16_to_float(isa::float_to_bf16(static_cast<float>(v)));
    case DType::Fp16: return isa::fp16_to_float(isa::float_to_fp16(static_cast<float>(v)));
    default:
      if (isa::dtype_is_float(t)) return static_cast<double>(static_cast<float>(v));
      return std::isnan(v) ? 0.0 : std::trunc(v);
  }
}

void round_all(Value& v) {
  if (v.data.is_int()) return;  // exact int64s
  for (double& d : v.data) d = round_to(v.dtype, d);
}

int64_t int_wrap(DType t, int64_t v) {
  switch (t) {
    case DType::Int32: return static_cast<int32_t>(static_cast<uint32_t>(v));
    case DType::Int8: return static_cast<int8_t>(static_cast<uint8_t>(v));
    case DType::Uint8: return static_cast<uint8_t>(v);
    case DType::Bool: return v != 0;
    default: return v;
  }
}

std::optional<int64_t> int_binary(const std::string& op, int64_t a, int64_t b) {
  using U = uint64_t;
  if (op == "Add" || op == "Sum") return static_cast<int64_t>(U(a) + U(b));
  if (op == "Sub") return static_cast<int64_t>(U(a) - U(b));
  if (op == "Mul") return static_cast<int64_t>(U(a) * U(b));
  if (op == "Div") {  // truncates toward zero; x/0 is undefined in ONNX Runtime: 0 here
    if (b == 0) return 0;
    if (b == -1) return static_cast<int64_t>(U(0) - U(a));
    return a / b;
  }
  if (op == "Max") return std::max(a, b);
  if (op == "Min") return std::min(a, b);
  if (op == "Equal") return a == b;
  if (op == "Less") return a < b;
  if (op == "Greater") return a > b;
  if (op == "LessOrEqual") return a <= b;
  if (op == "GreaterOrEqual") return a >= b;
  if (op == "And") return (a != 0) && (b != 0);
  if (op == "Or") return (a != 0) || (b != 0);
  if (op == "Xor") return (a != 0) != (b != 0);
  if (op == "Pow") return double_to_int64(std::pow(static_cast<double>(a), static_cast<double>(b)));
  return std::nullopt;
}

Split3 split3(const Shape& s, int64_t a, int64_t b) {
  Split3 r;
  for (int64_t i = 0; i < static_cast<int64_t>(s.size()); ++i)
    (i < a ? r.outer : i < b ? r.mid : r.inner) *= s[i];
  return r;
}

namespace {
// Calls f(out_index, in_index...) over the broadcast output shape.
template <typename F>
void for_each_broadcast(const Shape& out, const std::vector<std::vector<int64_t>>& strides, F f) {
  const size_t r = out.size(), k = strides.size();
  int64_t total = num_elements(out);
  std::vector<int64_t> idx(r, 0), off(k, 0);
  for (int64_t e = 0; e < total; ++e) {
    f(e, off);
    for (int d = static_cast<int>(r) - 1; d >= 0; --d) {
      ++idx[d];
      for (size_t j = 0; j < k; ++j) off[j] += strides[j][d];
      if (idx[d] < out[d]) break;
      for (size_t j = 0; j < k; ++j) off[j] -= strides[j][d] * out[d];
      idx[d] = 0;
    }
  }
}
}  // namespace

std::vector<Value> eval_unary(const Node& n, const std::vector<const Value*>& in) {
  const OpInfo* info = find_op(n.op);
  Value out(in[0]->dtype, in[0]->shape);
  if (!isa::dtype_is_float(out.dtype) &&
      (n.op == "Neg" || n.op == "Abs" || n.op == "Sign" || n.op == "Relu" || n.op == "Identity")) {
    for (int64_t i = 0; i < out.numel(); ++i) {  // exact integers (two's complement wrap)
      const int64_t x = in[0]->data.int_at(i);
      const uint64_t neg = uint64_t{0} - static_cast<uint64_t>(x);
      int64_t y = x;
      if (n.op == "Neg") y = static_cast<int64_t>(neg);
      else if (n.op == "Abs") y = x < 0 ? static_cast<int64_t>(neg) : x;
      else if (n.op == "Sign") y = (x > 0) - (x < 0);
      else if (n.op == "Relu") y = std::max<int64_t>(x, 0);
      out.data.set_int(i, int_wrap(out.dtype, y));
    }
    return {out};
  }
  for (int64_t i = 0; i < out.numel(); ++i)
    out.data[i] = round_to(out.dtype, info->unary(in[0]->data[i], n));
  return {out};
}

std::vector<Value> eval_binary(const Node& n, const std::vector<const Value*>& in) {
  const OpInfo* info = find_op(n.op);
  Shape s = broadcast_shapes(in[0]->shape, in[1]->shape);
  DType t = info->infer == infer_compare ? DType::Bool : in[0]->dtype;
  Value out(t, s);
  if (!isa::dtype_is_float(in[0]->dtype) && !isa::dtype_is_float(in[1]->dtype) &&
      int_binary(n.op, 0, 1)) {  // exact integer arithmetic (int64 is beyond a double's 2^53)
    const Elems &a = in[0]->data, &b = in[1]->data;
    for_each_broadcast(s, {broadcast_strides(in[0]->shape, s), broadcast_strides(in[1]->shape, s)},
                       [&](int64_t e, const std::vector<int64_t>& o) {
                         out.data.set_int(e, int_wrap(t, *int_binary(n.op, a.int_at(o[0]),
                                                                     b.int_at(o[1]))));
                       });
    return {out};
  }
  for_each_broadcast(s, {broadcast_strides(in[0]->shape, s), broadcast_strides(in[1]->shape, s)},
                     [&](int64_t e, const std::vector<int64_t>& o) {
                       out.data[e] = round_to(t, info->binary(in[0]->data[o[0]], in[1]->data[o[1]]));
                     });
  return {out};
}

std::vector<Value> eval_variadic(const Node& n, const std::vector<const Value*>& in) {
  Value acc = *in[0];
  for (size_t i = 1; i < in.size(); ++i) {
    if (!in[i]) continue;
    std::vector<const Value*> pair{&acc, in[i]};
    acc = eval_binary(n, pair)[0];
  }
  return {acc};
}

std::vector<Value> eval_mean(const Node& n, const std::vector<const Value*>& in) {
  Value acc = *in[0];
  int count = 1;
  for (size_t i = 1; i < in.size(); ++i) {
    if (!in[i]) continue;
    Shape s = broadcast_shapes(acc.shape, in[i]->shape);
    Value next(acc.dtype, s);
    for_each_broadcast(s, {broadcast_strides(acc.shape, s), broadcast_strides(in[i]->shape, s)},
                       [&](int64_t e, const std::vector<int64_t>& o) {
                         next.data[e] = acc.data[o[0]] + in[i]->data[o[1]];
                       });
    acc = std::move(next);
    ++count;
  }
  (void)n;
  for (double& v : acc.data) v = round_to(acc.dtype, v / count);
  return {acc};
}

std::vector<Value> eval_clip(const Node& n, const std::vector<const Value*>& in) {
  double lo = n.attr_float("min", -std::numeric_limits<float>::infinity());
  double hi = n.attr_float("max", std::numeric_limits<float>::infinity());
  for (size_t k = 1; k < in.size() && k <= 2; ++k) {
    if (!in[k]) continue;
    if (in[k]->numel() != 1)
      throw InputError(fmt::format("node '{}' (op Clip): input {} must be a scalar, not {}", n.name,
                                   k == 1 ? "min" : "max", shape_str(in[k]->shape)));
    (k == 1 ? lo : hi) = in[k]->data[0];
  }
  Value out(in[0]->dtype, in[0]->shape);
  if (!isa::dtype_is_float(out.dtype)) {  // exact integers
    int64_t ilo = std::numeric_limits<int64_t>::min(), ihi = std::numeric_limits<int64_t>::max();
    if (in.size() > 1 && in[1]) ilo = in[1]->data.int_at(0);
    if (in.size() > 2 && in[2]) ihi = in[2]->data.int_at(0);
    for (int64_t i = 0; i < out.numel(); ++i)
      out.data.set_int(i, std::min(std::max(in[0]->data.int_at(i), ilo), ihi));
    return {out};
  }
  // ONNX: min(max(x, lo), hi), so hi wins when lo > hi.
  for (int64_t i = 0; i < out.numel(); ++i)
    out.data[i] = round_to(out.dtype, std::min(std::max(static_cast<double>(in[0]->data[i]), lo), hi));
  return {out};
}

// Round: half to even (std::nearbyint in the default rounding mode); integers unchanged.
std::vector<Value> eval_round(const Node&, const std::vector<const Value*>& in) {
  Value out = *in[0];
  if (out.data.is_int()) return {out};
  for (int64_t e = 0; e < out.numel(); ++e) out.data[e] = std::nearbyint(out.data[e]);
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

std::vector<Value> eval_where(const Node&, const std::vector<const Value*>& in) {
  Shape s = broadcast_shapes(broadcast_shapes(in[0]->shape, in[1]->shape), in[2]->shape);
  Value out(in[1]->dtype, s);
  for_each_broadcast(s,
                     {broadcast_strides(in[0]->shape, s), broadcast_strides(in[1]->shape, s),
                      broadcast_strides(in[2]->shape, s)},
                     [&](int64_t e, const std::vector<int64_t>& o) {
                       out.data[e] = in[0]->data[o[0]] != 0 ? in[1]->data[o[1]] : in[2]->data[o[2]];
                     });
  return {out};
}

std::vector<Value> eval_cast(const Node& n, const std::vector<const Value*>& in) {
  auto t = isa::parse_dtype(n.attr_string("to_dtype", ""));
  if (!t) throw InputError("unsupported target dtype of Cast");
  Value out(*t, in[0]->shape);
  const bool from_int = !isa::dtype_is_float(in[0]->dtype);
  for (int64_t i = 0; i < out.numel(); ++i) {
    if (from_int && isa::dtype_is_float(*t)) {  // int64 -> float rounds once, like a C cast
      out.data[i] = round_to(*t, static_cast<float>(in[0]->data.int_at(i)));
    } else if (from_int) {
      out.data.set_int(i, int_wrap(*t, in[0]->data.int_at(i)));
    } else if (*t == DType::Bool) {
      out.data[i] = in[0]->data[i] != 0.0 ? 1.0 : 0.0;
    } else if (!isa::dtype_is_float(*t)) {  // float -> int truncates
      out.data.set_int(i, int_wrap(*t, double_to_int64(in[0]->data[i])));
    } else {
      out.data[i] = round_to(*t, in[0]->data[i]);
    }
  }
  return {out};
}

}  // namespace trnsim::compiler
