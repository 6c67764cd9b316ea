// NumPy .npy reader and writer (format versions 1.0, 2.0 and 3.0; little-endian, C order).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "isa/dtype.h"

namespace trnsim::cli {

// A dense C-order array. data.size() == num_elements() * dtype_size(dtype).
struct NpyArray {
  isa::DType dtype = isa::DType::Fp32;
  std::vector<int64_t> shape;  // empty: a 0-d array holding one element
  std::vector<uint8_t> data;

  int64_t num_elements() const;
};

// dtype <-> descr: fp32 '<f4', fp16 '<f2', int32 '<i4', int64 '<i8', int8 '|i1', uint8 '|u1',
// bool '|b1'. On read, '<' or '=' (and '|' for 1-byte types) are accepted; big-endian,
// Fortran order, object/structured/unsupported dtypes (e.g. float64: save as float32) are
// InputErrors naming the file, as are header lies: data shorter or longer than the shape
// says, or a shape whose byte size overflows. Nothing is allocated before the size is checked.
NpyArray read_npy(const std::string& path);
// Same, from bytes already in memory; `name` is used in messages.
NpyArray parse_npy(const uint8_t* bytes, size_t size, const std::string& name);

// bf16, fp8e4m3 and fp8e5m2 have no NumPy descr: they are written as '<f4' (float32), which
// holds every such value exactly, so the file reads back as fp32. Writes version 1.0 (2.0 only
// when the header needs it) atomically via write_file_atomic. Throws InputError when data.size()
// does not match the shape.
void write_npy(const std::string& path, const NpyArray& a);
std::vector<uint8_t> encode_npy(const NpyArray& a);

}  // namespace trnsim::cli
