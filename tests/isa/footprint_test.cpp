// Byte footprints of access patterns (isa/footprint.h): runs against a brute-force byte set,
// dim fusion, HBM rows, the run cap, intersection and cover.
#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "isa/footprint.h"

using namespace trnsim::isa;

namespace {

AccessPattern pat(MemSpace sp, int64_t offset, std::initializer_list<Dim> dims,
                  DType dt = DType::Fp32) {
  AccessPattern ap;
  ap.space = sp;
  ap.dtype = dt;
  ap.offset = offset;
  for (const Dim& d : dims) ap.dims[ap.ndims++] = d;
  return ap;
}

// Every byte the pattern touches, by walking every element.
std::set<int64_t> brute_bytes(const AccessPattern& ap) {
  std::set<int64_t> out;
  const int64_t es = dtype_size(ap.dtype);
  const int rows = ap.space == MemSpace::Hbm ? ap.num_partitions : 1;
  int64_t idx[4] = {0, 0, 0, 0};
  for (int r = 0; r < rows; ++r) {
    const int64_t row = ap.space == MemSpace::Hbm
                            ? (ap.start_partition + r) * ap.partition_stride * es : 0;
    for (idx[0] = 0; idx[0] < (ap.ndims > 0 ? ap.dims[0].count : 1); ++idx[0])
      for (idx[1] = 0; idx[1] < (ap.ndims > 1 ? ap.dims[1].count : 1); ++idx[1])
        for (idx[2] = 0; idx[2] < (ap.ndims > 2 ? ap.dims[2].count : 1); ++idx[2])
          for (idx[3] = 0; idx[3] < (ap.ndims > 3 ? ap.dims[3].count : 1); ++idx[3]) {
            int64_t e = 0;
            for (int d = 0; d < ap.ndims; ++d) e += idx[d] * ap.dims[d].stride;
            for (int64_t b = 0; b < es; ++b) out.insert(ap.offset + row + e * es + b);
          }
  }
  return out;
}

std::set<int64_t> run_bytes(const Runs& runs) {
  std::set<int64_t> out;
  for (const auto& r : runs)
    for (int64_t b = r.first; b < r.second; ++b) out.insert(b);
  return out;
}

}  // namespace

TEST_CASE("pattern_runs: dense dims fuse into one run, strided dims give one run each", "[isa]") {
  Runs r;
  // [64,2][1,64] fp32 is 128 consecutive elements.
  REQUIRE(pattern_runs(pat(MemSpace::Sbuf, 16, {{64, 2}, {1, 64}}), 1, r));
  CHECK(r == Runs{{16, 16 + 512}});
  // Every other row of 8 elements: 4 runs of 32 bytes, 64 bytes apart.
  REQUIRE(pattern_runs(pat(MemSpace::Sbuf, 0, {{16, 4}, {1, 8}}), 4, r));
  CHECK(r == Runs{{0, 32}, {64, 96}, {128, 160}, {192, 224}});
  // Above the cap: refused, nothing returned.
  CHECK_FALSE(pattern_runs(pat(MemSpace::Sbuf, 0, {{16, 4}, {1, 8}}), 3, r));
  CHECK(r.empty());
  // A broadcast (stride 0) dim adds no runs.
  REQUIRE(pattern_runs(pat(MemSpace::Sbuf, 0, {{0, 100}, {1, 8}}), 1, r));
  CHECK(r == Runs{{0, 32}});
}

TEST_CASE("pattern_runs: HBM rows start at (start_partition + p) * partition_stride", "[isa]") {
  AccessPattern ap = pat(MemSpace::Hbm, 8, {{1, 4}}, DType::Bf16);
  ap.start_partition = 2;
  ap.num_partitions = 3;
  ap.partition_stride = 16;
  Runs r;
  REQUIRE(pattern_runs(ap, 3, r));
  CHECK(r == Runs{{8 + 64, 8 + 72}, {8 + 96, 8 + 104}, {8 + 128, 8 + 136}});
  // Rows that are exactly one partition_stride long merge into one run.
  ap.dims[0] = {1, 16};
  REQUIRE(pattern_runs(ap, 1, r));
  CHECK(r == Runs{{8 + 64, 8 + 160}});
}

TEST_CASE("pattern_runs and free_runs agree with a brute-force byte walk", "[isa]") {
  std::mt19937 rng(7);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const DType dts[] = {DType::Fp32, DType::Bf16, DType::Int8};
  for (int iter = 0; iter < 500; ++iter) {
    AccessPattern ap;
    ap.space = pick(0, 1) ? MemSpace::Hbm : MemSpace::Sbuf;
    ap.dtype = dts[pick(0, 2)];
    ap.offset = pick(0, 64) * 2;
    ap.ndims = static_cast<uint8_t>(pick(0, 4));
    for (int d = 0; d < ap.ndims; ++d) ap.dims[d] = {pick(-8, 24), pick(1, 5)};
    if (ap.space == MemSpace::Hbm) {
      ap.start_partition = static_cast<uint16_t>(pick(0, 3));
      ap.num_partitions = static_cast<uint16_t>(pick(1, 4));
      ap.partition_stride = pick(0, 40);
    }
    INFO("iteration " << iter);
    Runs r;
    REQUIRE(pattern_runs(ap, 1 << 20, r));
    CHECK(run_bytes(r) == brute_bytes(ap));
    for (size_t k = 1; k < r.size(); ++k) CHECK(r[k - 1].second < r[k].first);  // merged
    AccessPattern free_only = ap;
    free_only.space = MemSpace::Sbuf;
    free_only.offset = 0;
    free_runs(free_only, r);
    CHECK(run_bytes(r) == brute_bytes(free_only));
  }
}

TEST_CASE("runs_intersect and runs_cover are exact on interleaved runs", "[isa]") {
  const Runs even = {{0, 4}, {8, 12}, {16, 20}, {24, 28}};
  const Runs odd = {{4, 8}, {12, 16}, {20, 24}};
  const Runs one = {{21, 22}};
  CHECK_FALSE(runs_intersect(even, odd));
  CHECK_FALSE(runs_intersect(odd, even));
  CHECK(runs_intersect(odd, one));
  CHECK(runs_intersect(one, odd));
  CHECK_FALSE(runs_intersect(even, one));
  CHECK_FALSE(runs_intersect(even, Runs{}));
  CHECK(runs_cover(odd, one));
  CHECK_FALSE(runs_cover(even, one));
  CHECK(runs_cover(Runs{{0, 28}}, even));
  CHECK_FALSE(runs_cover(even, Runs{{0, 28}}));
  CHECK_FALSE(runs_cover(even, Runs{{2, 10}}));  // straddles a gap
  CHECK(runs_cover(even, Runs{}));
}

TEST_CASE("Footprint::meets agrees with a brute-force byte walk, and gives up as overlap",
          "[isa]") {
  std::mt19937 rng(11);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int hits = 0, misses = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    AccessPattern ap;
    ap.space = pick(0, 1) ? MemSpace::Hbm : MemSpace::Sbuf;
    ap.dtype = pick(0, 1) ? DType::Fp32 : DType::Bf16;
    ap.offset = pick(0, 32) * 2;
    ap.ndims = static_cast<uint8_t>(pick(1, 3));
    for (int d = 0; d < ap.ndims; ++d) ap.dims[d] = {pick(-12, 30), pick(1, 4)};
    if (ap.space == MemSpace::Hbm) {
      ap.start_partition = static_cast<uint16_t>(pick(0, 2));
      ap.num_partitions = static_cast<uint16_t>(pick(1, 3));
      ap.partition_stride = pick(-20, 60);
    }
    const std::set<int64_t> bytes = brute_bytes(ap);
    const Footprint f = footprint_of(ap);
    const int64_t lo = pick(-200, 400), hi = lo + pick(1, 12);
    bool want = false;
    for (int64_t b = lo; b < hi; ++b) want = want || bytes.count(b) > 0;
    int64_t budget = 1 << 20;
    INFO("iteration " << iter << " [" << lo << ", " << hi << ")");
    CHECK(f.meets(lo, hi, budget) == want);
    (want ? hits : misses) += 1;
  }
  CHECK(hits > 100);  // both outcomes exercised
  CHECK(misses > 100);
  // Out of budget: reported as meeting (the safe answer).
  // Every other fp32 element of 50 rows: bytes [4, 8) fall in the first gap.
  const Footprint f = footprint_of(pat(MemSpace::Sbuf, 0, {{64, 50}, {2, 8}}));
  int64_t budget = 0;
  CHECK(f.meets(4, 8, budget));
  budget = 100;
  CHECK_FALSE(f.meets(4, 8, budget));
  CHECK(f.meets(8, 9, budget));
}

TEST_CASE("footprints_meet_same_strides agrees with a brute-force byte walk", "[isa]") {
  std::mt19937 rng(5);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int meets = 0, apart = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    AccessPattern a;
    a.space = MemSpace::Hbm;
    a.num_partitions = static_cast<uint16_t>(pick(1, 4));
    a.partition_stride = pick(-10, 50);
    a.ndims = static_cast<uint8_t>(pick(1, 2));
    for (int d = 0; d < a.ndims; ++d) a.dims[d] = {pick(-6, 12), pick(1, 4)};
    AccessPattern b = a;  // same strides, other counts and offset
    b.num_partitions = static_cast<uint16_t>(pick(1, 4));
    b.start_partition = static_cast<uint16_t>(pick(0, 2));
    for (int d = 0; d < b.ndims; ++d) b.dims[d].count = pick(1, 4);
    a.offset = pick(0, 40) * 4;
    b.offset = pick(0, 40) * 4;
    const Footprint fa = footprint_of(a), fb = footprint_of(b);
    int64_t budget = 1 << 20;
    const int got = footprints_meet_same_strides(fa, fb, budget);
    if (got < 0) continue;  // normalisation made the strides differ (fused or dropped dims)
    const std::set<int64_t> ba = brute_bytes(a), bb = brute_bytes(b);
    bool want = false;
    for (int64_t x : ba) want = want || bb.count(x) > 0;
    INFO("iteration " << iter);
    CHECK(got == (want ? 1 : 0));
    (want ? meets : apart) += 1;
  }
  CHECK(meets > 100);
  CHECK(apart > 100);
  int64_t budget = 100;
  CHECK(footprints_meet_same_strides(footprint_of(AccessPattern{}), footprint_of(AccessPattern{}),
                                     budget) == 1);
}

TEST_CASE("patterns_meet agrees with a brute-force byte walk, strides equal or not", "[isa]") {
  std::mt19937 rng(11);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto random_hbm = [&]() {
    AccessPattern a;
    a.space = MemSpace::Hbm;
    a.num_partitions = static_cast<uint16_t>(pick(1, 4));
    a.partition_stride = pick(0, 50);
    a.start_partition = static_cast<uint16_t>(pick(0, 2));
    a.ndims = static_cast<uint8_t>(pick(1, 2));
    for (int d = 0; d < a.ndims; ++d) a.dims[d] = {pick(1, 12), pick(1, 4)};
    a.offset = pick(0, 40) * 4;
    return a;
  };
  int meets = 0, apart = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    const AccessPattern a = random_hbm(), b = random_hbm();
    const std::set<int64_t> ba = brute_bytes(a), bb = brute_bytes(b);
    bool want = false;
    for (int64_t x : ba) want = want || bb.count(x) > 0;
    INFO("iteration " << iter);
    CHECK(patterns_meet(a, b) == want);
    (want ? meets : apart) += 1;
  }
  CHECK(meets > 100);
  CHECK(apart > 100);
  // The column tiles of a row-major [4, 8] fp32 tensor: hulls overlap, bytes do not.
  AccessPattern t0 = pat(MemSpace::Hbm, 0, {{1, 4}});
  t0.num_partitions = 4;
  t0.partition_stride = 8;
  AccessPattern t1 = t0;
  t1.offset = 16;
  CHECK(byte_hull(t0).overlaps(byte_hull(t1)));
  CHECK_FALSE(patterns_meet(t0, t1));
  CHECK(patterns_meet(t0, t0));
  // Strides differ (every other element of columns 4..7): runs against the footprint; with
  // more runs than allowed it is reported as meeting (the safe answer).
  AccessPattern t2 = pat(MemSpace::Hbm, 16, {{2, 2}});
  t2.num_partitions = 4;
  t2.partition_stride = 8;
  CHECK_FALSE(patterns_meet(t0, t2));
  CHECK(patterns_meet(t0, t2, 2));
}
