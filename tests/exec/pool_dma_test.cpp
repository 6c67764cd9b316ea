// Functional executor: iota, preduce, gather, dma, dma_gather.
#include <catch2/catch.hpp>

#include <cmath>

#include "exec_test_util.h"

using namespace exec_test;
using isa::AluOp;

TEST_CASE("iota: base + pmul*p + i over dst's free pattern order", "[exec]") {
  const DType dt = GENERATE(DType::Int32, DType::Fp32, DType::Bf16);
  Env e;
  const auto dst = sb(3, 5, 8, dt, {{10, 2}, {2, 4}});  // 8 elements in a strided pattern
  e.run(instr(Opcode::Iota, {A(dst), I(-7), I(100)}), isa::Engine::Pool);
  auto d = e.get(dst);
  for (int p = 0; p < 5; ++p)
    for (int i = 0; i < 8; ++i) CHECK(d[p * 8 + i] == round_to(dt, -7.0f + 100.0f * p + i));
}

TEST_CASE("preduce: reduce over partitions, written to every dst partition", "[exec]") {
  const AluOp op = GENERATE(AluOp::Add, AluOp::Max, AluOp::Min);
  Env e;
  const auto src = sb(2, 7, 0, DType::Bf16, {{1, 9}});
  const auto dst = sb(0, 3, 100, DType::Fp32, {{1, 9}});
  auto x = e.fill(src);
  e.run(instr(Opcode::PartitionReduce, {A(dst), A(src), E_(op)}), isa::Engine::Pool);
  auto d = e.get(dst);
  for (int f = 0; f < 9; ++f) {
    float acc = x[f];
    for (int p = 1; p < 7; ++p) {
      const float v = x[p * 9 + f];
      acc = op == AluOp::Add ? acc + v : (op == AluOp::Max ? std::max(acc, v) : std::min(acc, v));
    }
    for (int q = 0; q < 3; ++q) CHECK(d[q * 9 + f] == acc);
  }
}

TEST_CASE("gather within partitions - out-of-range index faults", "[exec]") {
  Env e;
  const auto src = sb(0, 4, 0, DType::Bf16, {{2, 16}});
  const auto idx = sb(0, 4, 100, DType::Int32, {{1, 10}});
  const auto dst = sb(0, 4, 200, DType::Fp32, {{1, 10}});
  auto x = e.fill(src);
  auto ix = e.fill_i(idx, 0, 15);
  e.run(instr(Opcode::Gather, {A(dst), A(src), A(idx)}), isa::Engine::Pool);
  auto d = e.get(dst);
  for (int p = 0; p < 4; ++p)
    for (int i = 0; i < 10; ++i) CHECK(d[p * 10 + i] == x[p * 16 + ix[p * 10 + i]]);
  ix[2 * 10 + 3] = 16;
  e.put_i(idx, ix);
  CHECK_THROWS_WITH(e.run(instr(Opcode::Gather, {A(dst), A(src), A(idx)}), isa::Engine::Pool, 9),
                    Catch::Contains("core0 pool #9 (gather): idx 16 at partition 2 element 3 out of "
                                    "range [0, 16)"));
}

TEST_CASE("dma HBM -> SBUF -> HBM pairs elements in row-major order with conversion", "[exec]") {
  Env e;
  const int t_in = e.add_tensor("x", DType::Fp32, {8, 24});
  const int t_out = e.add_tensor("y", DType::Bf16, {8, 24});
  // Read x as 16 rows of 12 (a different partition structure from x's 8x24) into bf16 SBUF.
  const auto src = hb(t_in, 12, 16, 0, DType::Fp32, {{1, 12}});
  const auto mid = sb(4, 16, 64, DType::Bf16, {{1, 12}});
  auto x = e.fill(src);
  e.run(instr(Opcode::Dma, {I(0), A(mid), A(src)}), isa::Engine::Sp);
  auto m = e.get(mid);
  for (size_t i = 0; i < m.size(); ++i) CHECK(m[i] == round_to(DType::Bf16, x[i]));
  // Write back transposed-by-pattern: y row r <- column-major view via strides.
  const auto dst = hb(t_out, 24, 8, 0, DType::Bf16, {{1, 24}});
  e.run(instr(Opcode::Dma, {I(1), A(dst), A(mid)}), isa::Engine::Sp);
  CHECK(e.get(dst) == m);
}

TEST_CASE("dma int64 <-> int32 is exact and strided HBM patterns work", "[exec]") {
  Env e;
  const int t = e.add_tensor("ids", DType::Int64, {4, 6});
  const auto src = hb(t, 6, 4, 8, DType::Int64, {{2, 3}});  // every other element from col 1
  const auto dst = sb(0, 4, 0, DType::Int32, {{1, 3}});
  std::vector<int64_t> all(24);
  for (int i = 0; i < 24; ++i) all[i] = 20000000 + 3 * i;
  e.put_i(hb(t, 6, 4, 0, DType::Int64, {{1, 6}}), all);
  e.run(instr(Opcode::Dma, {I(2), A(dst), A(src)}), isa::Engine::Sp);
  auto d = e.get_i(dst);
  for (int p = 0; p < 4; ++p)
    for (int i = 0; i < 3; ++i) CHECK(d[p * 3 + i] == all[p * 6 + 1 + 2 * i]);
  CHECK_THROWS_WITH(e.run(instr(Opcode::Dma, {I(2), A(sb(0, 4, 0, DType::Int32, {{1, 2}})), A(src)})),
                    Catch::Contains("dst has 8 elements but src has 12"));
}

TEST_CASE("dma_gather copies table row idx[p] into dst partition p", "[exec]") {
  Env e;
  const int t = e.add_tensor("emb", DType::Fp32, {50, 8});
  const auto table = hb(t, 8, 50, 4, DType::Fp32, {{1, 6}});  // columns 1..6 of the 50 rows
  const auto idx = sb(0, 5, 0, DType::Int32, {{1, 1}});
  const auto dst = sb(0, 5, 64, DType::Bf16, {{1, 6}});
  auto emb = e.fill(hb(t, 8, 50, 0, DType::Fp32, {{1, 8}}));
  auto ix = e.fill_i(idx, 0, 49);
  e.run(instr(Opcode::DmaGather, {I(0), A(dst), A(table), A(idx)}), isa::Engine::Pool);
  auto d = e.get(dst);
  for (int p = 0; p < 5; ++p)
    for (int i = 0; i < 6; ++i) CHECK(d[p * 6 + i] == round_to(DType::Bf16, emb[ix[p] * 8 + 1 + i]));
  ix[3] = 50;
  e.put_i(idx, ix);
  CHECK_THROWS_WITH(
      e.run(instr(Opcode::DmaGather, {I(0), A(dst), A(table), A(idx)}), isa::Engine::Pool, 4),
      Catch::Contains("core0 pool #4 (dma_gather): table row 50 (idx partition 3): out of the "
                      "table's 50 rows"));
}
