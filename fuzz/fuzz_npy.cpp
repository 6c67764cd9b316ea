// libFuzzer target: the .npy reader (cli::parse_npy on bytes). Any bytes either parse into an
// array whose data size matches its shape, or throw InputError; a parsed array re-encodes.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "isa/dtype.h"
#include "tools/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trnsim;
  fuzz::expect_clean([&] {
    cli::NpyArray a = cli::parse_npy(data, size, "fuzz.npy");
    if (a.data.size() != static_cast<size_t>(a.num_elements()) * isa::dtype_size(a.dtype))
      __builtin_trap();
    std::vector<uint8_t> bytes = cli::encode_npy(a);
    cli::NpyArray b = cli::parse_npy(bytes.data(), bytes.size(), "again.npy");
    if (b.shape != a.shape || b.data != a.data) __builtin_trap();
  });
  return 0;
}
