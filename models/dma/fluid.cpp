// Fluid processor-sharing servers: advance all active jobs, complete finished transfers.
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
    : sc_module(name), jobs_(static_cast<size_t>(resources)) {
  SC_METHOD(on_tick);
  sensitive << tick_;
  dont_initialize();
}

void FluidServer::advance(Picos now) {
  const double dt = static_cast<double>(now - last_);
  last_ = now;
  if (dt <= 0) return;
  for (auto& list : jobs_) {
    if (list.empty()) continue;
    const double each = dt / static_cast<double>(list.size());
    for (Job& j : list) j.left_ps -= each;
  }
}

void FluidServer::reschedule(Picos now) {
  // Finish every job with no work left, then wake at the next completion.
  for (auto& list : jobs_) {
    for (size_t k = 0; k < list.size();) {
      if (list[k].left_ps > kEps) {
        ++k;
        continue;
      }
      Transfer& t = transfers_[list[k].transfer];
      if (--t.pending == 0) {
        t.done->notify(sc_core::SC_ZERO_TIME);
        t.done = nullptr;
        free_slots_.push_back(list[k].transfer);
      }
      list[k] = list.back();
      list.pop_back();
    }
  }
  double next = std::numeric_limits<double>::infinity();
  for (const auto& list : jobs_)
    for (const Job& j : list) next = std::min(next, j.left_ps * static_cast<double>(list.size()));
  tick_.cancel();
  if (next < std::numeric_limits<double>::infinity()) {
    // Round up to whole ps so that the earliest job has finished when the tick fires.
    Picos d = std::max<Picos>(1, static_cast<Picos>(std::ceil(next - kEps)));
    tick_.notify(ps_to_time(d));
  }
  (void)now;
}

void FluidServer::on_tick() {
  Picos now = now_ps();
  advance(now);
  reschedule(now);
}

void FluidServer::submit(const std::vector<std::pair<int, Picos>>& jobs,
                         sc_core::sc_event* done) {
  Picos now = now_ps();
  advance(now);
  size_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = transfers_.size();
    transfers_.emplace_back();
  }
  Transfer& t = transfers_[slot];
  t.done = done;
  t.pending = 0;
  for (const auto& [r, work] : jobs) {
    if (work <= 0) continue;
    jobs_[static_cast<size_t>(r)].push_back(Job{slot, static_cast<double>(work)});
    ++t.pending;
  }
  if (t.pending == 0) {
    done->notify(sc_core::SC_ZERO_TIME);
    t.done = nullptr;
    free_slots_.push_back(slot);
  }
  reschedule(now);
}

bool FluidServer::busy(const sc_core::sc_event* done) const {
  for (const Transfer& t : transfers_)
    if (t.done == done && t.pending > 0) return true;
  return false;
}

}  // namespace trnsim::model
