// The op table: every supported ONNX op and its facts. Adding an op = one entry here plus its
// infer/eval/lower functions (ops/, interp/, lower/).
#include "compiler/ops/op_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "compiler/ops/op_fns.h"

namespace trnsim::compiler {

namespace {
using isa::ActFn;
using isa::AluOp;

double u_relu(double x, const Node&) { return x > 0 ? x : 0; }
double u_sigmoid(double x, const Node&) { return 1.0 / (1.0 + std::exp(-x)); }
double u_tanh(double x, const Node&) { return std::tanh(x); }
double u_exp(double x, const Node&) { return std::exp(x); }
double u_log(double x, const Node&) { return std::log(x); }
double u_sqrt(double x, const Node&) { return std::sqrt(x); }
double u_erf(double x, const Node&) { return std::erf(x); }
double u_sin(double x, const Node&) { return std::sin(x); }
double u_cos(double x, const Node&) { return std::cos(x); }
double u_neg(double x, const Node&) { return -x; }
double u_abs(double x, const Node&) { return std::fabs(x); }
double u_recip(double x, const Node&) { return 1.0 / x; }
double u_not(double x, const Node&) { return x == 0 ? 1 : 0; }
double u_softplus(double x, const Node&) { return std::log1p(std::exp(x)); }
double u_sign(double x, const Node&) { return x > 0 ? 1 : x < 0 ? -1 : 0; }
double u_floor(double x, const Node&) { return std::floor(x); }
double u_ceil(double x, const Node&) { return std::ceil(x); }
double u_softsign(double x, const Node&) { return x / (1 + std::fabs(x)); }
double u_leaky_relu(double x, const Node& n) { return x >= 0 ? x : n.attr_float("alpha", 0.01f) * x; }
double u_hard_sigmoid(double x, const Node& n) {
  return std::clamp(n.attr_float("alpha", 0.2f) * x + n.attr_float("beta", 0.5f), 0.0, 1.0);
}
double u_hard_swish(double x, const Node&) { return x * std::clamp(x / 6 + 0.5, 0.0, 1.0); }
double u_elu(double x, const Node& n) {
  return x > 0 ? x : n.attr_float("alpha", 1.0f) * std::expm1(x);
}
double u_selu(double x, const Node& n) {
  const double alpha = n.attr_float("alpha", 1.67326319217681884765625f);
  const double gamma = n.attr_float("gamma", 1.05070102214813232421875f);
  return gamma * (x > 0 ? x : alpha * std::expm1(x));
}
double u_celu(double x, const Node& n) {
  const double alpha = n.attr_float("alpha", 1.0f);
  return x > 0 ? x : std::isnan(x) ? x : alpha * std::expm1(x / alpha);
}
double u_thresholded_relu(double x, const Node& n) {
  return x > n.attr_float("alpha", 1.0f) ? x : 0;
}

double b_add(double a, double b) { return a + b; }
double b_sub(double a, double b) { return a - b; }
double b_mul(double a, double b) { return a * b; }
double b_div(double a, double b) { return a / b; }
double b_pow(double a, double b) { return std::pow(a, b); }
// ONNX Max/Min keep NaN (as ONNX Runtime does); std::max would depend on the argument order.
double b_max(double a, double b) { return std::isnan(a) || std::isnan(b) ? a + b : std::max(a, b); }
double b_min(double a, double b) { return std::isnan(a) || std::isnan(b) ? a + b : std::min(a, b); }
double b_eq(double a, double b) { return a == b; }
double b_lt(double a, double b) { return a < b; }
double b_gt(double a, double b) { return a > b; }
double b_le(double a, double b) { return a <= b; }
double b_ge(double a, double b) { return a >= b; }
double b_and(double a, double b) { return (a != 0) && (b != 0); }
double b_or(double a, double b) { return (a != 0) || (b != 0); }
double b_xor(double a, double b) { return (a != 0) != (b != 0); }
double b_prelu(double a, double b) { return a < 0 ? a * b : a; }

OpInfo unary(std::string_view op, UnaryScalarFn f, std::optional<ActFn> act,
             std::optional<AluOp> alu = std::nullopt, std::vector<std::string_view> attrs = {}) {
  OpInfo o;
  o.op = op;
  o.attrs = std::move(attrs);
  o.infer = infer_unary;
  o.eval = eval_unary;
  o.lower = lower_elementwise;
  o.unary = f;
  o.act = act;
  o.alu = alu;
  return o;
}

OpInfo binary(std::string_view op, BinaryScalarFn f, AluOp alu, bool compare = false) {
  OpInfo o;
  o.op = op;
  o.infer = compare ? infer_compare : infer_broadcast;
  o.eval = eval_binary;
  o.lower = lower_elementwise;
  o.binary = f;
  o.alu = alu;
  return o;
}

OpInfo variadic(std::string_view op, BinaryScalarFn f, AluOp alu) {
  OpInfo o = binary(op, f, alu);
  o.eval = eval_variadic;
  return o;
}

OpInfo other(std::string_view op, InferFn infer, EvalFn eval, LowerFn lower,
             std::vector<std::string_view> attrs) {
  OpInfo o;
  o.op = op;
  o.infer = infer;
  o.eval = eval;
  o.lower = lower;
  o.attrs = std::move(attrs);
  return o;
}

// Every ReduceX: the same hooks and attributes.
OpInfo reduce(std::string_view op) {
  return other(op, infer_reduce, eval_reduce, lower_reduce,
               {"axes", "keepdims", "noop_with_empty_axes"});
}

// Mod: the ALU's floored mod for fmod=0; fmod=1 folds only.
double b_mod(double a, double b) { return a - b * std::floor(a / b); }
OpInfo mod_op() {
  OpInfo o = binary("Mod", b_mod, AluOp::Mod);
  o.eval = eval_mod;
  o.lower = lower_mod;
  o.attrs = {"fmod"};
  return o;
}

std::vector<OpInfo> make_table() {
  std::vector<OpInfo> t = {
      // Elementwise unary: activation-engine functions, or an ALU op against an immediate.
      unary("Relu", u_relu, ActFn::Relu),
      unary("Sigmoid", u_sigmoid, ActFn::Sigmoid),
      unary("Tanh", u_tanh, ActFn::Tanh),
      unary("Exp", u_exp, ActFn::Exp),
      unary("Log", u_log, ActFn::Log),
      unary("Sqrt", u_sqrt, ActFn::Sqrt),
      unary("Erf", u_erf, ActFn::Erf),
      unary("Abs", u_abs, ActFn::Abs),
      unary("Reciprocal", u_recip, ActFn::Reciprocal),
      unary("Softplus", u_softplus, ActFn::Softplus),
      unary("Neg", u_neg, std::nullopt, AluOp::Mul),  // x * -1
      unary("Not", u_not, std::nullopt, AluOp::Eq),   // x == 0
      unary("Sign", u_sign, ActFn::Sign),
      // Composite unary ops: a few act/ts/tt steps per tile (lower/elementwise.cpp).
      unary("Floor", u_floor, std::nullopt),
      unary("Ceil", u_ceil, std::nullopt),
      unary("Softsign", u_softsign, std::nullopt),
      unary("Sin", u_sin, std::nullopt),  // range reduction + act sin
      unary("Cos", u_cos, std::nullopt),
      unary("LeakyRelu", u_leaky_relu, std::nullopt, std::nullopt, {"alpha"}),
      unary("HardSigmoid", u_hard_sigmoid, std::nullopt, std::nullopt, {"alpha", "beta"}),
      unary("HardSwish", u_hard_swish, std::nullopt),
      unary("Elu", u_elu, std::nullopt, std::nullopt, {"alpha"}),
      unary("Selu", u_selu, std::nullopt, std::nullopt, {"alpha", "gamma"}),
      unary("Celu", u_celu, std::nullopt, std::nullopt, {"alpha"}),
      unary("ThresholdedRelu", u_thresholded_relu, std::nullopt, std::nullopt, {"alpha"}),
      other("Round", infer_unary, eval_round, lower_round, {}),  // half to even
      other("Clip", infer_unary, eval_clip, lower_elementwise, {"min", "max"}),
      // Elementwise binary with numpy broadcasting.
      binary("Add", b_add, AluOp::Add),
      binary("Sub", b_sub, AluOp::Sub),
      binary("Mul", b_mul, AluOp::Mul),
      binary("Div", b_div, AluOp::Div),
      binary("Pow", b_pow, AluOp::Pow),
      mod_op(),
      variadic("Max", b_max, AluOp::Max),
      variadic("Min", b_min, AluOp::Min),
      variadic("Sum", b_add, AluOp::Add),
      other("Mean", infer_broadcast, eval_mean, lower_elementwise, {}),
      binary("PRelu", b_prelu, AluOp::Mul),  // slope broadcast to x (lower/elementwise.cpp)
      binary("Equal", b_eq, AluOp::Eq, true),
      binary("Less", b_lt, AluOp::Lt, true),
      binary("Greater", b_gt, AluOp::Gt, true),
      binary("LessOrEqual", b_le, AluOp::Le, true),
      binary("GreaterOrEqual", b_ge, AluOp::Ge, true),
      binary("And", b_and, AluOp::Mul, true),  // on 0/1 values
      binary("Or", b_or, AluOp::Max, true),
      binary("Xor", b_xor, AluOp::Ne, true),  // on 0/1 values: a != b
      other("Where", infer_where, eval_where, lower_elementwise, {}),
      other("Cast", infer_cast, eval_cast, lower_elementwise, {"to", "to_dtype", "saturate"}),
      // Tensor Engine.
      other("MatMul", infer_matmul, eval_matmul, lower_matmul, {"_act"}),
      other("Gemm", infer_gemm, eval_gemm, lower_matmul, {"alpha", "beta", "transA", "transB", "_act"}),
      // Along axes (one row per partition, the axis along the free dimension; lower/rowwise.cpp,
      // CumSum lower/cumsum.cpp; interp/kernels_reduce.cpp).
      reduce("ReduceMean"),
      reduce("ReduceSum"),
      reduce("ReduceMax"),
      reduce("ReduceMin"),
      reduce("ReduceL1"),
      reduce("ReduceL2"),
      reduce("ReduceSumSquare"),
      reduce("ReduceProd"),
      reduce("ReduceLogSumExp"),
      other("ArgMax", infer_arg_reduce, eval_arg_reduce, lower_arg_reduce,
            {"axis", "keepdims", "select_last_index"}),
      other("ArgMin", infer_arg_reduce, eval_arg_reduce, lower_arg_reduce,
            {"axis", "keepdims", "select_last_index"}),
      other("CumSum", infer_cumsum, eval_cumsum, lower_cumsum, {"exclusive", "reverse"}),
      // Softmax and normalizations (interp/kernels_nn.cpp; lower/rowwise.cpp, layernorm.cpp,
      // norm.cpp, BatchNormalization elementwise.cpp).
      other("Softmax", infer_unary, eval_softmax, lower_softmax, {"axis", "_legacy"}),
      other("LogSoftmax", infer_unary, eval_log_softmax, lower_softmax, {"axis", "_legacy"}),
      other("LayerNormalization", infer_layernorm, eval_layernorm, lower_layernorm,
            {"axis", "epsilon", "stash_type"}),
      other("BatchNormalization", infer_batchnorm, eval_batchnorm, lower_batchnorm,
            {"epsilon", "momentum", "spatial", "training_mode"}),
      other("InstanceNormalization", infer_instance_norm, eval_instance_norm,
            lower_instance_norm, {"epsilon"}),
      other("LRN", infer_lrn, eval_lrn, lower_lrn, {"alpha", "beta", "bias", "size"}),
      // Data movement: views, aliases and strided copies (lower/movement.cpp,
      // interp/kernels_shape.cpp; Tile/DepthToSpace/SpaceToDepth geometry ops/strided_copy.h).
      other("Identity", infer_unary, eval_reshape, lower_reshape, {}),
      other("Dropout", infer_dropout, eval_reshape, lower_reshape, {"seed", "ratio", "is_test"}),
      other("Reshape", infer_reshape, eval_reshape, lower_reshape, {"allowzero"}),
      other("Flatten", infer_flatten, eval_reshape, lower_reshape, {"axis"}),
      other("Squeeze", infer_squeeze, eval_reshape, lower_reshape, {"axes"}),
      other("Unsqueeze", infer_unsqueeze, eval_reshape, lower_reshape, {"axes"}),
      other("Transpose", infer_transpose, eval_transpose, lower_transpose, {"perm"}),
      other("Concat", infer_concat, eval_concat, lower_concat, {"axis"}),
      other("Split", infer_split, eval_split, lower_split, {"axis", "split"}),
      other("Slice", infer_slice, eval_slice, lower_slice, {"starts", "ends", "axes", "steps"}),
      other("Expand", infer_expand, eval_expand, lower_expand, {}),
      other("Gather", infer_gather, eval_gather, lower_gather, {"axis"}),
      other("Tile", infer_strided_copy, eval_strided_copy, lower_strided_copy, {}),
      other("DepthToSpace", infer_strided_copy, eval_strided_copy, lower_strided_copy,
            {"blocksize", "mode"}),
      other("SpaceToDepth", infer_strided_copy, eval_strided_copy, lower_strided_copy,
            {"blocksize"}),
      // Indexing (ops/indexing.cpp, interp/kernels_indexing.cpp, lower/indexing.cpp):
      // GatherElements (GpSimd gather per row), Trilu (select against a constant mask; constant
      // inputs fold), ScatterND (constant indices: copies).
      other("GatherElements", infer_gather_elements, eval_gather_elements, lower_gather_elements,
            {"axis"}),
      other("Trilu", infer_trilu, eval_trilu, lower_trilu, {"upper"}),
      other("ScatterND", infer_scatter_nd, eval_scatter_nd, lower_scatter_nd, {"reduction"}),
      // CNN ops (ops/cnn.cpp, interp/kernels_cnn.cpp, lower/conv.cpp, pool.cpp, gather_map.cpp;
      // Upsample = Resize's gather map).
      other("Conv", infer_conv, eval_conv, lower_conv,
            {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides", "_act"}),
      other("ConvTranspose", infer_conv_transpose, eval_conv_transpose, lower_conv,
            {"auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape",
             "pads", "strides"}),
      other("MaxPool", infer_pool, eval_pool, lower_pool,
            {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order",
             "strides"}),
      other("AveragePool", infer_pool, eval_pool, lower_pool,
            {"auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads",
             "strides"}),
      other("GlobalAveragePool", infer_global_pool, eval_global_pool, lower_pool, {}),
      other("GlobalMaxPool", infer_global_pool, eval_global_pool, lower_pool, {}),
      other("Pad", infer_pad, eval_pad, lower_gather_map, {"mode", "pads", "value"}),
      other("Resize", infer_resize, eval_resize, lower_gather_map,
            {"mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a",
             "exclude_outside", "extrapolation_value"}),
      other("Upsample", infer_resize, eval_resize, lower_gather_map, {"mode", "scales"}),
      other("LSTM", infer_lstm, eval_lstm, lower_lstm,
            {"activation_alpha", "activation_beta", "activations", "clip", "direction",
             "hidden_size", "input_forget", "layout"}),
      // Inserted by tensor parallelism (compiler/tensor_parallel.h), never in a model file.
      other("TrnAllReduce", infer_all_reduce, eval_collective, lower_collective, {"group_size"}),
      other("TrnAllGather", infer_all_gather, eval_collective, lower_collective, {"group_size"}),
      // Compile-time only: folded by fold_constants.
      other("Shape", infer_shape, eval_shape, nullptr, {"start", "end"}),
      other("Size", infer_size, eval_size, nullptr, {}),
      other("ConstantOfShape", infer_constant_of_shape, eval_constant_of_shape, nullptr,
            {"value"}),
      other("Constant", infer_constant, eval_constant, nullptr, {"value"}),
      other("Range", infer_range, eval_range, nullptr, {}),
      // Control flow: the IR keeps If with its branches; fold_constants inlines the branch of a
      // constant condition, the interpreter and lower_graph handle it themselves
      // (lower/control.cpp: both branches compiled, a branch on the loaded condition).
      other("If", nullptr, nullptr, nullptr, {}),
  };
  for (auto& o : t) {
    if (o.op == "Shape" || o.op == "Size") o.shape_only = true;
  }
  std::sort(t.begin(), t.end(), [](const OpInfo& a, const OpInfo& b) { return a.op < b.op; });
  return t;
}
}  // namespace

const std::vector<OpInfo>& op_table() {
  static const std::vector<OpInfo> table = make_table();  // immutable after first use
  return table;
}

const OpInfo* find_op(std::string_view op) {
  const auto& t = op_table();
  auto it = std::lower_bound(t.begin(), t.end(), op,
                             [](const OpInfo& a, std::string_view b) { return a.op < b; });
  return it != t.end() && it->op == op ? &*it : nullptr;
}

std::string supported_ops() {
  std::vector<std::string_view> names;
  for (const auto& o : op_table()) names.push_back(o.op);
  return fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace trnsim::compiler
