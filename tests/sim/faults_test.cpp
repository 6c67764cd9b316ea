// Run-time faults: deadlock report, out-of-bounds register addresses, instruction budget.
#include <catch2/catch.hpp>

#include "sim_util.h"
#include "support/error.h"

using trnsim::SimFault;
using trnsim::test::run_tasm;
using trnsim::test::timing_only;

TEST_CASE("deadlock is reported with waiters and who would increment", "[sim]") {
  const char* prog = R"(
.core 0
.engine pe
  nop wait(s1>=1) inc(s2)
.engine act
  nop wait(s2>=1) inc(s1)
.engine dve
  nop inc(s5)
  nop wait(s5>=3)
)";
  try {
    run_tasm(prog, "tiny", timing_only());
    FAIL("expected a deadlock");
  } catch (const SimFault& e) {
    std::string m = e.what();
    INFO(m);
    CHECK(m.find("deadlock") != std::string::npos);
    CHECK(m.find("core0 pe #0 (nop) waits for s1 >= 1 (current value 0)") != std::string::npos);
    CHECK(m.find("incremented by: core0 act #0 (nop) (+1, reached)") != std::string::npos);
    CHECK(m.find("core0 dve #1 (nop) waits for s5 >= 3 (current value 1)") != std::string::npos);
    CHECK(m.find("core0 dve #0 (nop) (+1, reached)") != std::string::npos);
  }
}

TEST_CASE("barrier deadlock names the barrier", "[sim]") {
  const char* prog = R"(
.core 0
.engine pe
  barrier pe|act
.engine act
  nop wait(s0>=1)
)";
  CHECK_THROWS_WITH(run_tasm(prog, "tiny", timing_only()),
                    Catch::Contains("core0 pe #0 (barrier) waits at barrier pe|act") &&
                        Catch::Contains("no instruction increments s0 of core0"));
}

TEST_CASE("barrier releases when every listed engine arrives", "[sim]") {
  // dve works 316 ns (memset fp32 N=256) then reaches the barrier; pe waits there from t=0;
  // barrier costs control_cycles = 1 ns on each: 317 ns, then pe's nop 1 ns: 318 ns.
  auto r = run_tasm(R"(
.core 0
.engine pe
  barrier pe|dve
  nop
.engine dve
  memset sbuf[0:32]+0:fp32[1,256], 0.0
  barrier pe|dve
)", "tiny", timing_only());
  CHECK(r.sim_time_ns == Approx(318.0).margin(1e-9));
}

TEST_CASE("register-addressed out-of-bounds access faults in timing-only mode", "[sim]") {
  // tiny SBUF has 65536 bytes per partition: offset 65530 + 16 fp32 overflows.
  CHECK_THROWS_WITH(run_tasm(R"(
.core 0
.engine dve
  movi r3, 65530
  memset sbuf[0:32]+0+r3:fp32[1,16], 0.0
)", "tiny", timing_only()),
                    Catch::Contains("core0 dve #1 (memset)") && Catch::Contains("out of"));
}

TEST_CASE("register-addressed out-of-bounds access faults with numerics", "[sim]") {
  CHECK_THROWS_WITH(run_tasm(R"(
.core 0
.engine dve
  movi r3, 65530
  memset sbuf[0:32]+0+r3:fp32[1,16], 0.0
)", "tiny"),
                    Catch::Contains("core0 dve #1 (memset)") && Catch::Contains("out of"));
}

TEST_CASE("an infinite loop hits the instruction budget", "[sim]") {
  trnsim::model::SimOptions o = timing_only();
  o.max_instructions_per_engine = 1000;
  CHECK_THROWS_WITH(run_tasm(R"(
.core 0
.engine sp
top:
  jmp top
)", "tiny", o),
                    Catch::Contains("core0 sp: instruction budget of 1000 exceeded"));
}
