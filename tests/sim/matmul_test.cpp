// Tensor Engine scenarios with exact simulated times (tiny preset: every clock 1 GHz, so
// cycles = ns; pe.min_ii 64, pe.ls_speedup 4).
#include <catch2/catch.hpp>

#include "sim_util.h"

using trnsim::test::run_tasm;

TEST_CASE("single bf16 matmul: LoadStationary then MultiplyMoving", "[sim][pe]") {
  // K=32, M=32, N=128 bf16. LS = ceil(M/ls_speedup) = ceil(32/4) = 8 cycles (nothing to hide
  // it behind); MM = max(min(min_ii=64, M=32), N=128) = 128 cycles. 8 + 128 = 136 ns.
  auto r = run_tasm(R"(
.core 0
.engine pe
  matmul psum[0:32]+0:fp32[1,128], sbuf[0:32]+0:bf16[1,32], sbuf[0:32]+64:bf16[1,128], zero
)",
                    "tiny", trnsim::test::timing_only());
  CHECK(r.sim_time_ns == Approx(136.0).margin(1e-9));
  CHECK(r.stats.cores[0].engines[0].instructions == 1);
  CHECK(r.stats.pe_flops == 2 * 32 * 32 * 128);
}
