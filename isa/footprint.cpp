// Byte footprints of access patterns.
#include "isa/footprint.h"

#include <algorithm>

namespace trnsim::isa {

namespace {

constexpr int64_t kMaxFreeRuns = int64_t{1} << 22;
constexpr int64_t kSaturate = int64_t{1} << 40;

void add_dim(Footprint& f, int64_t st, int64_t cnt) {
  if (cnt <= 0) f.empty = true;
  if (cnt <= 1 || st == 0) return;
  if (f.n > 0 && f.stride[f.n - 1] == st * cnt) {  // the previous (outer) dim continues this one
    f.stride[f.n - 1] = st;
    f.count[f.n - 1] *= cnt;
    return;
  }
  f.stride[f.n] = st;
  f.count[f.n] = cnt;
  ++f.n;
}

// Folds a dense innermost dim into `run` and fills the extents.
void finish(Footprint& f, int64_t es) {
  f.run = es;
  if (f.n > 0 && f.stride[f.n - 1] == es) {
    f.run = es * f.count[f.n - 1];
    --f.n;
  }
  f.ext_lo[f.n] = 0;
  f.ext_hi[f.n] = f.run;
  for (int d = f.n - 1; d >= 0; --d) {
    const int64_t span = f.stride[d] * (f.count[d] - 1);
    f.ext_lo[d] = f.ext_lo[d + 1] + std::min<int64_t>(span, 0);
    f.ext_hi[d] = f.ext_hi[d + 1] + std::max<int64_t>(span, 0);
  }
}

Footprint free_footprint(const AccessPattern& ap, int64_t es) {
  Footprint f;
  for (int d = 0; d < std::min<int>(ap.ndims, 4); ++d)
    add_dim(f, ap.dims[d].stride * es, ap.dims[d].count);
  finish(f, es);
  return f;
}

// Appends every run of `f` (unsorted).
void enumerate(const Footprint& f, Runs& out) {
  int64_t idx[5] = {0, 0, 0, 0, 0};
  int64_t pos = f.base;
  for (;;) {
    out.emplace_back(pos, pos + f.run);
    int d = f.n - 1;
    while (d >= 0) {
      pos += f.stride[d];
      if (++idx[d] < f.count[d]) break;
      pos -= f.stride[d] * f.count[d];
      idx[d] = 0;
      --d;
    }
    if (d < 0) return;
  }
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool meets_from(const Footprint& f, int d, int64_t base, int64_t lo, int64_t hi,
                int64_t& budget) {
  if (--budget < 0) return true;
  if (base + f.ext_lo[d] >= hi || base + f.ext_hi[d] <= lo) return false;
  if (d == f.n) return true;  // [base, base + run) meets [lo, hi)
  // Indices i with base + i*st + ext_lo[d+1] < hi and base + i*st + ext_hi[d+1] > lo.
  const int64_t st = f.stride[d];
  const int64_t a = lo - base - f.ext_hi[d + 1];  // need i*st > a
  const int64_t b = hi - base - f.ext_lo[d + 1];  // need i*st < b
  // st > 0: a < i*st < b; st < 0: -b < i*|st| < -a.
  const int64_t s_abs = st > 0 ? st : -st;
  const int64_t lo_t = st > 0 ? a : -b, hi_t = st > 0 ? b : -a;
  int64_t i0 = floor_div(lo_t, s_abs) + 1;  // inclusive
  int64_t i1 = floor_div(hi_t - 1, s_abs);
  i0 = std::max<int64_t>(i0, 0);
  i1 = std::min<int64_t>(i1, f.count[d] - 1);
  for (int64_t i = i0; i <= i1; ++i) {
    if (meets_from(f, d + 1, base + i * st, lo, hi, budget)) return true;
    if (budget < 0) return true;
  }
  return false;
}

}  // namespace

int64_t Footprint::num_runs() const {
  int64_t total = 1;
  for (int d = 0; d < n; ++d) total = count[d] > kSaturate / total ? kSaturate : total * count[d];
  return total;
}

bool Footprint::meets(int64_t lo, int64_t hi, int64_t& budget) const {
  if (empty || lo >= hi) return false;
  return meets_from(*this, 0, base, lo, hi, budget);
}

Footprint footprint_of(const AccessPattern& ap) {
  const int64_t es = dtype_size(ap.dtype);
  Footprint f;
  f.base = ap.offset;
  if (ap.space == MemSpace::Hbm) {
    if (ap.num_partitions <= 0) f.empty = true;
    f.base += ap.start_partition * ap.partition_stride * es;
    add_dim(f, ap.partition_stride * es, ap.num_partitions);
  }
  for (int d = 0; d < std::min<int>(ap.ndims, 4); ++d)
    add_dim(f, ap.dims[d].stride * es, ap.dims[d].count);
  finish(f, es);
  return f;
}

int footprints_meet_same_strides(const Footprint& a, const Footprint& b, int64_t& budget) {
  if (a.n != b.n) return -1;
  for (int d = 0; d < a.n; ++d)
    if (a.stride[d] != b.stride[d]) return -1;
  if (a.empty || b.empty) return 0;
  Footprint diff;
  diff.n = a.n;
  diff.base = a.base - b.base;
  for (int d = 0; d < a.n; ++d) {
    diff.stride[d] = a.stride[d];
    diff.count[d] = a.count[d] + b.count[d] - 1;
    diff.base -= (b.count[d] - 1) * a.stride[d];
  }
  diff.run = 1;
  diff.ext_lo[diff.n] = 0;
  diff.ext_hi[diff.n] = 1;
  for (int d = diff.n - 1; d >= 0; --d) {
    const int64_t span = diff.stride[d] * (diff.count[d] - 1);
    diff.ext_lo[d] = diff.ext_lo[d + 1] + std::min<int64_t>(span, 0);
    diff.ext_hi[d] = diff.ext_hi[d + 1] + std::max<int64_t>(span, 0);
  }
  return diff.meets(1 - a.run, b.run, budget) ? 1 : 0;
}

bool patterns_meet(const AccessPattern& a, const AccessPattern& b, int64_t max_runs,
                   int64_t budget) {
  if (a.offset_reg >= 0 || b.offset_reg >= 0 || a == b) return true;
  const Footprint fa = footprint_of(a), fb = footprint_of(b);
  if (fa.empty || fb.empty) return false;
  const int same = footprints_meet_same_strides(fa, fb, budget);
  if (same >= 0) return same == 1;
  const bool a_small = fa.num_runs() <= fb.num_runs();
  const Footprint& big = a_small ? fb : fa;
  Runs rs;
  if (!pattern_runs(a_small ? a : b, max_runs, rs)) return true;
  for (const auto& r : rs)
    if (big.meets(r.first, r.second, budget)) return true;
  return false;
}

void sort_merge_runs(Runs& r) {
  if (!std::is_sorted(r.begin(), r.end())) std::sort(r.begin(), r.end());
  size_t n = 0;
  for (const auto& x : r) {
    if (x.second <= x.first) continue;
    if (n > 0 && x.first <= r[n - 1].second) {
      r[n - 1].second = std::max(r[n - 1].second, x.second);
    } else {
      r[n++] = x;
    }
  }
  r.resize(n);
}

void free_runs(const AccessPattern& ap, Runs& out) {
  out.clear();
  const int64_t es = dtype_size(ap.dtype);
  const Footprint f = free_footprint(ap, es);
  if (f.empty) return;
  if (f.num_runs() > kMaxFreeRuns) {
    out.emplace_back(f.ext_lo[0], f.ext_hi[0]);
    return;
  }
  enumerate(f, out);
  sort_merge_runs(out);
}

bool pattern_runs(const AccessPattern& ap, int64_t max_runs, Runs& out) {
  out.clear();
  const Footprint f = footprint_of(ap);
  if (f.empty) return true;
  if (f.num_runs() > max_runs) return false;
  enumerate(f, out);
  sort_merge_runs(out);
  return true;
}

bool runs_intersect(const Runs& a, const Runs& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].second <= b[j].first) {
      const int64_t lo = b[j].first;
      i = std::partition_point(a.begin() + i, a.end(),
                               [lo](const auto& r) { return r.second <= lo; }) - a.begin();
    } else if (b[j].second <= a[i].first) {
      const int64_t lo = a[i].first;
      j = std::partition_point(b.begin() + j, b.end(),
                               [lo](const auto& r) { return r.second <= lo; }) - b.begin();
    } else {
      return true;
    }
  }
  return false;
}

bool runs_cover(const Runs& outer, const Runs& inner) {
  size_t k = 0;
  for (const auto& r : inner) {
    const int64_t lo = r.first;
    k = std::partition_point(outer.begin() + k, outer.end(),
                             [lo](const auto& o) { return o.second <= lo; }) - outer.begin();
    if (k == outer.size() || outer[k].first > r.first || outer[k].second < r.second) return false;
  }
  return true;
}

ByteHull byte_hull(const AccessPattern& ap) {
  ByteHull h;
  const int64_t es = dtype_size(ap.dtype);
  int64_t mn = 0, mx = 0;
  for (int d = 0; d < ap.ndims; ++d) {
    const int64_t span = ap.dims[d].stride * (ap.dims[d].count - 1);
    (span > 0 ? mx : mn) += span;
  }
  if (ap.space == MemSpace::Hbm) {
    const int64_t span = ap.partition_stride * (ap.num_partitions - 1);
    (span > 0 ? mx : mn) += span;
    mn += ap.partition_stride * ap.start_partition;
    mx += ap.partition_stride * ap.start_partition;
    h.p0 = 0;
    h.p1 = 1;
  } else {
    h.p0 = ap.start_partition;
    h.p1 = ap.start_partition + ap.num_partitions;
  }
  h.lo = ap.offset + mn * es;
  h.hi = ap.offset + mx * es + es;
  return h;
}

}  // namespace trnsim::isa
