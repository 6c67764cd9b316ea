// docs/isa.md must be what `trnsim isa-doc` generates from isa/isa.def.
#include <catch2/catch.hpp>

#include "isa/asm.h"
#include "isa/isa.h"
#include "isa/isa_doc.h"
#include "support/file_util.h"

TEST_CASE("docs/isa.md is up to date", "[isa]") {
  std::string generated = trnsim::isa::isa_reference_markdown();
  std::string committed = trnsim::read_text_file(TRNSIM_TEST_DATA "/../docs/isa.md");
  if (generated != committed) FAIL("docs/isa.md is stale: run trnsim isa-doc -o docs/isa.md");
  CHECK(generated.rfind("<!-- generated from isa/isa.def by `trnsim isa-doc`, do not edit -->", 0) == 0);
  // Every opcode, activation function and ALU op of the table is documented.
  for (const auto& info : trnsim::isa::opcode_table())
    CHECK(generated.find(std::string("| `") + info.mnemonic + "` |") != std::string::npos);
  for (int i = 0; i < trnsim::isa::kNumActFns; ++i)
    CHECK(generated.find(std::string("| `") +
                         std::string(trnsim::isa::act_fn_name(static_cast<trnsim::isa::ActFn>(i))) +
                         "` |") != std::string::npos);
  for (int i = 0; i < trnsim::isa::kNumAluOps; ++i)
    CHECK(generated.find(std::string("| `") +
                         std::string(trnsim::isa::alu_op_name(static_cast<trnsim::isa::AluOp>(i))) +
                         "` |") != std::string::npos);
}
