// The indexing ops GatherElements, Trilu and ScatterND (ops/indexing.cpp,
// interp/kernels_indexing.cpp, lower/indexing.cpp). Internal to the compiler.
#pragma once

#include <vector>

#include "compiler/ops/op_table.h"

namespace trnsim::compiler {

std::vector<TypeShape> infer_gather_elements(const Node& n, const std::vector<const Tensor*>& in);
std::vector<TypeShape> infer_trilu(const Node& n, const std::vector<const Tensor*>& in);
std::vector<TypeShape> infer_scatter_nd(const Node& n, const std::vector<const Tensor*>& in);

std::vector<Value> eval_gather_elements(const Node& n, const std::vector<const Value*>& in);
std::vector<Value> eval_trilu(const Node& n, const std::vector<const Value*>& in);
std::vector<Value> eval_scatter_nd(const Node& n, const std::vector<const Value*>& in);

void lower_gather_elements(LowerCtx& ctx, const Node& n);
void lower_trilu(LowerCtx& ctx, const Node& n);
void lower_scatter_nd(LowerCtx& ctx, const Node& n);

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
