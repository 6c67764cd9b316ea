// Op facts, one table keyed by ONNX op type: shape inference, reference kernel, lowering,
// supported attributes and the engine ALU/activation used for elementwise ops.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ir/graph.h"
#include "isa/isa.h"

namespace trnsim::compiler {

class LowerCtx;  // compiler/lower/lower_ctx.h

// Type of one output: dtype and shape.
struct TypeShape {
  DType dtype = DType::Fp32;
  Shape shape;
};

// Input view for shape inference: dtype, shape and constant data when known.
using InferFn = std::vector<TypeShape> (*)(const Node& n, const std::vector<const Tensor*>& in);
// Reference kernel (the golden model and the constant folder). Missing optional inputs are null.
using EvalFn = std::vector<Value> (*)(const Node& n, const std::vector<const Value*>& in);
// Emits the instructions of one node.
using LowerFn = void (*)(LowerCtx& ctx, const Node& n);

using UnaryScalarFn = double (*)(double x, const Node& n);
using BinaryScalarFn = double (*)(double a, double b);

struct OpInfo {
  std::string_view op;
  InferFn infer = nullptr;
  EvalFn eval = nullptr;
  LowerFn lower = nullptr;  // null: only folded away or removed by a pass (Shape, Constant, ...)
  std::vector<std::string_view> attrs;  // attributes the compiler understands
  // Elementwise facts (null/none for other ops).
  UnaryScalarFn unary = nullptr;
  BinaryScalarFn binary = nullptr;
  std::optional<isa::ActFn> act;
  std::optional<isa::AluOp> alu;
  bool shape_only = false;  // result depends only on input shapes (Shape, Size): fold early
};

const OpInfo* find_op(std::string_view op);
const std::vector<OpInfo>& op_table();
std::string supported_ops();  // "Abs, Add, ..." sorted

// Shared inference helpers (ops/shapes.cpp).
Shape broadcast_shapes(const Shape& a, const Shape& b);  // throws InputError
int64_t normalize_axis(int64_t axis, int64_t rank);      // throws InputError
std::vector<int64_t> const_ints(const Tensor* t, const char* what);  // throws if not constant

}  // namespace trnsim::compiler
