// Race detector: each race kind on a hand-built program, and its synchronised version clean.
#include <catch2/catch.hpp>

#include <string>

#include "tests/check/check_util.h"

using trnsim::model::CheckReport;
using trnsim::model::RaceKind;
using trnsim::test::check_tasm;

namespace {

const char* kTensors =
    ".tensor a input fp32 [4, 64]\n"
    ".tensor out output fp32 [4, 64]\n"
    ".tensor partial scratch fp32 [4, 64]\n";

std::string prog(const std::string& body) { return std::string(kTensors) + body; }

void require_one_race(const CheckReport& r, RaceKind k, const std::string& first,
                      const std::string& second, const std::string& where) {
  INFO(r.text());
  REQUIRE(r.races.size() == 1);
  CHECK(r.races[0].kind == k);
  CHECK(r.races[0].first.name == first);
  CHECK(r.races[0].second.name == second);
  CHECK(r.races[0].range.text() == where);
  CHECK(r.uninit.empty());
  CHECK(!r.deadlock);
}

void require_clean(const CheckReport& r) {
  INFO(r.text());
  CHECK(r.clean());
  CHECK(r.text().empty());
}

}  // namespace

TEST_CASE("RAW between two engines, and its synchronised version", "[check]") {
  // Canonical order runs the engines pe, act, dve, pool, sp in turn: the writer is on dve.
  const std::string raw = prog(R"(
.core 0
.engine dve
  memset sbuf[0:4]+0:fp32[1,64], 1 @fill
.engine pool
  copy sbuf[0:4]+256:fp32[1,64], sbuf[0:4]+0:fp32[1,64] @use
)");
  require_one_race(check_tasm(raw), RaceKind::Raw, "core0 dve #0 (memset) @fill",
                   "core0 pool #0 (copy) @use", "core0 sbuf partitions [0, 4) bytes [0, 256)");
  require_clean(check_tasm(prog(R"(
.core 0
.engine dve
  memset sbuf[0:4]+0:fp32[1,64], 1 inc(s0) @fill
.engine pool
  copy sbuf[0:4]+256:fp32[1,64], sbuf[0:4]+0:fp32[1,64] wait(s0>=1) @use
)")));
  // The other way round in the canonical schedule: the read comes first (and finds nothing
  // written), the write then races with it.
  CheckReport war = check_tasm(prog(R"(
.core 0
.engine act
  copy sbuf[0:4]+256:fp32[1,64], sbuf[0:4]+0:fp32[1,64] @use
.engine dve
  memset sbuf[0:4]+0:fp32[1,64], 1 @fill
)"));
  INFO(war.text());
  REQUIRE(war.races.size() == 1);
  CHECK(war.races[0].kind == RaceKind::War);
  CHECK(war.uninit.size() == 1);
}

TEST_CASE("RAW from a DMA to an engine and from an engine to a DMA", "[check]") {
  // dve waits for the wrong transfer: q3's, which says nothing about q2's load.
  require_one_race(check_tasm(prog(R"(
.core 0
.engine dve
  copy sbuf[0:4]+256:fp32[1,64], sbuf[0:4]+0:fp32[1,64] wait(s1>=1) @use
.engine sp
  dma q2, sbuf[0:4]+0:fp32[1,64], hbm.a+0:fp32{64,4}[1,64] inc(s0) @load
  dma q3, sbuf[0:4]+1024:fp32[1,64], hbm.a+0:fp32{64,4}[1,64] inc(s1) @other
)")),
                   RaceKind::Raw, "core0 sp #0 (dma) @load [q2]", "core0 dve #0 (copy) @use",
                   "core0 sbuf partitions [0, 4) bytes [0, 256)");
  require_clean(check_tasm(prog(R"(
.core 0
.engine dve
  copy sbuf[0:4]+256:fp32[1,64], sbuf[0:4]+0:fp32[1,64] wait(s0>=1) @use
.engine sp
  dma q2, sbuf[0:4]+0:fp32[1,64], hbm.a+0:fp32{64,4}[1,64] inc(s0) @load
  dma q3, sbuf[0:4]+1024:fp32[1,64], hbm.a+0:fp32{64,4}[1,64] inc(s1) @other
)")));
  // A DMA reading SBUF that an engine is still writing: the store is issued by sp without
  // waiting for the memset.
  require_one_race(check_tasm(prog(R"(
.core 0
.engine dve
  memset sbuf[0:4]+0:fp32[1,64], 2 inc(s0) @fill
.engine sp
  dma q0, hbm.out+0:fp32{64,4}[1,64], sbuf[0:4]+0:fp32[1,64] @store
)")),
                   RaceKind::Raw, "core0 dve #0 (memset) @fill", "core0 sp #0 (dma) @store [q0]",
                   "core0 sbuf partitions [0, 4) bytes [0, 256)");
  require_clean(check_tasm(prog(R"(
.core 0
.engine dve
  memset sbuf[0:4]+0:fp32[1,64], 2 inc(s0) @fill
.engine sp
  dma q0, hbm.out+0:fp32{64,4}[1,64], sbuf[0:4]+0:fp32[1,64] wait(s0>=1) @store
)")));
}

TEST_CASE("WAR: a refill overtakes the reader, and queue order orders transfers", "[check]") {
  // load1 waits until pool saw load0 complete (so the loads are ordered anyway, and on the
  // same queue too), but nothing orders it after act's read of the buffer.
  const std::string racy = R"(
.core 0
.engine act
  copy sbuf[0:4]+256:fp32[1,64], sbuf[0:4]+0:fp32[1,64] wait(s0>=1) inc(s1) @use
.engine pool
  nop wait(s0>=1) inc(s2)
.engine sp
  dma q0, sbuf[0:4]+0:fp32[1,64], hbm.a+0:fp32{64,4}[1,64] inc(s0) @load0
  dma q0, sbuf[0:4]+0:fp32[1,64], hbm.a+0:fp32{64,4}[1,64] wait(s2>=1) @load1
)";
  require_one_race(check_tasm(prog(racy)), RaceKind::War, "core0 act #0 (copy) @use",
                   "core0 sp #1 (dma) @load1 [q0]", "core0 sbuf partitions [0, 4) bytes [0, 256)");
  std::string fixed = racy;
  fixed.replace(fixed.find("wait(s2>=1) @load1"), 11, "wait(s1>=1)");
  require_clean(check_tasm(prog(fixed)));
  // On two different queues with no waits the two loads themselves are unordered (WAW), and
  // act, ordered after load0 only, reads load1's bytes (RAW).
  CheckReport r = check_tasm(prog(R"(
.core 0
.engine act
  copy sbuf[0:4]+256:fp32[1,64], sbuf[0:4]+0:fp32[1,64] wait(s0>=1) @use
.engine sp
  dma q0, sbuf[0:4]+0:fp32[1,64], hbm.a+0:fp32{64,4}[1,64] inc(s0) @load0
  dma q1, sbuf[0:4]+0:fp32[1,64], hbm.a+0:fp32{64,4}[1,64] @load1
)"));
  INFO(r.text());
  REQUIRE(r.races.size() == 2);
  CHECK(r.races[0].kind == RaceKind::Waw);
  CHECK(r.races[0].first.name == "core0 sp #0 (dma) @load0 [q0]");
  CHECK(r.races[0].second.name == "core0 sp #1 (dma) @load1 [q1]");
  CHECK(r.races[1].kind == RaceKind::Raw);
  CHECK(r.races[1].first.name == "core0 sp #1 (dma) @load1 [q1]");
  CHECK(r.races[1].second.name == "core0 act #0 (copy) @use");
}

TEST_CASE("WAW between two engines", "[check]") {
  require_one_race(check_tasm(prog(R"(
.core 0
.engine dve
  memset sbuf[0:4]+64:fp32[1,16], 1 @a
.engine pool
  memset sbuf[2:4]+96:fp32[1,32], 2 @b
)")),
                   RaceKind::Waw, "core0 dve #0 (memset) @a", "core0 pool #0 (memset) @b",
                   "core0 sbuf partitions [2, 4) bytes [96, 128)");
  require_clean(check_tasm(prog(R"(
.core 0
.engine dve
  memset sbuf[0:4]+64:fp32[1,16], 1 inc(s3) @a
.engine pool
  memset sbuf[2:4]+96:fp32[1,32], 2 wait(s3>=1) @b
)")));
}

TEST_CASE("PSUM bank reused by a matmul while act still reads it", "[check]") {
  // mm1 waits for a semaphore that only says mm0 finished (via pool), not that act has
  // evacuated the bank.
  const std::string head = R"(
.core 0
.engine sp
  dma q0, sbuf[0:4]+0:fp32[1,64], hbm.a+0:fp32{64,4}[1,64] inc(s0) @load
.engine pe
  matmul psum[0:4]+0:fp32[1,64], sbuf[0:4]+0:fp32[1,4], sbuf[0:4]+0:fp32[1,64], zero wait(s0>=1) inc(s1) @mm0
)";
  require_one_race(check_tasm(prog(head + R"(
  matmul psum[0:4]+0:fp32[1,64], sbuf[0:4]+0:fp32[1,4], sbuf[0:4]+0:fp32[1,64], zero wait(s3>=1) @mm1
.engine act
  copy sbuf[0:4]+512:fp32[1,64], psum[0:4]+0:fp32[1,64] wait(s1>=1) inc(s2) @evacuate
.engine pool
  nop wait(s1>=1) inc(s3)
)")),
                   RaceKind::War, "core0 act #0 (copy) @evacuate", "core0 pe #1 (matmul) @mm1",
                   "core0 psum partitions [0, 4) bytes [0, 256)");
  require_clean(check_tasm(prog(head + R"(
  matmul psum[0:4]+0:fp32[1,64], sbuf[0:4]+0:fp32[1,4], sbuf[0:4]+0:fp32[1,64], zero wait(s2>=1) @mm1
.engine act
  copy sbuf[0:4]+512:fp32[1,64], psum[0:4]+0:fp32[1,64] wait(s1>=1) inc(s2) @evacuate
)")));
}

TEST_CASE("Cross-core RAW through an HBM scratch tensor", "[check]") {
  const std::string core0 = R"(
.core 0
.engine dve
  memset sbuf[0:4]+0:fp32[1,64], 3 inc(s0) @fill
.engine sp
  dma q0, hbm.partial+0:fp32{64,4}[1,64], sbuf[0:4]+0:fp32[1,64] wait(s0>=1) inc(c1.s5) @store
)";
  require_one_race(check_tasm(prog(core0 + R"(
.core 1
.engine sp
  dma q0, sbuf[0:4]+0:fp32[1,64], hbm.partial+0:fp32{64,4}[1,64] @fetch
)")),
                   RaceKind::Raw, "core0 sp #0 (dma) @store [q0]", "core1 sp #0 (dma) @fetch [q0]",
                   "hbm tensor 'partial' bytes [0, 1024)");
  require_clean(check_tasm(prog(core0 + R"(
.core 1
.engine sp
  dma q0, sbuf[0:4]+0:fp32[1,64], hbm.partial+0:fp32{64,4}[1,64] wait(s5>=1) @fetch
)")));
  // The same semaphore number on the wrong core does not order anything.
  CheckReport r = check_tasm(prog(R"(
.core 0
.engine dve
  memset sbuf[0:4]+0:fp32[1,64], 3 inc(s0) @fill
.engine sp
  dma q0, hbm.partial+0:fp32{64,4}[1,64], sbuf[0:4]+0:fp32[1,64] wait(s0>=1) inc(s5) @store
.core 1
.engine dve
  nop inc(s5)
.engine sp
  dma q0, sbuf[0:4]+0:fp32[1,64], hbm.partial+0:fp32{64,4}[1,64] wait(s5>=1) @fetch
)"));
  INFO(r.text());
  CHECK(r.races.size() == 1);
}

TEST_CASE("Interleaved strided patterns and disjoint partitions do not race", "[check]") {
  // Even elements from dve, odd elements from pool, no synchronisation between the two; act
  // reads everything after both.
  const std::string body = R"(
.core 0
.engine act
  copy sbuf[0:4]+1024:fp32[1,64], sbuf[0:4]+0:fp32[1,64] wait(s0>=2) @all
.engine dve
  memset sbuf[0:4]+0:fp32[2,32], 1 inc(s0) @even
.engine pool
  memset sbuf[0:4]+OFF:fp32[2,32], 2 inc(s0) @odd
)";
  auto make = [&](const std::string& off) {
    std::string s = body;
    s.replace(s.find("OFF"), 3, off);
    return prog(s);
  };
  require_clean(check_tasm(make("4")));
  // Odd elements shifted by one element: elements 2, 4, ... 62 are written twice.
  CheckReport racy = check_tasm(make("8"));
  INFO(racy.text());
  REQUIRE(racy.races.size() == 1);
  CHECK(racy.races[0].kind == RaceKind::Waw);
  CHECK(racy.races[0].range.text() == "core0 sbuf partitions [0, 4) bytes [8, 252)");
  // ... and act's read finds the odd elements (bytes 4..7, 12..15, ...) never written.
  REQUIRE(racy.uninit.size() == 1);
  CHECK(racy.uninit[0].range.text() == "core0 sbuf partitions [0, 4) bytes [4, 256)");
  // Same bytes, disjoint partitions.
  require_clean(check_tasm(prog(R"(
.core 0
.engine dve
  memset sbuf[0:2]+0:fp32[1,64], 1 @top
.engine pool
  memset sbuf[2:4]+0:fp32[1,64], 2 @bottom
)")));
}

TEST_CASE("Loops with register-valued waits", "[check]") {
  // sp loads 4 tiles into 4 slots (register-addressed), act copies tile i once s0 >= i+1.
  const std::string loop = R"(
.core 0
.engine sp
  movi r0, 0
  movi r1, 0
load:
  dma q0, sbuf[0:4]+0+r1:fp32[1,64], hbm.a+0:fp32{64,4}[1,64] inc(s0) @load
  addi r1, r1, 256
  addi r0, r0, 1
  blt r0, 4, load
.engine act
  movi r0, FIRST
  movi r1, 0
use:
  copy sbuf[0:4]+2048+r1:fp32[1,64], sbuf[0:4]+0+r1:fp32[1,64] wait(s0>=r0) @use
  addi r1, r1, 256
  addi r0, r0, 1
  blt r0, LAST, use
)";
  auto make = [&](const char* first, const char* last) {
    std::string s = loop;
    s.replace(s.find("FIRST"), 5, first);
    s.replace(s.find("LAST"), 4, last);
    return prog(s);
  };
  CheckReport good = check_tasm(make("1", "5"));
  require_clean(good);
  CHECK(good.dynamic_instructions == 2 + 4 * 4 + 2 + 4 * 4);
  // Off by one: tile i is read once i tiles (not i+1) arrived. The first copy does not wait at
  // all and runs before any load in the canonical schedule (uninitialised read, then the load
  // races with it); the later ones read tiles whose loads they are not ordered after.
  CheckReport bad = check_tasm(make("0", "4"));
  INFO(bad.text());
  REQUIRE(bad.races.size() == 1);  // one static pair, although every iteration races
  CHECK(bad.races[0].kind == RaceKind::War);
  CHECK(bad.races[0].first.name == "core0 act #2 (copy) @use");
  CHECK(bad.races[0].second.name == "core0 sp #2 (dma) @load [q0]");
  REQUIRE(bad.uninit.size() == 1);
  CHECK(bad.uninit[0].range.text() == "core0 sbuf partitions [0, 4) bytes [0, 256)");
  CHECK(bad.races[0].range.text() == "core0 sbuf partitions [0, 4) bytes [0, 1024)");
}

TEST_CASE("Barriers order engines but not DMA transfers", "[check]") {
  require_clean(check_tasm(prog(R"(
.core 0
.engine dve
  memset sbuf[0:4]+0:fp32[1,64], 1 @fill
  barrier act|dve
.engine act
  barrier act|dve
  copy sbuf[0:4]+256:fp32[1,64], sbuf[0:4]+0:fp32[1,64] @use
)")));
  CheckReport no_barrier = check_tasm(prog(R"(
.core 0
.engine dve
  memset sbuf[0:4]+0:fp32[1,64], 1 @fill
.engine act
  copy sbuf[0:4]+256:fp32[1,64], sbuf[0:4]+0:fp32[1,64] @use
)"));
  CHECK(no_barrier.races.size() == 1);
  // sp issues the load before the barrier, but the transfer may complete after it.
  CheckReport dma = check_tasm(prog(R"(
.core 0
.engine sp
  dma q0, sbuf[0:4]+0:fp32[1,64], hbm.a+0:fp32{64,4}[1,64] @load
  barrier act|sp
.engine act
  barrier act|sp
  copy sbuf[0:4]+256:fp32[1,64], sbuf[0:4]+0:fp32[1,64] @use
)"));
  INFO(dma.text());
  REQUIRE(dma.races.size() == 1);
  CHECK(dma.races[0].first.name == "core0 sp #0 (dma) @load [q0]");
}

TEST_CASE("Reports are deterministic and deduplicated", "[check]") {
  const std::string p = prog(R"(
.core 0
.engine dve
  memset sbuf[0:4]+0:fp32[1,64], 1 @fill
  memset sbuf[0:4]+0:fp32[1,64], 1 @fill2
.engine pool
  copy sbuf[0:4]+256:fp32[1,64], sbuf[0:4]+0:fp32[1,64] @use
  copy sbuf[0:4]+256:fp32[1,64], sbuf[0:4]+0:fp32[1,64] @use2
)");
  CheckReport a = check_tasm(p), b = check_tasm(p);
  CHECK(a.text() == b.text());
  // dve runs both memsets first; the shadow keeps the last writer, so each copy races with
  // fill2 (fill is ordered before fill2 by program order): two pairs, each reported once.
  CHECK(a.races.size() == 2);
}
