// The checker on programs that branch on loaded values (ldr): every path is analysed, and all
// engines' loads of one value take the same choice.
#include <catch2/catch.hpp>

#include <string>

#include "tests/check/check_util.h"

using trnsim::model::CheckOptions;
using trnsim::model::CheckReport;
using trnsim::model::RaceKind;
using trnsim::test::check_tasm;

namespace {

// sp brings a condition into SBUF; dve and pool load it. dve writes either two tiles (then) or
// one (else, +2 at once), pool copies the one of its path after s2 >= 2. If the two engines
// took different branches, pool would read a tile nothing wrote.
std::string branchy(const std::string& dve_then_extra = "") {
  return R"(
.tensor c input int32 [1]
.core 0
.engine sp
  dma q0, sbuf[0:1]+0:int32, hbm.c+0:int32{1,1}  inc(s4)
.engine dve
  ldr r0, sbuf[0:1]+0:int32  wait(s4>=1)
  beq r0, 0, d_else
  memset sbuf[0:4]+256:fp32[1,64], 1  inc(s2)
  memset sbuf[0:4]+512:fp32[1,64], 2  inc(s2)
)" + dve_then_extra + R"(
  jmp d_end
d_else:
  memset sbuf[0:4]+256:fp32[1,64], 3  inc(s2,2)
d_end:
  nop
.engine pool
  ldr r0, sbuf[0:1]+0:int32  wait(s4>=1)
  beq r0, 0, p_else
  copy sbuf[0:4]+1024:fp32[1,64], sbuf[0:4]+512:fp32[1,64]  wait(s2>=2)
  jmp p_end
p_else:
  copy sbuf[0:4]+1024:fp32[1,64], sbuf[0:4]+256:fp32[1,64]  wait(s2>=2)
p_end:
  nop
)";
}

}  // namespace

TEST_CASE("check: both paths of a branch on a loaded value, the same choice on every engine",
          "[check]") {
  CheckReport r = check_tasm(branchy());
  INFO(r.text());
  CHECK(r.clean());
  CHECK(r.paths == 2);
  CHECK(!r.paths_truncated);
  // Each single path: the condition read as 0 and as 1.
  for (uint8_t v : {0, 1}) {
    CheckOptions o;
    o.ldr_choices = {v};
    CheckReport one = check_tasm(branchy(), o);
    CHECK(one.clean());
    CHECK(one.paths == 1);
  }
}

TEST_CASE("check: a race on one path only is found", "[check]") {
  // dve's then-part writes pool's destination after its increments: unordered with pool's copy.
  CheckReport r = check_tasm(branchy("  memset sbuf[0:4]+1024:fp32[1,64], 9\n"));
  INFO(r.text());
  REQUIRE(r.races.size() == 1);
  CHECK(r.races[0].kind == RaceKind::Waw);
  CHECK(r.races[0].first.name == "core0 dve #4 (memset)");
  CHECK(r.races[0].second.name == "core0 pool #2 (copy)");
  CHECK(r.paths == 2);
  CheckOptions else_only;
  else_only.ldr_choices = {0};
  CHECK(check_tasm(branchy("  memset sbuf[0:4]+1024:fp32[1,64], 9\n"), else_only).clean());
}

TEST_CASE("check: nested branches give one path per leaf; max_paths bounds the runs",
          "[check]") {
  const std::string nested = R"(
.tensor c input int32 [1]
.core 0
.engine sp
  dma q0, sbuf[0:1]+0:int32, hbm.c+0:int32{1,1}  inc(s4)
  dma q1, sbuf[0:1]+4:int32, hbm.c+0:int32{1,1}  inc(s5)
.engine dve
  ldr r0, sbuf[0:1]+0:int32  wait(s4>=1)
  beq r0, 0, out
  ldr r1, sbuf[0:1]+4:int32  wait(s5>=1)
  beq r1, 0, out
  nop
out:
  nop
)";
  CheckReport r = check_tasm(nested);
  CHECK(r.clean());
  CHECK(r.paths == 3);  // outer 0; outer 1 with inner 0 and 1
  CheckOptions o;
  o.max_paths = 2;
  r = check_tasm(nested, o);
  CHECK(r.paths == 2);
  CHECK(r.paths_truncated);
}

TEST_CASE("check: a value rewritten at the same address is a new choice", "[check]") {
  // The second load reads bytes the second DMA wrote: a different value, so 2 x 2 paths.
  CheckReport r = check_tasm(R"(
.tensor c input int32 [1]
.core 0
.engine sp
  dma q0, sbuf[0:1]+0:int32, hbm.c+0:int32{1,1}  inc(s4)
  dma q0, sbuf[0:1]+0:int32, hbm.c+0:int32{1,1}  wait(s2>=1) inc(s4)
.engine dve
  ldr r0, sbuf[0:1]+0:int32  wait(s4>=1) inc(s2)
  beq r0, 0, a
  nop
a:
  ldr r1, sbuf[0:1]+0:int32  wait(s4>=2)
  beq r1, 0, b
  nop
b:
  nop
)");
  INFO(r.text());
  CHECK(r.clean());
  CHECK(r.paths == 4);
}

TEST_CASE("check: waits needed on one path only are found needed", "[check]") {
  trnsim::isa::Program p = trnsim::isa::assemble(branchy(), "b.tasm");
  bool then_wait = false;
  for (const auto& w : trnsim::model::analyse_waits(p, trnsim::test::tiny_target())) {
    INFO(w.site);
    if (w.site.rfind("core0 pool #2 (copy) wait(s2>=2)", 0) == 0) {
      then_wait = true;
      CHECK(w.needed);
      CHECK(w.reports >= 1);
    }
  }
  CHECK(then_wait);
}

TEST_CASE("check: a semaphore increment missing on one path is a deadlock on that path only",
          "[check]") {
  // As a compiler bug would leave it: dve's then-part counts s2 once (its padding to the
  // else-part's 2 is missing), so pool's wait(s2>=2) after the If never returns on that path.
  const std::string text = R"(
.tensor c input int32 [1]
.core 0
.engine sp
  dma q0, sbuf[0:1]+0:int32, hbm.c+0:int32{1,1}  inc(s4)
.engine dve
  ldr r0, sbuf[0:1]+0:int32  wait(s4>=1)
  beq r0, 0, d_else
  memset sbuf[0:4]+256:fp32[1,64], 1  inc(s2)
  jmp d_end
d_else:
  memset sbuf[0:4]+256:fp32[1,64], 3  inc(s2)
  memset sbuf[0:4]+512:fp32[1,64], 4  inc(s2)
d_end:
  nop
.engine pool
  copy sbuf[0:4]+1024:fp32[1,64], sbuf[0:4]+256:fp32[1,64]  wait(s2>=2)
)";
  CheckReport r = check_tasm(text);
  INFO(r.text());
  CHECK(r.paths == 2);
  REQUIRE(r.deadlock);
  REQUIRE(r.deadlock->waiters.size() == 1);
  CHECK(r.deadlock->waiters[0].instr.name == "core0 pool #0 (copy)");
  CHECK(r.deadlock->waiters[0].sem == 2);
  CHECK(r.deadlock->waiters[0].current == 1);
  CHECK(r.deadlock->waiters[0].target == 2);
  for (uint8_t v : {0, 1}) {
    CheckOptions o;
    o.ldr_choices = {v};
    CHECK(static_cast<bool>(check_tasm(text, o).deadlock) == (v == 1));
  }
}
