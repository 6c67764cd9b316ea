#include "isa/dtype.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace trnsim::isa {
namespace {

struct DTypeInfo {
  std::string_view name;
  int bytes;
  bool is_float;
};
constexpr DTypeInfo kInfo[] = {
#define X(e, n, b, f) {n, b, f},
    TRNSIM_DTYPES(X)
#undef X
};

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Rounds a finite fp32 value to a float format with `mbits` mantissa bits and exponent bias
// `bias` (normal exponents up to `emax`), round to nearest even, with subnormals. Returns the
// encoded sign-less magnitude, or -1 when it overflows.
int64_t encode_small_float(float a, int mbits, int bias, int emax_field, int64_t max_code) {
  // a is finite and >= 0 here.
  if (a == 0.0f) return 0;
  int e;
  double m = std::frexp(static_cast<double>(a), &e);  // a = m * 2^e, m in [0.5, 1)
  int exp_field = e - 1 + bias;                         // for 1.xxx * 2^(e-1)
  double scaled;
  int64_t code;
  if (exp_field <= 0) {
    // Subnormal: value = frac * 2^(1-bias-mbits)
    scaled = std::ldexp(static_cast<double>(a), mbits + bias - 1);
    double r = std::nearbyint(scaled);  // default rounding mode: to nearest even
    code = static_cast<int64_t>(r);     // may round up into the smallest normal: still right
  } else {
    scaled = std::ldexp(m * 2.0 - 1.0, mbits);  // fraction bits
    double r = std::nearbyint(scaled);
    int64_t frac = static_cast<int64_t>(r);
    if (frac == (int64_t{1} << mbits)) {
      frac = 0;
      ++exp_field;
    }
    if (exp_field > emax_field) return -1;
    code = (static_cast<int64_t>(exp_field) << mbits) | frac;
  }
  if (code > max_code) return -1;
  return code;
}

float decode_small_float(uint32_t code, int mbits, int bias) {
  uint32_t exp_field = code >> mbits;
  uint32_t frac = code & ((1u << mbits) - 1);
  if (exp_field == 0) return static_cast<float>(std::ldexp(static_cast<double>(frac), 1 - bias - mbits));
  return static_cast<float>(std::ldexp(1.0 + std::ldexp(static_cast<double>(frac), -mbits),
                                       static_cast<int>(exp_field) - bias));
}

int64_t saturate(double v, int64_t lo, int64_t hi) {
  if (std::isnan(v)) return 0;
  double r = std::nearbyint(v);
  if (r <= static_cast<double>(lo)) return lo;
  if (r >= static_cast<double>(hi)) return hi;
  return static_cast<int64_t>(r);
}

}  // namespace

int dtype_size(DType t) { return kInfo[static_cast<int>(t)].bytes; }
bool dtype_is_float(DType t) { return kInfo[static_cast<int>(t)].is_float; }
std::string_view dtype_name(DType t) { return kInfo[static_cast<int>(t)].name; }
std::optional<DType> parse_dtype(std::string_view s) {
  for (int i = 0; i < kNumDTypes; ++i)
    if (kInfo[i].name == s) return static_cast<DType>(i);
  return std::nullopt;
}
bool dtype_is_engine_legal(DType t) { return t != DType::Bool; }

uint16_t float_to_bf16(float f) {
  uint32_t u = bits_of(f);
  if (std::isnan(f)) return static_cast<uint16_t>((u >> 16) | 0x40);  // keep it a quiet NaN
  uint32_t lsb = (u >> 16) & 1;
  u += 0x7FFF + lsb;
  return static_cast<uint16_t>(u >> 16);
}
float bf16_to_float(uint16_t h) { return float_of(static_cast<uint32_t>(h) << 16); }

uint16_t float_to_fp16(float f) {
  uint16_t sign = (bits_of(f) >> 16) & 0x8000;
  if (std::isnan(f)) return sign | 0x7E00;
  float a = std::fabs(f);
  if (std::isinf(a)) return sign | 0x7C00;
  int64_t code = encode_small_float(a, 10, 15, 30, 0x7BFF);
  if (code < 0) return sign | 0x7C00;  // overflow to infinity (IEEE round to nearest)
  return static_cast<uint16_t>(sign | code);
}
float fp16_to_float(uint16_t h) {
  float sign = (h & 0x8000) ? -1.0f : 1.0f;
  uint32_t code = h & 0x7FFF;
  if ((code >> 10) == 0x1F)
    return (code & 0x3FF) ? std::numeric_limits<float>::quiet_NaN()
                          : sign * std::numeric_limits<float>::infinity();
  return sign * decode_small_float(code, 10, 15);
}

uint8_t float_to_fp8e4m3(float f) {
  uint8_t sign = (bits_of(f) >> 24) & 0x80;
  if (std::isnan(f) || std::isinf(f)) return sign | 0x7F;
  // E4M3FN: bias 7, exponent field up to 15, but 0x7F (S.1111.111) is NaN: max code 0x7E = 448.
  int64_t code = encode_small_float(std::fabs(f), 3, 7, 15, 0x7E);
  if (code < 0) return sign | 0x7F;
  return static_cast<uint8_t>(sign | code);
}
float fp8e4m3_to_float(uint8_t b) {
  float sign = (b & 0x80) ? -1.0f : 1.0f;
  uint32_t code = b & 0x7F;
  if (code == 0x7F) return std::numeric_limits<float>::quiet_NaN();
  return sign * decode_small_float(code, 3, 7);
}

uint8_t float_to_fp8e5m2(float f) {
  uint8_t sign = (bits_of(f) >> 24) & 0x80;
  if (std::isnan(f)) return sign | 0x7E;
  if (std::isinf(f)) return sign | 0x7C;
  int64_t code = encode_small_float(std::fabs(f), 2, 15, 30, 0x7B);
  if (code < 0) return sign | 0x7C;
  return static_cast<uint8_t>(sign | code);
}
float fp8e5m2_to_float(uint8_t b) {
  float sign = (b & 0x80) ? -1.0f : 1.0f;
  uint32_t code = b & 0x7F;
  if ((code >> 2) == 0x1F)
    return (code & 3) ? std::numeric_limits<float>::quiet_NaN()
                      : sign * std::numeric_limits<float>::infinity();
  return sign * decode_small_float(code, 2, 15);
}

float load_as_float(DType t, const uint8_t* p) {
  switch (t) {
    case DType::Fp32: {
      float f;
      std::memcpy(&f, p, 4);
      return f;
    }
    case DType::Bf16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      return bf16_to_float(h);
    }
    case DType::Fp16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      return fp16_to_float(h);
    }
    case DType::Fp8e4m3: return fp8e4m3_to_float(*p);
    case DType::Fp8e5m2: return fp8e5m2_to_float(*p);
    default: return static_cast<float>(load_as_int(t, p));
  }
}

void store_from_float(DType t, float v, uint8_t* p) {
  switch (t) {
    case DType::Fp32: std::memcpy(p, &v, 4); return;
    case DType::Bf16: {
      uint16_t h = float_to_bf16(v);
      std::memcpy(p, &h, 2);
      return;
    }
    case DType::Fp16: {
      uint16_t h = float_to_fp16(v);
      std::memcpy(p, &h, 2);
      return;
    }
    case DType::Fp8e4m3: *p = float_to_fp8e4m3(v); return;
    case DType::Fp8e5m2: *p = float_to_fp8e5m2(v); return;
    case DType::Int8: *p = static_cast<uint8_t>(static_cast<int8_t>(saturate(v, -128, 127))); return;
    case DType::Uint8: *p = static_cast<uint8_t>(saturate(v, 0, 255)); return;
    case DType::Bool: *p = (v != 0.0f && !std::isnan(v)) ? 1 : 0; return;
    case DType::Int32: {
      int32_t i = static_cast<int32_t>(saturate(v, INT32_MIN, INT32_MAX));
      std::memcpy(p, &i, 4);
      return;
    }
    case DType::Int64: {
      int64_t i = saturate(v, INT64_MIN, INT64_MAX);
      std::memcpy(p, &i, 8);
      return;
    }
  }
}

int64_t load_as_int(DType t, const uint8_t* p) {
  switch (t) {
    case DType::Int8: return static_cast<int8_t>(*p);
    case DType::Uint8:
    case DType::Bool: return *p;
    case DType::Int32: {
      int32_t i;
      std::memcpy(&i, p, 4);
      return i;
    }
    case DType::Int64: {
      int64_t i;
      std::memcpy(&i, p, 8);
      return i;
    }
    default: return saturate(load_as_float(t, p), INT64_MIN, INT64_MAX);
  }
}

void store_from_int(DType t, int64_t v, uint8_t* p) {
  switch (t) {
    case DType::Int8: *p = static_cast<uint8_t>(static_cast<int8_t>(std::clamp<int64_t>(v, -128, 127))); return;
    case DType::Uint8: *p = static_cast<uint8_t>(std::clamp<int64_t>(v, 0, 255)); return;
    case DType::Bool: *p = v != 0; return;
    case DType::Int32: {
      int32_t i = static_cast<int32_t>(std::clamp<int64_t>(v, INT32_MIN, INT32_MAX));
      std::memcpy(p, &i, 4);
      return;
    }
    case DType::Int64: std::memcpy(p, &v, 8); return;
    default: store_from_float(t, static_cast<float>(v), p); return;
  }
}

}  // namespace trnsim::isa
