// Data types of the chip: sizes, names, and the fp32 <-> storage conversions every engine uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace trnsim::isa {

// X(Enum, name, bytes, is_float). bool exists only at the HBM boundary (ONNX comparison
// outputs); engines compute on the others (int64 as exact 64-bit integers, see docs/isa.md).
#define TRNSIM_DTYPES(X)        \
  X(Fp32, "fp32", 4, true)      \
  X(Bf16, "bf16", 2, true)      \
  X(Fp16, "fp16", 2, true)      \
  X(Fp8e4m3, "fp8e4m3", 1, true) \
  X(Fp8e5m2, "fp8e5m2", 1, true) \
  X(Int8, "int8", 1, false)     \
  X(Uint8, "uint8", 1, false)   \
  X(Int32, "int32", 4, false)   \
  X(Int64, "int64", 8, false)   \
  X(Bool, "bool", 1, false)

enum class DType : uint8_t {
#define X(e, n, b, f) e,
  TRNSIM_DTYPES(X)
#undef X
};
constexpr int kNumDTypes = 0
#define X(e, n, b, f) +1
    TRNSIM_DTYPES(X)
#undef X
    ;

int dtype_size(DType t);
bool dtype_is_float(DType t);
std::string_view dtype_name(DType t);
std::optional<DType> parse_dtype(std::string_view s);
// True for the dtypes engines compute on (not bool, which only DMA may move).
bool dtype_is_engine_legal(DType t);

// Storage conversions. Floats round to nearest even; fp8e4m3 is OCP E4M3FN (max 448, no inf:
// overflow saturates to NaN as in the OCP spec), fp8e5m2 is OCP E5M2 (IEEE-like, has inf).
// Integer stores round to nearest even and saturate; NaN stores as 0.
float load_as_float(DType t, const uint8_t* p);
void store_from_float(DType t, float v, uint8_t* p);
// Exact integer path for int dtypes (bitwise ops, int32 adds) to avoid fp32 rounding.
int64_t load_as_int(DType t, const uint8_t* p);
void store_from_int(DType t, int64_t v, uint8_t* p);

// Scalar conversions, exposed for tests and the compiler's reference interpreter.
uint16_t float_to_bf16(float f);
float bf16_to_float(uint16_t h);
uint16_t float_to_fp16(float f);
float fp16_to_float(uint16_t h);
uint8_t float_to_fp8e4m3(float f);
float fp8e4m3_to_float(uint8_t b);
uint8_t float_to_fp8e5m2(float f);
float fp8e5m2_to_float(uint8_t b);

}  // namespace trnsim::isa
