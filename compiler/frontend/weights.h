// Timing-only loading: large float initializers (weights) stay in their files, the model's own or
// an external-data side file. The graph gets their dtype and shape and a deferred value that
// reads the bytes only if the compiler ever needs the numbers (compiler/ir/graph.h, Elems).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "compiler/ir/graph.h"

namespace trnsim::compiler {

// Where the bytes of one initializer are.
struct WeightRef {
  std::string path;    // the model file or a side file
  int64_t offset = 0;  // byte offset in it
  int64_t length = 0;  // bytes (elements x element size)
  int onnx_type = 0;   // ONNX TensorProto data type: FLOAT, FLOAT16 or BFLOAT16
};
using WeightRefs = std::map<std::string, WeightRef>;  // initializer name -> its bytes

// Float initializers of at least this many bytes are left in their files. Smaller constants (and
// every integer one: shapes, axes, pads, indices) are read as usual, since the compiler folds them.
constexpr int64_t kDeferMinBytes = 16 * 1024;

// True for the ONNX dtypes left in their files (FLOAT, FLOAT16, BFLOAT16).
bool deferrable_type(int onnx_type);
// What a left-out initializer's raw_data holds instead of its bytes.
const std::string& weight_placeholder();

// The serialized model at `path` with the raw bytes of its main graph's large float initializers
// cut out (each keeps a raw_data of one placeholder byte, weight_placeholder(), which the ONNX
// checker and shape inference accept), and
// `refs` filled with where those bytes are in the file. The file is mapped, and the pages that
// hold only weights are never touched. nullopt when `path` is not a regular file or the scan
// finds something it does not expect (the normal load then reports the problem).
std::optional<std::string> strip_weights(const std::string& path, WeightRefs* refs);

// A deferred value for the initializer `ref` describes: `dtype` and `shape` now, the bytes read
// (fp32 kept packed, fp16/bf16 widened) the first time anything reads an element. `bytes_read`,
// when given, counts the bytes so read (a timing-only compile should read none).
Value deferred_weight(const WeightRef& ref, DType dtype, const Shape& shape,
                      const std::string& tensor_name, int64_t* bytes_read = nullptr);

}  // namespace trnsim::compiler
