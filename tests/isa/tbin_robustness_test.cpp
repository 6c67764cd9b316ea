// The .tbin decoder on truncated, corrupted and future-version input: clean errors, no crashes.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "isa/asm.h"
#include "isa/binary.h"
#include "support/error.h"
#include "tests/isa/isa_test_util.h"

using namespace trnsim::isa;
using trnsim::InputError;

namespace {
std::vector<uint8_t> sample_binary() {
  return encode_program(assemble(trnsim::test::every_form_program_text(), "every.tasm"));
}
}  // namespace

TEST_CASE("every truncation of a valid .tbin is reported as truncated or corrupt", "[isa]") {
  std::vector<uint8_t> bin = sample_binary();
  REQUIRE(bin.size() > 100);
  for (size_t len = 0; len < bin.size(); ++len) {
    INFO("length " << len);
    try {
      decode_program(bin.data(), len, "cut.tbin");
      FAIL("decoded a truncated file");
    } catch (const InputError& e) {
      std::string m = e.what();
      bool ok = m.rfind("cut.tbin: truncated .tbin at byte ", 0) == 0 ||
                m.rfind("cut.tbin: corrupt .tbin at byte ", 0) == 0;
      CHECK(ok);
    }
  }
  CHECK_THROWS_WITH(decode_program(bin.data(), 10, "cut.tbin"),
                    Catch::Matchers::StartsWith("cut.tbin: "));
  CHECK_THROWS_WITH(decode_program(bin.data(), 3, "cut.tbin"), "cut.tbin: truncated .tbin at byte 3");
}

TEST_CASE("random byte flips in a .tbin never crash, and what decodes re-encodes identically",
          "[isa]") {
  std::vector<uint8_t> bin = sample_binary();
  std::mt19937 rng(12345);
  int decoded = 0, rejected = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> b = bin;
    int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    try {
      Program p = decode_program(b, "flip.tbin");
      ++decoded;
      // Any binary the decoder accepts is canonical: binary -> text -> binary is byte-identical.
      Program q = assemble(disassemble(p), "flip.tasm");
      REQUIRE(encode_program(q) == b);
    } catch (const InputError&) {
      ++rejected;
    }
  }
  CHECK(rejected > 0);
  CHECK(decoded > 0);  // flips in float immediates and offsets still decode
}

TEST_CASE(".tbin header checks: magic, future version, trailing bytes, huge counts", "[isa]") {
  std::vector<uint8_t> bin = sample_binary();
  std::vector<uint8_t> v = bin;
  v[4] = 3;
  CHECK_THROWS_WITH(decode_program(v, "new.tbin"),
                    "new.tbin: unsupported .tbin version 3 (this trnsim reads 1 to 2)");
  v = bin;
  v[0] = 'X';
  CHECK_THROWS_WITH(decode_program(v, "x.tbin"), "x.tbin: corrupt .tbin at byte 0: not a .tbin file (bad magic)");
  v = bin;
  v.push_back(0);
  CHECK_THROWS_WITH(decode_program(v, "t.tbin"),
                    fmt::format("t.tbin: corrupt .tbin at byte {}: trailing bytes after the program", bin.size()));
  // A string count of 2^60 must be rejected before anything is allocated.
  std::vector<uint8_t> huge = {'T', 'B', 'I', 'N', 1, 0, 0x80, 0x80, 0x80, 0x80, 0x80,
                               0x80, 0x80, 0x80, 0x10};
  CHECK_THROWS_WITH(decode_program(huge, "h.tbin"),
                    Catch::Matchers::StartsWith("h.tbin: corrupt .tbin at byte 6: string count"));
  // The empty program.
  Program empty;
  CHECK(decode_program(encode_program(empty), "e.tbin") == empty);
}
