// Program validation against a target: one case per rule.
#include <catch2/catch.hpp>

#include <string>

#include "isa/asm.h"
#include "isa/validate.h"
#include "support/error.h"

using namespace trnsim::isa;

namespace {

// A small valid program; each case replaces one line.
const char* kBase =
    ".tensor a input bf16 [128, 512]\n"
    ".tensor ids input int64 [4]\n"
    ".core 0\n"
    ".engine pe\n"
    "  matmul psum[0:128]+0:fp32[1,512], sbuf[0:128]+0:bf16[1,128], sbuf[0:128]+0:bf16[1,512], zero  @mm0\n"
    ".engine act\n"
    "  act sbuf[0:128]+0:fp32[1,512], psum[0:128]+0:fp32[1,512], exp, 1, sbuf[0:128]+4096:fp32, -\n"
    ".engine dve\n"
    "  tt sbuf[0:128]+0:int32[1,8], sbuf[0:128]+64:int32[1,8], sbuf[0:128]+128:int32[1,8], and\n"
    ".engine sp\n"
    "  dma q0, sbuf[0:128]+0:bf16[1,512], hbm.a+0:bf16{512,128}[1,512]  wait(s1>=1) inc(s0)\n"
    "  dma q1, sbuf[0:1]+0:int64[1,4], hbm.ids+0:int64{4,1}[1,4]\n"
    "loop:\n"
    "  blt r1, 3, loop\n";

Target small_target() {
  Target t;
  t.num_cores = 2;
  t.partitions = 128;
  t.sbuf_bytes_per_partition = 8192;
  t.psum_banks = 4;
  t.psum_bank_bytes = 2048;
  t.pe_rows = 128;
  t.pe_cols = 128;
  t.max_moving_free = 512;
  t.num_semaphores = 8;
  t.num_dma_queues = 4;
  return t;
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

// The first problem of kBase with `from` replaced by `to`.
std::string first_problem(const std::string& from, const std::string& to, Target t = small_target()) {
  Program p = assemble(replace(kBase, from, to), "prog.tasm");
  auto problems = validation_problems(p, t);
  return problems.empty() ? "(valid)" : problems.front();
}

}  // namespace

TEST_CASE("the base program is valid", "[isa]") {
  Program p = assemble(kBase, "prog.tasm");
  CHECK(validation_problems(p, small_target()).empty());
  CHECK_NOTHROW(validate(p, small_target()));
}

TEST_CASE("validation: matmul shapes, dtypes and PSUM bank", "[isa]") {
  const std::string mm = "matmul psum[0:128]+0:fp32[1,512], sbuf[0:128]+0:bf16[1,128], sbuf[0:128]+0:bf16[1,512], zero";
  CHECK(first_problem(mm, "matmul psum[0:128]+0:fp32[1,600], sbuf[0:128]+0:bf16[1,128], sbuf[0:128]+0:bf16[1,600], zero") ==
        "prog.tasm:5: core 0 pe #0 (matmul @mm0): moving free size 600 exceeds 512");
  CHECK(first_problem(mm, "matmul psum[0:128]+0:fp32[1,512], sbuf[0:64]+0:bf16[1,128], sbuf[0:128]+0:bf16[1,512], zero") ==
        "prog.tasm:5: core 0 pe #0 (matmul @mm0): stationary has 64 partitions but moving has 128 (both are K)");
  CHECK(first_problem(mm, "matmul psum[0:64]+0:fp32[1,512], sbuf[0:128]+0:bf16[1,128], sbuf[0:128]+0:bf16[1,512], zero") ==
        "prog.tasm:5: core 0 pe #0 (matmul @mm0): dst has 64 partitions, expected M = 128");
  CHECK(first_problem(mm, "matmul psum[0:128]+0:fp32[1,256], sbuf[0:128]+0:bf16[1,128], sbuf[0:128]+0:bf16[1,512], zero") ==
        "prog.tasm:5: core 0 pe #0 (matmul @mm0): dst has 256 elements per partition, expected N = 512");
  CHECK(first_problem(mm, "matmul psum[0:128]+0:fp32[1,512], sbuf[0:128]+0:bf16[2,128], sbuf[0:128]+0:bf16[1,512], zero", [] {
          Target t = small_target();
          t.pe_cols = 64;
          return t;
        }()) == "prog.tasm:5: core 0 pe #0 (matmul @mm0): stationary free size 128 exceeds 64");
  CHECK(first_problem(mm, "matmul psum[0:128]+0:bf16[1,512], sbuf[0:128]+0:bf16[1,128], sbuf[0:128]+0:bf16[1,512], zero") ==
        "prog.tasm:5: core 0 pe #0 (matmul @mm0): dst dtype must be fp32, found bf16");
  CHECK(first_problem(mm, "matmul psum[0:128]+0:fp32[1,512], sbuf[0:128]+0:int8[1,128], sbuf[0:128]+0:bf16[1,512], zero") ==
        "prog.tasm:5: core 0 pe #0 (matmul @mm0): stationary dtype must be a float type, found int8");
  CHECK(first_problem(mm, "matmul psum[0:128]+1024:fp32[1,512], sbuf[0:128]+0:bf16[1,128], sbuf[0:128]+0:bf16[1,512], zero") ==
        "prog.tasm:5: core 0 pe #0 (matmul @mm0): dst bytes 1024..3072 cross a PSUM bank boundary (banks of 2048 bytes)");
  Target big_k = small_target();
  big_k.partitions = 256;
  CHECK(first_problem(mm, "matmul psum[0:128]+0:fp32[1,512], sbuf[0:200]+0:bf16[1,128], sbuf[0:200]+0:bf16[1,512], zero", big_k) ==
        "prog.tasm:5: core 0 pe #0 (matmul @mm0): contraction K 200 exceeds 128");
}

TEST_CASE("validation: memory bounds", "[isa]") {
  const std::string act = "act sbuf[0:128]+0:fp32[1,512], psum[0:128]+0:fp32[1,512], exp, 1, sbuf[0:128]+4096:fp32, -";
  CHECK(first_problem(act, "act sbuf[0:130]+0:fp32[1,512], psum[0:130]+0:fp32[1,512], exp, 1, sbuf[0:130]+4096:fp32, -") ==
        "prog.tasm:7: core 0 act #0 (act): dst: partitions 0:130 exceed 128");
  // 8000 + 4*(511+1) = 10048 > 8192
  CHECK(first_problem(act, "act sbuf[0:128]+8000:fp32[1,512], psum[0:128]+0:fp32[1,512], exp, 1, sbuf[0:128]+4096:fp32, -") ==
        "prog.tasm:7: core 0 act #0 (act): dst: bytes 8000..10048 outside the sbuf of 8192 bytes per partition");
  // Negative strides reach below the offset: 16 - 4*8 = -16.
  CHECK(first_problem(act, "act sbuf[0:128]+16:fp32[-8,2][1,256], psum[0:128]+0:fp32[1,512], exp, 1, sbuf[0:128]+4096:fp32, -") ==
        "prog.tasm:7: core 0 act #0 (act): dst: bytes -16..1040 outside the sbuf of 8192 bytes per partition");
  // PSUM: 4 banks x 2048 = 8192 bytes.
  CHECK(first_problem(act, "act sbuf[0:128]+0:fp32[1,512], psum[0:128]+7000:fp32[1,512], exp, 1, sbuf[0:128]+4096:fp32, -") ==
        "prog.tasm:7: core 0 act #0 (act): src: bytes 7000..9048 outside the psum of 8192 bytes per partition");
  // Register-addressed: only the extent is checked, so a large offset is fine ...
  CHECK(first_problem(act, "act sbuf[0:128]+100000+r2:fp32[1,512], psum[0:128]+0:fp32[1,512], exp, 1, sbuf[0:128]+4096:fp32, -") ==
        "(valid)");
  // ... but a span larger than the memory is not.
  CHECK(first_problem(act, "act sbuf[0:128]+0+r2:fp32[512,8][1,512], psum[0:128]+0:fp32[1,4096], exp, 1, sbuf[0:128]+4096:fp32, -") ==
        "prog.tasm:7: core 0 act #0 (act): dst: spans 16384 bytes, more than the sbuf of 8192 bytes per partition");
  const std::string dma = "dma q0, sbuf[0:128]+0:bf16[1,512], hbm.a+0:bf16{512,128}[1,512]";
  // Row 128 of a [128,512] bf16 tensor is one row too far: 129*512*2 = 132096 > 131072.
  CHECK(first_problem(dma, "dma q0, sbuf[0:128]+0:bf16[1,512], hbm.a+1024:bf16{512,128}[1,512]") ==
        "prog.tasm:11: core 0 sp #0 (dma): src: bytes 1024..132096 outside the tensor 'a' of 131072 bytes");
}

TEST_CASE("validation: element counts, dtypes, sync resources, branches, cores", "[isa]") {
  const std::string act = "act sbuf[0:128]+0:fp32[1,512], psum[0:128]+0:fp32[1,512], exp, 1, sbuf[0:128]+4096:fp32, -";
  CHECK(first_problem(act, "act sbuf[0:128]+0:fp32[1,256], psum[0:128]+0:fp32[1,512], exp, 1, sbuf[0:128]+4096:fp32, -") ==
        "prog.tasm:7: core 0 act #0 (act): dst has 256 elements per partition but src has 512");
  CHECK(first_problem(act, "act sbuf[0:128]+0:fp32[1,512], psum[0:128]+0:fp32[1,512], exp, 1, sbuf[0:128]+4096:fp32[1,2], -") ==
        "prog.tasm:7: core 0 act #0 (act): bias must be [128,1] (one element per partition of dst), found [128,2]");
  const std::string tt = "tt sbuf[0:128]+0:int32[1,8], sbuf[0:128]+64:int32[1,8], sbuf[0:128]+128:int32[1,8], and";
  CHECK(first_problem(tt, "tt sbuf[0:128]+0:fp32[1,8], sbuf[0:128]+64:int32[1,8], sbuf[0:128]+128:int32[1,8], and") ==
        "prog.tasm:9: core 0 dve #0 (tt): dst: integer-only ALU op needs an integer dtype, found fp32");
  CHECK(first_problem(tt, "tt sbuf[0:128]+0:bool[1,8], sbuf[0:128]+64:int32[1,8], sbuf[0:128]+128:int32[1,8], add") ==
        "prog.tasm:9: core 0 dve #0 (tt): dst: dtype bool is only allowed in dma");
  CHECK(first_problem(tt, "tt sbuf[0:128]+0:int64[1,8], sbuf[0:128]+64:int32[1,8], sbuf[0:128]+128:int32[1,8], add") ==
        "(valid)");  // int64 is an engine dtype (exact 64-bit integer arithmetic)
  CHECK(first_problem(tt, "tt sbuf[0:64]+0:int32[1,8], sbuf[0:128]+64:int32[1,8], sbuf[0:128]+128:int32[1,8], and") ==
        "prog.tasm:9: core 0 dve #0 (tt): dst has 64 partitions but a has 128");
  const std::string sync = "wait(s1>=1) inc(s0)";
  CHECK(first_problem(sync, "wait(s8>=1) inc(s0)") ==
        "prog.tasm:11: core 0 sp #0 (dma): wait semaphore s8 >= 8 semaphores");
  CHECK(first_problem(sync, "wait(s1>=1) inc(c2.s0)") ==
        "prog.tasm:11: core 0 sp #0 (dma): increment on core 2 but the target has 2 cores");
  CHECK(first_problem(sync, "wait(s1>=1) inc(s9)") ==
        "prog.tasm:11: core 0 sp #0 (dma): increment semaphore s9 >= 8 semaphores");
  CHECK(first_problem("dma q1,", "dma q4,") == "prog.tasm:12: core 0 sp #1 (dma): queue: queue q4 >= 4 queues");
  CHECK(first_problem("blt r1, 3, loop", "blt r1, 3, #7") ==
        "prog.tasm:14: core 0 sp #2 (blt): target: branch target #7 outside the stream (0..2)");
  CHECK(first_problem(".core 0\n", ".core 2\n") == "prog.tasm: program uses 3 cores, the target has 2");
  // validate() throws the first problem.
  Program p = assemble(replace(kBase, "wait(s1>=1)", "wait(s9>=1)"), "prog.tasm");
  CHECK_THROWS_WITH(validate(p, small_target()),
                    "prog.tasm:11: core 0 sp #0 (dma): wait semaphore s9 >= 8 semaphores");
}

TEST_CASE("validation: transpose shapes", "[isa]") {
  const std::string mm = "matmul psum[0:128]+0:fp32[1,512], sbuf[0:128]+0:bf16[1,128], sbuf[0:128]+0:bf16[1,512], zero  @mm0";
  CHECK(first_problem(mm, "transpose psum[0:32]+0:fp32[1,64], sbuf[0:64]+0:bf16[1,32]") == "(valid)");
  CHECK(first_problem(mm, "transpose psum[0:64]+0:fp32[1,32], sbuf[0:64]+0:bf16[1,32]") ==
        "prog.tasm:5: core 0 pe #0 (transpose): dst is [64,32], expected [32,64] (src transposed)");
  CHECK(first_problem(mm, "transpose psum[0:32]+0:bf16[1,64], sbuf[0:64]+0:bf16[1,32]") ==
        "prog.tasm:5: core 0 pe #0 (transpose): dst dtype must be fp32, found bf16");
}

TEST_CASE("validation: ldr loads one SBUF/PSUM element of an engine dtype, on any engine",
          "[isa]") {
  const std::string blt = "blt r1, 3, loop";
  CHECK(first_problem(blt, "ldr r1, sbuf[5:6]+64:int32") == "(valid)");
  CHECK(first_problem(blt, "ldr r15, psum[0:1]+8:fp32[1,1]") == "(valid)");
  CHECK(first_problem(blt, "ldr r1, sbuf[0:2]+0:int32") ==
        "prog.tasm:14: core 0 sp #2 (ldr): src must be one element, found [2,1]");
  CHECK(first_problem(blt, "ldr r1, sbuf[0:1]+0:int32[1,4]") ==
        "prog.tasm:14: core 0 sp #2 (ldr): src must be one element, found [1,4]");
  CHECK(first_problem(blt, "ldr r1, sbuf[0:1]+0:bool") ==
        "prog.tasm:14: core 0 sp #2 (ldr): src: dtype bool is only allowed in dma");
  CHECK_THROWS_WITH(assemble(replace(kBase, blt, "ldr r1, hbm.a+0:bf16{512,1}"), "prog.tasm"),
                    Catch::Contains("prog.tasm:14"));
}

TEST_CASE("validation: collective shapes, dtypes, ops and groups", "[isa]") {
  const std::string d = "dma q1, sbuf[0:1]+0:int64[1,4], hbm.ids+0:int64{4,1}[1,4]";
  const std::string at = "prog.tasm:12: core 0 sp #1 ";
  CHECK(first_problem(d, "all_reduce q1, sbuf[0:128]+0:bf16[1,512], hbm.a+0:bf16{512,128}[1,512], add, 4, 1") == "(valid)");
  CHECK(first_problem(d, "all_reduce q1, sbuf[0:128]+0:bf16[1,256], hbm.a+0:bf16{512,128}[1,512], add, 4, 1") ==
        at + "(all_reduce): dst has 32768 elements but src has 65536");
  CHECK(first_problem(d, "all_reduce q1, sbuf[0:128]+0:fp32[1,512], hbm.a+0:bf16{512,128}[1,512], add, 4, 1") ==
        at + "(all_reduce): dst dtype fp32 differs from src dtype bf16");
  CHECK(first_problem(d, "all_reduce q1, sbuf[0:128]+0:bf16[1,512], hbm.a+0:bf16{512,128}[1,512], mul, 4, 1") ==
        at + "(all_reduce): op must be add (sum) or max, found mul");
  CHECK(first_problem(d, "all_reduce q1, sbuf[0:1]+0:int32[1,4], sbuf[0:1]+16:int32[1,4], max, 4, 1") ==
        at + "(all_reduce): dtype must be fp32 or bf16, found int32");
  CHECK(first_problem(d, "all_reduce q1, sbuf[0:1]+0:fp32[1,4], sbuf[0:1]+16:fp32[1,4], max, 4, 0") ==
        at + "(all_reduce): gsize 4 must be >= 0 and gstride 0 >= 1");
  CHECK(first_problem(d, "all_gather q1, sbuf[0:1]+0:fp32[1,16], sbuf[0:1]+64:fp32[1,4], 4, 2") == "(valid)");
  CHECK(first_problem(d, "all_gather q1, sbuf[0:1]+0:fp32[1,12], sbuf[0:1]+64:fp32[1,4], 4, 2") ==
        at + "(all_gather): dst has 12 elements, expected gsize x src = 4 x 4");
  CHECK(first_problem(d, "all_gather q1, sbuf[0:1]+0:fp32[1,12], sbuf[0:1]+64:fp32[1,4], 0, 1") == "(valid)");
  CHECK(first_problem(d, "reduce_scatter q1, sbuf[0:1]+0:fp32[1,4], sbuf[0:1]+64:fp32[1,12], add, 4, 1") ==
        at + "(reduce_scatter): src has 12 elements, expected gsize x dst = 4 x 4");
  CHECK(first_problem(d, "all_to_all q1, sbuf[0:1]+0:fp32[1,6], sbuf[0:1]+64:fp32[1,6], 4, 1") ==
        at + "(all_to_all): src has 6 elements, not a multiple of gsize 4");
  CHECK(first_problem(d, "permute q1, psum[0:1]+0:fp32[1,4], sbuf[0:1]+64:fp32[1,4], 2, 1") ==
        at + "(permute): dst: a collective reads and writes HBM or SBUF, not PSUM");
  CHECK(first_problem(d, "send q1, sbuf[0:1]+0:fp32[1,4], 4, 1, 1") == "(valid)");
  CHECK(first_problem(d, "recv q1, hbm.a+0:bf16{512,128}[1,512], 0, 1, -2") == "(valid)");
  CHECK(first_problem(d, "send q1, sbuf[0:1]+0:fp32[1,4], 4, 1, 0") ==
        at + "(send): shift must not be 0 (a rank does not send to itself)");
  CHECK(first_problem(d, "recv q1, psum[0:1]+0:fp32[1,4], 4, 1, 1") ==
        at + "(recv): dst: send and recv read and write HBM or SBUF, not PSUM");
  CHECK(first_problem(d, "send q1, sbuf[0:1]+0:int32[1,4], 4, 1, 1") ==
        at + "(send): dtype must be fp32 or bf16, found int32");
  CHECK(first_problem(d, "recv q1, sbuf[0:1]+0:fp32[1,4], 4, 0, 1") ==
        at + "(recv): gsize 4 must be >= 0 and gstride 0 >= 1");
}
