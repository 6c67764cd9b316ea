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

class CollectiveEngine : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(CollectiveEngine);
  CollectiveEngine(sc_core::sc_module_name name, const Topology& t);

  // Call from an SC_THREAD. Runs the plan from now: cc.launch_ns, then every transfer once its
  // dependencies have arrived. With `data`, moves and reduces the values (read when a transfer
  // starts, written when it arrives). Returns when the last transfer has arrived.
  void run(const Plan& p, int elem_bytes, Buffers* data = nullptr, RedOp op = RedOp::Sum,
           bool bf16 = false, std::vector<XferSpan>* spans = nullptr);

  const std::vector<LinkUse>& link_use() const { return use_; }
  int64_t transfers_done() const { return transfers_; }

 private:
  struct Arrival {
    Picos at;
    int xfer;
    bool operator>(const Arrival& o) const { return at != o.at ? at > o.at : xfer > o.xfer; }
  };
  struct Hop {
    Route route;
    Picos alpha_ps = 0;
  };
  const Hop& hop(int src_rank, int dst_rank);
  void start(int i);
  void on_wake();

  const Topology& topo_;
  FluidServer fluid_;
  std::vector<LinkUse> use_;
  std::unordered_map<int64_t, Hop> hops_;  // by src chip x chips + dst chip
  // The running plan.
  const Plan* plan_ = nullptr;
  int elem_bytes_ = 4;
  Buffers* data_ = nullptr;
  RedOp red_ = RedOp::Sum;
  bool bf16_ = false;
  std::vector<XferSpan>* spans_ = nullptr;
  std::vector<int> waiting_;                 // per transfer: dependencies not yet arrived
  std::vector<int64_t> dependents_begin_;    // CSR: dependents_[begin[i], begin[i + 1])
  std::vector<int32_t> dependents_;
  std::vector<Picos> alpha_;                 // per transfer, set when it starts
  std::vector<std::pair<int, Picos>> jobs_;  // scratch
  std::vector<std::vector<float>> payload_;
  std::vector<Picos> started_, served_;     // with spans only
  std::priority_queue<Arrival, std::vector<Arrival>, std::greater<Arrival>> arrivals_;
  int64_t remaining_ = 0, transfers_ = 0;
  sc_core::sc_event wake_, finished_;
};

}  // namespace trnsim::model
