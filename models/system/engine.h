// Runs collective plans on a multi-chip system in SystemC: every transfer occupies the links of
// its route, the EFA ports it crosses and the DMA engines of the ranks at both ends, each a
// processor-sharing server (FluidServer: transfers sharing a link progress at 1/n of its rate,
// the fluid limit of DMA rings served round robin at packet boundaries [OVL]). A transfer
// arrives alpha after its last byte is served: alpha = cc.step_ns + hops x link.latency_ns
// (+ switch.latency_ns through a switch, + efa.latency_ns between instances).
#pragma once

#include <systemc>

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "models/dma/fluid.h"
#include "models/system/collective.h"
#include "models/system/topology.h"

namespace trnsim::model {

struct LinkUse {
  int64_t bytes = 0;
  Picos busy_ps = 0;  // work at the full rate = time with at least one transfer on it
};

// One transfer's life, for timelines: start (dependencies met) to arrival.
struct XferSpan {
  int xfer = 0;
  Picos start_ps = 0;   // dependencies met: its bytes start to move
  Picos served_ps = 0;  // its last byte has left (links, DMA and HBM done)
  Picos end_ps = 0;     // arrival, alpha later
};

// Where the DMA and HBM work of a transfer runs. Without one (trnsim collectives) it occupies
// the topology's r.dma and c.hbm resources on the engine's own server; a system running
// programs (system_sim.h) puts it on the chips' own FluidServers, where it shares the DMA
// engines and HBM with the programs' DMAs.
class ChipWork {
 public:
  struct Jobs {
    FluidServer* server;
    std::vector<std::pair<int, Picos>> jobs;
  };
  virtual ~ChipWork() = default;
  // The work of transfer `x` of `p` (`bytes` long), appended to `out` (one entry per server).
  virtual void jobs(const Plan& p, const Xfer& x, int64_t bytes, std::vector<Jobs>& out) = 0;
};

class CollectiveEngine : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(CollectiveEngine);
  CollectiveEngine(sc_core::sc_module_name name, const Topology& t);

  // Call from an SC_THREAD. Runs the plan from now: cc.launch_ns, then every transfer once its
  // dependencies have arrived. With `data`, moves and reduces the values (read when a transfer
  // starts, written when it arrives). Returns when the last transfer has arrived. Several runs
  // may be in flight at once (from different threads); they share the links.
  void run(const Plan& p, int elem_bytes, Buffers* data = nullptr, RedOp op = RedOp::Sum,
           bool bf16 = false, std::vector<XferSpan>* spans = nullptr, ChipWork* chip = nullptr);

  const std::vector<LinkUse>& link_use() const { return use_; }
  int64_t transfers_done() const { return transfers_; }

 private:
  // One plan in flight.
  struct Run {
    uint64_t id = 0;
    const Plan* plan = nullptr;
    int elem_bytes = 4;
    Buffers* data = nullptr;
    RedOp red = RedOp::Sum;
    bool bf16 = false;
    std::vector<XferSpan>* spans = nullptr;
    ChipWork* chip = nullptr;
    std::vector<int> waiting;                 // per transfer: dependencies not yet arrived
    std::vector<int64_t> dependents_begin;    // CSR: dependents[begin[i], begin[i + 1])
    std::vector<int32_t> dependents;
    std::vector<Picos> alpha;                 // per transfer, set when it starts
    std::vector<int> servers_left;            // per transfer: servers whose jobs are not done
    std::vector<std::vector<float>> payload;
    std::vector<Picos> started, served;       // with spans only
    int64_t remaining = 0;
    sc_core::sc_event finished;
  };
  struct Arrival {
    Picos at;
    uint64_t run;
    int xfer;
    bool operator>(const Arrival& o) const {
      if (at != o.at) return at > o.at;
      return run != o.run ? run > o.run : xfer > o.xfer;
    }
  };
  struct Hop {
    Route route;
    Picos alpha_ps = 0;
  };
  const Hop& hop(int src_rank, int dst_rank);
  void start(Run& r, int i);
  void served(Run& r, int i);
  void on_wake();

  const Topology& topo_;
  FluidServer fluid_;
  std::vector<LinkUse> use_;
  std::unordered_map<int64_t, Hop> hops_;  // by src chip x chips + dst chip
  std::unordered_map<uint64_t, Run*> runs_;  // in flight, by id
  uint64_t next_run_ = 0;
  std::vector<std::pair<int, Picos>> jobs_;  // scratch
  std::vector<ChipWork::Jobs> chip_jobs_;    // scratch
  std::priority_queue<Arrival, std::vector<Arrival>, std::greater<Arrival>> arrivals_;
  int64_t transfers_ = 0;
  sc_core::sc_event wake_;
};

}  // namespace trnsim::model
