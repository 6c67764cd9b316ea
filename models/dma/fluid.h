// Fluid (processor-sharing) servers for DMA engines and the HBM/interconnect links.
#pragma once

#include <systemc>

#include <cstdint>
#include <functional>
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
  // The same, calling `on_done` (from this server's process, at the completion time) instead of
  // notifying an event: for callers with thousands of transfers in flight (collectives).
  void submit(const std::vector<std::pair<int, Picos>>& jobs, std::function<void()> on_done);
  // Submissions while a Batch lives reschedule once, when it ends (a collective step starts
  // hundreds of transfers at one instant).
  class Batch {
   public:
    explicit Batch(FluidServer& f) : f_(f), was_(f.in_callbacks_) { f_.in_callbacks_ = true; }
    ~Batch() {
      f_.in_callbacks_ = was_;
      if (!was_) f_.reschedule(now_ps());
    }
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

   private:
    FluidServer& f_;
    bool was_;
  };
  // True while the transfer whose done event is `done` still has unfinished jobs.
  bool busy(const sc_core::sc_event* done) const;

 private:
  // Processor sharing in virtual time: resource r's clock v advances by dt / n while it has n
  // jobs, so a job submitted at v0 with work w finishes when v reaches v0 + w. Each resource
  // keeps its jobs in a min-heap of finish times and is brought up to date only when it
  // changes; a heap over resources holds each one's next completion. An event costs
  // O(changed resources x log), whatever the number of resources and jobs.
  struct Job {
    double finish_v;  // the resource's virtual time at which this job is done
    size_t transfer;
    bool operator>(const Job& o) const { return finish_v > o.finish_v; }
  };
  struct Resource {
    double v = 0;           // virtual time (ps of service each job has received) at t
    Picos t = 0;            // when v was last brought up to date
    std::vector<Job> heap;  // min-heap on finish_v
    double next_at = 0;     // ps: when its first job completes (while it has jobs)
    int pos = -1;           // index in next_, -1 when idle
  };
  struct Transfer {
    sc_core::sc_event* done = nullptr;
    std::function<void()> on_done;
    int pending = 0;
  };
  size_t start(const std::vector<std::pair<int, Picos>>& jobs);
  void finish(size_t slot);
  void sync(Resource& x, Picos now);
  void changed(int r);
  // next_: an indexed min-heap of busy resources on next_at.
  bool earlier(int a, int b) const;
  void sift_up(size_t i);
  void sift_down(size_t i);
  void place(size_t i, int r);
  void reschedule(Picos now);
  void on_tick();

  std::vector<Resource> res_;
  std::vector<int> next_;               // busy resources, a min-heap on next_at
  std::vector<Transfer> transfers_;     // slots, reused when free
  std::vector<size_t> free_slots_;
  bool in_callbacks_ = false;  // signalling finished transfers, or in a Batch: no reschedule
  sc_core::sc_event tick_;
};

}  // namespace trnsim::model
