// Geometry shared by the indexing ops' inference, reference kernels and lowerings
// (ops/indexing.cpp, interp/kernels_indexing.cpp, lower/indexing.cpp): Trilu's mask, ScatterND's
// slices.
#pragma once

#include <vector>

#include "compiler/ir/graph.h"

namespace trnsim::compiler {

// Trilu: element (i, j) of each trailing [rows, cols] matrix is kept iff j - i >= k (upper) or
// j - i <= k (lower). k is input 1, a compile-time constant scalar (0 when absent).
int64_t trilu_k(const Value* k);
inline bool trilu_keeps(bool upper, int64_t k, int64_t i, int64_t j) {
  return upper ? j - i >= k : j - i <= k;
}

// ScatterND geometry: indices [..., q] address slices of data.shape[q:] (`slice` elements);
// `offsets` are the row-major element offsets of the slices in data (negative indices resolved).
// Throws InputError when an index is out of range or the updates shape is wrong.
struct ScatterSlices {
  int64_t slice = 1;
  std::vector<int64_t> offsets;
};
ScatterSlices scatter_slices(const Shape& data, const Value& indices, const Shape& updates);

}  // namespace trnsim::compiler
