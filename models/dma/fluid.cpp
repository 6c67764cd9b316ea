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

// Resource r's jobs changed (it is in sync): record its next completion.
void FluidServer::changed(int r) {
  Resource& x = res_[static_cast<size_t>(r)];
  ++x.version;
  if (x.heap.empty()) {
    x.v = 0;  // idle: restart the clock (keeps it small and exact)
    return;
  }
  const double at = static_cast<double>(x.t) +
                    (x.heap.front().finish_v - x.v) * static_cast<double>(x.heap.size());
  next_.push_back(Next{at, r, x.version});
  std::push_heap(next_.begin(), next_.end(), std::greater<Next>());
}

void FluidServer::reschedule(Picos now) {
  // Finish every job with no work left, then wake at the next completion. Finished transfers
  // are signalled after the sweep: a callback may submit new work.
  std::vector<size_t> finished;
  while (!next_.empty()) {
    const Next top = next_.front();
    Resource& x = res_[static_cast<size_t>(top.res)];
    if (top.version != x.version) {  // stale
      std::pop_heap(next_.begin(), next_.end(), std::greater<Next>());
      next_.pop_back();
      continue;
    }
    if (top.at - static_cast<double>(now) > kEps) break;
    std::pop_heap(next_.begin(), next_.end(), std::greater<Next>());
    next_.pop_back();
    sync(x, now);
    while (!x.heap.empty() && x.heap.front().finish_v - x.v <= kEps) {
      const size_t slot = x.heap.front().transfer;
      std::pop_heap(x.heap.begin(), x.heap.end(), std::greater<Job>());
      x.heap.pop_back();
      if (--transfers_[slot].pending == 0) finished.push_back(slot);
    }
    changed(top.res);
  }
  in_callbacks_ = true;
  for (size_t slot : finished) finish(slot);
  in_callbacks_ = false;
  if (!finished.empty()) return reschedule(now);  // callbacks added work finishing now?
  tick_.cancel();
  while (!next_.empty() && next_.front().version != res_[static_cast<size_t>(next_.front().res)].version) {
    std::pop_heap(next_.begin(), next_.end(), std::greater<Next>());
    next_.pop_back();
  }
  if (!next_.empty()) {
    // Round up to whole ps so that the earliest job has finished when the tick fires.
    const double d = next_.front().at - static_cast<double>(now);
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
