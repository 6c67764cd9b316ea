// Static codegen checks: data races, uninitialised reads and deadlock explanation, found by an
// abstract, timing-independent execution of a whole program with vector clocks (no SystemC).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "isa/program.h"
#include "isa/target.h"

namespace trnsim::model {

// One static instruction: where it lives and, for dma/dma_gather, the queue its transfer runs
// on. `name` is describe_instr()'s text plus " [qN]" for transfers.
struct InstrSite {
  int core = 0;
  isa::Engine engine = isa::Engine::Sp;
  size_t index = 0;
  int queue = -1;
  std::string name;
};

// Bytes of one memory: SBUF/PSUM of `core` (partitions [p0, p1), bytes [lo, hi) in each), or
// HBM tensor `tensor` (bytes [lo, hi) of the tensor; p0 = 0, p1 = 1).
struct MemRange {
  isa::MemSpace space = isa::MemSpace::None;
  int core = 0;
  int tensor = -1;
  std::string tensor_name;
  int p0 = 0;
  int p1 = 0;
  int64_t lo = 0;
  int64_t hi = 0;
  std::string text() const;
};

// RAW: `first` writes, `second` reads. WAR: `first` reads, `second` writes. WAW: both write.
// `first` is the earlier one in the checker's canonical schedule; neither is ordered before
// the other by program order, semaphores, barriers or DMA queue order.
enum class RaceKind : uint8_t { Raw, War, Waw };
const char* race_kind_name(RaceKind k);

struct Race {
  RaceKind kind = RaceKind::Raw;
  InstrSite first;
  InstrSite second;
  MemRange range;  // hull of the conflicting bytes of this pair (first memory where found)
  std::string text() const;
};

// A read of bytes never written since the start (SBUF/PSUM, HBM output/scratch tensors).
struct UninitRead {
  InstrSite instr;
  MemRange range;  // the first such range the instruction read
  std::string text() const;
};

// An instruction anywhere in the program that increments the awaited semaphore.
struct SemIncrementer {
  InstrSite instr;
  uint32_t amount = 0;
  int64_t executed = 0;  // times its increment fired in the abstract execution
  std::string where;     // state of its stream: "finished", "blocked at #3 (nop) ..."
};

struct DeadlockWaiter {
  InstrSite instr;
  bool barrier = false;
  uint16_t sem = 0;
  int64_t current = 0;  // semaphore value when everything stopped
  int64_t target = 0;   // awaited value
  isa::EngineMask barrier_mask = 0;
  isa::EngineMask barrier_arrived = 0;
  std::vector<SemIncrementer> incrementers;
};

struct Deadlock {
  std::vector<DeadlockWaiter> waiters;
  std::string text() const;
};

// Identifies one semaphore wait of one instruction (slot 0 or 1).
struct WaitRef {
  int core = 0;
  isa::Engine engine = isa::Engine::Sp;
  size_t index = 0;
  int slot = 0;
};

struct CheckOptions {
  bool races = true;
  bool uninit = true;
  // A runaway loop ends the analysis with a SimFault naming the engine.
  int64_t max_instructions_per_engine = 50000000;
  size_t max_reports = 1000;  // per kind; the rest are counted in CheckReport::dropped
  std::optional<WaitRef> skip_wait;  // analyse the program as if this wait were absent
  // The values `ldr` loads depend on data, which the checker does not hold. Each distinct
  // loaded value (the bytes read and the dynamic instruction that last wrote them, so every
  // engine's ldr of one condition gets the same value) is taken as ldr_choices[k], k counting
  // the distinct values in the order first met, and 0 beyond the vector. check_program() with
  // empty ldr_choices enumerates them: every path through the program's branches on loaded
  // values (0 and 1 each), up to max_paths runs.
  std::vector<uint8_t> ldr_choices;
  size_t max_paths = 64;
};

struct CheckReport {
  std::vector<Race> races;
  std::vector<UninitRead> uninit;
  std::optional<Deadlock> deadlock;
  size_t dropped = 0;
  int64_t dynamic_instructions = 0;  // of the longest path
  // Paths through branches on `ldr` values that were analysed (1 without ldr), and whether
  // max_paths stopped the enumeration before every path was seen.
  size_t paths = 1;
  bool paths_truncated = false;
  bool clean() const { return races.empty() && uninit.empty() && !deadlock; }
  // Every report, one per line (deadlocks take several); "" when clean.
  std::string text() const;
};

// Abstract execution of `prog` on `target`'s geometry, once per path through its branches on
// `ldr` values (see CheckOptions::ldr_choices); the reports of all paths are merged (each race
// pair, uninitialised read and the first deadlock once). Deterministic: the same program gives
// the same report. Throws SimFault when an engine exceeds the instruction budget, a DMA queue
// or an incremented semaphore's core does not exist.
CheckReport check_program(const isa::Program& prog, const isa::Target& target,
                          const CheckOptions& opts = {});

// Why `prog` deadlocks ("" when it runs to completion): every blocked engine with its
// semaphore (current and awaited value) or barrier, and every instruction that increments
// that semaphore with how far its stream got. Semaphore counts are monotonic, so the blocked
// state does not depend on timing: the simulator's deadlock is the same one.
std::string explain_deadlock(const isa::Program& prog);

// For every semaphore wait of the program: is it needed (without it some conflicting access
// pair, ordered in the original program, is no longer ordered, on some path through its
// branches on `ldr` values), and how many reports the checker gives for the program without
// it (on the path with the most). Each wait costs one run of the checker over the
// whole program per path; max_waits > 0 analyses at most that many, evenly spaced over the
// program's waits (for programs with thousands of them).
struct WaitAnalysis {
  WaitRef wait;
  std::string site;  // the instruction, as InstrSite::name, plus the wait text
  bool needed = false;
  size_t reports = 0;
};
std::vector<WaitAnalysis> analyse_waits(const isa::Program& prog, const isa::Target& target,
                                        size_t max_waits = 0);

}  // namespace trnsim::model
