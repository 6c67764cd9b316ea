// The system's collective hub: rendezvous of the collective instructions of every rank of a
// replica group, then the collective's transfers on the links (CollectiveEngine) and on the
// chips' own DMA engines and HBM, and its data from the members' src into their dst.
#pragma once

#include <systemc>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "isa/program.h"
#include "models/dma/dma.h"
#include "models/system/collective.h"
#include "models/system/engine.h"
#include "models/system/topology.h"

namespace trnsim::model {

class Chip;
class Core;

// The replica group of `rank` for a collective with group size `gsize` (0 = every one of
// `ranks`) and stride `gstride`: {base + k*gstride, k < gsize},
// base = rank - ((rank / gstride) % gsize) * gstride. Ranks may lie beyond `ranks` (the caller
// checks).
std::vector<int> replica_group(int rank, int64_t gsize, int64_t gstride, int ranks);
// "{0..7}" for consecutive ranks, else "{0,2,4,6}".
std::string group_text(const std::vector<int>& g);
// The collective an opcode performs, and its operand positions of op (-1: none), gsize, gstride.
CollOp collective_op(isa::Opcode op);
struct CollOperands {
  int op = -1, gsize = 3, gstride = 4;
};
CollOperands collective_operands(isa::Opcode op);

// Static checks of every collective of `prog` run SPMD on `topo`'s chips, before simulating:
// each rank's group names only ranks the system has, and with gsize 0 the sizes fit the rank
// count. Throws InputError naming the program, the instruction and the rank.
void check_collectives(const isa::Program& prog, const Topology& topo);

// One collective as it ran (for the timeline): its group, when it started and ended, and its
// transfers (phase name, source and destination rank, span).
struct CollectiveSpan {
  std::string name;  // "all_reduce #0 {0..7}"
  std::vector<int> ranks;
  Picos start_ps = 0, end_ps = 0;
  struct Xfer {
    int src = 0, dst = 0;
    std::string phase;
    Picos start_ps = 0, end_ps = 0;
  };
  std::vector<Xfer> xfers;
};

class CollectiveHub : public sc_core::sc_module {
 public:
  CollectiveHub(sc_core::sc_module_name name, const Topology& topo, bool numerics, bool trace);
  void set_chips(std::vector<Chip*> chips) { chips_ = std::move(chips); }

  // A DMA queue of `core` on chip `chip` reached collective `t`: `done` is notified when the
  // collective has completed at this rank (its data written).
  void post(int chip, Core& core, const DmaTransfer& t, sc_core::sc_event* done);

  // After the simulation. A fault (mismatched collective across ranks) stops the simulation.
  bool faulted() const { return faulted_; }
  const std::string& fault_message() const { return fault_; }
  // Collectives that some ranks posted and others never reached, as one line ("" if none).
  std::string pending_report() const;

  const Topology& topology() const { return topo_; }
  const std::vector<LinkUse>& link_use() const { return engine_.link_use(); }
  const std::vector<CollectiveSpan>& spans() const { return spans_; }
  int64_t collectives_done() const { return done_count_; }
  int64_t sends_done() const { return p2p_done_; }  // send/recv pairs that completed

 private:
  struct Member {
    int chip = 0;
    Core* core = nullptr;
    DmaTransfer t;
    sc_core::sc_event* done = nullptr;
  };
  struct Pending {
    std::vector<int> ranks;
    int64_t seq = 0;
    uint64_t order = 0;            // when its first member posted (for reports)
    std::vector<bool> posted;      // by group position
    std::vector<Member> members;   // by group position
    int count = 0;
  };
  using Key = std::pair<std::vector<int>, int64_t>;
  void run_collective(Key key);
  // send/recv: the k-th send from rank src to rank dst meets the k-th recv at dst from src.
  struct P2P {
    int src = 0, dst = 0;
    int64_t seq = 0;
    uint64_t order = 0;
    bool has_send = false, has_recv = false;
    Member send, recv;
  };
  using P2PKey = std::tuple<int, int, int64_t>;  // (src rank, dst rank, seq)
  void post_p2p(int chip, int rank, const std::vector<int>& g, Core& core, const DmaTransfer& t,
                sc_core::sc_event* done);
  void run_p2p(P2PKey key);
  // Runs a hub process's body: a SimFault (or any error) stops the simulation with its message.
  template <typename F>
  void guarded(F&& body);
  // A finished collective or send for the timeline (with --trace).
  void record(std::string name, const Plan& plan, Picos t0, const std::vector<XferSpan>& xs);
  void fault(const std::string& msg);

  const Topology& topo_;
  bool numerics_, trace_;
  CollectiveEngine engine_;
  std::vector<Chip*> chips_;
  std::map<Key, Pending> pending_;
  std::map<std::pair<int, std::vector<int>>, int64_t> seq_;  // (rank, group) -> next number
  uint64_t next_order_ = 0;
  std::map<P2PKey, P2P> p2p_;
  std::map<std::tuple<int, int, bool>, int64_t> p2p_seq_;  // (src, dst, is recv) -> next seq
  std::vector<CollectiveSpan> spans_;
  int64_t done_count_ = 0, p2p_done_ = 0;
  bool faulted_ = false;
  std::string fault_;
};

}  // namespace trnsim::model
