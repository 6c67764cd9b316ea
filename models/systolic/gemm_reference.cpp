// Reference GEMMs for the per-PE systolic array (see gemm_reference.h).
#include "models/systolic/gemm_reference.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "isa/dtype.h"
#include "isa/program.h"
#include "models/exec/exec.h"

namespace trnsim::model::systolic {

GemmProblem random_problem(int64_t m, int64_t n, int64_t k, uint64_t seed) {
  GemmProblem p;
  p.m = m, p.n = n, p.k = k;
  std::mt19937_64 rng(seed);
  // 24 random bits -> [-1, 1), then bf16: portable (no distribution objects).
  const auto next = [&rng] {
    const float u = static_cast<float>(rng() >> 40) * (1.0f / 16777216.0f);
    return isa::bf16_to_float(isa::float_to_bf16(2.0f * u - 1.0f));
  };
  p.a.resize(static_cast<size_t>(m * k));
  p.b.resize(static_cast<size_t>(k * n));
  for (float& x : p.a) x = next();
  for (float& x : p.b) x = next();
  return p;
}

std::vector<float> plain_gemm(const GemmProblem& p) {
  std::vector<float> c(static_cast<size_t>(p.m * p.n));
  for (int64_t m = 0; m < p.m; ++m) {
    for (int64_t n = 0; n < p.n; ++n) {
      float acc = 0.0f;
      for (int64_t k = 0; k < p.k; ++k) acc = acc + p.a[m * p.k + k] * p.b[k * p.n + n];
      c[m * p.n + n] = acc;
    }
  }
  return c;
}

std::vector<float> array_order_gemm(const GemmProblem& p, Dataflow df, int rows) {
  const int64_t block = df == Dataflow::kOs ? p.k : rows;
  std::vector<float> c(static_cast<size_t>(p.m * p.n));
  for (int64_t m = 0; m < p.m; ++m) {
    for (int64_t n = 0; n < p.n; ++n) {
      float out = 0.0f;
      for (int64_t k0 = 0; k0 < p.k; k0 += block) {
        float psum = 0.0f;
        for (int64_t k = k0; k < std::min(p.k, k0 + block); ++k) {
          psum = psum + p.a[m * p.k + k] * p.b[k * p.n + n];
        }
        out = k0 == 0 ? psum : out + psum;
      }
      c[m * p.n + n] = out;
    }
  }
  return c;
}

std::vector<float> execute_gemm(const GemmProblem& p, Dataflow df, int rows) {
  using isa::AccessPattern;
  using isa::DType;
  using isa::MemSpace;
  // SBUF partition k: A^T row k (M bf16, the stationary [K,M]) then B row k (N bf16, moving).
  // PSUM partition m: C row m (N fp32).
  CoreMem mem;
  const int parts = static_cast<int>(std::max(p.k, p.m));
  mem.init(parts, 2 * (p.m + p.n), 4 * p.n, 0);
  for (int64_t k = 0; k < p.k; ++k) {
    uint8_t* row = mem.sbuf.data() + k * mem.sbuf_bytes_per_partition;
    for (int64_t m = 0; m < p.m; ++m) {
      const uint16_t h = isa::float_to_bf16(p.a[m * p.k + k]);
      std::memcpy(row + 2 * m, &h, 2);
    }
    for (int64_t n = 0; n < p.n; ++n) {
      const uint16_t h = isa::float_to_bf16(p.b[k * p.n + n]);
      std::memcpy(row + 2 * (p.m + n), &h, 2);
    }
  }
  const auto ap = [](MemSpace sp, DType dt, int64_t p0, int64_t np, int64_t off, int64_t count) {
    AccessPattern a;
    a.space = sp;
    a.dtype = dt;
    a.start_partition = static_cast<uint16_t>(p0);
    a.num_partitions = static_cast<int32_t>(np);
    a.offset = off;
    a.ndims = 1;
    a.dims[0] = {1, count};
    return a;
  };
  isa::Program prog;
  ExecState st;
  st.prog = &prog;
  st.mem = &mem;
  const int64_t regs[16] = {};
  st.regs = regs;
  const int64_t block = df == Dataflow::kOs ? p.k : rows;
  for (int64_t k0 = 0; k0 < p.k; k0 += block) {
    const int64_t kb = std::min(block, p.k - k0);
    isa::Instr in;
    in.op = isa::Opcode::Matmul;
    in.ops[0].ap = ap(MemSpace::Psum, DType::Fp32, 0, p.m, 0, p.n);
    in.ops[1].ap = ap(MemSpace::Sbuf, DType::Bf16, k0, kb, 0, p.m);
    in.ops[2].ap = ap(MemSpace::Sbuf, DType::Bf16, k0, kb, 2 * p.m, p.n);
    in.ops[3].i = static_cast<int64_t>(k0 == 0 ? isa::AccFlag::Zero : isa::AccFlag::Acc);
    execute(in, st, InstrRef{0, isa::Engine::Pe, static_cast<size_t>(k0 / block)});
  }
  std::vector<float> c(static_cast<size_t>(p.m * p.n));
  for (int64_t m = 0; m < p.m; ++m) {
    std::memcpy(c.data() + m * p.n, mem.psum.data() + m * mem.psum_bytes_per_partition,
                sizeof(float) * p.n);
  }
  return c;
}

Compare compare_exact(const std::vector<float>& got, const std::vector<float>& want) {
  Compare r;
  if (got.size() != want.size()) {
    r.exact = r.within = false;
    return r;
  }
  for (size_t i = 0; i < got.size(); ++i) {
    const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(got[i] == want[i])) r.exact = r.within = false;
    if (d > r.max_abs_err || (!(got[i] == want[i]) && r.worst < 0)) {
      r.max_abs_err = d;
      r.worst = static_cast<int64_t>(i);
    }
  }
  return r;
}

Compare compare_to_plain(const GemmProblem& p, const std::vector<float>& got) {
  const std::vector<float> want = plain_gemm(p);
  Compare r = compare_exact(got, want);
  if (got.size() != want.size()) return r;
  r.within = true;
  for (int64_t m = 0; m < p.m; ++m) {
    for (int64_t n = 0; n < p.n; ++n) {
      double mag = 0;
      for (int64_t k = 0; k < p.k; ++k) {
        mag += std::fabs(static_cast<double>(p.a[m * p.k + k]) * p.b[k * p.n + n]);
      }
      const double bound = static_cast<double>(p.k) * std::ldexp(1.0, -23) * mag;
      const size_t i = static_cast<size_t>(m * p.n + n);
      if (std::fabs(static_cast<double>(got[i]) - want[i]) > bound) r.within = false;
    }
  }
  return r;
}

}  // namespace trnsim::model::systolic
