// ONNX frontend: parse, check, pin symbolic dims, infer shapes, and convert to the graph IR.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/compile.h"
#include "compiler/ir/graph.h"

namespace trnsim::compiler {

struct LoadOptions {
  // Pin symbolic input dims (--shape NAME=1x3x224x224) and must agree with fixed ones.
  std::map<std::string, Shape> shapes;
  // Shapes of inputs given as data, for the inputs `shapes` leaves out (CompileOptions).
  std::map<std::string, DataShape> data_shapes;
};

// Loads `path`. Throws InputError naming the file (and node) on every problem.
Graph load_onnx(const std::string& path, const LoadOptions& opts);
inline Graph load_onnx(const std::string& path, const std::map<std::string, Shape>& shapes) {
  return load_onnx(path, LoadOptions{shapes, {}});
}

// Same, from the serialized model bytes (tests); `source` names it in messages.
Graph load_onnx_bytes(const std::string& bytes, const std::string& source,
                      const LoadOptions& opts = {});
inline Graph load_onnx_bytes(const std::string& bytes, const std::string& source,
                             const std::map<std::string, Shape>& shapes) {
  return load_onnx_bytes(bytes, source, LoadOptions{shapes, {}});
}

}  // namespace trnsim::compiler
