// Timing scenarios with exact expected simulated times. tiny preset: every clock is 1 GHz
// (cycles = ns), engine.min_ii 64, access_start 60, dma_issue 64, dma.fixed_ns 100, 4 DMA
// engines of 17 GB/s, HBM and NoC 100 GB/s.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <cstring>

#include "sim_util.h"

using trnsim::test::run_tasm;
using trnsim::test::timing_only;

namespace {
const char* kMatmul =
    "  matmul psum[0:32]+0:fp32[1,128], sbuf[0:32]+0:bf16[1,32], sbuf[0:32]+64:bf16[1,128], zero";
}

TEST_CASE("matmul -> act chained by a semaphore", "[sim]") {
  // pe: LS 8 + MM 128 = 136 ns (see matmul_test). act waits for s0, then
  // max(min_ii 64, N 128) + access_start 60 = 188 ns. 136 + 188 = 324 ns.
  auto r = run_tasm(fmt::format(R"(
.core 0
.engine pe
{} inc(s0)
.engine act
  act sbuf[0:32]+0:fp32[1,128], psum[0:32]+0:fp32[1,128], copy, 1.0, 0.0, - wait(s0>=1)
)", kMatmul), "tiny", timing_only());
  CHECK(r.sim_time_ns == Approx(324.0).margin(1e-9));
  CHECK(r.stats.cores[0].engines[1].busy_ps == 188000);
}

TEST_CASE("two independent engines overlap", "[sim]") {
  // pe 136 ns in parallel with dve memset fp32 N=256: max(64, 256) + 60 = 316 ns.
  // Overlapped: max(136, 316) = 316 ns (serial would be 452).
  auto r = run_tasm(fmt::format(R"(
.core 0
.engine pe
{}
.engine dve
  memset sbuf[0:32]+4096:fp32[1,256], 1.5
)", kMatmul), "tiny", timing_only());
  CHECK(r.sim_time_ns == Approx(316.0).margin(1e-9));
  CHECK(r.stats.cores[0].engines[0].busy_ps == 136000);
  CHECK(r.stats.cores[0].engines[2].busy_ps == 316000);
}

TEST_CASE("DMA in then out through HBM", "[sim][dma]") {
  // In: 32 partitions x 512 bf16 = 32768 B; 8 partitions per engine = 8 one-KiB descriptors
  // on each of the 4 engines: 8192 B / 17 GB/s = 481.882 ns + 8 x dma.descriptor_ns 2 =
  // 497.882 ns (HBM/NoC 32768 B / 100 GB/s = 327.68 ns is shorter). sp issues at 0..64, data
  // starts at 64 + fixed 100 = 164, ends 661.882 ns. Out: waits for s0 (661.882), issue 64 ->
  // 725.882, + fixed 100 = 825.882, + 497.882 = 1323.764 ns.
  auto r = run_tasm(R"(
.tensor a input bf16 [32, 512]
.tensor out output bf16 [32, 512]
.core 0
.engine sp
  dma q0, sbuf[0:32]+0:bf16[1,512], hbm.a+0:bf16{512,32}[1,512] inc(s0)
  dma q1, hbm.out+0:bf16{512,32}[1,512], sbuf[0:32]+0:bf16[1,512] wait(s0>=1) inc(s1)
)", "tiny");
  CHECK(r.stats.sim_time_ps == 1323764);
  CHECK(r.stats.hbm.read_bytes == 32768);
  CHECK(r.stats.hbm.write_bytes == 32768);
  CHECK(r.stats.cores[0].queues[0].bytes == 32768);
  CHECK(r.stats.cores[0].queues[1].busy_ps == 1323764 - 725882);
  CHECK(r.stats.cores[0].sbuf.write_bytes == 32768);
  CHECK(r.stats.cores[0].sbuf.read_bytes == 32768);
  // Numerics on: the output is the input, byte for byte.
  REQUIRE(r.outputs.size() == 1);
  CHECK(r.outputs[0].bytes.size() == 32768u);
  CHECK(r.generated_inputs == std::vector<std::string>{"a"});
  auto a = trnsim::model::generate_input(
      trnsim::isa::assemble(".tensor a input bf16 [32, 512]\n", "x").tensors[0], 0, 0);
  CHECK(r.outputs[0].bytes == a);
}

TEST_CASE("cross-core semaphore increment", "[sim]") {
  // core0 pe matmul (136 ns) increments core1's s0; core1 act then takes 188 ns: 324 ns.
  auto r = run_tasm(fmt::format(R"(
.core 0
.engine pe
{} inc(c1.s0)
.core 1
.engine act
  act sbuf[0:32]+0:fp32[1,128], sbuf[0:32]+0:fp32[1,128], exp, 1.0, 0.0, - wait(s0>=1)
)", kMatmul), "tiny", timing_only());
  CHECK(r.sim_time_ns == Approx(324.0).margin(1e-9));
  CHECK(r.stats.cores[1].engines[1].instructions == 1);
  CHECK(r.stats.cores[0].engines[1].instructions == 0);
}

TEST_CASE("background stationary load hides behind the previous matmul", "[sim][pe]") {
  // Two matmuls with different stationary operands: #0 = LS 8 + MM 128 = 136; the LS of #1
  // (8) runs during MM #0, so #1 costs only its MM: 136 + 128 = 264 ns. A third matmul
  // reusing #1's stationary pays no LS: 264 + 128 = 392 ns.
  auto r = run_tasm(R"(
.core 0
.engine pe
  matmul psum[0:32]+0:fp32[1,128], sbuf[0:32]+0:bf16[1,32], sbuf[0:32]+64:bf16[1,128], zero
  matmul psum[0:32]+0:fp32[1,128], sbuf[0:32]+512:bf16[1,32], sbuf[0:32]+64:bf16[1,128], acc
  matmul psum[0:32]+0:fp32[1,128], sbuf[0:32]+512:bf16[1,32], sbuf[0:32]+64:bf16[1,128], acc
)", "tiny", timing_only());
  CHECK(r.sim_time_ns == Approx(392.0).margin(1e-9));
}

TEST_CASE("loops with registers and register-valued waits", "[sim]") {
  // act runs 4 iterations, each waits for s0 >= r1 (r1 = 1..4) set by pe's 4 matmuls (one
  // stationary, loaded once). copy = max(64,128)+60 = 188, control ops 1 ns each.
  auto r = run_tasm(R"(
.core 0
.engine pe
  movi r0, 0
top:
  matmul psum[0:32]+0:fp32[1,128], sbuf[0:32]+0:bf16[1,32], sbuf[0:32]+64:bf16[1,128], zero inc(s0)
  addi r0, r0, 1
  blt r0, 4, top
.engine act
  movi r1, 0
loop:
  addi r1, r1, 1
  copy sbuf[0:32]+0:fp32[1,128], psum[0:32]+0:fp32[1,128] wait(s0>=r1)
  blt r1, 4, loop
)", "tiny", timing_only());
  // pe: movi ends 1; matmul k ends at 1+136=137, then every 130 (MM 128 + addi + blt):
  // 267, 397, 527. act is the bottleneck: movi 0-1, addi 1-2, copy #1 waits for 137 -> 325,
  // blt 326, addi 327, copy #2 327-515 (s0 = 2 since 267), blt 516, addi 517, copy #3
  // 517-705, blt 706, addi 707, copy #4 707-895, blt 896 ns.
  CHECK(r.sim_time_ns == Approx(896.0).margin(1e-9));
  CHECK(r.stats.cores[0].engines[0].instructions == 1 + 4 * 3);
  CHECK(r.stats.cores[0].engines[1].instructions == 1 + 4 * 3);
}

TEST_CASE("timing-only and numerics runs take the same simulated time", "[sim]") {
  const std::string prog = fmt::format(R"(
.tensor a input bf16 [32, 128]
.tensor out output fp32 [32, 128]
.core 0
.engine sp
  dma q0, sbuf[0:32]+0:bf16[1,128], hbm.a+0:bf16{{128,32}}[1,128] inc(s0)
  dma q0, sbuf[0:32]+256:bf16[1,32], hbm.a+0:bf16{{128,32}}[1,32] inc(s0)
  dma q2, hbm.out+0:fp32{{128,32}}[1,128], sbuf[0:32]+1024:fp32[1,128] wait(s2>=1) inc(s3)
.engine pe
  matmul psum[0:32]+0:fp32[1,128], sbuf[0:32]+256:bf16[1,32], sbuf[0:32]+0:bf16[1,128], zero wait(s0>=2) inc(s1)
.engine act
  act sbuf[0:32]+1024:fp32[1,128], psum[0:32]+0:fp32[1,128], gelu, 0.5, 0.1, - wait(s1>=1) inc(s2)
)");
  auto time_of = [&](bool timing) {
    return trnsim::test::in_child([&] {
      trnsim::model::SimOptions o;
      o.timing_only = timing;
      auto r = run_tasm(prog, "tiny", o);
      return std::to_string(r.stats.sim_time_ps) + " " + std::to_string(r.outputs.size());
    });
  };
  std::string numerics = time_of(false), timing = time_of(true);
  CHECK(numerics.substr(0, numerics.find(' ')) == timing.substr(0, timing.find(' ')));
  CHECK(numerics.substr(numerics.find(' ')) == " 1");  // numerics wrote the output
  CHECK(timing.substr(timing.find(' ')) == " 0");
  CHECK(std::stoll(timing) > 0);
}

namespace {
// dve and pool load a condition that sp brings from HBM and branch on it; each path writes
// its own value to y. pool has code in the then-part only, so it skips to the end otherwise.
const char* kBranch = R"(
.tensor c input int32 [1]
.tensor y output fp32 [1, 4]
.core 0
.engine sp
  dma q0, sbuf[0:1]+0:int32, hbm.c+0:int32{1,1}  inc(s4)
  dma q1, hbm.y+0:fp32{4,1}[1,4], sbuf[0:1]+64:fp32[1,4]  wait(s2>=2) wait(s3>=2)
.engine dve
  ldr r0, sbuf[0:1]+0:int32  wait(s4>=1) inc(s2)
  beq r0, 0, other
  memset sbuf[0:1]+64:fp32[1,4], 7  inc(s2)
  jmp end
other:
  memset sbuf[0:1]+64:fp32[1,4], -3  inc(s2)
end:
  nop
.engine pool
  ldr r5, sbuf[0:1]+0:int32  wait(s4>=1) inc(s3)
  beq r5, 0, skip
  memset sbuf[0:1]+128:fp32[1,4], 1
skip:
  nop inc(s3)
)";
}  // namespace

TEST_CASE("ldr loads a condition and every engine takes the same branch; only it costs time",
          "[sim]") {
  auto run = [&](int32_t c) {
    return trnsim::test::in_child([&] {
      trnsim::model::SimOptions o;
      std::vector<uint8_t> bytes(4);
      std::memcpy(bytes.data(), &c, 4);
      o.inputs["c"] = bytes;
      auto r = run_tasm(kBranch, "tiny", o);
      float y[4];
      std::memcpy(y, r.outputs.at(0).bytes.data(), 16);
      return fmt::format("{} {} {} {}", r.stats.sim_time_ps, y[0],
                         r.stats.cores[0].engines[2].instructions,
                         r.stats.cores[0].engines[3].busy_ps);
    });
  };
  // The condition load: sp issues 0..64, fixed 100, one descriptor 2 ns (dma.descriptor_ns), 4 B
  // charged as one 32-B HBM burst (dma.min_run_bytes) at 17 GB/s = 1.882 ns: arrives at
  // 167.882 ns. ldr = access start 60 + control 1 = 61 ns: dve's ends at 228.882.
  // c != 0: beq 1 ns (229.882), memset max(64, 4) + 60 = 124 (353.882), jmp 1, nop 1: dve
  //   retires 5 instructions. pool: ldr to 228.882, beq 229.882, memset: GpSimd start 150 + 4 =
  //   154 (383.882), nop 384.882 (busy 61 + 1 + 154 + 1 = 217 ns). The store waits for dve's
  //   memset (s2 = 2 at 353.882) and pool's nop (s3 = 2 at 384.882): issue 64 -> 448.882, fixed
  //   100 -> 548.882, descriptor 2, 16 B charged as 32 B: 1.882 -> 552.764.
  CHECK(run(5) == "552764 7 5 217000");
  // c == 0: dve's beq jumps (229.882), memset -3 to 353.882 (4 instructions); pool's beq jumps
  // to the nop (230.882): no memset time on pool (busy = ldr 61 + beq 1 + nop 1 = 63 ns). The
  // store waits for 353.882: 417.882 + 100 + 2 + 1.882 = 521.764.
  CHECK(run(0) == "521764 -3 4 63000");
}

TEST_CASE("ldr in a timing-only run loads 0 (no data): the else path", "[sim]") {
  auto r = run_tasm(kBranch, "tiny", timing_only());
  CHECK(r.stats.sim_time_ps == 521764);  // the c == 0 time above
  CHECK(r.stats.cores[0].engines[3].busy_ps == 63000);
}
