// libFuzzer target: the .tbin decoder. Any bytes either decode or throw InputError; a decoded
// program must disassemble, re-assemble to the same program and re-encode to the same bytes.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "isa/asm.h"
#include "isa/binary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trnsim;
  fuzz::expect_clean([&] {
    isa::Program p = isa::decode_program(data, size, "fuzz.tbin");
    // binary.h promises: one program has exactly one encoding, and asm.h promises that every
    // program the decoder accepts round-trips through text. Failures are bugs: no catch.
    std::vector<uint8_t> again;
    bool encodable = true;
    try {
      again = isa::encode_program(p);
    } catch (const InputError&) {
      encodable = false;
    }
    if (encodable && !(isa::decode_program(again, "again.tbin") == p)) __builtin_trap();
    isa::Program back = isa::assemble(isa::disassemble(p), "canonical.tasm");
    if (!(back == p)) __builtin_trap();
  });
  return 0;
}
