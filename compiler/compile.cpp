// Placeholder until the compiler lands.
#include "compiler/compile.h"

#include "support/error.h"

namespace trnsim::compiler {
isa::Program compile_onnx(const std::string& path, const config::ChipConfig&,
                          const CompileOptions&) {
  throw InputError(path + ": the ONNX compiler is not built yet");
}
}  // namespace trnsim::compiler
