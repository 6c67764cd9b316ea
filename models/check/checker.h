// The abstract execution behind check_program(): threads, vector clocks, semaphores, barriers,
// DMA queues and the shadow memories (internal to the checker).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "models/check/check.h"
#include "models/check/footprint.h"
#include "models/check/shadow.h"

namespace trnsim::model::check_detail {

// Stable name of one dynamic instruction across runs of variants of a program that differ only
// in their waits: (issuing engine thread, its dynamic instruction count).
inline uint64_t stable_id(int engine_thread, uint32_t dyn) {
  return (static_cast<uint64_t>(engine_thread) << 40) | dyn;
}

struct PairHash {
  size_t operator()(const std::pair<uint64_t, uint64_t>& p) const {
    return std::hash<uint64_t>()(p.first * 0x9E3779B97F4A7C15ull ^ p.second);
  }
};

class Checker : public ShadowSink {
 public:
  Checker(const isa::Program& prog, const isa::Target& target, const CheckOptions& opts);
  CheckReport run();

  // analyse_waits support. Recording: every cross-thread conflicting pair found ordered.
  bool record_ordered = false;
  std::unordered_set<std::pair<uint64_t, uint64_t>, PairHash> ordered_pairs;
  // Replay: the (thread, epoch) of accesses named in `want_x` and the vector clock of the
  // accesses named in `want_y`.
  std::unordered_set<uint64_t> want_x, want_y;
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> seen_x;
  std::unordered_map<uint64_t, std::vector<int32_t>> seen_y;

  // The value chosen for each distinct `ldr` value met, in order (see CheckOptions).
  const std::vector<uint8_t>& ldr_decisions() const { return ldr_decisions_; }

  void race(const Acc& prev, bool prev_write, int p0, int p1, int64_t lo, int64_t hi) override;
  void uninit(int p0, int p1, int64_t lo, int64_t hi) override;
  void ordered(const Acc& prev) override;

 private:
  struct Transfer {
    uint32_t instr = 0;
    std::vector<int32_t> vc;
    int64_t regs[isa::kNumRegisters] = {};
    uint64_t stable = 0;
  };
  enum class BlockKind : uint8_t { None, Semaphore, Barrier };
  struct Thread {
    bool is_queue = false;
    int core = 0;
    isa::Engine engine = isa::Engine::Sp;
    int queue = -1;
    const std::vector<isa::Instr>* stream = nullptr;
    uint32_t instr_base = 0;
    std::vector<int32_t> vc;
    int64_t regs[isa::kNumRegisters] = {};
    size_t pc = 0;
    bool done = false;
    bool at_barrier = false;
    bool barrier_passed = false;
    int64_t executed = 0;
    uint32_t dyn = 0;
    BlockKind block = BlockKind::None;
    uint16_t sem = 0;
    int64_t target = 0;
    std::deque<Transfer> fifo;
  };
  struct SemState {
    int64_t value = 0;
    std::vector<int64_t> cum;      // value after each increment
    std::vector<int32_t> prefix;   // join of the clocks of increments 0..i, T per entry
  };
  struct StaticInstr {
    int core;
    isa::Engine engine;
    size_t index;
    const isa::Instr* in;
    bool footprints_done = false;
    std::vector<OperandFootprint> footprints;
  };
  struct BarrierState {
    isa::EngineMask arrived = 0;
  };

  bool step(int t);
  bool step_engine(int t);
  bool step_queue(int t);
  void do_accesses(int t, uint32_t instr, const int64_t* regs, uint64_t stable);
  void fire_incs(const isa::Instr& in, int core, const std::vector<int32_t>& vc,
                 const StaticInstr& si);
  SemState& sem(int core, int id);
  void join(std::vector<int32_t>& into, const int32_t* from) const;
  InstrSite site(uint32_t instr) const;
  MemRange range(int p0, int p1, int64_t lo, int64_t hi) const;
  std::string thread_state(const Thread& th) const;
  Deadlock deadlock() const;
  int64_t ldr_value(const Thread& th, const isa::Instr& in);

  const isa::Program& prog_;
  isa::Target target_;
  CheckOptions opts_;
  std::vector<Thread> threads_;
  std::vector<StaticInstr> instrs_;
  std::vector<int64_t> fired_;  // per static instruction: completions that fired increments
  std::vector<std::vector<SemState>> sems_;
  std::vector<std::map<isa::EngineMask, BarrierState>> barriers_;
  std::vector<std::vector<int>> engine_thread_;  // [core][engine] -> thread
  std::vector<std::map<int, int>> queue_thread_;  // [core] queue -> thread
  std::vector<std::unique_ptr<Region>> sbuf_, psum_, hbm_;
  // HBM tensors that need no shadow: initialised (input/const) and written by no instruction,
  // so their reads can neither race nor be uninitialised.
  std::vector<bool> hbm_read_only_;
  size_t nthreads_ = 0;
  // Shadow memories are kept for race and uninitialised-read reports, and for `ldr`, whose
  // value is named by the instruction that last wrote the bytes it reads.
  bool shadow_ = false;
  // Distinct ldr values: (space, core, partition, byte, writer thread, writer instance).
  std::map<std::tuple<int, int, int, int64_t, int32_t, uint64_t>, uint8_t> ldr_values_;
  std::vector<uint8_t> ldr_decisions_;

  // The access being checked.
  struct Current {
    uint32_t instr = 0;
    bool write = false;
    isa::MemSpace space = isa::MemSpace::None;
    int core = 0;
    int tensor = -1;
    int p0 = 0, p1 = 0;
    uint64_t stable = 0;
  } cur_;
  CheckReport report_;
  std::map<std::pair<uint32_t, uint32_t>, size_t> race_index_;
  std::unordered_set<uint32_t> uninit_reported_;
  uint32_t last_uninit_instr_ = UINT32_MAX;
};

}  // namespace trnsim::model::check_detail
