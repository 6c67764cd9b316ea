// libFuzzer target: the ONNX frontend and compiler (compiler::compile_onnx on a file, tiny
// chip). Any bytes either compile or throw InputError naming the file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "compiler/compile.h"
#include "config/chip_config.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trnsim;
  static const std::string path = fuzz::temp_path("model", ".onnx");
  static const config::ChipConfig chip = config::load_chip("tiny");
  fuzz::write_bytes(path, data, size);
  fuzz::expect_clean([&] {
    compiler::CompileOptions opts;
    (void)compiler::compile_onnx(path, chip, opts);
  });
  return 0;
}
