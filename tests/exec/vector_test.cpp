// Functional executor: tt, ts, reduce, copy, memset, select, bn_stats, bn_aggr.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "exec_test_util.h"

using namespace exec_test;
using isa::AluOp;

namespace {

float ref_alu(AluOp op, float a, float b) {
  switch (op) {
    case AluOp::Bypass: return a;
    case AluOp::Add: return a + b;
    case AluOp::Sub: return a - b;
    case AluOp::Rsub: return b - a;
    case AluOp::Mul: return a * b;
    case AluOp::Div: return a / b;
    case AluOp::Rdiv: return b / a;
    case AluOp::Max: return a > b ? a : b;
    case AluOp::Min: return a < b ? a : b;
    case AluOp::Pow: return std::pow(a, b);
    case AluOp::Mod: {  // floored, exact: C's remainder moved to b's sign
      const float r = std::fmod(a, b);
      return r != 0.0f && ((r < 0.0f) != (b < 0.0f)) ? r + b : r;
    }
    case AluOp::Fmod: return std::fmod(a, b);
    case AluOp::Eq: return a == b;
    case AluOp::Ne: return a != b;
    case AluOp::Lt: return a < b;
    case AluOp::Le: return a <= b;
    case AluOp::Gt: return a > b;
    case AluOp::Ge: return a >= b;
    default: return 0;
  }
}

int64_t ref_ialu(AluOp op, int64_t a, int64_t b) {
  switch (op) {
    case AluOp::And: return a & b;
    case AluOp::Or: return a | b;
    case AluOp::Xor: return a ^ b;
    case AluOp::Shl: return static_cast<int32_t>(static_cast<uint32_t>(a) << (b & 31));
    case AluOp::Shr: return static_cast<int32_t>(a) >> (b & 31);
    case AluOp::Add: return a + b;
    case AluOp::Sub: return a - b;
    case AluOp::Mul: return a * b;
    case AluOp::Max: return std::max(a, b);
    case AluOp::Min: return std::min(a, b);
    case AluOp::Lt: return a < b;
    default: return 0;
  }
}

int64_t clamp32(int64_t v) { return std::min<int64_t>(std::max<int64_t>(v, INT32_MIN), INT32_MAX); }

}  // namespace

TEST_CASE("tt: every float ALU op, strided a and stride-0 broadcast b", "[exec]") {
  const int oi = GENERATE(range(0, static_cast<int>(AluOp::And)), static_cast<int>(AluOp::Fmod));
  const AluOp op = static_cast<AluOp>(oi);
  const DType dt = GENERATE(DType::Fp32, DType::Bf16, DType::Fp16, DType::Fp8e4m3);
  INFO(isa::alu_op_name(op) << " " << isa::dtype_name(dt));
  Env e;
  const auto a = sb(0, 4, 0, dt, {{12, 3}, {2, 5}});  // strided
  const auto b = sb(3, 4, 256, dt, {{0, 3}, {1, 5}});  // broadcast along the outer dim
  const auto dst = sb(10, 4, 512, dt, {{1, 15}});
  auto va = e.fill(a, 0.5f, 3.0f);
  auto vb = e.fill(b, 0.5f, 3.0f);
  e.run(instr(Opcode::TensorTensor, {A(dst), A(a), A(b), E_(op)}));
  auto d = e.get(dst);
  for (size_t i = 0; i < d.size(); ++i) CHECK(same(d[i], round_to(dt, ref_alu(op, va[i], vb[i]))));
}

TEST_CASE("tt: int32 ops are exact (int-only ops, and add/sub/mul/max/min/lt in int64)",
          "[exec]") {
  const AluOp op = GENERATE(AluOp::And, AluOp::Or, AluOp::Xor, AluOp::Shl, AluOp::Shr,
                            AluOp::Add, AluOp::Sub, AluOp::Mul, AluOp::Max, AluOp::Min, AluOp::Lt);
  INFO(isa::alu_op_name(op));
  Env e;
  const auto a = sb(0, 3, 0, DType::Int32, {{1, 20}});
  const auto b = sb(0, 3, 128, DType::Int32, {{1, 20}});
  const bool shift = op == AluOp::Shl || op == AluOp::Shr;
  auto va = e.fill_i(a, -(1 << 30) - 12345, (1 << 30) + 777);
  auto vb = shift ? e.fill_i(b, 0, 31) : e.fill_i(b, -(1 << 30), 1 << 30);
  va[0] = 16777217;  // not representable in fp32
  e.put_i(a, va);
  e.run(instr(Opcode::TensorTensor, {A(a), A(a), A(b), E_(op)}));  // dst aliases a
  auto d = e.get_i(a);
  for (size_t i = 0; i < d.size(); ++i) CHECK(d[i] == clamp32(ref_ialu(op, va[i], vb[i])));
}

TEST_CASE("tt: int64 arithmetic is exact over the whole range, division truncates", "[exec]") {
  const AluOp op = GENERATE(AluOp::Add, AluOp::Sub, AluOp::Mul, AluOp::Div, AluOp::Mod,
                            AluOp::Fmod, AluOp::Max, AluOp::Lt, AluOp::Eq);
  INFO(isa::alu_op_name(op));
  Env e;
  const auto a = sb(0, 2, 0, DType::Int64, {{1, 6}});
  const auto b = sb(0, 2, 128, DType::Int64, {{1, 6}});
  const int64_t big = int64_t{1} << 62;
  const std::vector<int64_t> va{16777217, 123456789, -33554431, big + 3, -big - 7, 9007199254740993,
                                INT64_MIN, 7, -7, 7, -7, 0};
  const std::vector<int64_t> vb{1, 7, 2, 5, -3, 2, -1, 2, 2, -2, -2, 0};
  e.put_i(a, va);
  e.put_i(b, vb);
  e.run(instr(Opcode::TensorTensor, {A(a), A(a), A(b), E_(op)}));
  const auto d = e.get_i(a);
  for (size_t i = 0; i < d.size(); ++i) {
    const int64_t x = va[i], y = vb[i];
    int64_t want = 0;
    const auto u = [](int64_t v) { return static_cast<uint64_t>(v); };
    switch (op) {
      case AluOp::Add: want = static_cast<int64_t>(u(x) + u(y)); break;
      case AluOp::Sub: want = static_cast<int64_t>(u(x) - u(y)); break;
      case AluOp::Mul: want = static_cast<int64_t>(u(x) * u(y)); break;
      // Truncating; x/0 = 0 and INT64_MIN / -1 wraps to INT64_MIN (no trap).
      case AluOp::Div: want = y == 0 ? 0 : y == -1 ? static_cast<int64_t>(0 - u(x)) : x / y; break;
      case AluOp::Fmod: want = y == 0 || y == -1 ? 0 : x % y; break;
      case AluOp::Mod: {  // the sign of the divisor: 7 mod -2 = -1, -7 mod 2 = 1
        want = y == 0 || y == -1 ? 0 : x % y;
        if (want != 0 && ((want < 0) != (y < 0))) want += y;
        break;
      }
      case AluOp::Max: want = std::max(x, y); break;
      case AluOp::Lt: want = x < y; break;
      default: want = x == y; break;
    }
    INFO(x << " " << y);
    CHECK(d[i] == want);
  }
}

TEST_CASE("scan: running recurrences per partition, float and exact int64, carried init", "[exec]") {
  Env e;
  const auto x = sb(0, 3, 0, DType::Fp32, {{1, 50}});
  const auto y = sb(0, 3, 512, DType::Fp32, {{1, 50}});
  const auto v = e.fill(x, -2.0f, 2.0f);
  // s = (x add s) bypass x from 1.5: a running sum.
  e.run(instr(Opcode::Scan, {A(y), A(x), A(x), E_(AluOp::Add), E_(AluOp::Bypass), F(1.5f)}));
  auto d = e.get(y);
  for (int p = 0; p < 3; ++p) {
    float s = 1.5f;
    for (int i = 0; i < 50; ++i) CHECK(d[p * 50 + i] == (s = v[p * 50 + i] + s));
  }
  // s = (a mul s) add b: a linear recurrence, in place (dst aliases a).
  const auto b = sb(0, 3, 1024, DType::Fp32, {{1, 50}});
  const auto vb = e.fill(b, -1.0f, 1.0f);
  e.run(instr(Opcode::Scan, {A(x), A(x), A(b), E_(AluOp::Mul), E_(AluOp::Add), F(0.0f)}));
  d = e.get(x);
  for (int p = 0; p < 3; ++p) {
    float s = 0.0f;
    for (int i = 0; i < 50; ++i) CHECK(d[p * 50 + i] == (s = v[p * 50 + i] * s + vb[p * 50 + i]));
  }
  // int64 with a per-partition init: exact beyond 2^53.
  const auto q = sb(0, 2, 2048, DType::Int64, {{1, 4}});
  const auto init = sb(0, 2, 4096, DType::Int64, {{1, 1}});
  const int64_t big = int64_t{1} << 60;
  e.put_i(q, {big, 1, 1, 1, -big, -1, -1, -1});
  e.put_i(init, {3, -3});
  e.run(instr(Opcode::Scan, {A(q), A(q), A(q), E_(AluOp::Add), E_(AluOp::Bypass), A(init)}));
  CHECK(e.get_i(q) == std::vector<int64_t>{big + 3, big + 4, big + 5, big + 6, -big - 3,
                                           -big - 4, -big - 5, -big - 6});
}

TEST_CASE("ts: immediate and per-partition scalars, op1 bypass, int exact path", "[exec]") {
  Env e;
  const auto src = sb(0, 6, 0, DType::Bf16, {{1, 17}});
  const auto dst = sb(0, 6, 100, DType::Fp32, {{1, 17}});
  const auto s1 = sb(0, 6, 300, DType::Fp32, {{1, 1}});
  auto x = e.fill(src);
  auto v1 = e.fill(s1);
  e.run(instr(Opcode::TensorScalar,
              {A(dst), A(src), E_(AluOp::Mul), F(1.5f), E_(AluOp::Sub), A(s1)}));
  auto d = e.get(dst);
  for (int p = 0; p < 6; ++p)
    for (int i = 0; i < 17; ++i) CHECK(d[p * 17 + i] == x[p * 17 + i] * 1.5f - v1[p]);
  e.run(instr(Opcode::TensorScalar,
              {A(src), A(src), E_(AluOp::Max), F(0.0f), E_(AluOp::Bypass), F(99.0f)}));
  auto r = e.get(src);
  for (size_t i = 0; i < r.size(); ++i) CHECK(r[i] == std::max(x[i], 0.0f));

  const auto ia = sb(0, 2, 600, DType::Int32, {{1, 8}});
  auto vi = e.fill_i(ia, (1 << 25), (1 << 26));
  e.run(instr(Opcode::TensorScalar, {A(ia), A(ia), E_(AluOp::Add), F(3.0f), E_(AluOp::Shr), F(1.0f)}));
  auto ri = e.get_i(ia);
  for (size_t i = 0; i < ri.size(); ++i) CHECK(ri[i] == ((vi[i] + 3) >> 1));
}

TEST_CASE("reduce: innermost axes with add/max/min/mul, fp32 accumulation in order", "[exec]") {
  const AluOp op = GENERATE(AluOp::Add, AluOp::Max, AluOp::Min, AluOp::Mul);
  const int axes = GENERATE(1, 2);
  Env e;
  // src [p, 3, 4, 5] with a gap between rows; reduce the innermost `axes` dims.
  const auto src = sb(0, 4, 0, DType::Bf16, {{48, 3}, {6, 4}, {1, 5}});
  const int inner = axes == 1 ? 5 : 20;
  const int outer = 60 / inner;
  const auto dst = sb(0, 4, 1000, DType::Fp32, {{1, outer}});
  auto x = e.fill(src, 0.5f, 1.5f);
  e.run(instr(Opcode::Reduce, {A(dst), A(src), E_(op), I(axes)}));
  auto d = e.get(dst);
  for (int g = 0; g < 4 * outer; ++g) {
    float acc = x[g * inner];
    for (int i = 1; i < inner; ++i) acc = ref_alu(op, acc, x[g * inner + i]);
    CHECK(d[g] == acc);
  }
}

TEST_CASE("reduce: int32 add is exact - bad axes fault", "[exec]") {
  Env e;
  const auto src = sb(0, 2, 0, DType::Int32, {{1, 10}});
  const auto dst = sb(0, 2, 64, DType::Int32, {{1, 1}});
  auto x = e.fill_i(src, (1 << 24), (1 << 26));
  e.run(instr(Opcode::Reduce, {A(dst), A(src), E_(AluOp::Add), I(1)}));
  auto d = e.get_i(dst);
  for (int p = 0; p < 2; ++p) {
    int64_t s = 0;
    for (int i = 0; i < 10; ++i) s += x[p * 10 + i];
    CHECK(d[p] == s);
  }
  CHECK_THROWS_WITH(e.run(instr(Opcode::Reduce, {A(dst), A(src), E_(AluOp::Add), I(2)})),
                    Catch::Contains("axes 2 out of range [1, 1]"));
}

TEST_CASE("copy converts dtypes and reads all before writing (overlapping shift)", "[exec]") {
  const DType to = GENERATE(DType::Bf16, DType::Fp16, DType::Fp8e4m3, DType::Fp8e5m2,
                            DType::Int8, DType::Int32);
  Env e;
  const auto src = sb(0, 3, 0, DType::Fp32, {{2, 9}});
  const auto dst = ps(1, 3, 40, to, {{1, 9}});
  auto x = e.fill(src, -100.0f, 100.0f);
  e.run(instr(Opcode::Copy, {A(dst), A(src)}), isa::Engine::Act);
  auto d = e.get(dst);
  for (size_t i = 0; i < d.size(); ++i) CHECK(same(d[i], round_to(to, x[i])));

  // dst = src shifted one element right within the same bytes.
  const auto s2 = sb(5, 2, 0, DType::Bf16, {{1, 10}});
  const auto d2 = sb(5, 2, 2, DType::Bf16, {{1, 10}});
  auto y = e.fill(s2);
  e.run(instr(Opcode::Copy, {A(d2), A(s2)}));
  CHECK(e.get(d2) == y);
}

TEST_CASE("memset converts the value to the dst dtype", "[exec]") {
  Env e;
  const auto a = sb(0, 4, 0, DType::Bf16, {{3, 5}});
  e.run(instr(Opcode::Memset, {A(a), F(1.0f + std::ldexp(1.0f, -8) * 3)}));
  for (float v : e.get(a)) CHECK(v == round_to(DType::Bf16, 1.0f + std::ldexp(1.0f, -8) * 3));
  const auto gap = sb(0, 4, 2, DType::Bf16, {{1, 1}});  // between the strided elements
  CHECK(std::isnan(e.get(gap)[0]));                      // untouched: still the 0xFF fill
  const auto b = sb(0, 2, 100, DType::Int32, {{1, 3}});
  e.run(instr(Opcode::Memset, {A(b), F(-7.5f)}));
  for (auto v : e.get_i(b)) CHECK(v == -8);  // round half to even
  const auto c = sb(0, 2, 200, DType::Fp8e4m3, {{1, 3}});
  e.run(instr(Opcode::Memset, {A(c), F(1000.0f)}));
  for (float v : e.get(c)) CHECK(std::isnan(v));
}

TEST_CASE("select picks on_true where pred != 0", "[exec]") {
  Env e;
  const auto pred = sb(0, 3, 0, DType::Fp32, {{1, 12}});
  const auto t = sb(0, 3, 100, DType::Bf16, {{1, 12}});
  const auto f = sb(0, 3, 200, DType::Fp32, {{0, 12}});  // broadcast one value per partition
  const auto dst = sb(0, 3, 300, DType::Fp32, {{1, 12}});
  std::vector<float> pv(36);
  for (size_t i = 0; i < pv.size(); ++i) pv[i] = (i % 3 == 0) ? 0.0f : (i % 3 == 1 ? -0.5f : 2.0f);
  pv[4] = -0.0f;
  e.put(pred, pv);
  auto vt = e.fill(t);
  auto vf = e.fill(f);
  e.run(instr(Opcode::Select, {A(dst), A(pred), A(t), A(f)}), isa::Engine::Pool);
  auto d = e.get(dst);
  for (size_t i = 0; i < d.size(); ++i) CHECK(d[i] == (pv[i] != 0.0f ? vt[i] : vf[i]));
}

TEST_CASE("bn_stats then bn_aggr give the population mean and variance", "[exec]") {
  const int n = GENERATE(1, 7, 64);
  Env e;
  const auto src = sb(0, 4, 0, DType::Fp32, {{1, n}});
  const auto st1 = sb(0, 4, 1024, DType::Fp32, {{1, 6}});
  const auto st2 = sb(0, 4, 1048, DType::Fp32, {{1, 6}});
  const auto stats = sb(0, 4, 1024, DType::Fp32, {{1, 12}});
  const auto out = sb(0, 4, 2048, DType::Fp32, {{1, 2}});
  auto x = e.fill(src, -3.0f, 5.0f);
  const auto src2 = sb(0, 4, 512, DType::Fp32, {{1, 5}});
  auto x2 = e.fill(src2, -3.0f, 5.0f);
  e.run(instr(Opcode::BnStats, {A(st1), A(src)}));
  e.run(instr(Opcode::BnStats, {A(st2), A(src2)}));
  auto s = e.get(st1);
  for (int p = 0; p < 4; ++p)
    for (int par = 0; par < 2; ++par) {
      double sum = 0, cnt = 0;
      for (int i = par; i < n; i += 2, ++cnt) sum += x[p * n + i];
      const double mean = cnt ? sum / cnt : 0;
      double m2 = 0;
      for (int i = par; i < n; i += 2) m2 += (x[p * n + i] - mean) * (x[p * n + i] - mean);
      CHECK(s[p * 6 + par * 3] == cnt);
      CHECK(s[p * 6 + par * 3 + 1] == Approx(mean).margin(1e-5));
      CHECK(s[p * 6 + par * 3 + 2] == Approx(m2).epsilon(1e-5).margin(1e-5));
    }
  e.run(instr(Opcode::BnAggr, {A(out), A(stats)}));
  auto o = e.get(out);
  for (int p = 0; p < 4; ++p) {
    std::vector<double> all;
    for (int i = 0; i < n; ++i) all.push_back(x[p * n + i]);
    for (int i = 0; i < 5; ++i) all.push_back(x2[p * 5 + i]);
    double mean = 0, var = 0;
    for (double v : all) mean += v;
    mean /= all.size();
    for (double v : all) var += (v - mean) * (v - mean);
    var /= all.size();
    CHECK(o[p * 2] == Approx(mean).margin(1e-5));
    CHECK(o[p * 2 + 1] == Approx(var).epsilon(1e-5).margin(1e-5));
  }
}

TEST_CASE("elementwise ops read every input row before writing when partitions overlap",
          "[exec]") {
  Env e;
  // dst covers partitions [1, 9) and a covers [0, 8) of the same bytes: row p of dst is row
  // p+1 of a, which a row-at-a-time loop would clobber before reading it.
  const auto a = sb(0, 8, 0, DType::Fp32, {{1, 6}});
  const auto b = sb(0, 8, 64, DType::Fp32, {{1, 6}});
  const auto dst = sb(1, 8, 0, DType::Fp32, {{1, 6}});
  auto va = e.fill(a);
  auto vb = e.fill(b);
  e.run(instr(Opcode::TensorTensor, {A(dst), A(a), A(b), E_(AluOp::Add)}));
  auto d = e.get(dst);
  for (size_t i = 0; i < d.size(); ++i) CHECK(d[i] == va[i] + vb[i]);
  // The same with act (fp32 -> bf16 cast through a shifted view) and ts.
  const auto src2 = sb(10, 8, 0, DType::Fp32, {{1, 6}});
  const auto dst2 = sb(9, 8, 0, DType::Fp32, {{1, 6}});
  auto v2 = e.fill(src2);
  e.run(instr(Opcode::TensorScalar,
              {A(dst2), A(src2), E_(AluOp::Add), F(1.0f), E_(AluOp::Bypass), F(0.0f)}));
  auto d2 = e.get(dst2);
  for (size_t i = 0; i < d2.size(); ++i) CHECK(d2[i] == v2[i] + 1.0f);
}

TEST_CASE("fp32 -> bf16 stores match isa::float_to_bf16 on special values", "[exec]") {
  Env e;
  const std::vector<float> sp = {std::nanf(""), -std::numeric_limits<float>::infinity(),
                                 std::numeric_limits<float>::max(), 1.0f + std::ldexp(1.0f, -8),
                                 1.0f + 3 * std::ldexp(1.0f, -8), -0.0f, 1e-40f, 3.14159f};
  const auto src = sb(0, 1, 0, DType::Fp32, {{1, 8}});
  const auto dst = sb(0, 1, 64, DType::Bf16, {{1, 8}});
  e.put(src, sp);
  e.run(instr(Opcode::TensorScalar,
              {A(dst), A(src), E_(AluOp::Bypass), F(0.0f), E_(AluOp::Bypass), F(0.0f)}));
  for (int i = 0; i < 8; ++i) {
    uint16_t h;
    std::memcpy(&h, e.addr(dst, 0, i), 2);
    CHECK(h == isa::float_to_bf16(sp[i]));
  }
}

TEST_CASE("tt: mixed int/float inputs compute in fp32 - int-only ops on floats use integers",
          "[exec]") {
  Env e;
  const auto a = sb(0, 1, 0, DType::Int32, {{1, 2}});
  const auto b = sb(0, 1, 64, DType::Fp32, {{1, 2}});
  const auto d = sb(0, 1, 128, DType::Int32, {{1, 2}});
  e.put_i(a, {16777217, 6});
  e.put(b, {0.0f, 3.0f});
  e.run(instr(Opcode::TensorTensor, {A(d), A(a), A(b), E_(AluOp::Add)}));
  CHECK(e.get_i(d) == std::vector<int64_t>{16777216, 9});  // fp32 rounding of 2^24 + 1
  const auto fa = sb(0, 1, 192, DType::Fp32, {{1, 2}});
  const auto fd = sb(0, 1, 256, DType::Fp32, {{1, 2}});
  e.put(fa, {6.0f, -8.0f});
  e.run(instr(Opcode::TensorTensor, {A(fd), A(fa), A(b), E_(AluOp::Or)}));
  CHECK(e.get(fd) == std::vector<float>{6.0f, -5.0f});  // 6 | 0, -8 | 3 in two's complement
}
