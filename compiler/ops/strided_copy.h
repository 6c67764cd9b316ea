// Tile, DepthToSpace and SpaceToDepth as one strided copy (ops/strided_copy.cpp), shared by
// their inference, reference kernel (interp/kernels_shape.cpp) and lowering (lower/movement.cpp).
#pragma once

#include <vector>

#include "compiler/ir/graph.h"

namespace trnsim::compiler {

// The output, read row-major as the N-d array `shape`, is the input element at
// sum_d idx[d] * src_strides[d] (element strides into the row-major input).
struct StridedCopy {
  Shape out_shape;
  Shape shape;
  std::vector<int64_t> src_strides;
};

// Tile (repeats: constant input 1), DepthToSpace (DCR/CRD), SpaceToDepth. Throws InputError.
StridedCopy strided_copy_of(const Node& n, const Shape& x, const std::vector<const Value*>& in);

}  // namespace trnsim::compiler
