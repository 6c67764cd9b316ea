// Helpers for the functional executor tests: a small core, AP builders and an independent
// reference AP walker (so the tests do not reuse the executor's own address arithmetic).
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "isa/program.h"
#include "models/exec/exec.h"

namespace exec_test {

using namespace trnsim;
using isa::AccessPattern;
using isa::DType;
using isa::MemSpace;
using isa::Opcode;

constexpr int kParts = 32;
constexpr int64_t kSbufPP = 8192;
constexpr int64_t kPsumPP = 4096;

inline AccessPattern ap(MemSpace s, int p0, int np, int64_t off, DType dt,
                        std::initializer_list<std::pair<int64_t, int64_t>> dims) {
  AccessPattern a;
  a.space = s;
  a.start_partition = static_cast<uint16_t>(p0);
  a.num_partitions = static_cast<uint16_t>(np);
  a.offset = off;
  a.dtype = dt;
  for (auto& d : dims) a.dims[a.ndims++] = isa::Dim{d.first, d.second};
  return a;
}
inline AccessPattern sb(int p0, int np, int64_t off, DType dt,
                        std::initializer_list<std::pair<int64_t, int64_t>> dims) {
  return ap(MemSpace::Sbuf, p0, np, off, dt, dims);
}
inline AccessPattern ps(int p0, int np, int64_t off, DType dt,
                        std::initializer_list<std::pair<int64_t, int64_t>> dims) {
  return ap(MemSpace::Psum, p0, np, off, dt, dims);
}
inline AccessPattern hb(int tensor, int64_t pstride, int np, int64_t off, DType dt,
                        std::initializer_list<std::pair<int64_t, int64_t>> dims) {
  AccessPattern a = ap(MemSpace::Hbm, 0, np, off, dt, dims);
  a.tensor = static_cast<uint16_t>(tensor);
  a.partition_stride = pstride;
  return a;
}

// An operand: an AP, a float immediate, or an integer/enum.
inline isa::Operand A(const AccessPattern& a) {
  isa::Operand o;
  o.ap = a;
  return o;
}
inline isa::Operand F(float f) {
  isa::Operand o;
  o.f = f;
  return o;
}
inline isa::Operand I(int64_t i) {
  isa::Operand o;
  o.i = i;
  return o;
}
template <typename E>
isa::Operand E_(E e) {
  return I(static_cast<int64_t>(e));
}

inline isa::Instr instr(Opcode op, std::initializer_list<isa::Operand> ops) {
  isa::Instr in;
  in.op = op;
  int k = 0;
  for (auto& o : ops) in.ops[k++] = o;
  return in;
}

// One core with small memories, an HBM store and registers.
struct Env {
  isa::Program prog;
  model::CoreMem mem;
  model::HbmStore hbm;
  int64_t regs[isa::kNumRegisters] = {};
  model::ExecState st;
  std::mt19937 rng{1234};

  Env() {
    mem.init(kParts, kSbufPP, kPsumPP, 0xFF);
    prog.cores.resize(1);
    st.prog = &prog;
    st.mem = &mem;
    st.hbm = &hbm;
    st.regs = regs;
  }
  int add_tensor(const std::string& name, DType dt, std::vector<int64_t> shape) {
    isa::TensorDecl t;
    t.name = name;
    t.dtype = dt;
    t.shape = std::move(shape);
    prog.tensors.push_back(t);
    hbm.tensors.emplace_back(static_cast<size_t>(t.num_bytes()), 0);
    return static_cast<int>(prog.tensors.size()) - 1;
  }
  void run(const isa::Instr& in, isa::Engine e = isa::Engine::Dve, size_t index = 0) {
    model::InstrRef ref;
    ref.core = 0;
    ref.engine = e;
    ref.index = index;
    model::execute(in, st, ref);
  }

  // Byte address of element (p, flat free index i) of `a`, computed with an odometer.
  uint8_t* addr(const AccessPattern& a, int p, int64_t i) {
    const int64_t es = isa::dtype_size(a.dtype);
    int64_t off = a.offset + (a.offset_reg >= 0 ? regs[a.offset_reg] : 0);
    int64_t rem = i;
    for (int d = a.ndims - 1; d >= 0; --d) {
      off += (rem % a.dims[d].count) * a.dims[d].stride * es;
      rem /= a.dims[d].count;
    }
    if (a.space == MemSpace::Hbm)
      return hbm.tensors[a.tensor].data() + off + (a.start_partition + p) * a.partition_stride * es;
    auto& bytes = a.space == MemSpace::Sbuf ? mem.sbuf : mem.psum;
    const int64_t bpp = a.space == MemSpace::Sbuf ? kSbufPP : kPsumPP;
    return bytes.data() + (a.start_partition + p) * bpp + off;
  }
  // Values of `a` in (partition, free) row-major order, as fp32.
  std::vector<float> get(const AccessPattern& a) {
    std::vector<float> v;
    for (int p = 0; p < a.num_partitions; ++p)
      for (int64_t i = 0; i < a.free_elements(); ++i)
        v.push_back(isa::load_as_float(a.dtype, addr(a, p, i)));
    return v;
  }
  std::vector<int64_t> get_i(const AccessPattern& a) {
    std::vector<int64_t> v;
    for (int p = 0; p < a.num_partitions; ++p)
      for (int64_t i = 0; i < a.free_elements(); ++i)
        v.push_back(isa::load_as_int(a.dtype, addr(a, p, i)));
    return v;
  }
  void put(const AccessPattern& a, const std::vector<float>& v) {
    size_t k = 0;
    for (int p = 0; p < a.num_partitions; ++p)
      for (int64_t i = 0; i < a.free_elements(); ++i)
        isa::store_from_float(a.dtype, v.at(k++), addr(a, p, i));
  }
  void put_i(const AccessPattern& a, const std::vector<int64_t>& v) {
    size_t k = 0;
    for (int p = 0; p < a.num_partitions; ++p)
      for (int64_t i = 0; i < a.free_elements(); ++i)
        isa::store_from_int(a.dtype, v.at(k++), addr(a, p, i));
  }
  // Fills `a` with random values in [lo, hi) (rounded to its dtype) and returns what it holds.
  std::vector<float> fill(const AccessPattern& a, float lo = -2.0f, float hi = 2.0f) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(static_cast<size_t>(a.total_elements()));
    for (auto& x : v) x = d(rng);
    put(a, v);
    return get(a);
  }
  std::vector<int64_t> fill_i(const AccessPattern& a, int64_t lo, int64_t hi) {
    std::uniform_int_distribution<int64_t> d(lo, hi);
    std::vector<int64_t> v(static_cast<size_t>(a.total_elements()));
    for (auto& x : v) x = d(rng);
    put_i(a, v);
    return get_i(a);
  }
};

// Rounds a value through a dtype the way a store does.
inline float round_to(DType dt, float v) {
  uint8_t b[8];
  isa::store_from_float(dt, v, b);
  return isa::load_as_float(dt, b);
}

// Bitwise equality that treats NaN == NaN.
inline bool same(float a, float b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

}  // namespace exec_test
