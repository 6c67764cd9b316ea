// Fluid (processor-sharing) servers for DMA engines and the HBM/interconnect links.
#pragma once

#include <systemc>

#include <cstdint>
#include <utility>
#include <vector>

#include "models/clock/clock.h"

namespace trnsim::model {

// A set of resources (the DMA engines of every core, the HBM and interconnect links), each a
// processor-sharing server: its n active jobs each progress at 1/n of its rate. A job's work is
// given in picoseconds of service at the full rate. A transfer is a group of jobs on several
// resources; it completes when its last job does, and then its `done` event fires. This is
// the fluid limit of round robin at packet boundaries [DMAO: queues scheduled round robin].
// Event-driven: one SC_METHOD wakes at the next job completion.
class FluidServer : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(FluidServer);
  FluidServer(sc_core::sc_module_name name, int resources);
  // Starts a transfer now with `jobs` = {resource, work ps}; `done` fires (immediately, as a
  // delta notification, if nothing needs work) when every job has finished.
  void submit(const std::vector<std::pair<int, Picos>>& jobs, sc_core::sc_event* done);
  // True while the transfer whose done event is `done` still has unfinished jobs.
  bool busy(const sc_core::sc_event* done) const;

 private:
  struct Job {
    size_t transfer;
    double left_ps;  // remaining work at the full rate
  };
  struct Transfer {
    sc_core::sc_event* done = nullptr;
    int pending = 0;
  };
  void advance(Picos now);
  void reschedule(Picos now);
  void on_tick();

  std::vector<std::vector<Job>> jobs_;  // per resource
  std::vector<Transfer> transfers_;     // slots, reused when free
  std::vector<size_t> free_slots_;
  Picos last_ = 0;
  sc_core::sc_event tick_;
};

}  // namespace trnsim::model
