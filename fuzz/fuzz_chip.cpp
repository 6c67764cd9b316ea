// libFuzzer target: the chip YAML loader (config::load_chip on a file) and the target derived
// from it. Any text either loads or throws InputError naming the file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/chip_config.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trnsim;
  static const std::string path = fuzz::temp_path("chip", ".yaml");
  fuzz::write_bytes(path, data, size);
  fuzz::expect_clean([&] {
    config::ChipConfig c = config::load_chip(path);
    (void)c.target();
  });
  return 0;
}
