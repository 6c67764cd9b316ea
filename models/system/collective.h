// Collectives as plans: which rank sends which elements to which rank, after what. A plan is
// independent of time; CollectiveEngine (engine.h) runs it on the links, and apply_plan() runs
// its numerics. Algorithms and their costs: ../shared/reference/multichip.md sections 3 and 5.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/system/topology.h"

namespace trnsim::model {

enum class CollOp { AllReduce, AllGather, ReduceScatter, AllToAll, Permute };
enum class CollAlgo { Auto, Ring, Rdh, Mesh, Hier };
enum class RedOp { Sum, Max };

const char* coll_op_name(CollOp op);
const char* coll_algo_name(CollAlgo a);
// Throws InputError listing the choices.
CollOp parse_coll_op(const std::string& s);
CollAlgo parse_coll_algo(const std::string& s);
RedOp parse_red_op(const std::string& s);

// Per rank two buffers of `elems` elements: `in` (the rank's input) and `out` (its result).
// all_reduce: out = sum over ranks of in. all_gather: the input is in chunk r (the rest of `in`
// is unused), out chunk r' = rank r' input. reduce_scatter: out chunk r = chunk r of the sum
// (the rest of `out` is scratch).
// all_to_all: out chunk i = rank i's in chunk r. permute: out = in of the rank before (a ring).
// Chunk r = elements [r E/N, (r+1) E/N); E is a multiple of N for the chunked ops.
struct Xfer {
  int src = 0, dst = 0;          // rank indices (positions in Plan::ranks)
  int64_t src_off = 0, dst_off = 0;  // first element of the first segment
  int64_t count = 0;             // elements
  bool from_input = false;       // read the source's `in` (else its `out`)
  bool reduce = false;           // combine into the destination (else copy)
  int phase = 0;                 // index into Plan::phases (for the timeline)
  int64_t dep_begin = 0;         // Plan::deps[dep_begin, dep_begin + dep_count): earlier
  int32_t dep_count = 0;         // transfers that must have arrived before this one starts
};

struct Plan {
  CollOp op = CollOp::AllReduce;
  CollAlgo algo = CollAlgo::Ring;
  int channels = 1;
  int64_t elems = 0;            // E per rank
  std::vector<int> ranks;       // global rank ids taking part, in rank-index order
  std::vector<std::string> phases;  // "reduce-scatter", "all-gather", "reduce-scatter x", ...
  std::vector<Xfer> xfers;      // in an order that respects deps
  std::vector<int32_t> deps;    // every transfer's dependencies, back to back (flat: plans of
                                // millions of transfers stay compact)
};

struct PlanRequest {
  CollOp op = CollOp::AllReduce;
  CollAlgo algo = CollAlgo::Auto;
  int channels = 0;             // 0 = cc.channels, itself 0 = what the topology offers
  std::vector<int> ranks;       // empty = every rank of the system
  int64_t elems = 0;
  int elem_bytes = 4;
};

// The algorithm `auto` picks for this request: mesh up to cc.mesh_max_bytes, recursive
// halving-doubling up to cc.rdh_max_bytes when the rank count is a power of two, ring beyond;
// hierarchical for an all-reduce over every rank of a system that spans instances or is a 3-D
// torus (the Trn2 UltraServer) [INTRA, INTER, TRN2I].
CollAlgo choose_algo(const Topology& t, const PlanRequest& r);
// Throws InputError for a request the algorithm cannot serve (rdh on 6 ranks, hier on a subset
// of the ranks, a rank that does not exist, ...).
Plan make_plan(const Topology& t, const PlanRequest& r);

// Per-rank buffers, each Plan::elems values (rounded to the dtype).
struct Buffers {
  std::vector<std::vector<float>> in, out;
};
// The local part of a collective before any transfer: out = in (all_reduce, reduce_scatter),
// out chunk r = in chunk r (all_gather, all_to_all); nothing for permute.
void init_outputs(const Plan& p, Buffers& b);
// One transfer's data: read when it starts (the payload), written or reduced when it arrives.
std::vector<float> read_payload(const Plan& p, const Xfer& x, const Buffers& b);
void deliver(const Xfer& x, RedOp op, bool bf16, const std::vector<float>& payload, Buffers& b);
// The values rank index r's `out` must hold (reduce_scatter: chunk r only, the rest is NaN and
// not compared), from the inputs by a plain loop in rank order.
std::vector<float> reference_result(const Plan& p, RedOp op, bool bf16, const Buffers& b, int r);
// Rounds to bf16 (round to nearest even) when `bf16`.
float round_value(float v, bool bf16);

}  // namespace trnsim::model
