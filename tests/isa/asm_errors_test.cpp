// Assembler error messages: exact FILE:LINE:COL and wording for bad inputs.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "isa/asm.h"
#include "support/error.h"
#include "support/file_util.h"

using namespace trnsim::isa;

namespace {
std::string error_of(const std::string& name) {
  std::string text = trnsim::read_text_file(std::string(TRNSIM_TEST_DATA "/bad_inputs/isa/") + name);
  try {
    assemble(text, name);
  } catch (const trnsim::InputError& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST_CASE("assembler errors name file, line and column", "[isa]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"unknown_mnemonic.tasm", "unknown_mnemonic.tasm:3:3: unknown mnemonic 'matmull'"},
      {"missing_comma.tasm", "missing_comma.tasm:3:41: expected ',', found 'sbuf'"},
      {"too_few_operands.tasm",
       "too_few_operands.tasm:3:42: 'tt' takes 4 operands (dst, a, b, op), found 2"},
      {"too_many_operands.tasm",
       "too_many_operands.tasm:3:42: 'copy' takes 2 operands (dst, src), found more"},
      {"register_range.tasm", "register_range.tasm:3:8: register r16 out of range (r0..r15)"},
      {"unknown_dtype.tasm", "unknown_dtype.tasm:3:20: unknown dtype 'fp31'"},
      {"partition_range.tasm",
       "partition_range.tasm:3:15: bad partition range 5:5 (need start < end <= start+65535)"},
      {"zero_count.tasm", "zero_count.tasm:3:27: count 0 out of range (>= 1)"},
      {"five_dims.tasm", "five_dims.tasm:3:44: more than 4 free dimensions"},
      {"undefined_label.tasm", "undefined_label.tasm:4:14: undefined label 'nowhere'"},
      {"duplicate_label.tasm", "duplicate_label.tasm:5:1: duplicate label 'again'"},
      {"unknown_tensor.tasm", "unknown_tensor.tasm:4:38: unknown tensor 'b'"},
      {"before_core.tasm", "before_core.tasm:2:3: instruction before .core"},
      {"before_engine.tasm", "before_engine.tasm:2:3: instruction before .engine"},
      {"wrong_engine.tasm",
       "wrong_engine.tasm:3:3: 'matmul' is not allowed on engine act (allowed: pe)"},
      {"wrong_space.tasm",
       "wrong_space.tasm:3:10: expected an access pattern in psum, found 'sbuf'"},
      {"const_size.tasm", "const_size.tasm:1:28: tensor 'w' data is 4 bytes, expected 8"},
      {"float_range.tasm", "float_range.tasm:3:28: a float 1e39 out of fp32 range"},
      {"three_waits.tasm", "three_waits.tasm:3:32: more than 2 waits"},
      {"unterminated_tag.tasm", "unterminated_tag.tasm:3:22: unterminated tag string"},
  };
  for (const auto& [file, want] : cases) {
    INFO(file);
    CHECK(error_of(file) == want);
  }
}

TEST_CASE("assembler rejects malformed lines with expected/found messages", "[isa]") {
  auto err = [](const std::string& body) {
    try {
      assemble(".core 0\n.engine dve\n" + body + "\n", "x.tasm");
    } catch (const trnsim::InputError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK(err("  copy sbuf[0:1]+0:fp32 sbuf") == "x.tasm:3:25: expected ',', found 'sbuf'");
  CHECK(err("  copy sbuf[0:1]0:fp32, sbuf[0:1]+0:fp32") ==
        "x.tasm:3:17: expected '+OFFSET' (byte offset), found '0'");
  CHECK(err("  copy sbuf[0:1]+0:fp32, sbuf[0:1]+0:fp32  wait(s1>1)") ==
        "x.tasm:3:52: expected '=', found '1'");
  CHECK(err("  copy sbuf[0:1]+0:fp32, sbuf[0:1]+0:fp32  inc(x1)") ==
        "x.tasm:3:48: expected semaphore (sN), found 'x1'");
  CHECK(err("  copy sbuf[0:1]+0:fp32, sbuf[0:1]+0:fp32  bogus") ==
        "x.tasm:3:44: expected wait(...), inc(...), @tag or end of line, found 'bogus'");
  CHECK(err("  tt sbuf[0:1]+0:fp32, sbuf[0:1]+0:fp32, sbuf[0:1]+0:fp32, plus") ==
        "x.tasm:3:60: unknown ALU op 'plus'");
  CHECK(err(".tensor t weird fp32 [1]") ==
        "x.tasm:3:11: unknown tensor role 'weird' (input, output, const, scratch)");
  CHECK(err(".frob") == "x.tasm:3:1: unknown directive '.frob' (expected .tensor, .core or .engine)");
  CHECK(err("lonely:") == "x.tasm:3: label 'lonely' is not followed by an instruction");
  CHECK(err("  memset sbuf[0:1]+0:fp32, abc") == "x.tasm:3:28: expected a float, found 'abc'");
}
