#include <catch2/catch.hpp>

#include "isa/isa.h"
#include "isa/program.h"

using namespace trnsim::isa;

TEST_CASE("opcode table is indexed by opcode and mnemonics are unique", "[isa]") {
  for (int i = 0; i < kNumOpcodes; ++i) {
    const auto& info = opcode_table()[i];
    CHECK(static_cast<int>(info.op) == i);
    CHECK(parse_mnemonic(info.mnemonic) == info.op);
    CHECK(info.engines != 0);
    CHECK(info.num_operands <= kMaxOperands);
  }
  CHECK(opcode_info(Opcode::Matmul).num_operands == 4);
  CHECK(opcode_info(Opcode::Matmul).operands[0].kind == OperandKind::PsumAcc);
  CHECK(opcode_info(Opcode::Nop).num_operands == 0);
  CHECK(!parse_mnemonic("matmull"));
}

TEST_CASE("program interns strings", "[isa]") {
  Program p;
  CHECK(p.intern("") == 0);
  StrId a = p.intern("conv1");
  CHECK(p.intern("conv1") == a);
  CHECK(p.str(a) == "conv1");
}
