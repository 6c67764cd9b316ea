// ONNX frontend: parse, check, pin symbolic dims, infer shapes, and convert to the graph IR.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/compile.h"
#include "compiler/frontend/weights.h"
#include "compiler/ir/graph.h"

namespace trnsim::compiler {

struct LoadOptions {
  // Pin symbolic input dims (--shape NAME=1x3x224x224) and must agree with fixed ones.
  std::map<std::string, Shape> shapes;
  // Shapes of inputs given as data, for the inputs `shapes` leaves out (CompileOptions).
  std::map<std::string, DataShape> data_shapes;
  // Timing-only: large float initializers are not read (compiler/frontend/weights.h); the
  // graph holds deferred values for them. load_onnx strips them from the file itself;
  // load_onnx_bytes takes bytes that strip_weights made, with `weights` saying where they are.
  bool defer_weights = false;
  const WeightRefs* weights = nullptr;
  // Counts the bytes of deferred weights that had to be read after all (CompileOptions).
  int64_t* weight_bytes_read = nullptr;
};

// Loads `path`. Throws InputError naming the file (and node) on every problem.
Graph load_onnx(const std::string& path, const LoadOptions& opts);
inline Graph load_onnx(const std::string& path, const std::map<std::string, Shape>& shapes) {
  LoadOptions o;
  o.shapes = shapes;
  return load_onnx(path, o);
}

// Same, from the serialized model bytes (tests); `source` names it in messages.
Graph load_onnx_bytes(const std::string& bytes, const std::string& source,
                      const LoadOptions& opts = {});
inline Graph load_onnx_bytes(const std::string& bytes, const std::string& source,
                             const std::map<std::string, Shape>& shapes) {
  LoadOptions o;
  o.shapes = shapes;
  return load_onnx_bytes(bytes, source, o);
}

}  // namespace trnsim::compiler
