// libFuzzer target: the .tasm assembler. Every text either assembles or throws InputError; a
// program that assembles must survive disassemble -> assemble unchanged and encode -> decode.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "isa/asm.h"
#include "isa/binary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trnsim;
  fuzz::expect_clean([&] {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    isa::Program p = isa::assemble(text, "fuzz.tasm");
    // Round trips are promises of asm.h/binary.h: a failure here is a bug, so no catch.
    std::string canon;
    try {
      canon = isa::disassemble(p);
      isa::Program back = isa::assemble(canon, "canonical.tasm");
      if (!(back == p)) __builtin_trap();
      isa::Program dec = isa::decode_program(isa::encode_program(p), "fuzz.tbin");
      if (!(dec == p)) __builtin_trap();
    } catch (const InputError& e) {
      // encode_program may reject values it cannot represent; nothing else may throw.
      std::string msg = e.what();
      if (msg.rfind("canonical.tasm", 0) == 0 || msg.rfind("fuzz.tbin", 0) == 0)
        __builtin_trap();
    }
  });
  return 0;
}
