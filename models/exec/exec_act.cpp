// Functional executor: activation functions and the act instruction.
#include <cmath>
#include <limits>
#include <string>

#include "models/exec/exec_internal.h"

namespace trnsim::model::detail {

using isa::ActFn;

inline float act_fn_inline(ActFn f, float x) {
  switch (f) {
    case ActFn::Copy: return x;
    case ActFn::Exp: return std::exp(x);
    case ActFn::Log: return std::log(x);
    case ActFn::Tanh: return std::tanh(x);
    case ActFn::Sigmoid: return 1.0f / (1.0f + std::exp(-x));
    case ActFn::Relu: return x > 0.0f ? x : (std::isnan(x) ? x : 0.0f);
    case ActFn::Gelu: return x * 0.5f * (1.0f + std::erf(x * 0.70710678118654752f));
    case ActFn::GeluTanh: {
      const float k = 0.79788456080286536f;  // sqrt(2/pi)
      return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
    }
    case ActFn::Silu: return x / (1.0f + std::exp(-x));
    case ActFn::Softplus:
      // log1p(exp(x)) without overflow: max(x,0) + log1p(exp(-|x|)).
      return std::fmax(x, 0.0f) + std::log1p(std::exp(-std::fabs(x)));
    case ActFn::Sqrt: return std::sqrt(x);
    case ActFn::Rsqrt: return 1.0f / std::sqrt(x);
    case ActFn::Reciprocal: return 1.0f / x;
    case ActFn::Square: return x * x;
    case ActFn::Abs: return std::fabs(x);
    case ActFn::Sign: return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : (std::isnan(x) ? x : 0.0f));
    case ActFn::Erf: return std::erf(x);
    case ActFn::Sin:  // valid on [-pi, pi] (a little slack for the compiler's range reduction)
      return std::fabs(x) <= 3.1425f ? std::sin(x) : std::numeric_limits<float>::quiet_NaN();
  }
  return x;
}

float act_fn(ActFn f, float x) { return act_fn_inline(f, x); }

namespace {

// One loop per function so the switch folds away inside the loop.
template <ActFn kFn>
void apply(float* r, int64_t n, float s, float b) {
  for (int64_t i = 0; i < n; ++i) r[i] = act_fn_inline(kFn, r[i] * s + b);
}

void apply_fn(ActFn fn, float* r, int64_t n, float s, float b) {
  switch (fn) {
#define TRNSIM_ACTFN(e, name, doc) \
  case ActFn::e: apply<ActFn::e>(r, n, s, b); return;
#include "isa/isa.def"
#undef TRNSIM_ACTFN
  }
}

}  // namespace

void exec_act(const Ctx& c) {
  Tile dst = resolve(c, 0);
  Tile src = resolve(c, 1);
  check_same_shape(c, dst, "dst", src, "src");
  const int64_t i_fn = c.op(2).i;
  if (i_fn < 0 || i_fn >= isa::kNumActFns) c.fault("bad activation function " + std::to_string(i_fn));
  const ActFn fn = static_cast<ActFn>(i_fn);
  std::vector<float> scale = scalar_values(c, 3, src.np);
  std::vector<float> bias = scalar_values(c, 4, src.np);
  const bool has_reduce = c.op(5).ap.present();
  Tile red;
  if (has_reduce) {
    red = resolve(c, 5);
    if (red.np != src.np || red.nfree != 1)
      c.fault("reduce must be [" + std::to_string(src.np) + ",1], got " +
              std::to_string(red.np) + "x" + std::to_string(red.nfree));
  }
  std::vector<float> sums(static_cast<size_t>(src.np), 0.0f);
  const int64_t F = src.nfree;
  const bool rw = rowwise_safe(c.op(0).ap, {&c.op(1).ap});
  const Tile* const ins[1] = {&src};
  map_rows<float>(dst, ins, rw, [&](int p, float* const* rows) {
    float* r = rows[0];
    const float s = scale[p], b = bias[p];
    apply_fn(fn, r, F, s, b);
    if (has_reduce) {
      float sum = 0.0f;
      for (int64_t i = 0; i < F; ++i) sum += r[i];
      sums[p] = sum;
    }
  });
  if (has_reduce) store_all_f32(red, sums);
}

}  // namespace trnsim::model::detail
