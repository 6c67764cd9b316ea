// Shadow memory of the race checker: per memory, partition groups of byte interval maps that
// hold the last write and the reads since (internal to the checker).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace trnsim::model::check_detail {

// One dynamic access: the thread, its own vector-clock component at the access, the static
// instruction and the dynamic instance (for analyse_waits). thread < 0: no access.
struct Acc {
  int32_t thread = -1;
  int32_t epoch = 0;
  uint32_t instr = 0;
  uint64_t dyn = 0;
  bool operator==(const Acc& o) const {
    return thread == o.thread && epoch == o.epoch && instr == o.instr && dyn == o.dyn;
  }
};

// State of a span of bytes: the last write (thread < 0: initial contents or none), whether the
// bytes hold a value, and the reads since the last write that no later read subsumes.
struct Cell {
  Acc write;
  bool init = false;
  std::vector<Acc> reads;
  bool operator==(const Cell& o) const {
    return write == o.write && init == o.init && reads == o.reads;
  }
};

// Receives what the shadow finds for the current access.
class ShadowSink {
 public:
  virtual ~ShadowSink() = default;
  // `prev` conflicts with the current access on bytes [lo, hi) of partitions [p0, p1) and is
  // not ordered before it. prev_write: prev is the write (RAW/WAW), else a read (WAR).
  virtual void race(const Acc& prev, bool prev_write, int p0, int p1, int64_t lo,
                    int64_t hi) = 0;
  // Bytes [lo, hi) of partitions [p0, p1) were read but never written.
  virtual void uninit(int p0, int p1, int64_t lo, int64_t hi) = 0;
  // `prev` conflicts with the current access and is ordered before it (another thread).
  virtual void ordered(const Acc& prev) = 0;
};

// The current access: who, with which vector clock, read or write.
struct Access {
  Acc acc;
  const int32_t* vc = nullptr;
  bool write = false;
  bool record_ordered = false;
};

// Bytes of one partition group, as disjoint spans [lo, hi) -> Cell; absent bytes were never
// touched (uninitialised).
class IntervalMap {
 public:
  void apply(int64_t lo, int64_t hi, const Access& a, int p0, int p1, ShadowSink& sink);
  void set_initialised(int64_t lo, int64_t hi);
  size_t size() const { return m_.size(); }
  // The state of byte `x`, or null when it was never touched.
  const Cell* find(int64_t x) const;

 private:
  struct Seg {
    int64_t hi;
    Cell cell;
  };
  using Map = std::map<int64_t, Seg>;
  Map::iterator split(int64_t x);  // ensures a span boundary at x; returns the span at x
  void check_and_update(Cell& c, const Access& a, int p0, int p1, int64_t lo, int64_t hi,
                        ShadowSink& sink);
  void merge(int64_t lo, int64_t hi);
  Map m_;
};

// One memory: SBUF or PSUM of a core (partitions), or an HBM tensor (one partition). The
// partition axis is kept as groups of partitions that were always accessed together.
class Region {
 public:
  explicit Region(int partitions);
  void access(int p0, int p1, const std::vector<std::pair<int64_t, int64_t>>& runs,
              int64_t shift, const Access& a, ShadowSink& sink);
  void set_initialised(int64_t lo, int64_t hi);
  // The state of byte `x` of partition `p`, or null when it was never touched.
  const Cell* find(int p, int64_t x) const;

 private:
  struct Group {
    int hi;
    IntervalMap bytes;
  };
  std::map<int, Group>::iterator split(int p);
  std::map<int, Group> groups_;
  int partitions_;
};

}  // namespace trnsim::model::check_detail
