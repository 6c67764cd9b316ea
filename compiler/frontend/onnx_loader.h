// ONNX frontend: parse, check, pin symbolic dims, infer shapes, and convert to the graph IR.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"

namespace trnsim::compiler {

// Loads `path`. `shapes` pins symbolic input dims (--shape NAME=1x3x224x224) and must agree with
// fixed ones. Throws InputError naming the file (and node) on every problem.
Graph load_onnx(const std::string& path, const std::map<std::string, Shape>& shapes);

// Same, from the serialized model bytes (tests); `source` names it in messages.
Graph load_onnx_bytes(const std::string& bytes, const std::string& source,
                      const std::map<std::string, Shape>& shapes);

}  // namespace trnsim::compiler
