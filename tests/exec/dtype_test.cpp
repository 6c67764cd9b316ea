// Storage conversions of isa/dtype.cpp: round-to-nearest-even ties, subnormals, overflow.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "isa/dtype.h"

using namespace trnsim::isa;

namespace {
float f32(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
}  // namespace

TEST_CASE("bf16 rounds to nearest even and keeps subnormals, inf and NaN", "[exec][dtype]") {
  // bf16 has 7 fraction bits: ulp(1) = 2^-7, so 1 + 2^-8 is a tie.
  CHECK(float_to_bf16(1.0f + std::ldexp(1.0f, -8)) == 0x3F80);       // tie -> even (down)
  CHECK(float_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3F82);   // tie -> even (up)
  CHECK(float_to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)) == 0x3F81);
  CHECK(float_to_bf16(-2.0f) == 0xC000);
  CHECK(float_to_bf16(std::numeric_limits<float>::max()) == 0x7F80);  // overflow -> inf
  CHECK(float_to_bf16(f32(0x00010000)) == 0x0001);                    // subnormal exact
  CHECK(bf16_to_float(0x0001) == f32(0x00010000));
  CHECK(std::isnan(bf16_to_float(float_to_bf16(std::nanf("")))));
  for (uint32_t h = 0; h < 0x10000; h += 7) {
    const float v = bf16_to_float(static_cast<uint16_t>(h));
    if (!std::isnan(v)) CHECK(float_to_bf16(v) == h);
  }
}

TEST_CASE("fp16 rounding, subnormals and overflow", "[exec][dtype]") {
  CHECK(float_to_fp16(1.0f) == 0x3C00);
  CHECK(float_to_fp16(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);      // tie -> even
  CHECK(float_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02);  // tie -> even (up)
  CHECK(float_to_fp16(65504.0f) == 0x7BFF);
  CHECK(float_to_fp16(65519.0f) == 0x7BFF);
  CHECK(float_to_fp16(65520.0f) == 0x7C00);  // tie between max and 2^16 -> even -> inf
  CHECK(float_to_fp16(std::ldexp(1.0f, -24)) == 0x0001);
  CHECK(float_to_fp16(std::ldexp(1.0f, -25)) == 0x0000);      // tie -> even (zero)
  CHECK(float_to_fp16(3 * std::ldexp(1.0f, -25)) == 0x0002);  // 1.5 -> 2
  CHECK(fp16_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(fp16_to_float(0xFC00) == -std::numeric_limits<float>::infinity());
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float v = fp16_to_float(static_cast<uint16_t>(h));
    if (!std::isnan(v)) CHECK(float_to_fp16(v) == h);
  }
}

TEST_CASE("fp8 e4m3 (max 448, NaN on overflow) and e5m2 (inf) round to nearest even",
          "[exec][dtype]") {
  CHECK(float_to_fp8e4m3(448.0f) == 0x7E);
  CHECK(float_to_fp8e4m3(464.0f) == 0x7E);  // tie between 448 and 480 -> even (448)
  CHECK(float_to_fp8e4m3(470.0f) == 0x7F);  // above: no code left -> NaN
  CHECK(std::isnan(fp8e4m3_to_float(float_to_fp8e4m3(1e6f))));
  CHECK(float_to_fp8e4m3(1.0625f) == 0x38);   // 1 + half ulp -> 1.0
  CHECK(float_to_fp8e4m3(1.1875f) == 0x3A);   // 1 + 1.5 ulp -> 1.25
  CHECK(float_to_fp8e4m3(std::ldexp(1.0f, -9)) == 0x01);  // smallest subnormal
  CHECK(float_to_fp8e4m3(std::ldexp(1.0f, -10)) == 0x00);  // tie -> zero
  CHECK(float_to_fp8e4m3(-2.0f) == 0xC0);
  CHECK(float_to_fp8e5m2(57344.0f) == 0x7B);
  CHECK(float_to_fp8e5m2(61440.0f) == 0x7C);  // tie, max has odd fraction -> up -> inf
  CHECK(float_to_fp8e5m2(1.125f) == 0x3C);    // tie -> 1.0
  CHECK(float_to_fp8e5m2(1.375f) == 0x3E);    // tie -> 1.5
  CHECK(float_to_fp8e5m2(std::ldexp(1.0f, -16)) == 0x01);
  CHECK(std::isinf(fp8e5m2_to_float(0xFC)));
  for (uint32_t b = 0; b < 256; ++b) {
    const float a = fp8e4m3_to_float(static_cast<uint8_t>(b));
    if (!std::isnan(a)) CHECK(float_to_fp8e4m3(a) == b);
    const float e = fp8e5m2_to_float(static_cast<uint8_t>(b));
    if (!std::isnan(e)) CHECK(float_to_fp8e5m2(e) == b);
  }
}

TEST_CASE("integer stores round to even and saturate - int64 and int32 are exact",
          "[exec][dtype]") {
  uint8_t b[8];
  auto i8 = [&](float v) {
    store_from_float(DType::Int8, v, b);
    return load_as_int(DType::Int8, b);
  };
  CHECK(i8(2.5f) == 2);
  CHECK(i8(3.5f) == 4);
  CHECK(i8(-200.0f) == -128);
  CHECK(i8(127.6f) == 127);
  CHECK(i8(std::nanf("")) == 0);
  store_from_int(DType::Int32, (int64_t{1} << 40), b);
  CHECK(load_as_int(DType::Int32, b) == INT32_MAX);
  store_from_int(DType::Int64, (int64_t{1} << 53) + 1, b);
  CHECK(load_as_int(DType::Int64, b) == (int64_t{1} << 53) + 1);
  store_from_int(DType::Int32, 16777217, b);
  CHECK(load_as_int(DType::Int32, b) == 16777217);
}
