// Rewriting of ONNX `Einsum` nodes into Transpose/Unsqueeze/MatMul/Squeeze nodes, applied to
// the model before the frontend converts it (the forms transformers use: batched matmuls).
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

namespace trnsim::compiler {

// Replaces every Einsum with an equivalent chain of Transpose, Unsqueeze, MatMul and Squeeze
// (one-input permutations: a Transpose). Supported: two inputs (or one, a permutation), no
// ellipsis, no letter repeated within a term, every letter of an input either in the output
// or in both inputs, at most one contracted letter. Others: one-line InputError naming the node
// and the equation. `opset` chooses Squeeze/Unsqueeze axes as attribute (< 13) or input.
void rewrite_einsums(onnx::GraphProto& g, const std::string& src, int opset);

}  // namespace trnsim::compiler
