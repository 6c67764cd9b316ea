// Functional executor: matmul, transpose and act against plain C++ references.
#include <catch2/catch.hpp>

#include <cmath>

#include "exec_test_util.h"

using namespace exec_test;
using isa::AccFlag;
using isa::ActFn;

namespace {

// dst[m,n] = sum_k stat[k,m] * mov[k,n], fp32, k in order.
std::vector<float> ref_matmul(const std::vector<float>& s, const std::vector<float>& mv, int K,
                              int M, int N) {
  std::vector<float> r(static_cast<size_t>(M * N), 0.0f);
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      float acc = 0.0f;
      for (int k = 0; k < K; ++k) acc += s[k * M + m] * mv[k * N + n];
      r[m * N + n] = acc;
    }
  return r;
}

}  // namespace

TEST_CASE("matmul accumulates in PSUM over several instructions (bf16, fp8, fp32)", "[exec]") {
  const DType dt = GENERATE(DType::Bf16, DType::Fp8e4m3, DType::Fp32);
  Env e;
  const int K = 24, M = 16, N = 40;
  const auto dst = ps(4, M, 256, DType::Fp32, {{1, N}});
  std::vector<float> expect(static_cast<size_t>(M * N), 0.0f);
  for (int step = 0; step < 3; ++step) {
    // Stationary uses a strided free pattern (every other element), moving is contiguous.
    const auto stat = sb(2, K, 64, dt, {{2, M}});
    const auto mov = sb(0, K, 1024, dt, {{1, N}});
    auto s = e.fill(stat);
    auto mv = e.fill(mov);
    auto r = ref_matmul(s, mv, K, M, N);
    for (size_t i = 0; i < r.size(); ++i) expect[i] = step == 0 ? r[i] : expect[i] + r[i];
    e.run(instr(Opcode::Matmul, {A(dst), A(stat), A(mov), E_(step ? AccFlag::Acc : AccFlag::Zero)}),
          isa::Engine::Pe);
    auto got = e.get(dst);
    REQUIRE(got.size() == expect.size());
    for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == expect[i]);
  }
  // A zero-flag matmul overwrites the accumulated value.
  const auto stat = sb(0, K, 0, dt, {{1, M}});
  const auto mov = sb(0, K, 2048, dt, {{1, N}});
  auto s = e.fill(stat);
  auto mv = e.fill(mov);
  e.run(instr(Opcode::Matmul, {A(dst), A(stat), A(mov), E_(AccFlag::Zero)}));
  auto r = ref_matmul(s, mv, K, M, N);
  auto got = e.get(dst);
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == r[i]);
}

TEST_CASE("matmul rejects mismatched shapes", "[exec]") {
  Env e;
  const auto dst = ps(0, 8, 0, DType::Fp32, {{1, 8}});
  const auto stat = sb(0, 4, 0, DType::Bf16, {{1, 8}});
  const auto mov = sb(0, 4, 64, DType::Bf16, {{1, 9}});
  CHECK_THROWS_WITH(e.run(instr(Opcode::Matmul, {A(dst), A(stat), A(mov), E_(AccFlag::Zero)}),
                          isa::Engine::Pe, 3),
                    Catch::Contains("core0 pe #3 (matmul): dst is 8x8 but stationary^T x moving is 8x9"));
}

TEST_CASE("transpose: dst[f,p] = src[p,f] with a strided multi-dim src", "[exec]") {
  Env e;
  // src: 6 partitions, free pattern [3 x 4] with the rows 10 elements apart (bf16).
  const auto src = sb(1, 6, 32, DType::Bf16, {{10, 3}, {1, 4}});
  const auto dst = ps(0, 12, 0, DType::Fp32, {{1, 6}});
  auto s = e.fill(src);
  e.run(instr(Opcode::Transpose, {A(dst), A(src)}), isa::Engine::Pe);
  auto d = e.get(dst);
  for (int p = 0; p < 6; ++p)
    for (int f = 0; f < 12; ++f) CHECK(d[f * 6 + p] == s[p * 12 + f]);
}

TEST_CASE("act: every function matches a double-precision reference", "[exec]") {
  const int fi = GENERATE(range(0, isa::kNumActFns));
  const ActFn fn = static_cast<ActFn>(fi);
  INFO(isa::act_fn_name(fn));
  Env e;
  const auto src = sb(0, 8, 0, DType::Fp32, {{1, 50}});
  const auto dst = sb(0, 8, 512, DType::Fp32, {{1, 50}});
  const auto scale = sb(0, 8, 1024, DType::Fp32, {{1, 1}});
  const bool positive = fn == ActFn::Log || fn == ActFn::Sqrt || fn == ActFn::Rsqrt;
  const float lim = fn == ActFn::Sin ? 1.9f : 6.0f;  // sin: |x s + b| <= pi, its valid range
  auto x = e.fill(src, positive ? 0.1f : -lim, lim);
  auto sc = e.fill(scale, 0.5f, 1.5f);
  const float bias = positive ? 0.25f : -0.25f;
  e.run(instr(Opcode::Act, {A(dst), A(src), E_(fn), A(scale), F(bias), A(isa::AccessPattern{})}),
        isa::Engine::Act);
  auto y = e.get(dst);
  for (int p = 0; p < 8; ++p)
    for (int i = 0; i < 50; ++i) {
      const double v = static_cast<double>(x[p * 50 + i] * sc[p] + bias);
      double r = 0;
      switch (fn) {
        case ActFn::Copy: r = v; break;
        case ActFn::Exp: r = std::exp(v); break;
        case ActFn::Log: r = std::log(v); break;
        case ActFn::Tanh: r = std::tanh(v); break;
        case ActFn::Sigmoid: r = 1 / (1 + std::exp(-v)); break;
        case ActFn::Relu: r = v > 0 ? v : 0; break;
        case ActFn::Gelu: r = v * 0.5 * (1 + std::erf(v / std::sqrt(2.0))); break;
        case ActFn::GeluTanh:
          r = 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
          break;
        case ActFn::Silu: r = v / (1 + std::exp(-v)); break;
        case ActFn::Softplus: r = std::log1p(std::exp(v)); break;
        case ActFn::Sqrt: r = std::sqrt(v); break;
        case ActFn::Rsqrt: r = 1 / std::sqrt(v); break;
        case ActFn::Reciprocal: r = 1 / v; break;
        case ActFn::Square: r = v * v; break;
        case ActFn::Abs: r = std::fabs(v); break;
        case ActFn::Sign: r = v > 0 ? 1 : (v < 0 ? -1 : 0); break;
        case ActFn::Erf: r = std::erf(v); break;
        case ActFn::Sin: r = std::sin(v); break;
      }
      CHECK(y[p * 50 + i] == Approx(r).epsilon(2e-6).margin(1e-6));
    }
}

TEST_CASE("act: special values (sign(0), rsqrt/reciprocal of 0, softplus of large x)", "[exec]") {
  Env e;
  const auto src = sb(0, 1, 0, DType::Fp32, {{1, 4}});
  const auto dst = sb(0, 1, 64, DType::Fp32, {{1, 4}});
  e.put(src, {0.0f, 100.0f, -20.0f, -0.0f});
  auto run = [&](ActFn f) {
    e.run(instr(Opcode::Act, {A(dst), A(src), E_(f), F(1.0f), F(0.0f), A(isa::AccessPattern{})}));
    return e.get(dst);
  };
  auto s = run(ActFn::Sign);
  CHECK(s == std::vector<float>{0.0f, 1.0f, -1.0f, 0.0f});
  CHECK(std::isinf(run(ActFn::Rsqrt)[0]));
  CHECK(run(ActFn::Reciprocal)[0] == std::numeric_limits<float>::infinity());
  auto sp = run(ActFn::Softplus);
  CHECK(sp[1] == 100.0f);
  CHECK(sp[2] == Approx(std::log1p(std::exp(-20.0))).epsilon(1e-5));
  CHECK(run(ActFn::Sigmoid)[2] == Approx(1 / (1 + std::exp(20.0))).epsilon(1e-5));
  // sin is valid on [-pi, pi] only: beyond it the model gives NaN (the compiler range-reduces).
  e.put(src, {3.14159265f, -3.14159265f, 3.2f, -100.0f});
  auto sn = run(ActFn::Sin);
  CHECK(std::fabs(sn[0]) < 1e-6f);
  CHECK(std::fabs(sn[1]) < 1e-6f);
  CHECK(std::isnan(sn[2]));
  CHECK(std::isnan(sn[3]));
}

TEST_CASE("act: bf16 output rounds, reduce gets the fp32 row sum of unrounded results, "
          "dst may alias src", "[exec]") {
  Env e;
  const auto src = sb(0, 5, 0, DType::Bf16, {{1, 33}});
  const auto red = sb(0, 5, 4000, DType::Fp32, {{1, 1}});
  const auto bias = ps(0, 5, 8, DType::Fp32, {{1, 1}});
  auto x = e.fill(src);
  auto b = e.fill(bias);
  e.run(instr(Opcode::Act, {A(src), A(src), E_(ActFn::Exp), F(0.75f), A(bias), A(red)}));
  auto y = e.get(src);
  auto r = e.get(red);
  for (int p = 0; p < 5; ++p) {
    float sum = 0.0f;
    for (int i = 0; i < 33; ++i) {
      const float v = std::exp(x[p * 33 + i] * 0.75f + b[p]);
      sum += v;
      CHECK(y[p * 33 + i] == round_to(DType::Bf16, v));
    }
    CHECK(r[p] == sum);
  }
}
