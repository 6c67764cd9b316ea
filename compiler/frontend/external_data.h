// ONNX external data: initializers whose bytes live in side files next to the model.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "compiler/frontend/weights.h"

namespace trnsim::compiler {

// Reads the bytes of every tensor of the main graph stored externally (initializers and
// Constant/attribute tensors; data_location == EXTERNAL, keys location/offset/length) into the
// tensor's raw_data, so the rest of the loader (and the ONNX checker, which would resolve the
// paths against the working directory) sees an ordinary model. `location` is relative to
// `model_dir` and must stay inside it (no absolute paths, no ".."). The side file's size, offset
// and length are checked against the element count the dims claim before anything is allocated.
// Throws a one-line InputError naming `src`, the tensor and the side file.
// With `defer` (timing-only), the main graph's large float initializers are checked the same
// way but not read: their raw_data is left empty and `defer` says where their bytes are.
void load_external_data(onnx::ModelProto& model, const std::string& model_dir,
                        const std::string& src, WeightRefs* defer = nullptr);

// The side files (model_dir/location) that the model's externally stored tensors name, each once,
// in order of first mention. Nothing is opened.
std::vector<std::string> external_data_files(const onnx::ModelProto& model,
                                             const std::string& model_dir);

// The directory of a model path ("." for a bare file name).
std::string model_dir_of(const std::string& path);

}  // namespace trnsim::compiler
