// insert_sync's byte-exact overlap test: interleaved strided accesses get no wait, truly
// overlapping ones do, and a strided write never hides an earlier write it does not cover.
#include <catch2/catch.hpp>

#include "compiler/passes/passes.h"

using namespace trnsim;
using namespace trnsim::compiler;

namespace {

// Semaphores: pe 0, act 1, dve 2, pool 3, DMA queue q = 4 + q.
constexpr int kQ0 = 4, kQ1 = 5;

isa::AccessPattern sbuf(int64_t off, int64_t np, std::initializer_list<isa::Dim> dims) {
  isa::AccessPattern ap;
  ap.space = isa::MemSpace::Sbuf;
  ap.num_partitions = static_cast<uint16_t>(np);
  ap.offset = off;
  for (const isa::Dim& d : dims) ap.dims[ap.ndims++] = d;
  return ap;
}

// Rows [p0, p0 + np) of HBM tensor 0 (fp32, rows `pstride` elements), `n` elements from `col`.
isa::AccessPattern hbm_rows(int64_t p0, int64_t np, int64_t pstride, int64_t col, int64_t n) {
  isa::AccessPattern ap;
  ap.space = isa::MemSpace::Hbm;
  ap.start_partition = static_cast<uint16_t>(p0);
  ap.num_partitions = static_cast<uint16_t>(np);
  ap.partition_stride = pstride;
  ap.offset = col * 4;
  ap.ndims = 1;
  ap.dims[0] = {1, n};
  return ap;
}

LInstr dma(int queue, const isa::AccessPattern& dst, const isa::AccessPattern& src) {
  LInstr li;
  li.engine = isa::Engine::Sp;
  li.in.op = isa::Opcode::Dma;
  li.in.ops[0].i = queue;
  li.in.ops[1].ap = dst;
  li.in.ops[2].ap = src;
  return li;
}

LInstr copy_on(isa::Engine e, const isa::AccessPattern& dst, const isa::AccessPattern& src) {
  LInstr li;
  li.engine = e;
  li.in.op = isa::Opcode::Copy;
  li.in.ops[0].ap = dst;
  li.in.ops[1].ap = src;
  return li;
}

bool waits_on(const LInstr& li, int sem, int64_t value) {
  for (int k = 0; k < li.in.num_waits; ++k)
    if (li.in.waits[k].sem == sem && li.in.waits[k].value == value) return true;
  return false;
}

}  // namespace

TEST_CASE("insert_sync: interleaved strided stores to one tensor need no wait, overlapping ones do",
          "[compiler]") {
  // Tensor 0 is [8, 64] fp32. Queue 0 stores columns [0, 32) of every row, queue 1 columns
  // [32, 64): the hulls overlap (rows interleave) but no byte is shared.
  Lowered l;
  l.code.push_back(dma(0, hbm_rows(0, 8, 64, 0, 32), sbuf(0, 8, {{1, 32}})));
  l.code.push_back(dma(1, hbm_rows(0, 8, 64, 32, 32), sbuf(128, 8, {{1, 32}})));
  // Queue 1 stores columns [0, 32) of rows 2..3: truly overlapping (WAW on queue 0).
  l.code.push_back(dma(1, hbm_rows(2, 2, 64, 0, 32), sbuf(256, 2, {{1, 32}})));
  // A strided store on queue 0 of the odd columns 33, 35, ..., 63 of row 7 overlaps only
  // queue 1's first store.
  isa::AccessPattern odd = hbm_rows(7, 1, 64, 33, 1);
  odd.dims[0] = {2, 16};
  l.code.push_back(dma(0, odd, sbuf(512, 1, {{1, 16}})));
  insert_sync(l, isa::Target{});
  REQUIRE(l.code.size() == 4);
  CHECK(l.code[0].in.num_waits == 0);
  CHECK(l.code[1].in.num_waits == 0);  // interleaved with #0: no wait
  REQUIRE(l.code[2].in.num_waits == 1);
  CHECK(waits_on(l.code[2], kQ0, 1));  // rows 2..3, columns [0, 32): after queue 0's store
  REQUIRE(l.code[3].in.num_waits == 1);
  CHECK(waits_on(l.code[3], kQ1, 1));  // queue 1's first store, not its second (rows 2..3)
}

TEST_CASE("insert_sync: interleaved SBUF rows need no wait, a strided write hides no write it "
          "does not cover", "[compiler]") {
  Lowered l;
  // dve writes 256 bytes [0, 256) of partitions 0..3.
  l.code.push_back(copy_on(isa::Engine::Dve, sbuf(0, 4, {{1, 64}}), sbuf(4096, 4, {{1, 64}})));
  // act writes even 16-element rows [0,64), [128,192), ... of a 512-byte region after it, and
  // pool the odd rows: interleaved, no wait between them, none on dve.
  l.code.push_back(copy_on(isa::Engine::Act, sbuf(256, 4, {{32, 4}, {1, 16}}),
                           sbuf(8192, 4, {{1, 64}})));
  l.code.push_back(copy_on(isa::Engine::Pool, sbuf(256 + 64, 4, {{32, 4}, {1, 16}}),
                           sbuf(12288, 4, {{1, 64}})));
  // act then writes the even 16-element rows of [0, 256): its hull contains dve's write but
  // it does not cover the odd rows, so pe reading odd row [64, 128) must still wait for dve.
  l.code.push_back(copy_on(isa::Engine::Act, sbuf(0, 4, {{32, 2}, {1, 16}}),
                           sbuf(16384, 4, {{1, 32}})));
  l.code.push_back(copy_on(isa::Engine::Pe, sbuf(20480, 4, {{1, 16}}), sbuf(64, 4, {{1, 16}})));
  // Reading an even row waits for act's second write instead.
  l.code.push_back(copy_on(isa::Engine::Pool, sbuf(24576, 4, {{1, 16}}), sbuf(128, 4, {{1, 16}})));
  insert_sync(l, isa::Target{});
  REQUIRE(l.code.size() == 6);
  CHECK(l.code[1].in.num_waits == 0);
  CHECK(l.code[2].in.num_waits == 0);
  REQUIRE(l.code[3].in.num_waits == 1);
  CHECK(waits_on(l.code[3], 2, 1));  // WAW with dve on the even rows
  REQUIRE(l.code[4].in.num_waits == 1);
  CHECK(waits_on(l.code[4], 2, 1));  // RAW on dve's odd row, not act's strided write
  CHECK(waits_on(l.code[5], 1, 2));  // RAW on act's second write
}
