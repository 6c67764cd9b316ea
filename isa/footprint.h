// Byte footprints of access patterns as sorted, merged byte runs (used by the compiler's sync
// pass and by the race detector).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "isa/program.h"

namespace trnsim::isa {

using Runs = std::vector<std::pair<int64_t, int64_t>>;  // [lo, hi) byte runs, sorted, disjoint

// The hull of the bytes `ap` touches, ignoring its offset register: partitions [p0, p1) and
// bytes [lo, hi) within each of them for SBUF/PSUM; for HBM p0 = 0, p1 = 1 and [lo, hi) the
// tensor's bytes over all rows (start_partition included).
struct ByteHull {
  int64_t p0 = 0, p1 = 0, lo = 0, hi = 0;
  bool contains(const ByteHull& o) const {
    return p0 <= o.p0 && o.p1 <= p1 && lo <= o.lo && o.hi <= hi;
  }
  bool overlaps(const ByteHull& o) const {
    return p0 < o.p1 && o.p0 < p1 && lo < o.hi && o.lo < hi;
  }
};
ByteHull byte_hull(const AccessPattern& ap);

// Sorts `r`, drops empty runs and merges runs that touch or overlap.
void sort_merge_runs(Runs& r);

// Sorted merged runs of one pattern's free dims (bytes, relative to the pattern's offset). A
// pattern that would need more than 2^22 runs is summarised by its hull (no real chip has one;
// the bound keeps a corrupt program from exhausting memory). No free elements: no runs.
void free_runs(const AccessPattern& ap, Runs& out);

// Every byte `ap` touches, ignoring its offset register: for SBUF/PSUM the bytes within each
// of its partitions (the same in all of them), for HBM the bytes of the tensor over all its
// rows. Returns false, leaving `out` empty, when that takes more than `max_runs` contiguous
// runs before merging (the caller then falls back to a coarser test).
bool pattern_runs(const AccessPattern& ap, int64_t max_runs, Runs& out);

// A pattern's bytes in normalised affine form: base + sum_d i_d * stride[d] + [0, run) for
// 0 <= i_d < count[d], outermost first, with count-1 and stride-0 dims dropped and dims fused
// where an outer stride is the inner dim's whole extent (a dense innermost dim is `run`).
// SBUF/PSUM: the bytes within each partition; HBM: the tensor's bytes over all rows.
struct Footprint {
  int n = 0;
  int64_t stride[5] = {};
  int64_t count[5] = {};
  int64_t ext_lo[6] = {};  // min over dims d.. of their offset (<= 0)
  int64_t ext_hi[6] = {};  // max over dims d.. of their offset, plus run
  int64_t run = 0;
  int64_t base = 0;
  bool empty = false;

  // Contiguous runs before merging (saturates at 2^40).
  int64_t num_runs() const;
  // Whether a byte of [lo, hi) is in the footprint. Exact unless it takes more than `budget`
  // steps (each step uses one): then true. O(n) per run of the footprint near [lo, hi).
  bool meets(int64_t lo, int64_t hi, int64_t& budget) const;
};

// The footprint of `ap`, ignoring its offset register.
Footprint footprint_of(const AccessPattern& ap);

// For footprints whose dims have the same strides (counts, runs and bases may differ): whether
// they share a byte, found as whether base_a - base_b + sum k_d * stride[d] lies in
// (-run_a, run_b) for some k_d in (-count_b[d], count_a[d]) (Footprint::meets on that
// difference, so exact within `budget` steps). -1 when the strides differ.
int footprints_meet_same_strides(const Footprint& a, const Footprint& b, int64_t& budget);

// Whether two patterns of the same memory space (and, for HBM, the same tensor; partitions
// are not compared) share a byte: one lattice test when their strides agree, else each run of
// the one with fewer runs (at most `max_runs`) against the other's footprint. True when unsure
// (more runs, more than `budget` search steps, or an offset register).
bool patterns_meet(const AccessPattern& a, const AccessPattern& b, int64_t max_runs = 4096,
                   int64_t budget = 4096);

// Whether two sorted merged run lists share a byte: O(min(|a|, |b|) * log(max)).
bool runs_intersect(const Runs& a, const Runs& b);

// Whether every byte of `inner` is in `outer` (both sorted and merged).
bool runs_cover(const Runs& outer, const Runs& inner);

}  // namespace trnsim::isa
