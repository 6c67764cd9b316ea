// Fluid processor-sharing servers in virtual time: resources brought up to date when they change.
#include "models/dma/fluid.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace trnsim::model {

namespace {
// Work below this many ps counts as done (doubles accumulate rounding over many shares).
constexpr double kEps = 1e-3;
}  // namespace

FluidServer::FluidServer(sc_core::sc_module_name name, int resources)
    : sc_module(name), res_(static_cast<size_t>(resources)) {
  SC_METHOD(on_tick);
  sensitive << tick_;
  dont_initialize();
}

void FluidServer::sync(Resource& x, Picos now) {
  if (!x.heap.empty() && now > x.t)
    x.v += static_cast<double>(now - x.t) / static_cast<double>(x.heap.size());
  x.t = now;
}

bool FluidServer::earlier(int a, int b) const {
  const Resource &x = res_[static_cast<size_t>(a)], &y = res_[static_cast<size_t>(b)];
  return x.next_at != y.next_at ? x.next_at < y.next_at : a < b;
}

void FluidServer::place(size_t i, int r) {
  next_[i] = r;
  res_[static_cast<size_t>(r)].pos = static_cast<int>(i);
}

void FluidServer::sift_up(size_t i) {
  const int r = next_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!earlier(r, next_[parent])) break;
    place(i, next_[parent]);
    i = parent;
  }
  place(i, r);
}

void FluidServer::sift_down(size_t i) {
  const int r = next_[i];
  const size_t n = next_.size();
  while (true) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && earlier(next_[c + 1], next_[c])) ++c;
    if (!earlier(next_[c], r)) break;
    place(i, next_[c]);
    i = c;
  }
  place(i, r);
}

// Resource r's jobs changed (it is in sync): move it in next_ to its next completion.
void FluidServer::changed(int r) {
  Resource& x = res_[static_cast<size_t>(r)];
  if (x.heap.empty()) {
    x.v = 0;  // idle: restart the clock (keeps it small and exact)
    if (x.pos >= 0) {  // remove from next_
      const size_t i = static_cast<size_t>(x.pos);
      const int last = next_.back();
      next_.pop_back();
      x.pos = -1;
      if (i < next_.size()) {
        place(i, last);
        sift_up(i);
        sift_down(static_cast<size_t>(res_[static_cast<size_t>(last)].pos));
      }
    }
    return;
  }
  x.next_at = static_cast<double>(x.t) +
              (x.heap.front().finish_v - x.v) * static_cast<double>(x.heap.size());
  if (x.pos < 0) {
    next_.push_back(r);
    x.pos = static_cast<int>(next_.size()) - 1;
  }
  sift_up(static_cast<size_t>(x.pos));
  sift_down(static_cast<size_t>(x.pos));
}

void FluidServer::reschedule(Picos now) {
  // Finish every job with no work left, then wake at the next completion. Finished transfers
  // are signalled after the sweep: a callback may submit new work.
  std::vector<size_t> finished;
  while (!next_.empty()) {
    const int r = next_.front();
    Resource& x = res_[static_cast<size_t>(r)];
    if (x.next_at - static_cast<double>(now) > kEps) break;
    sync(x, now);
    while (!x.heap.empty() && x.heap.front().finish_v - x.v <= kEps) {
      const size_t slot = x.heap.front().transfer;
      std::pop_heap(x.heap.begin(), x.heap.end(), std::greater<Job>());
      x.heap.pop_back();
      if (--transfers_[slot].pending == 0) finished.push_back(slot);
    }
    changed(r);
  }
  in_callbacks_ = true;
  for (size_t slot : finished) finish(slot);
  in_callbacks_ = false;
  if (!finished.empty()) return reschedule(now);  // callbacks added work finishing now?
  tick_.cancel();
  if (!next_.empty()) {
    // Round up to whole ps so that the earliest job has finished when the tick fires.
    const double d = res_[static_cast<size_t>(next_.front())].next_at - static_cast<double>(now);
    tick_.notify(ps_to_time(std::max<Picos>(1, static_cast<Picos>(std::ceil(d - kEps)))));
  }
}

void FluidServer::on_tick() { reschedule(now_ps()); }

size_t FluidServer::start(const std::vector<std::pair<int, Picos>>& jobs) {
  const Picos now = now_ps();
  size_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = transfers_.size();
    transfers_.emplace_back();
  }
  Transfer& t = transfers_[slot];
  t.pending = 0;
  for (const auto& [r, work] : jobs) {
    if (work <= 0) continue;
    Resource& x = res_[static_cast<size_t>(r)];
    sync(x, now);
    x.heap.push_back(Job{x.v + static_cast<double>(work), slot});
    std::push_heap(x.heap.begin(), x.heap.end(), std::greater<Job>());
    changed(r);
    ++t.pending;
  }
  return slot;
}

// The transfer's last job is done: signal it and free the slot (before the callback, which may
// submit again).
void FluidServer::finish(size_t slot) {
  Transfer& t = transfers_[slot];
  sc_core::sc_event* done = t.done;
  std::function<void()> cb = std::move(t.on_done);
  t.done = nullptr;
  t.on_done = nullptr;
  free_slots_.push_back(slot);
  if (done) done->notify(sc_core::SC_ZERO_TIME);
  if (cb) cb();
}

void FluidServer::submit(const std::vector<std::pair<int, Picos>>& jobs,
                         sc_core::sc_event* done) {
  const size_t slot = start(jobs);
  transfers_[slot].done = done;
  if (transfers_[slot].pending == 0) finish(slot);
  if (!in_callbacks_) reschedule(now_ps());
}

void FluidServer::submit(const std::vector<std::pair<int, Picos>>& jobs,
                         std::function<void()> on_done) {
  const size_t slot = start(jobs);
  transfers_[slot].on_done = std::move(on_done);
  if (transfers_[slot].pending == 0) finish(slot);
  if (!in_callbacks_) reschedule(now_ps());
}

bool FluidServer::busy(const sc_core::sc_event* done) const {
  for (const Transfer& t : transfers_)
    if (t.done == done && t.pending > 0) return true;  // (callback transfers never match)
  return false;
}

}  // namespace trnsim::model
