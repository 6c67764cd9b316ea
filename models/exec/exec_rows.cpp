// Functional executor: row loads/stores with dtype fast paths, and the ALU semantics.
#include <cmath>
#include <cstring>

#include "models/exec/exec_internal.h"

namespace trnsim::model::detail {

using isa::AluOp;
using isa::DType;

namespace {

// isa::float_to_bf16, inlined for the hot store loops (same rounding, same NaN handling).
inline uint16_t bf16_round(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

// Decoded values of every fp8 code, built once (immutable afterwards).
const float* fp8_table(DType t) {
  struct Tables {
    float e4m3[256], e5m2[256];
    Tables() {
      for (int b = 0; b < 256; ++b) {
        e4m3[b] = isa::fp8e4m3_to_float(static_cast<uint8_t>(b));
        e5m2[b] = isa::fp8e5m2_to_float(static_cast<uint8_t>(b));
      }
    }
  };
  static const Tables tables;
  return t == DType::Fp8e4m3 ? tables.e4m3 : tables.e5m2;
}

}  // namespace

void load_row_f32(const Tile& t, int p, float* out) {
  const uint8_t* r = t.row(p);
  const int64_t n = t.nfree;
  const int64_t* o = t.offs.data();
  switch (t.dt) {
    case DType::Fp32:
      if (t.contiguous) {
        std::memcpy(out, r, static_cast<size_t>(n) * 4);
      } else {
        for (int64_t i = 0; i < n; ++i) std::memcpy(out + i, r + o[i], 4);
      }
      return;
    case DType::Bf16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, r + o[i], 2);
        uint32_t u = static_cast<uint32_t>(h) << 16;
        std::memcpy(out + i, &u, 4);
      }
      return;
    case DType::Fp8e4m3:
    case DType::Fp8e5m2: {
      const float* tab = fp8_table(t.dt);
      for (int64_t i = 0; i < n; ++i) out[i] = tab[r[o[i]]];
      return;
    }
    default:
      for (int64_t i = 0; i < n; ++i) out[i] = isa::load_as_float(t.dt, r + o[i]);
      return;
  }
}

void store_row_f32(const Tile& t, int p, const float* in) {
  uint8_t* r = t.row(p);
  const int64_t n = t.nfree;
  const int64_t* o = t.offs.data();
  switch (t.dt) {
    case DType::Fp32:
      if (t.contiguous) {
        std::memcpy(r, in, static_cast<size_t>(n) * 4);
      } else {
        for (int64_t i = 0; i < n; ++i) std::memcpy(r + o[i], in + i, 4);
      }
      return;
    case DType::Bf16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = bf16_round(in[i]);
        std::memcpy(r + o[i], &h, 2);
      }
      return;
    default:
      for (int64_t i = 0; i < n; ++i) isa::store_from_float(t.dt, in[i], r + o[i]);
      return;
  }
}

void load_row_i64(const Tile& t, int p, int64_t* out) {
  const uint8_t* r = t.row(p);
  const int64_t* o = t.offs.data();
  if (t.dt == DType::Int32) {
    for (int64_t i = 0; i < t.nfree; ++i) {
      int32_t v;
      std::memcpy(&v, r + o[i], 4);
      out[i] = v;
    }
    return;
  }
  for (int64_t i = 0; i < t.nfree; ++i) out[i] = isa::load_as_int(t.dt, r + o[i]);
}

void store_row_i64(const Tile& t, int p, const int64_t* in) {
  uint8_t* r = t.row(p);
  const int64_t* o = t.offs.data();
  for (int64_t i = 0; i < t.nfree; ++i) isa::store_from_int(t.dt, in[i], r + o[i]);
}

std::vector<float> load_all_f32(const Tile& t) {
  std::vector<float> v(static_cast<size_t>(t.total()));
  for (int p = 0; p < t.np; ++p) load_row_f32(t, p, v.data() + p * t.nfree);
  return v;
}

void store_all_f32(const Tile& t, const std::vector<float>& v) {
  for (int p = 0; p < t.np; ++p) store_row_f32(t, p, v.data() + p * t.nfree);
}

std::vector<int64_t> load_all_i64(const Tile& t) {
  std::vector<int64_t> v(static_cast<size_t>(t.total()));
  for (int p = 0; p < t.np; ++p) load_row_i64(t, p, v.data() + p * t.nfree);
  return v;
}

void store_all_i64(const Tile& t, const std::vector<int64_t>& v) {
  for (int p = 0; p < t.np; ++p) store_row_i64(t, p, v.data() + p * t.nfree);
}

// Copies t's elements (row-major) into a contiguous byte buffer, or back.
void gather_bytes(const Tile& t, std::vector<uint8_t>& buf) {
  const size_t es = static_cast<size_t>(t.esize);
  const size_t start = buf.size();
  buf.resize(start + static_cast<size_t>(t.total()) * es);
  uint8_t* o = buf.data() + start;
  for (int p = 0; p < t.np; ++p) {
    const uint8_t* r = t.row(p);
    if (t.contiguous) {
      std::memcpy(o, r, static_cast<size_t>(t.nfree) * es);
      o += t.nfree * es;
    } else {
      for (int64_t i = 0; i < t.nfree; ++i, o += es) std::memcpy(o, r + t.offs[i], es);
    }
  }
}

std::vector<uint8_t> convert_bytes(const std::vector<uint8_t>& in, DType from, DType to) {
  const size_t fs = static_cast<size_t>(isa::dtype_size(from));
  const size_t ts = static_cast<size_t>(isa::dtype_size(to));
  const size_t n = in.size() / fs;
  std::vector<uint8_t> out(n * ts);
  const uint8_t* s = in.data();
  uint8_t* d = out.data();
  if (!isa::dtype_is_float(from) && !isa::dtype_is_float(to)) {
    for (size_t i = 0; i < n; ++i) isa::store_from_int(to, isa::load_as_int(from, s + i * fs), d + i * ts);
  } else if (from == DType::Fp32 && to == DType::Bf16) {
    for (size_t i = 0; i < n; ++i) {
      float f;
      std::memcpy(&f, s + i * 4, 4);
      const uint16_t h = bf16_round(f);
      std::memcpy(d + i * 2, &h, 2);
    }
  } else {
    for (size_t i = 0; i < n; ++i) isa::store_from_float(to, isa::load_as_float(from, s + i * fs), d + i * ts);
  }
  return out;
}

void scatter_bytes(const Tile& t, const std::vector<uint8_t>& buf) {
  const size_t es = static_cast<size_t>(t.esize);
  const uint8_t* s = buf.data();
  for (int p = 0; p < t.np; ++p) {
    uint8_t* r = t.row(p);
    if (t.contiguous) {
      std::memcpy(r, s, static_cast<size_t>(t.nfree) * es);
      s += t.nfree * es;
    } else {
      for (int64_t i = 0; i < t.nfree; ++i, s += es) std::memcpy(r + t.offs[i], s, es);
    }
  }
}


namespace {

// Integer-only ops work on 32-bit two's complement values (the engines' integer width);
// shift counts use their low 5 bits.
int64_t int32_op(AluOp op, int64_t a64, int64_t b64) {
  const uint32_t a = static_cast<uint32_t>(a64), b = static_cast<uint32_t>(b64);
  uint32_t r = 0;
  switch (op) {
    case AluOp::And: r = a & b; break;
    case AluOp::Or: r = a | b; break;
    case AluOp::Xor: r = a ^ b; break;
    case AluOp::Shl: r = a << (b & 31u); break;
    case AluOp::Shr: {
      const int32_t sa = static_cast<int32_t>(a);
      return sa >> (b & 31u);
    }
    default: break;
  }
  return static_cast<int32_t>(r);
}

int64_t to_int(float f) {
  if (std::isnan(f)) return 0;
  if (f >= 9.2e18f) return INT64_MAX;
  if (f <= -9.2e18f) return INT64_MIN;
  return static_cast<int64_t>(std::nearbyint(f));
}

}  // namespace

float alu_f32(AluOp op, float a, float b) {
  switch (op) {
    case AluOp::Bypass: return a;
    case AluOp::Add: return a + b;
    case AluOp::Sub: return a - b;
    case AluOp::Rsub: return b - a;
    case AluOp::Mul: return a * b;
    case AluOp::Div: return a / b;
    case AluOp::Rdiv: return b / a;
    // NaN wins, as numpy.maximum/minimum do (NKI's CPU simulator computes nl.maximum with them;
    // the hardware's choice is not documented: assumption). ONNX Max/Min/Clip/Relu keep NaN too.
    case AluOp::Max: return std::isnan(a) || std::isnan(b) ? a + b : std::fmax(a, b);
    case AluOp::Min: return std::isnan(a) || std::isnan(b) ? a + b : std::fmin(a, b);
    case AluOp::Pow: return std::pow(a, b);
    case AluOp::Mod: {  // floored: the exact C remainder moved to b's sign
      const float r = std::fmod(a, b);
      return r != 0.0f && ((r < 0.0f) != (b < 0.0f)) ? r + b : r;
    }
    case AluOp::Fmod: return std::fmod(a, b);
    case AluOp::Eq: return a == b ? 1.0f : 0.0f;
    case AluOp::Ne: return a != b ? 1.0f : 0.0f;
    case AluOp::Lt: return a < b ? 1.0f : 0.0f;
    case AluOp::Le: return a <= b ? 1.0f : 0.0f;
    case AluOp::Gt: return a > b ? 1.0f : 0.0f;
    case AluOp::Ge: return a >= b ? 1.0f : 0.0f;
    case AluOp::And:
    case AluOp::Or:
    case AluOp::Xor:
    case AluOp::Shl:
    case AluOp::Shr: return static_cast<float>(int32_op(op, to_int(a), to_int(b)));
  }
  return a;
}

int64_t alu_i64(AluOp op, int64_t a, int64_t b) {
  switch (op) {
    case AluOp::Bypass: return a;
    // Unsigned arithmetic wraps instead of overflowing (UB); int32 inputs never get there.
    case AluOp::Add: return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
    case AluOp::Sub: return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
    case AluOp::Rsub: return static_cast<int64_t>(static_cast<uint64_t>(b) - static_cast<uint64_t>(a));
    case AluOp::Mul: return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
    case AluOp::Max: return a > b ? a : b;
    case AluOp::Min: return a < b ? a : b;
    case AluOp::Eq: return a == b;
    case AluOp::Ne: return a != b;
    case AluOp::Lt: return a < b;
    case AluOp::Le: return a <= b;
    case AluOp::Gt: return a > b;
    case AluOp::Ge: return a >= b;
    case AluOp::And:
    case AluOp::Or:
    case AluOp::Xor:
    case AluOp::Shl:
    case AluOp::Shr: return int32_op(op, a, b);
    case AluOp::Div:
    case AluOp::Rdiv: {  // truncated; x/0 = 0 and INT64_MIN/-1 wraps instead of trapping
      const int64_t n = op == AluOp::Div ? a : b, d = op == AluOp::Div ? b : a;
      if (d == 0) return 0;
      if (d == -1) return static_cast<int64_t>(uint64_t{0} - static_cast<uint64_t>(n));
      return n / d;
    }
    case AluOp::Mod:
    case AluOp::Fmod: {
      if (b == 0 || b == -1) return 0;
      const int64_t r = a % b;
      return op == AluOp::Mod && r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
    }
    case AluOp::Pow: {  // as ONNX Runtime: through double
      const double p = std::pow(static_cast<double>(a), static_cast<double>(b));
      if (std::isnan(p)) return 0;
      if (p >= 9.2e18) return INT64_MAX;
      if (p <= -9.2e18) return INT64_MIN;
      return static_cast<int64_t>(p);
    }
  }
  return a;
}

}  // namespace trnsim::model::detail
