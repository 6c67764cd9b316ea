// Declarations of the shape-inference, reference-kernel and lowering functions that
// ops/op_table.cpp puts into the op table. Internal to the compiler.
#pragma once

#include <optional>
#include <string>

#include "compiler/ops/op_table.h"

namespace trnsim::compiler {

// Grouped by operator family; each group names the file that defines it.

// ---- shape inference (ops/infer.cpp unless noted) ----
#define TRNSIM_INFER(name) \
  std::vector<TypeShape> name(const Node& n, const std::vector<const Tensor*>& in)
// Elementwise.
TRNSIM_INFER(infer_unary);       // same type and shape as input 0
TRNSIM_INFER(infer_broadcast);   // numpy broadcast of all inputs, dtype of input 0
TRNSIM_INFER(infer_compare);     // broadcast, bool
TRNSIM_INFER(infer_where);
TRNSIM_INFER(infer_cast);
// Tensor-parallel collectives (lower/collective.cpp).
TRNSIM_INFER(infer_all_reduce);
TRNSIM_INFER(infer_all_gather);
// Tensor Engine.
TRNSIM_INFER(infer_matmul);
TRNSIM_INFER(infer_gemm);
// Along axes: reductions, ArgMax/ArgMin, CumSum.
TRNSIM_INFER(infer_reduce);
TRNSIM_INFER(infer_arg_reduce);
TRNSIM_INFER(infer_cumsum);
// Normalizations.
TRNSIM_INFER(infer_layernorm);
TRNSIM_INFER(infer_batchnorm);
TRNSIM_INFER(infer_instance_norm);
TRNSIM_INFER(infer_lrn);
// Data movement and shape.
TRNSIM_INFER(infer_reshape);
TRNSIM_INFER(infer_flatten);
TRNSIM_INFER(infer_transpose);
TRNSIM_INFER(infer_squeeze);
TRNSIM_INFER(infer_unsqueeze);
TRNSIM_INFER(infer_concat);
TRNSIM_INFER(infer_split);
TRNSIM_INFER(infer_slice);            // ops/slice.cpp
TRNSIM_INFER(infer_gather);
TRNSIM_INFER(infer_expand);
TRNSIM_INFER(infer_dropout);
TRNSIM_INFER(infer_strided_copy);     // Tile, DepthToSpace, SpaceToDepth (ops/strided_copy.cpp)
// Compile-time only.
TRNSIM_INFER(infer_shape);
TRNSIM_INFER(infer_size);
TRNSIM_INFER(infer_constant_of_shape);
TRNSIM_INFER(infer_constant);
TRNSIM_INFER(infer_range);
// Indexing (ops/indexing.cpp).
TRNSIM_INFER(infer_gather_elements);
TRNSIM_INFER(infer_trilu);
TRNSIM_INFER(infer_scatter_nd);
// CNN (ops/cnn.cpp).
TRNSIM_INFER(infer_conv);
TRNSIM_INFER(infer_conv_transpose);
TRNSIM_INFER(infer_pool);             // MaxPool, AveragePool
TRNSIM_INFER(infer_global_pool);
TRNSIM_INFER(infer_pad);
TRNSIM_INFER(infer_resize);           // also Upsample
// Recurrent.
TRNSIM_INFER(infer_lstm);             // lower/lstm.cpp
#undef TRNSIM_INFER

// ---- reference kernels (interp/kernels_*.cpp) ----
#define TRNSIM_EVAL(name) std::vector<Value> name(const Node& n, const std::vector<const Value*>& in)
// Elementwise (interp/kernels_elementwise.cpp).
TRNSIM_EVAL(eval_unary);
TRNSIM_EVAL(eval_collective);  // throws: one rank cannot evaluate them (lower/collective.cpp)
TRNSIM_EVAL(eval_binary);
TRNSIM_EVAL(eval_variadic);  // Max/Min/Sum with any number of inputs
TRNSIM_EVAL(eval_where);
TRNSIM_EVAL(eval_clip);  // min/max as inputs (opset 11+) or attributes
TRNSIM_EVAL(eval_mean);  // variadic Mean
TRNSIM_EVAL(eval_mod);   // fmod=0 floored, fmod=1 truncated
TRNSIM_EVAL(eval_round);  // half to even
TRNSIM_EVAL(eval_cast);
// Tensor Engine, Softmax and normalizations (interp/kernels_nn.cpp).
TRNSIM_EVAL(eval_matmul);
TRNSIM_EVAL(eval_gemm);
TRNSIM_EVAL(eval_softmax);
TRNSIM_EVAL(eval_log_softmax);
TRNSIM_EVAL(eval_layernorm);
TRNSIM_EVAL(eval_batchnorm);
TRNSIM_EVAL(eval_instance_norm);
TRNSIM_EVAL(eval_lrn);
// Along axes (interp/kernels_reduce.cpp).
TRNSIM_EVAL(eval_reduce);
TRNSIM_EVAL(eval_arg_reduce);    // ArgMax, ArgMin
TRNSIM_EVAL(eval_cumsum);
// Data movement, shape and compile-time only (interp/kernels_shape.cpp).
TRNSIM_EVAL(eval_reshape);  // also Flatten/Squeeze/Unsqueeze/Identity/Dropout: data unchanged
TRNSIM_EVAL(eval_transpose);
TRNSIM_EVAL(eval_concat);
TRNSIM_EVAL(eval_split);
TRNSIM_EVAL(eval_slice);
TRNSIM_EVAL(eval_gather);
TRNSIM_EVAL(eval_expand);
TRNSIM_EVAL(eval_strided_copy);  // Tile, DepthToSpace, SpaceToDepth
TRNSIM_EVAL(eval_shape);
TRNSIM_EVAL(eval_size);
TRNSIM_EVAL(eval_constant_of_shape);
TRNSIM_EVAL(eval_constant);
TRNSIM_EVAL(eval_range);
// Indexing (interp/kernels_indexing.cpp).
TRNSIM_EVAL(eval_gather_elements);
TRNSIM_EVAL(eval_trilu);
TRNSIM_EVAL(eval_scatter_nd);
// CNN (interp/kernels_cnn.cpp).
TRNSIM_EVAL(eval_conv);
TRNSIM_EVAL(eval_conv_transpose);
TRNSIM_EVAL(eval_pool);
TRNSIM_EVAL(eval_global_pool);
TRNSIM_EVAL(eval_pad);
TRNSIM_EVAL(eval_resize);
// Recurrent.
TRNSIM_EVAL(eval_lstm);  // lower/lstm.cpp
#undef TRNSIM_EVAL

// ---- lowerings (lower/*.cpp) ----
#define TRNSIM_LOWER(name) void name(LowerCtx& ctx, const Node& n)
// Elementwise.
TRNSIM_LOWER(lower_elementwise);  // unary, binary, comparisons, Where, Cast (lower/elementwise.cpp)
TRNSIM_LOWER(lower_round);        // (lower/elementwise.cpp)
TRNSIM_LOWER(lower_batchnorm);    // (lower/elementwise.cpp)
TRNSIM_LOWER(lower_mod);          // fmod=0 via lower_elementwise (lower/mod.cpp)
// Tensor Engine.
TRNSIM_LOWER(lower_matmul);       // MatMul, Gemm (lower/matmul.cpp)
// Along axes and normalizations.
TRNSIM_LOWER(lower_reduce);         // every ReduceX (lower/rowwise.cpp)
TRNSIM_LOWER(lower_arg_reduce);     // ArgMax, ArgMin (lower/rowwise.cpp)
TRNSIM_LOWER(lower_softmax);        // Softmax, LogSoftmax (lower/rowwise.cpp)
TRNSIM_LOWER(lower_cumsum);         // running sums with scan (lower/cumsum.cpp)
TRNSIM_LOWER(lower_layernorm);      // (lower/layernorm.cpp)
TRNSIM_LOWER(lower_instance_norm);  // (lower/norm.cpp)
TRNSIM_LOWER(lower_lrn);            // cross-channel sums on the Tensor Engine (lower/norm.cpp)
// Data movement (lower/movement.cpp).
TRNSIM_LOWER(lower_reshape);      // alias or copy
TRNSIM_LOWER(lower_transpose);
TRNSIM_LOWER(lower_concat);
TRNSIM_LOWER(lower_split);
TRNSIM_LOWER(lower_slice);
TRNSIM_LOWER(lower_expand);
TRNSIM_LOWER(lower_gather);         // dma_gather
TRNSIM_LOWER(lower_strided_copy);   // Tile, DepthToSpace, SpaceToDepth
// Indexing (lower/indexing.cpp).
TRNSIM_LOWER(lower_gather_elements);  // GpSimd gather within partitions
TRNSIM_LOWER(lower_trilu);            // select against a constant mask
TRNSIM_LOWER(lower_scatter_nd);       // constant indices: a copy per run of slices
// CNN.
TRNSIM_LOWER(lower_conv);         // Conv, ConvTranspose (lower/conv.cpp)
TRNSIM_LOWER(lower_pool);         // MaxPool, AveragePool, Global*Pool (lower/pool.cpp)
TRNSIM_LOWER(lower_gather_map);   // Pad, Resize, Upsample (lower/gather_map.cpp)
// Recurrent.
TRNSIM_LOWER(lower_lstm);         // single-layer forward LSTM (lower/lstm.cpp)
TRNSIM_LOWER(lower_collective);   // TrnAllReduce, TrnAllGather (lower/collective.cpp)
#undef TRNSIM_LOWER

// Helpers shared by kernels and inference.
// Throws InputError unless `in` has at least n inputs and none of the first n is missing.
void need_inputs(const std::vector<const Tensor*>& in, size_t n);
// Each input's compile-time value; null where the input is absent or not a constant.
std::vector<const Value*> const_values(const std::vector<const Tensor*>& in);
std::vector<int64_t> reduce_axes(const Node& n, const std::vector<const Value*>& in, int64_t rank);
std::vector<int64_t> squeeze_axes(const Node& n, const Value* axes_input, const Shape& in_shape,
                                  bool unsqueeze, int64_t out_rank);
int64_t softmax_axis(const Node& n, int64_t rank);
// CumSum's axis: input 1, a compile-time constant scalar. Throws InputError.
int64_t cumsum_axis(const Node& n, const Value* axis, int64_t rank);
double round_to(DType t, double v);
void round_all(Value& v);  // round_to on every element, in v's dtype (int64s stay exact)
// Two's complement wrap of an integer to dtype t (Int32, Int8, Uint8; Bool: != 0).
int64_t int_wrap(DType t, int64_t v);
// Exact integer result of binary op `op` (wrapping like ONNX Runtime's int64 arithmetic), or
// nullopt when the op has no integer form here.
std::optional<int64_t> int_binary(const std::string& op, int64_t a, int64_t b);
// A shape seen as outer x mid x inner around its dims [a, b) (the axes an op works along).
struct Split3 {
  int64_t outer = 1, mid = 1, inner = 1;
};
Split3 split3(const Shape& s, int64_t a, int64_t b);

// Row-major element strides of `s`, and the strides of `in` read as the broadcast shape `out`
// (0 on broadcast dimensions).
std::vector<int64_t> row_major_strides(const Shape& s);
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);

// Per-dimension window of a Slice: element i of dim d is input index start[d] + i*step[d].
struct SliceWindow {
  std::vector<int64_t> start, step, count;
};
// starts/ends/axes/steps come from attributes (opset < 10) or constant inputs 1..4.
SliceWindow slice_window(const Node& n, const Shape& in_shape,
                         const std::vector<const Value*>& in);  // value as stored in dtype t (fp32 rounding, int casts)

}  // namespace trnsim::compiler
