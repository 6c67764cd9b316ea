// Shadow memory of the race checker.
#include "models/check/shadow.h"

#include <algorithm>
#include <iterator>

namespace trnsim::model::check_detail {

namespace {
// Partition groups start as one group this wide, so that any partition index has a group.
constexpr int kPartitionLimit = 1 << 17;
}  // namespace

IntervalMap::Map::iterator IntervalMap::split(int64_t x) {
  auto it = m_.upper_bound(x);
  if (it == m_.begin()) return it;
  auto prev = std::prev(it);
  if (prev->first == x) return prev;
  if (prev->second.hi <= x) return it;
  Seg tail{prev->second.hi, prev->second.cell};
  prev->second.hi = x;
  return m_.emplace_hint(it, x, std::move(tail));
}

void IntervalMap::check_and_update(Cell& c, const Access& a, int p0, int p1, int64_t lo,
                                   int64_t hi, ShadowSink& sink) {
  const Acc& cur = a.acc;
  auto unordered = [&](const Acc& p) { return p.epoch > a.vc[p.thread]; };
  auto conflict = [&](const Acc& p, bool prev_write) {
    if (p.thread < 0 || p.thread == cur.thread) return;
    if (unordered(p)) sink.race(p, prev_write, p0, p1, lo, hi);
    else if (a.record_ordered) sink.ordered(p);
  };
  if (!a.write) {
    conflict(c.write, true);
    if (!c.init) sink.uninit(p0, p1, lo, hi);
    // A read ordered before this one is subsumed: any later write that this read does not
    // race with is ordered after it as well.
    c.reads.erase(std::remove_if(c.reads.begin(), c.reads.end(),
                                 [&](const Acc& r) { return r.thread == cur.thread || !unordered(r); }),
                  c.reads.end());
    c.reads.push_back(cur);
  } else {
    conflict(c.write, true);
    for (const Acc& r : c.reads) conflict(r, false);
    c.write = cur;
    c.init = true;
    c.reads.clear();
  }
}

void IntervalMap::merge(int64_t lo, int64_t hi) {
  auto it = m_.lower_bound(lo);
  if (it != m_.begin()) --it;
  while (it != m_.end() && it->first <= hi) {
    auto next = std::next(it);
    if (next != m_.end() && next->first == it->second.hi && next->second.cell == it->second.cell) {
      it->second.hi = next->second.hi;
      m_.erase(next);
    } else {
      it = next;
    }
  }
}

void IntervalMap::apply(int64_t lo, int64_t hi, const Access& a, int p0, int p1,
                        ShadowSink& sink) {
  if (lo >= hi) return;
  split(lo);
  split(hi);
  auto it = m_.lower_bound(lo);
  int64_t pos = lo;
  while (pos < hi) {
    if (it == m_.end() || it->first > pos) {
      const int64_t end = it == m_.end() ? hi : std::min(hi, it->first);
      Cell c;
      check_and_update(c, a, p0, p1, pos, end, sink);
      it = std::next(m_.emplace_hint(it, pos, Seg{end, std::move(c)}));
      pos = end;
    } else {
      check_and_update(it->second.cell, a, p0, p1, pos, it->second.hi, sink);
      pos = it->second.hi;
      ++it;
    }
  }
  merge(lo, hi);
}

void IntervalMap::set_initialised(int64_t lo, int64_t hi) {
  if (lo >= hi) return;
  Cell c;
  c.init = true;
  split(lo);
  split(hi);
  m_.erase(m_.lower_bound(lo), m_.lower_bound(hi));
  m_.emplace(lo, Seg{hi, std::move(c)});
  merge(lo, hi);
}

const Cell* IntervalMap::find(int64_t x) const {
  auto it = m_.upper_bound(x);
  if (it == m_.begin()) return nullptr;
  --it;
  return x < it->second.hi ? &it->second.cell : nullptr;
}

const Cell* Region::find(int p, int64_t x) const {
  if (p < 0 || p >= partitions_) return nullptr;
  auto it = std::prev(groups_.upper_bound(p));  // group 0 always exists
  return it->second.bytes.find(x);
}

Region::Region(int partitions) : partitions_(std::max(partitions, kPartitionLimit)) {
  groups_.emplace(0, Group{partitions_, IntervalMap()});
}

std::map<int, Region::Group>::iterator Region::split(int p) {
  auto it = groups_.upper_bound(p);
  auto prev = std::prev(it);  // group 0 always exists and p >= 0
  if (prev->first == p || prev->second.hi <= p) return prev->first == p ? prev : it;
  Group tail{prev->second.hi, prev->second.bytes};
  prev->second.hi = p;
  return groups_.emplace_hint(it, p, std::move(tail));
}

void Region::access(int p0, int p1, const std::vector<std::pair<int64_t, int64_t>>& runs,
                    int64_t shift, const Access& a, ShadowSink& sink) {
  p0 = std::clamp(p0, 0, partitions_);
  p1 = std::clamp(p1, 0, partitions_);
  if (p0 >= p1) return;
  split(p0);
  if (p1 < partitions_) split(p1);
  for (auto it = groups_.find(p0); it != groups_.end() && it->first < p1; ++it)
    for (const auto& r : runs)
      it->second.bytes.apply(r.first + shift, r.second + shift, a, it->first, it->second.hi, sink);
}

void Region::set_initialised(int64_t lo, int64_t hi) {
  for (auto& g : groups_) g.second.bytes.set_initialised(lo, hi);
}

}  // namespace trnsim::model::check_detail
