// How concurrent DMA transfers share the engines (dma.scheduling) and HBM (hbm.sharing): exact
// simulated times. tiny preset (1 GHz everywhere, dma_issue 64, dma.fixed_ns 100, 4 engines of
// 8 partitions); the tests set round numbers for the rates and switch off the per-descriptor
// cost so the processor-sharing arithmetic stays readable.
#include <catch2/catch.hpp>

#include "sim_util.h"

using trnsim::test::run_tasm;
using trnsim::test::timing_only;

namespace {
// A 4096-element and a 256-element bf16 load, on queues q0 and q1 of core 0.
const char* kBigSmall = R"(
.tensor big input bf16 [32, 4096]
.tensor small input bf16 [32, 256]
.core 0
.engine sp
  dma q0, sbuf[0:32]+0:bf16[1,4096], hbm.big+0:bf16{4096,32}[1,4096] inc(s0)
  dma q1, sbuf[0:32]+16384:bf16[1,256], hbm.small+0:bf16{256,32}[1,256] inc(s1)
)";
const std::vector<std::string> kRound = {"dma.engine_gbps=16", "dma.descriptor_ns=0",
                                         "hbm.gbps=100000", "noc.gbps=100000"};
std::vector<std::string> with(std::vector<std::string> v, const std::string& s) {
  v.push_back(s);
  return v;
}
}  // namespace

TEST_CASE("DMA queues share the engines fairly (processor sharing)", "[sim][dma]") {
  // Per engine (8 partitions): big 8 x 8192 B / 16 = 4096 ns, small 8 x 512 B / 16 = 256 ns.
  // big: queue start 64, data 164. small: sp issues it at 64..128, data 228. From 228 both
  // share each engine at half rate: small needs 256 ns of service -> 512 ns -> ends 740.
  // big got 64 ns alone + 256 ns shared -> ends 164 + 4096 + 256 = 4516.
  auto r = run_tasm(kBigSmall, "tiny", timing_only(), kRound);
  CHECK(r.stats.sim_time_ps == 4516000);
  CHECK(r.stats.cores[0].queues[1].busy_ps == 740000 - 128000);
  CHECK(r.stats.cores[0].queues[0].busy_ps == 4516000 - 64000);
}

TEST_CASE("DMA queues first come first served (dma.scheduling=fcfs)", "[sim][dma]") {
  // small's share waits behind big's on every engine: 164 + 4096 = 4260, + 256 = 4516.
  auto r = run_tasm(kBigSmall, "tiny", timing_only(), with(kRound, "dma.scheduling=fcfs"));
  CHECK(r.stats.sim_time_ps == 4516000);
  CHECK(r.stats.cores[0].queues[1].busy_ps == 4516000 - 128000);
  CHECK(r.stats.cores[0].queues[0].busy_ps == 4260000 - 64000);
}

namespace {
// Core 0 loads 256 KiB, core 1 (one nop later) 16 KiB; the engines are fast (1000 GB/s), so
// HBM (100 GB/s) is the bottleneck.
const char* kCrossCore = R"(
.tensor big input bf16 [32, 4096]
.tensor small input bf16 [32, 256]
.core 0
.engine sp
  dma q0, sbuf[0:32]+0:bf16[1,4096], hbm.big+0:bf16{4096,32}[1,4096] inc(s0)
.core 1
.engine sp
  nop
  dma q0, sbuf[0:32]+0:bf16[1,256], hbm.small+0:bf16{256,32}[1,256] inc(s0)
)";
const std::vector<std::string> kHbmBound = {"dma.engine_gbps=1000", "dma.descriptor_ns=0",
                                            "hbm.gbps=100", "noc.gbps=1000000"};
}  // namespace

TEST_CASE("HBM shared fluidly between cores (hbm.sharing=fair)", "[sim][dma]") {
  // HBM work: big 262144 B / 100 = 2621.44 ns, small 16384 / 100 = 163.84 ns (engines: 65.536
  // and 4.096 ns per engine, never the bottleneck). big's data starts at 164, small's at 165
  // (nop 1 + issue 64 + fixed 100). From 165 they share HBM: small ends 165 + 2 x 163.84 =
  // 492.68; big ends 164 + 2621.44 + 163.84 = 2949.28 ns.
  auto r = run_tasm(kCrossCore, "tiny", timing_only(), kHbmBound);
  CHECK(r.stats.sim_time_ps == 2949280);
  CHECK(r.stats.cores[1].queues[0].busy_ps == 492680 - 65000);
}

TEST_CASE("HBM reserved first come first served (hbm.sharing=fcfs)", "[sim][dma]") {
  // big books HBM 164..2785.44 at the full rate; small's booking follows: 2785.44 + 163.84.
  auto r = run_tasm(kCrossCore, "tiny", timing_only(), with(kHbmBound, "hbm.sharing=fcfs"));
  CHECK(r.stats.sim_time_ps == 2949280);
  CHECK(r.stats.cores[1].queues[0].busy_ps == 2949280 - 65000);
}

namespace {
const char* kStrided = R"(
.tensor x input fp32 [64, 64]
.core 0
.engine sp
  dma q0, sbuf[0:32]+0:fp32[1,64], hbm.x+0:fp32{1,32}[64,64] inc(s0)
)";
}  // namespace

TEST_CASE("element-strided DMA pays the burst floor on HBM bytes and energy", "[sim][dma]") {
  // 32 partitions x 64 fp32 gathered as single 4-B elements (stride 64): 2048 runs, each
  // charged 32 B on HBM: 65536 charged bytes for 8192 useful.
  auto r = run_tasm(kStrided, "tiny", timing_only());
  CHECK(r.stats.hbm.read_bytes == 8192);
  CHECK(r.stats.hbm.charged_bytes == 2048 * 32);
  // Engine time: 8 partitions x 64 runs x 32 B / 17 GB/s = 963.765 ns + 512 descriptors x 2 ns
  // = 1987.765 ns per engine; HBM 65536 / 100 = 655.36 ns shorter. 64 + 100 + 1987.765.
  CHECK(r.stats.sim_time_ps == 164000 + 1987765);
  // HBM energy is charged on the 65536 B: 31.2 pJ/B [O'Connor].
  CHECK(r.stats.energy.hbm_j == Approx(65536 * 31.2e-12).epsilon(1e-12));
}

TEST_CASE("dma.min_run_bytes=0 charges the useful bytes only", "[sim][dma]") {
  // 8 x 64 x 4 B = 2048 B / 17 = 120.471 ns + 512 x 2 ns per engine; HBM 8192/100 = 81.92 ns.
  auto r = run_tasm(kStrided, "tiny", timing_only(), {"dma.min_run_bytes=0"});
  CHECK(r.stats.hbm.charged_bytes == 8192);
  CHECK(r.stats.sim_time_ps == 164000 + 120471 + 1024000);
  // Static energy: tiny's 2 cores x 0.5 W + energy.uncore_static_w 1 W, over the run.
  CHECK(r.stats.energy.static_j == Approx(2.0 * 1.308471e-6).epsilon(1e-9));
}
