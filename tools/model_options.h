// The options `trnsim compile` and `trnsim run MODEL.onnx` share: --shape, --dtype, --cores.
#pragma once

#include <string>
#include <vector>

#include "compiler/compile.h"

namespace trnsim::cli {

// "NAME=1x3x224x224" -> (NAME, dims); "NAME=" is a scalar (no dims). The name may itself
// contain '='; the last one splits.
// Throws InputError naming the option.
std::pair<std::string, std::vector<int64_t>> parse_shape(const std::string& s);

// CompileOptions from the command line's --shape list (a name given twice is an error), --dtype
// and --cores.
compiler::CompileOptions model_options(const std::vector<std::string>& shapes,
                                       const std::string& dtype, int cores);

}  // namespace trnsim::cli
