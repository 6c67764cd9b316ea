// Row geometry of the row-wise lowerings (reductions, Softmax, ArgMax, LayerNorm): which axes
// are rows (one per partition) and which are reduced along the free dimension, the tiles of
// rows, the chunks a long row is processed in (several passes with partial results), and
// blocked summation (partial sums of a few hundred elements, then their sum).
#pragma once

#include <functional>
#include <vector>

#include "compiler/lower/lower_ctx.h"

namespace trnsim::compiler {

// One axis group after dropping unit axes and merging neighbours of the same kind (kept or
// reduced): `count` elements, `xs` apart in x, `ys` apart in y.
struct RowDim {
  int64_t count = 1, xs = 0, ys = 0;
};

// Rows = the kept axes, each row's elements = the reduced axes (any set of them, in any order:
// every reduced group becomes a free dimension of the loads). y's strides are x's for ops
// whose output has x's shape (Softmax, LayerNorm), else row-major over the kept axes.
struct RowGeom {
  std::vector<RowDim> kept, reduced;  // outer to inner
  int64_t R = 1;                      // elements per row
  int64_t rows = 1;
};
RowGeom row_geom(const Shape& x, const std::vector<int64_t>& axes, bool same_layout);

// A tile of `np` rows: row p starts at element x_off + p * xp of x and its result (or its
// first output element) at y_off + p * yp of y.
struct RowTile {
  int64_t np = 0, x_off = 0, xp = 0, y_off = 0, yp = 0;
};
// The rows go on partitions along the kept group with the most rows; the others are looped.
void for_each_row_tile(const LowerCtx& ctx, const RowGeom& g,
                       const std::function<void(const RowTile&)>& f);

// A piece of every row of a tile: the row's elements [start, start + len) in row-major order of
// the reduced axes, at element `off` from the row's start, laid out in HBM as `dims` (x's
// strides; y's too for same-layout ops). At most 4 dims.
struct RowChunk {
  int64_t off = 0, start = 0, len = 0;
  std::vector<isa::Dim> dims;
};
// Splits a row into chunks of at most max_len elements (one chunk when it fits and its groups
// fit in one access pattern).
std::vector<RowChunk> row_chunks(const RowGeom& g, int64_t max_len);

// Longest chunk (elements) for `buffers` row-long SBUF tiles of es-byte elements, leaving
// room for the next tile's loads (the single-pass limit the row-wise lowerings always had).
int64_t row_chunk_limit(const LowerCtx& ctx, int buffers, int es);

// Rows up to this long are summed in one pass (the engines add sequentially in fp32); longer
// ones in blocks of kSumBlock whose partial sums are then added.
constexpr int64_t kSeqSum = 1024;
constexpr int64_t kSumBlock = 512;

// dst[np, 1] = op-reduction of src[np, len] (contiguous free elements, start partition 0);
// a float sum of more than kSeqSum elements is blocked (integer sums are exact as they are).
void reduce_row(LowerCtx& ctx, const isa::AccessPattern& dst, const isa::AccessPattern& src,
                isa::AluOp op);
// dst = fn(src * scale + bias) with sum[np, 1] = the row sum of dst (act's accumulate), in
// blocks of kSumBlock whose partial sums are added when the row is longer than kSeqSum.
void act_row_sum(LowerCtx& ctx, const isa::AccessPattern& dst, const isa::AccessPattern& src,
                 isa::ActFn fn, isa::Operand scale, isa::Operand bias,
                 const isa::AccessPattern& sum);

// The reduction of n's input (n.op: ReduceX, or GlobalAveragePool/GlobalMaxPool as a mean/max)
// over `axes` (lower/rowwise.cpp).
void lower_row_reduce(LowerCtx& ctx, const Node& n, const std::vector<int64_t>& axes);

// A [np, 1] fp32 column (statistics of a tile of rows).
isa::AccessPattern stat_col(LowerCtx& ctx, int64_t np);

}  // namespace trnsim::compiler
