// `trnsim collectives`: one collective at each of several sizes on an otherwise idle system,
// timed (and, with `check`, its numerics compared with a plain reference). Like nccom-test.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/system_config.h"
#include "models/system/collective.h"
#include "models/system/engine.h"

namespace trnsim::model {

struct CollSpec {
  CollOp op = CollOp::AllReduce;
  CollAlgo algo = CollAlgo::Auto;
  int channels = 0;              // 0 = cc.channels / the topology's
  std::vector<int> ranks;        // empty = every rank
  bool bf16 = false;
  RedOp reduce = RedOp::Sum;
  std::vector<int64_t> sizes;    // bytes
  bool check = false;            // move real values and compare with the reference
  std::string trace;             // Chrome trace JSON of every transfer ("" = none)
};

struct CollRow {
  std::string op, algo;
  int64_t bytes = 0, elems = 0;
  int ranks = 0, channels = 1;
  int64_t transfers = 0;
  Picos time_ps = 0;
  double algbw_gbps = 0, busbw_gbps = 0;
  bool checked = false;
  int64_t mismatches = 0;        // elements that differ from the reference (with check)
};

struct CollReport {
  std::vector<CollRow> rows;
  std::vector<Link> links;       // the system's resources
  std::vector<LinkUse> use;      // summed over every size
  Picos sim_end_ps = 0;
};

// The bus-bandwidth factor of nccl-tests and nccom-test [NCCLT, NCCOM]: all_reduce 2(n-1)/n;
// all_gather, reduce_scatter, all_to_all (n-1)/n; permute 1.
double bus_factor(CollOp op, int n);

// Elaborates and runs the SystemC model: once per process (SystemC runs one simulation).
// Throws InputError for a bad request (before any simulation), SimFault for a check mismatch
// is not thrown: mismatches are counted in the rows.
CollReport run_collectives(const config::SystemConfig& sys, const CollSpec& spec);

}  // namespace trnsim::model
