// Functional executor: bounds faults, register offsets, accesses(), describe_instr, control ops.
#include <catch2/catch.hpp>

#include "exec_test_util.h"

using namespace exec_test;
using isa::AccFlag;
using model::Access;

TEST_CASE("describe_instr names core, engine, index, mnemonic and tag", "[exec]") {
  isa::Program prog;
  isa::Instr in = instr(Opcode::TensorTensor, {});
  CHECK(model::describe_instr(prog, in, {0, isa::Engine::Dve, 12}) == "core0 dve #12 (tt)");
  in.tag = prog.intern("node");
  CHECK(model::describe_instr(prog, in, {1, isa::Engine::Dve, 12}) == "core1 dve #12 (tt) @node");
}

TEST_CASE("CoreMem::init sizes and fills both memories", "[exec]") {
  model::CoreMem m;
  m.init(4, 100, 30, 0xAB);
  CHECK(m.sbuf.size() == 400);
  CHECK(m.psum.size() == 120);
  CHECK(m.sbuf[399] == 0xAB);
  CHECK(m.psum[0] == 0xAB);
  CHECK(m.partitions == 4);
}

TEST_CASE("out-of-bounds accesses fault with the instruction and range", "[exec]") {
  Env e;
  e.prog.cores.resize(1);
  isa::Instr in = instr(Opcode::Copy, {A(sb(30, 4, 0, DType::Fp32, {{1, 4}})),
                                        A(sb(0, 4, 0, DType::Fp32, {{1, 4}}))});
  in.tag = e.prog.intern("n1");
  CHECK_THROWS_WITH(e.run(in, isa::Engine::Act, 7),
                    "core0 act #7 (copy) @n1: dst sbuf partitions [30, 34) out of range (32 partitions)");
  in.ops[0].ap = sb(0, 4, kSbufPP - 12, DType::Fp32, {{1, 4}});
  CHECK_THROWS_WITH(e.run(in, isa::Engine::Act, 7),
                    Catch::Contains("dst sbuf bytes [8180, 8196) out of range (8192 bytes per partition)"));
  in.ops[0].ap = sb(0, 4, 0, DType::Fp32, {{1, 4}});
  in.ops[1].ap = ps(0, 4, 0, DType::Fp32, {{1024, 2}, {1, 4}});
  CHECK_THROWS_WITH(e.run(in), Catch::Contains("src psum bytes [0, 4112) out of range (4096 bytes"));
  // A register offset moves an otherwise valid AP out of range.
  in.ops[1].ap = sb(0, 4, 0, DType::Fp32, {{1, 4}});
  in.ops[1].ap.offset_reg = 3;
  e.regs[3] = -8;
  CHECK_THROWS_WITH(e.run(in), Catch::Contains("src sbuf bytes [-8, 8) out of range"));
  // Negative strides are allowed as long as the hull stays inside.
  in.ops[1].ap = sb(0, 4, 12, DType::Fp32, {{-1, 4}});
  in.ops[1].ap.offset_reg = -1;
  auto x = e.fill(in.ops[1].ap);
  e.run(in);
  CHECK(e.get(in.ops[0].ap) == x);
  // HBM: past the tensor's end.
  const int t = e.add_tensor("w", DType::Bf16, {4, 4});
  isa::Instr d = instr(Opcode::Dma, {I(0), A(sb(0, 4, 0, DType::Bf16, {{1, 5}})),
                                     A(hb(t, 5, 4, 0, DType::Bf16, {{1, 5}}))});
  CHECK_THROWS_WITH(e.run(d, isa::Engine::Sp, 2),
                    "core0 sp #2 (dma): src hbm tensor 'w' bytes [0, 40) out of range (32 bytes)");
}

TEST_CASE("register-addressed operands read and write at offset + reg", "[exec]") {
  Env e;
  auto src = sb(0, 2, 0, DType::Fp32, {{1, 4}});
  auto dst = sb(0, 2, 0, DType::Fp32, {{1, 4}});
  dst.offset_reg = 5;
  e.regs[5] = 256;
  auto x = e.fill(src);
  e.run(instr(Opcode::Copy, {A(dst), A(src)}));
  CHECK(e.get(sb(0, 2, 256, DType::Fp32, {{1, 4}})) == x);
}

TEST_CASE("accesses(): byte hulls in operand order with read/write flags", "[exec]") {
  Env e;
  std::vector<Access> acc;
  const auto dst = ps(0, 16, 64, DType::Fp32, {{1, 32}});
  const auto stat = sb(0, 8, 10, DType::Bf16, {{2, 16}});
  const auto mov = sb(8, 8, 0, DType::Bf16, {{64, 2}, {1, 32}});
  model::accesses(instr(Opcode::Matmul, {A(dst), A(stat), A(mov), E_(AccFlag::Acc)}), e.regs, acc);
  REQUIRE(acc.size() == 4);
  CHECK((acc[0].space == MemSpace::Psum && !acc[0].write && acc[0].lo == 64 && acc[0].hi == 192));
  CHECK((acc[1].space == MemSpace::Psum && acc[1].write && acc[1].p0 == 0 && acc[1].np == 16));
  CHECK((!acc[2].write && acc[2].lo == 10 && acc[2].hi == 10 + 2 * 15 * 2 + 2));
  CHECK((acc[3].p0 == 8 && acc[3].np == 8 && acc[3].lo == 0 && acc[3].hi == (64 + 31) * 2 + 2));
  acc.clear();
  model::accesses(instr(Opcode::Matmul, {A(dst), A(stat), A(mov), E_(AccFlag::Zero)}), e.regs, acc);
  REQUIRE(acc.size() == 3);
  CHECK(acc[0].write);

  // act: Scalar APs are reads, immediates and an absent reduce are skipped; registers resolve.
  acc.clear();
  auto src = sb(2, 4, 0, DType::Fp32, {{1, 8}});
  src.offset_reg = 1;
  e.regs[1] = 100;
  const auto scale = sb(2, 4, 500, DType::Fp32, {{1, 1}});
  model::accesses(instr(Opcode::Act, {A(sb(2, 4, 0, DType::Bf16, {{1, 8}})), A(src),
                                      E_(isa::ActFn::Exp), A(scale), F(1.0f),
                                      A(isa::AccessPattern{})}),
                  e.regs, acc);
  REQUIRE(acc.size() == 3);
  CHECK((acc[0].write && acc[0].hi == 16));
  CHECK((!acc[1].write && acc[1].lo == 100 && acc[1].hi == 132));
  CHECK((!acc[2].write && acc[2].lo == 500 && acc[2].hi == 504));

  // HBM: tensor index, single span over all rows.
  acc.clear();
  const int t = e.add_tensor("a", DType::Bf16, {128, 512});
  model::accesses(instr(Opcode::Dma, {I(0), A(sb(0, 128, 0, DType::Bf16, {{1, 64}})),
                                      A(hb(t, 512, 128, 128, DType::Bf16, {{1, 64}}))}),
                  e.regs, acc);
  REQUIRE(acc.size() == 2);
  CHECK((acc[1].space == MemSpace::Hbm && acc[1].tensor == t && !acc[1].write));
  CHECK(acc[1].lo == 128);
  CHECK(acc[1].hi == 128 + 127 * 1024 + 128);
}

TEST_CASE("control instructions do nothing to memory", "[exec]") {
  Env e;
  const auto before = e.mem.sbuf;
  for (Opcode op : {Opcode::Nop, Opcode::Barrier, Opcode::Movi, Opcode::Addi, Opcode::Jmp})
    e.run(instr(op, {I(1), I(2), I(3)}));
  CHECK(e.mem.sbuf == before);
}

TEST_CASE("check_bounds: static checks without data (timing-only runs)", "[exec]") {
  isa::Program prog;
  isa::TensorDecl t;
  t.name = "w";
  t.dtype = DType::Fp32;
  t.shape = {4, 8};
  prog.tensors.push_back(t);
  model::CoreMem mem;  // geometry only, no bytes
  mem.partitions = 16;
  mem.sbuf_bytes_per_partition = 1024;
  mem.psum_bytes_per_partition = 512;
  model::ExecState st;
  st.prog = &prog;
  st.mem = &mem;
  int64_t regs[isa::kNumRegisters] = {};
  st.regs = regs;
  auto dma = instr(Opcode::Dma, {I(0), A(sb(0, 4, 1000, DType::Fp32, {{1, 8}})),
                                 A(hb(0, 8, 4, 0, DType::Fp32, {{1, 8}}))});
  CHECK_THROWS_WITH(model::check_bounds(dma, st, {0, isa::Engine::Sp, 5}),
                    "core0 sp #5 (dma): dst sbuf bytes [1000, 1032) out of range (1024 bytes "
                    "per partition)");
  dma.ops[1].ap.offset = 0;
  CHECK_NOTHROW(model::check_bounds(dma, st, {0, isa::Engine::Sp, 5}));
  dma.ops[2].ap.offset = 4;
  CHECK_THROWS_WITH(model::check_bounds(dma, st, {0, isa::Engine::Sp, 5}),
                    Catch::Contains("src hbm tensor 'w' bytes [4, 132) out of range (128 bytes)"));
  auto act = instr(Opcode::Act, {A(sb(0, 4, 0, DType::Fp32, {{1, 8}})),
                                 A(sb(0, 4, 0, DType::Fp32, {{1, 8}})), E_(isa::ActFn::Exp),
                                 A(ps(12, 8, 0, DType::Fp32, {{1, 1}})), F(0.0f),
                                 A(isa::AccessPattern{})});
  CHECK_THROWS_WITH(model::check_bounds(act, st, {0, isa::Engine::Act, 1}),
                    Catch::Contains("scale psum partitions [12, 20) out of range (16 partitions)"));
}

TEST_CASE("accesses(): a dma_gather table covers every row it could name", "[exec]") {
  // The table's partitions are its rows: 50 rows of 32 bytes from byte 160 (rows 5..54).
  Env e;
  const int t = e.add_tensor("emb", DType::Bf16, {100, 16});
  std::vector<Access> acc;
  model::accesses(instr(Opcode::DmaGather, {I(0), A(sb(0, 8, 0, DType::Bf16, {{1, 16}})),
                                            A(hb(t, 16, 50, 160, DType::Bf16, {{1, 16}})),
                                            A(sb(0, 8, 64, DType::Int32, {{1, 1}}))}),
                  e.regs, acc);
  REQUIRE(acc.size() == 3);
  CHECK((acc[0].write && !acc[1].write && !acc[2].write));
  CHECK((acc[1].lo == 160 && acc[1].hi == 1760));
}
