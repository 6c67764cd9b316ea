// Inlining of ONNX `If` nodes whose condition is a compile-time constant (an initializer or a
// Constant node's output), applied to the model before the frontend converts it.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

namespace trnsim::compiler {

// Replaces every `If` with a constant condition by the nodes of the branch it takes (nested Ifs
// too). Throws InputError naming the node when a condition is not constant.
void inline_constant_ifs(onnx::GraphProto& g, const std::string& src);

}  // namespace trnsim::compiler
