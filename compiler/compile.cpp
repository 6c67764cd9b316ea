// compile_onnx(): options -> frontend -> pass pipeline.
#include "compiler/compile.h"

#include <fmt/format.h>

#include <algorithm>

#include "compiler/frontend/onnx_loader.h"
#include "compiler/pipeline.h"
#include "support/error.h"

namespace trnsim::compiler {

isa::Program compile_onnx(const std::string& path, const config::ChipConfig& chip,
                          const CompileOptions& opts) {
  if (!opts.dump_after.empty()) {
    auto names = pass_names();
    if (std::find(names.begin(), names.end(), opts.dump_after) == names.end())
      throw InputError(fmt::format("--dump-after={}: no such pass; passes: {}", opts.dump_after,
                                   fmt::join(names, ", ")));
  }
  DType mm;
  if (opts.dtype == "bf16") mm = DType::Bf16;
  else if (opts.dtype == "fp32") mm = DType::Fp32;
  else throw InputError(fmt::format("--dtype {}: expected bf16 or fp32", opts.dtype));
  std::map<std::string, Shape> shapes(opts.shapes.begin(), opts.shapes.end());
  return run_pipeline(load_onnx(path, shapes), chip.target(), mm, opts);
}

}  // namespace trnsim::compiler
