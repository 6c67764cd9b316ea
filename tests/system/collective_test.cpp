// Collectives on multi-chip systems: plans (numerics of every op and algorithm against a plain
// reference) and exact times on idle systems against the alpha-beta formulas of
// ../shared/reference/multichip.md section 5. Each TEST_CASE is its own process (SystemC).
#include <catch2/catch.hpp>

#include <cmath>

#include "config/chip_config.h"
#include "config/system_config.h"
#include "models/system/collective.h"
#include "models/system/collectives_run.h"
#include "models/system/topology.h"
#include "support/error.h"

using namespace trnsim;
using namespace trnsim::model;

namespace {

// The worked examples' parameters: B = 64 GB/s (64 B/ns) per link per direction, alpha = 100 ns
// per step (one hop), no launch cost, DMA engines and HBM far faster than a link.
config::SystemConfig teaching(const std::string& topology, std::vector<int64_t> dims,
                              int64_t instances = 1, int64_t cores = 1) {
  config::SystemConfig s;
  s.name = "test";
  s.chip_config = config::load_chip("tiny");
  s.chip_config.cores = cores;
  s.chip_config.dma_engines = 16;
  s.chip_config.dma_engine_gbps = 1000.0;
  s.chip_config.hbm_gbps = 1e6;
  s.topology = topology;
  s.dims = dims;
  s.chips = 1;
  for (int64_t d : dims) s.chips *= d;
  s.instances = instances;
  s.link_bandwidth_gbps = 64.0;
  s.link_dim_bandwidth_gbps.clear();
  s.link_latency_ns = 100.0;
  s.cc_launch_ns = 0;
  s.cc_step_ns = 0;
  s.cc_channels = 1;
  s.efa_bandwidth_gbps = 16.0;
  s.efa_latency_ns = 1000.0;
  return s;
}

// Runs the plan's transfers in index order (which respects every dependency) and compares
// every rank's result with the reference.
int64_t plan_mismatches(const Plan& p, RedOp op, bool bf16) {
  const int n = static_cast<int>(p.ranks.size());
  Buffers b;
  b.in.assign(static_cast<size_t>(n), std::vector<float>(static_cast<size_t>(p.elems)));
  for (int r = 0; r < n; ++r)
    for (int64_t k = 0; k < p.elems; ++k)
      b.in[static_cast<size_t>(r)][static_cast<size_t>(k)] = static_cast<float>((r * 5 + k * 3) % 7) - 3.0f;
  init_outputs(p, b);
  for (const Xfer& x : p.xfers) deliver(x, op, bf16, read_payload(p, x, b), b);
  int64_t bad = 0;
  for (int r = 0; r < n; ++r) {
    const auto ref = reference_result(p, op, bf16, b, r);
    for (size_t k = 0; k < ref.size(); ++k)
      if (!std::isnan(ref[k]) && b.out[static_cast<size_t>(r)][k] != ref[k]) ++bad;
  }
  return bad;
}

double time_ns(const config::SystemConfig& s, CollOp op, CollAlgo algo, int64_t bytes,
               int channels = 0) {
  CollSpec spec;
  spec.op = op;
  spec.algo = algo;
  spec.channels = channels;
  spec.sizes = {bytes};
  spec.check = true;
  const CollReport rep = run_collectives(s, spec);
  REQUIRE(rep.rows.size() == 1);
  CHECK(rep.rows[0].mismatches == 0);
  return static_cast<double>(rep.rows[0].time_ps) / 1000.0;
}

}  // namespace

TEST_CASE("every collective and algorithm gives the reference result (plans, in dependency order)",
          "[system]") {
  struct Sys {
    config::SystemConfig s;
    const char* what;
  };
  std::vector<Sys> systems = {
      {teaching("ring", {4}), "ring of 4"},
      {teaching("torus2d", {4, 2}, 1, 2), "4x2 torus, 2 cores per chip"},
      {teaching("torus3d", {2, 2, 2}), "2x2x2 torus"},
      {teaching("fully_connected", {4}), "fully connected 4"},
      {teaching("switch", {4}, 2), "2 instances of a 4-chip switch"},
      {teaching("ring", {3}), "ring of 3"},
  };
  for (const auto& sys : systems) {
    Topology t(sys.s);
    for (CollOp op : {CollOp::AllReduce, CollOp::AllGather, CollOp::ReduceScatter, CollOp::AllToAll,
                      CollOp::Permute})
      for (CollAlgo a : {CollAlgo::Ring, CollAlgo::Rdh, CollAlgo::Mesh, CollAlgo::Hier, CollAlgo::Auto})
        for (int ch : {1, 2, 3})
          for (RedOp red : {RedOp::Sum, RedOp::Max}) {
            PlanRequest r;
            r.op = op;
            r.algo = a;
            r.channels = ch;
            r.elems = 7 * 4 * t.ranks();  // a multiple of the ranks; chunks split unevenly by channel
            Plan p;
            try {
              p = make_plan(t, r);
            } catch (const InputError&) {
              continue;  // e.g. rdh on 3 ranks, hier for all_gather
            }
            INFO(sys.what << ": " << coll_op_name(op) << " " << coll_algo_name(p.algo) << " x" << ch);
            CHECK(plan_mismatches(p, red, false) == 0);
            CHECK(plan_mismatches(p, red, true) == 0);
          }
  }
}

TEST_CASE("bad collective requests are one-line input errors", "[system]") {
  Topology t(teaching("ring", {3}));
  PlanRequest r;
  r.elems = 12;
  r.algo = CollAlgo::Rdh;
  CHECK_THROWS_WITH(make_plan(t, r), Catch::Contains("power-of-two"));
  r.algo = CollAlgo::Ring;
  r.ranks = {0, 1, 5};
  CHECK_THROWS_WITH(make_plan(t, r), Catch::Contains("rank 5 does not exist"));
  r.ranks = {0, 1, 1};
  CHECK_THROWS_WITH(make_plan(t, r), Catch::Contains("listed twice"));
  r.ranks = {};
  r.op = CollOp::AllGather;
  r.elems = 13;
  CHECK_THROWS_WITH(make_plan(t, r), Catch::Contains("not a multiple of the 3 ranks"));
  r.op = CollOp::AllGather;
  r.elems = 12;
  r.algo = CollAlgo::Hier;
  CHECK_THROWS_WITH(make_plan(t, r), Catch::Contains("all_reduce only"));
  CHECK_THROWS_WITH(parse_coll_op("allreduce"), Catch::Contains("all_reduce, all_gather"));
}

TEST_CASE("routes: shortest way round a ring, dimension order on a torus", "[system]") {
  Topology ring(teaching("ring", {6}));
  CHECK(ring.route(0, 1).hops == 1);
  CHECK(ring.route(0, 5).hops == 1);
  CHECK(ring.route(0, 3).hops == 3);
  CHECK(ring.route(1, 4).hops == 3);
  Topology torus(teaching("torus2d", {4, 4}));
  CHECK(torus.route(0, 5).hops == 2);
  CHECK(torus.route(0, 15).hops == 2);  // (0,0) -> (3,3): one step back in each dimension
  CHECK(torus.route(0, 10).hops == 4);
  Topology sw(teaching("switch", {8}, 2));
  CHECK(sw.route(0, 7).hops == 2);
  CHECK(sw.route(0, 8).efa);
  // Ring orders visit every chip once and step to neighbours.
  for (const auto& cyc : torus.chip_cycles()) {
    REQUIRE(cyc.size() == 16);
    for (size_t k = 0; k < cyc.size(); ++k) CHECK(torus.route(cyc[k], cyc[(k + 1) % 16]).hops == 1);
  }
}

// Exact times (ns) on idle systems, alpha = 100 ns, B = 64 B/ns, p = 4, S = 65,536 B: the
// worked examples of multichip.md section 5.
TEST_CASE("exact time: ring all-reduce, one channel = 2(N-1)(alpha + S/(N B))", "[system][exact]") {
  CHECK(time_ns(teaching("ring", {4}), CollOp::AllReduce, CollAlgo::Ring, 65536, 1) == 2136.0);
}
TEST_CASE("exact time: ring all-gather = (N-1)(alpha + S/(N B))", "[system][exact]") {
  CHECK(time_ns(teaching("ring", {4}), CollOp::AllGather, CollAlgo::Ring, 65536, 1) == 1068.0);
}
TEST_CASE("exact time: ring reduce-scatter = (N-1)(alpha + S/(N B))", "[system][exact]") {
  CHECK(time_ns(teaching("ring", {4}), CollOp::ReduceScatter, CollAlgo::Ring, 65536, 1) == 1068.0);
}
TEST_CASE("exact time: ring all-reduce, 2 channels (both directions) = 2(N-1)(alpha + S/(2 N B))",
          "[system][exact]") {
  CHECK(time_ns(teaching("ring", {4}), CollOp::AllReduce, CollAlgo::Ring, 65536, 2) == 1368.0);
}
TEST_CASE("exact time: recursive-doubling all-gather on 4 fully connected chips", "[system][exact]") {
  // (alpha + 16 KiB/B) + (alpha + 32 KiB/B)
  CHECK(time_ns(teaching("fully_connected", {4}), CollOp::AllGather, CollAlgo::Rdh, 65536) == 968.0);
}
TEST_CASE("exact time: Rabenseifner all-reduce (rdh) = 2 lg p alpha + 2 (p-1)/p S/B", "[system][exact]") {
  CHECK(time_ns(teaching("fully_connected", {4}), CollOp::AllReduce, CollAlgo::Rdh, 65536) == 1936.0);
}
TEST_CASE("exact time: direct all-gather over a fully connected system = alpha + S/(N B)", "[system][exact]") {
  CHECK(time_ns(teaching("fully_connected", {4}), CollOp::AllGather, CollAlgo::Mesh, 65536) == 356.0);
}
TEST_CASE("exact time: all-to-all of 16 KiB per peer, pairwise = (p-1)(alpha + C/B)", "[system][exact]") {
  CHECK(time_ns(teaching("fully_connected", {4}), CollOp::AllToAll, CollAlgo::Ring, 65536) == 1068.0);
}
TEST_CASE("exact time: all-to-all of 16 KiB per peer, direct = alpha + C/B", "[system][exact]") {
  CHECK(time_ns(teaching("fully_connected", {4}), CollOp::AllToAll, CollAlgo::Mesh, 65536) == 356.0);
}
TEST_CASE("exact time: hierarchical all-reduce on a 4x4 torus, S = 1 MiB", "[system][exact]") {
  // 2(X-1)(alpha + S/(X B)) + 2(Y-1)(alpha + S/(X Y B)) = 12 x 100 + 1.875 x 16384
  CHECK(time_ns(teaching("torus2d", {4, 4}), CollOp::AllReduce, CollAlgo::Hier, 1 << 20) == 31920.0);
}
TEST_CASE("exact time: launch cost and per-step cost add alpha terms", "[system][exact]") {
  config::SystemConfig s = teaching("ring", {4});
  s.cc_launch_ns = 1000;
  s.cc_step_ns = 50;
  CHECK(time_ns(s, CollOp::AllGather, CollAlgo::Ring, 65536, 1) == 1000.0 + 3 * (150.0 + 256.0));
}
TEST_CASE("two rings sharing links share their bandwidth (contention)", "[system][exact]") {
  // 3 channels on a ring topology: channels 0 and 2 follow the same cycle in the same direction,
  // so every link carries both at half its rate; S = 48 KiB, 1,024 fp32 elements per channel and
  // step: 3 x (alpha + 2 x 4096 B / B) = 3 x (100 + 128) ns.
  CHECK(time_ns(teaching("ring", {4}), CollOp::AllGather, CollAlgo::Ring, 49152, 3) == 684.0);
}
TEST_CASE("between instances: EFA bandwidth and latency", "[system][exact]") {
  // 2 instances of one chip: a permute crosses EFA both ways: efa latency + S / efa bandwidth.
  config::SystemConfig s = teaching("ring", {2}, 2);
  s.chips = 1;
  s.dims = {1};
  CHECK(time_ns(s, CollOp::Permute, CollAlgo::Ring, 65536) == 1000.0 + 65536.0 / 16.0);
}
