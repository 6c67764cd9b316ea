// The pass pipeline behind compile_onnx(): graph passes, lowering, semaphores, emission.
#pragma once

#include "compiler/compile.h"
#include "compiler/ir/graph.h"
#include "isa/target.h"

namespace trnsim::compiler {

// Runs every pass on a loaded graph; `mm` is the Tensor Engine operand dtype.
isa::Program run_pipeline(Graph g, const isa::Target& target, DType mm, const CompileOptions& opts);

}  // namespace trnsim::compiler
