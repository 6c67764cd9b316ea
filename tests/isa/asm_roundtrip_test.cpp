// Round trips text -> program -> binary -> program -> text for every opcode and operand form.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "isa/asm.h"
#include "isa/binary.h"
#include "isa/isa.h"
#include "isa/program.h"
#include "support/error.h"
#include "tests/isa/isa_test_util.h"

using namespace trnsim::isa;

TEST_CASE("every opcode and operand form survives text -> binary -> text exactly", "[isa]") {
  const std::string text = trnsim::test::every_form_program_text();
  Program p1 = assemble(text, "every.tasm");
  // Every opcode appears.
  std::vector<bool> seen(kNumOpcodes, false);
  for (const auto& c : p1.cores)
    for (const auto& s : c.streams)
      for (const auto& in : s) seen[static_cast<int>(in.op)] = true;
  for (int i = 0; i < kNumOpcodes; ++i) CHECK(seen[i]);

  CHECK(disassemble(p1) == text);
  std::vector<uint8_t> bin = encode_program(p1);
  Program p2 = decode_program(bin, "every.tbin");
  CHECK(p1 == p2);
  CHECK(disassemble(p2) == text);
  CHECK(encode_program(p2) == bin);
  // binary -> text -> binary
  CHECK(encode_program(assemble(disassemble(p2), "again.tasm")) == bin);
}

TEST_CASE("assembler fills the program fields the text describes", "[isa]") {
  const char* text =
      "# head\n"
      "\n"
      "# the weights\n"
      ".tensor w const fp32 [2] = base64:AACAPwAAAEA=\n"
      ".tensor t input bf16 [4, 8]\n"
      "\n"
      ".core 0\n"
      ".engine act\n"
      "  # scale it\n"
      "top:\n"
      "  act sbuf[2:6]-8+r3:bf16[-2,4][1,3], psum[0:4]+2048:fp32, exp, nan:0x7fc00001, "
      "sbuf[2:6]+0:fp32, -  wait(s3>=r4) wait(s1>=-2) inc(c1.s5,16) inc(s2) @\"n \\\"x\\\"\"\n"
      "  dma q7, sbuf[0:4]+0:bf16[1,8], hbm.t+16:bf16{8,4}[1,8]\n"
      "  jmp top\n";
  Program p = assemble(text, "f.tasm");
  CHECK(p.str(p.header_comment) == "head");
  REQUIRE(p.tensors.size() == 2);
  CHECK(p.str(p.tensors[0].comment) == "the weights");
  CHECK(p.tensors[0].data == std::vector<uint8_t>{0, 0, 0x80, 0x3f, 0, 0, 0, 0x40});
  CHECK(p.tensors[1].shape == std::vector<int64_t>{4, 8});
  const auto& s = p.cores.at(0).stream(Engine::Act);
  REQUIRE(s.size() == 3);
  const Instr& a = s[0];
  CHECK(a.op == Opcode::Act);
  CHECK(a.line == 11);
  CHECK(p.str(a.label) == "top");
  CHECK(p.str(a.comment) == "scale it");
  CHECK(p.str(a.tag) == "n \"x\"");
  const AccessPattern& d = a.ops[0].ap;
  CHECK(d.space == MemSpace::Sbuf);
  CHECK(d.start_partition == 2);
  CHECK(d.num_partitions == 4);
  CHECK(d.offset == -8);
  CHECK(d.offset_reg == 3);
  CHECK(d.dtype == DType::Bf16);
  CHECK(d.ndims == 2);
  CHECK(d.dims[0].stride == -2);
  CHECK(d.dims[0].count == 4);
  CHECK(a.ops[1].ap.space == MemSpace::Psum);
  CHECK(a.ops[1].ap.ndims == 0);
  CHECK(a.ops[2].i == static_cast<int64_t>(ActFn::Exp));
  uint32_t bits;
  std::memcpy(&bits, &a.ops[3].f, 4);
  CHECK(bits == 0x7fc00001u);
  CHECK(a.ops[4].ap.present());
  CHECK(!a.ops[5].ap.present());
  CHECK(a.num_waits == 2);
  CHECK(a.waits[0].reg == 4);
  CHECK(a.waits[1].value == -2);
  CHECK(a.num_incs == 2);
  CHECK(a.incs[0].core == 1);
  CHECK(a.incs[0].sem == 5);
  CHECK(a.incs[0].amount == 16);
  CHECK(a.incs[1].core == -1);
  const AccessPattern& h = s[1].ops[2].ap;
  CHECK(s[1].ops[0].i == 7);
  CHECK(h.space == MemSpace::Hbm);
  CHECK(h.tensor == 1);
  CHECK(h.offset == 16);
  CHECK(h.partition_stride == 8);
  CHECK(h.num_partitions == 4);
  CHECK(s[2].ops[0].i == 0);  // jmp top -> instruction 0
  CHECK(disassemble(p) == text);
}

TEST_CASE("floats print in the shortest form that reads back bit-exactly", "[isa]") {
  const float values[] = {0.0f, -0.0f, 1.0f, 1.5f, 0.1f, -3.25e-7f, 1e-45f, 3.4028235e38f,
                          INFINITY, -INFINITY, NAN, -NAN, 16777216.0f, 1.17549435e-38f};
  for (float f : values) {
    Program p;
    p.cores.resize(1);
    Instr in;
    in.op = Opcode::Memset;
    in.ops[0].ap.space = MemSpace::Sbuf;
    in.ops[1].f = f;
    p.cores[0].stream(Engine::Dve).push_back(in);
    Program q = assemble(disassemble(p), "f.tasm");
    uint32_t a, b;
    std::memcpy(&a, &f, 4);
    std::memcpy(&b, &q.cores[0].stream(Engine::Dve)[0].ops[1].f, 4);
    INFO(format_float(f));
    CHECK(a == b);
  }
  CHECK(format_float(1.5f) == "1.5");
  CHECK(format_float(0.1f) == "0.1");
  CHECK(format_float(-0.0f) == "-0");
  CHECK(format_float(INFINITY) == "inf");
  CHECK(format_float(-INFINITY) == "-inf");
  CHECK(format_float(NAN) == "nan");
  uint32_t payload = 0xff800123u;
  float f;
  std::memcpy(&f, &payload, 4);
  CHECK(format_float(f) == "nan:0xff800123");
}

TEST_CASE("canonical example of the reference assembles and round-trips", "[isa]") {
  // Branch to an instruction without a label prints as #N.
  const char* text =
      ".core 0\n"
      ".engine sp\n"
      "  jmp #1\n"
      "  nop\n";
  Program p = assemble(text, "n.tasm");
  CHECK(p.cores[0].stream(Engine::Sp)[0].ops[0].i == 1);
  CHECK(disassemble(p) == text);
  // Empty cores are kept.
  const char* two = ".core 0\n\n.core 1\n.engine pool\n  iota sbuf[0:1]+0:int32[1,4], 0, 1\n";
  CHECK(disassemble(assemble(two, "t.tasm")) == two);
}

TEST_CASE("ldr and a branch on its value round-trip through text and .tbin", "[isa]") {
  // ldr was appended to isa.def: older opcodes keep their numbers, so old .tbin files decode.
  CHECK(static_cast<int>(Opcode::Ldr) == static_cast<int>(Opcode::Jmp) + 2);
  CHECK(static_cast<int>(Opcode::Scan) == static_cast<int>(Opcode::Jmp) + 1);
  const std::string text =
      ".core 0\n"
      ".engine pool\n"
      "  ldr r0, sbuf[3:4]+64+r2:int32  wait(s4>=1) inc(s3) @cond\n"
      "  beq r0, 0, if0_else\n"
      "  memset sbuf[0:1]+0:fp32[1,4], 1\n"
      "  jmp if0_end\n"
      "if0_else:\n"
      "  memset sbuf[0:1]+0:fp32[1,4], 2\n"
      "if0_end:\n"
      "  nop\n";
  Program p = assemble(text, "ldr.tasm");
  const Instr& in = p.cores.at(0).stream(Engine::Pool).at(0);
  CHECK(in.op == Opcode::Ldr);
  CHECK(in.ops[0].i == 0);
  CHECK(in.ops[1].ap.space == MemSpace::Sbuf);
  CHECK(in.ops[1].ap.start_partition == 3);
  CHECK(in.ops[1].ap.offset == 64);
  CHECK(in.ops[1].ap.offset_reg == 2);
  CHECK(in.ops[1].ap.dtype == DType::Int32);
  CHECK(p.cores[0].stream(Engine::Pool).at(1).ops[2].i == 4);  // if0_else
  CHECK(disassemble(p) == text);
  const std::vector<uint8_t> bin = encode_program(p);
  Program q = decode_program(bin, "ldr.tbin");
  CHECK(q == p);
  CHECK(disassemble(q) == text);
  CHECK(encode_program(q) == bin);
}

TEST_CASE("collective instructions round-trip through text and .tbin, appended after ldr",
          "[isa]") {
  // Appended to isa.def after ldr: every older opcode keeps its binary number.
  CHECK(static_cast<int>(Opcode::AllReduce) == static_cast<int>(Opcode::Ldr) + 1);
  CHECK(static_cast<int>(Opcode::Send) == static_cast<int>(Opcode::Permute) + 1);
  CHECK(static_cast<int>(Opcode::Recv) == kNumOpcodes - 1);
  const std::string text =
      ".tensor x input fp32 [8, 64]\n"
      ".tensor y output fp32 [32, 64]\n\n"
      ".core 0\n"
      ".engine act\n"
      "  all_gather q2, hbm.y+0:fp32{64,32}[1,64], sbuf[0:8]+0:fp32[1,64], 4, 2  inc(s1)\n"
      ".engine pool\n"
      "  permute q3, sbuf[0:8]+256:fp32[1,64], sbuf[0:8]+0:fp32[1,64], 0, 1\n"
      "  send q3, sbuf[0:8]+0:bf16[1,64], 4, 2, -1\n"
      "  recv q4, hbm.y+0:bf16{64,8}[1,64], 4, 2, -1  inc(s3)\n"
      ".engine sp\n"
      "  all_reduce q0, sbuf[0:8]+0:bf16[1,64], hbm.x+0:fp32{64,8}[1,64], add, 0, 1  wait(s0>=1) inc(s2)\n"
      "  reduce_scatter q1, sbuf[0:8]+0:fp32[1,16], hbm.x+0:fp32{64,8}[1,64], max, 4, 1\n"
      "  all_to_all q1, sbuf[0:8]+0:fp32[1,64], hbm.x+0:fp32{64,8}[1,64], 8, 1  @a2a\n";
  Program p = assemble(text, "cc.tasm");
  const Instr& ar = p.cores.at(0).stream(Engine::Sp).at(0);
  CHECK(ar.op == Opcode::AllReduce);
  CHECK(ar.ops[0].i == 0);
  CHECK(static_cast<AluOp>(ar.ops[3].i) == AluOp::Add);
  CHECK(ar.ops[4].i == 0);
  CHECK(ar.ops[5].i == 1);
  const Instr& ag = p.cores.at(0).stream(Engine::Act).at(0);
  CHECK(ag.op == Opcode::AllGather);
  CHECK(ag.ops[3].i == 4);
  CHECK(ag.ops[4].i == 2);
  const Instr& rv = p.cores.at(0).stream(Engine::Pool).at(2);
  CHECK(rv.op == Opcode::Recv);
  CHECK(rv.ops[4].i == -1);
  CHECK(disassemble(p) == text);
  const std::vector<uint8_t> bin = encode_program(p);
  Program q = decode_program(bin, "cc.tbin");
  CHECK(q == p);
  CHECK(disassemble(q) == text);
  CHECK(encode_program(q) == bin);
  // Only the DMA-triggering engines may issue one.
  CHECK_THROWS_WITH(assemble(".core 0\n.engine pe\n  permute q0, sbuf[0:1]+0:fp32[1,4], "
                             "sbuf[0:1]+16:fp32[1,4], 0, 1\n", "pe.tasm"),
                    Catch::Contains("permute"));
}

TEST_CASE("external tensor names and absent const data round-trip through text and binary",
          "[isa]") {
  // A model's output called `13`, one with a space and quotes, and a timing-only const.
  const std::string text =
      ".tensor _13 output fp32 [2] name \"13\"\n"
      ".tensor _1_minute_timer output fp32 [] name \"1 minute \\\"timer\\\"\\n\"\n"
      ".tensor w const bf16 [4, 8] = absent\n"
      ".tensor b const fp32 [1] = base64:AACAPw==\n";
  Program p = assemble(text, "names.tasm");
  REQUIRE(p.tensors.size() == 4);
  CHECK(p.tensors[0].external_name == "13");
  CHECK(p.tensors[0].display_name() == "13");
  CHECK(p.tensors[1].external_name == "1 minute \"timer\"\n");
  CHECK(p.tensors[1].shape.empty());
  CHECK(p.tensors[2].data_absent());
  CHECK_FALSE(p.tensors[3].data_absent());
  CHECK(p.tensors[3].display_name() == "b");
  CHECK(disassemble(p) == text);
  std::vector<uint8_t> bin = encode_program(p);
  Program q = decode_program(bin, "names.tbin");
  CHECK(q == p);
  CHECK(disassemble(q) == text);
}

TEST_CASE("empty tensors (a zero dimension) round-trip through text and binary", "[isa]") {
  // An empty KV-cache past and an empty slice of a model: valid ONNX, no bytes in HBM. The
  // 2^40 element limit still holds for the other dimensions.
  const std::string text =
      ".tensor past input bf16 [1, 8, 0, 64]\n"
      ".tensor none output fp32 [1099511627776, 0]\n"
      ".tensor c const fp32 [0] = base64:\n";
  Program p = assemble(text, "empty.tasm");
  REQUIRE(p.tensors.size() == 3);
  CHECK(p.tensors[0].shape == std::vector<int64_t>{1, 8, 0, 64});
  CHECK(disassemble(p) == text);
  Program q = decode_program(encode_program(p), "empty.tbin");
  CHECK(q == p);
  CHECK_THROWS_WITH(assemble(".tensor x input fp32 [1099511627776, 2]\n", "big.tasm"),
                    Catch::Contains("tensor larger than 2^40 elements"));
  CHECK_THROWS_WITH(assemble(".tensor x input fp32 [-1]\n", "neg.tasm"),
                    Catch::Contains("dimension"));
}

TEST_CASE("external names: duplicates, empty names and data on non-const tensors are errors",
          "[isa]") {
  auto err = [](const std::string& text) -> std::string {
    try {
      assemble(text, "p.tasm");
    } catch (const trnsim::InputError& e) {
      return e.what();
    }
    return "";
  };
  CHECK(err(".tensor a input fp32 [1] name \"x\"\n.tensor b input fp32 [1] name \"x\"\n") ==
        "p.tasm:2:26: duplicate tensor name \"x\"");
  CHECK(err(".tensor a input fp32 [1] name \"b\"\n.tensor b input fp32 [1]\n") ==
        "p.tasm:2:9: duplicate tensor 'b'");
  CHECK(err(".tensor a input fp32 [1] name \"\"\n") == "p.tasm:1:31: empty tensor name");
  CHECK(err(".tensor a input fp32 [1] = absent\n") ==
        "p.tasm:1:28: only const tensors carry data");
  CHECK(err(".tensor a const fp32 [1]\n") ==
        "p.tasm:1:11: const tensor 'a' needs data: = base64:... (or = absent)");
}

TEST_CASE(".tbin version 1 (no external names, const data required) still decodes", "[isa]") {
  Program p = assemble(".tensor x input fp32 [2]\n.tensor w const fp32 [1] = base64:AACAPw==\n",
                       "v.tasm");
  std::vector<uint8_t> v2 = encode_program(p);
  // Version 1 is version 2 without the external-name field (one empty varint per tensor).
  std::vector<uint8_t> v1(v2.begin(), v2.begin() + 4);
  v1.push_back(1);
  v1.push_back(0);
  // "TBIN", version, no strings, no header comment; then tensors: count, name "x" ...
  size_t pos = 6;
  v1.push_back(v2[pos++]);  // string count 0
  v1.push_back(v2[pos++]);  // header comment 0
  v1.push_back(v2[pos++]);  // tensor count 2
  for (int t = 0; t < 2; ++t) {
    uint8_t len = v2[pos];
    v1.insert(v1.end(), v2.begin() + pos, v2.begin() + pos + 1 + len);  // the name
    pos += 1 + len;
    REQUIRE(v2[pos] == 0);  // empty external name: left out in version 1
    ++pos;
    size_t rest = t == 0 ? 6 : 10;  // role, dtype, rank, dim, comment, data length (+ 4 bytes)
    v1.insert(v1.end(), v2.begin() + pos, v2.begin() + pos + rest);
    pos += rest;
  }
  v1.insert(v1.end(), v2.begin() + pos, v2.end());
  CHECK(decode_program(v1, "v1.tbin") == p);
}

TEST_CASE("an HBM access of more than 65535 rows (a large dma_gather table) round-trips",
          "[isa]") {
  // A vocabulary of 128,256 rows (Llama 3) as a gather table: the row count once wrapped at
  // 2^16 (the table then ended at row 62,720 and a valid index faulted).
  const std::string text =
      ".tensor emb input fp32 [128256, 8]\n"
      ".tensor out output fp32 [4, 8]\n"
      ".core 0\n"
      ".engine sp\n"
      "  dma_gather q0, sbuf[0:4]+0:fp32[1,8], hbm.emb+0:fp32{8,128256}[1,8], sbuf[0:4]+64:int32\n";
  Program p = assemble(text, "big_table.tasm");
  CHECK(p.cores.at(0).stream(Engine::Sp).at(0).ops[2].ap.num_partitions == 128256);
  const std::vector<uint8_t> bin = encode_program(p);
  Program q = decode_program(bin, "big_table.tbin");
  CHECK(q == p);
  CHECK(disassemble(q) == disassemble(p));
  CHECK_THROWS_WITH(assemble(".tensor emb input fp32 [4, 8]\n.core 0\n.engine sp\n"
                             "  dma q0, sbuf[0:4]+0:fp32[1,8], hbm.emb+0:fp32{8,2147483648}[1,8]\n",
                             "rows.tasm"),
                    Catch::Contains("rows.tasm:4:"));
}
