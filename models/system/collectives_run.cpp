// `trnsim collectives`: a sweep of one collective over sizes, in one SystemC simulation.
#include "models/system/collectives_run.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <memory>

#include "support/error.h"
#include "support/file_util.h"

namespace trnsim::model {
namespace {

// Runs the requests one after another on one engine. Plans are built when their turn comes
// (the first one up front, so that a bad request fails before the simulation) and dropped after,
// unless a trace needs them.
class Driver : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Driver);
  Driver(sc_core::sc_module_name name, const Topology& t, const CollSpec& spec,
         std::vector<PlanRequest> reqs, Plan first)
      : sc_module(name), engine("engine", t), topo_(t), spec_(spec), reqs_(std::move(reqs)),
        first_(std::move(first)) {
    SC_THREAD(main);
  }

  CollectiveEngine engine;
  std::vector<CollRow> rows;
  std::vector<std::vector<XferSpan>> spans;  // per size, with a trace
  std::vector<Plan> kept;                    // per size, with a trace
  std::string error;                         // a request that failed during the run

 private:
  void main() {
    const int eb = spec_.bf16 ? 2 : 4;
    for (size_t k = 0; k < reqs_.size(); ++k) {
      Plan p;
      if (k == 0) {
        p = std::move(first_);
      } else {
        try {
          p = make_plan(topo_, reqs_[k]);
        } catch (const InputError& e) {
          error = e.what();
          return;
        }
      }
      const int n = static_cast<int>(p.ranks.size());
      CollRow row;
      row.op = coll_op_name(p.op);
      row.algo = coll_algo_name(p.algo);
      row.elems = p.elems;
      row.bytes = p.elems * eb;
      row.ranks = n;
      row.channels = p.channels;
      row.transfers = static_cast<int64_t>(p.xfers.size());
      Buffers data;
      if (spec_.check) {
        data.in.assign(static_cast<size_t>(n), std::vector<float>(static_cast<size_t>(p.elems)));
        for (int r = 0; r < n; ++r)
          for (int64_t k = 0; k < p.elems; ++k)  // small integers: exact in fp32 and in bf16 sums up to 256
            data.in[static_cast<size_t>(r)][static_cast<size_t>(k)] =
                static_cast<float>((r * 7 + k * 3) % 5) - 2.0f;
      }
      std::vector<XferSpan> sp;
      const Picos t0 = now_ps();
      engine.run(p, eb, spec_.check ? &data : nullptr, spec_.reduce, spec_.bf16,
                 spec_.trace.empty() ? nullptr : &sp);
      row.time_ps = now_ps() - t0;
      const double secs = static_cast<double>(row.time_ps) * 1e-12;
      row.algbw_gbps = secs > 0 ? static_cast<double>(row.bytes) / secs / 1e9 : 0.0;
      row.busbw_gbps = row.algbw_gbps * bus_factor(p.op, n);
      if (spec_.check) {
        row.checked = true;
        for (int r = 0; r < n; ++r) {
          const std::vector<float> ref = reference_result(p, spec_.reduce, spec_.bf16, data, r);
          const auto& got = data.out[static_cast<size_t>(r)];
          for (size_t k = 0; k < ref.size(); ++k) {
            if (std::isnan(ref[k])) continue;  // not part of this rank's result
            // bf16 sums beyond 256 depend on the order of additions: allow one bf16 step per rank.
            const double tol = spec_.bf16 ? std::ldexp(std::fabs(ref[k]), -8) * n : 0.0;
            if (!(std::fabs(static_cast<double>(got[k]) - ref[k]) <= tol)) ++row.mismatches;
          }
        }
      }
      rows.push_back(row);
      if (!spec_.trace.empty()) {
        spans.push_back(std::move(sp));
        kept.push_back(std::move(p));
      }
    }
  }

  const Topology& topo_;
  const CollSpec& spec_;
  std::vector<PlanRequest> reqs_;
  Plan first_;
};

void write_trace(const std::string& path, const Topology& t, const Driver& d) {
  const std::vector<Plan>& plans = d.kept;
  std::string s = "{\"traceEvents\":[\n";
  bool first = true;
  auto emit = [&](const std::string& ev) {
    if (!first) s += ",\n";
    s += ev;
    first = false;
  };
  for (int c = 0; c < t.chips(); ++c)
    emit(fmt::format(R"j({{"ph":"M","name":"process_name","pid":{},"args":{{"name":"chip {}"}}}})j", c, c));
  for (int r = 0; r < t.ranks(); ++r)
    emit(fmt::format(R"j({{"ph":"M","name":"thread_name","pid":{},"tid":{},"args":{{"name":"rank {} (core {})"}}}})j",
                     t.chip_of(r), r, r, r % t.cores_per_chip()));
  for (size_t k = 0; k < plans.size(); ++k) {
    const Plan& p = plans[k];
    for (const XferSpan& x : d.spans[k]) {
      const Xfer& xf = p.xfers[static_cast<size_t>(x.xfer)];
      const int src = p.ranks[static_cast<size_t>(xf.src)], dst = p.ranks[static_cast<size_t>(xf.dst)];
      emit(fmt::format(
          R"j({{"ph":"X","name":"{}","cat":"{}","pid":{},"tid":{},"ts":{:.6f},"dur":{:.6f},"args":{{"to rank":{},"elements":{},"reduce":{}}}}})j",
          p.phases[static_cast<size_t>(xf.phase)], coll_op_name(p.op), t.chip_of(src), src,
          static_cast<double>(x.start_ps) / 1e6, static_cast<double>(x.end_ps - x.start_ps) / 1e6, dst,
          xf.count, xf.reduce ? "true" : "false"));
    }
  }
  // A process for the links, a track per resource that carried bytes: each transfer's service
  // (from its start to its last byte) on every link of its route.
  const int links_pid = t.chips();
  emit(fmt::format(R"j({{"ph":"M","name":"process_name","pid":{},"args":{{"name":"links"}}}})j", links_pid));
  std::vector<bool> named(t.links().size(), false);
  for (size_t k = 0; k < plans.size(); ++k) {
    const Plan& p = plans[k];
    for (const XferSpan& x : d.spans[k]) {
      const Xfer& xf = p.xfers[static_cast<size_t>(x.xfer)];
      const int src = p.ranks[static_cast<size_t>(xf.src)], dst = p.ranks[static_cast<size_t>(xf.dst)];
      for (int l : t.route(t.chip_of(src), t.chip_of(dst)).links) {
        if (!named[static_cast<size_t>(l)]) {
          named[static_cast<size_t>(l)] = true;
          emit(fmt::format(R"j({{"ph":"M","name":"thread_name","pid":{},"tid":{},"args":{{"name":"{}"}}}})j",
                           links_pid, l, t.links()[static_cast<size_t>(l)].name));
        }
        emit(fmt::format(
            R"j({{"ph":"X","name":"{}","pid":{},"tid":{},"ts":{:.6f},"dur":{:.6f},"args":{{"from rank":{},"to rank":{}}}}})j",
            p.phases[static_cast<size_t>(xf.phase)], links_pid, l, static_cast<double>(x.start_ps) / 1e6,
            static_cast<double>(x.served_ps - x.start_ps) / 1e6, src, dst));
      }
    }
  }
  s += "\n]}\n";
  write_file_atomic(path, s);
}

}  // namespace

double bus_factor(CollOp op, int n) {
  if (n < 2) return op == CollOp::Permute ? 1.0 : 0.0;
  switch (op) {
    case CollOp::AllReduce: return 2.0 * (n - 1) / n;
    case CollOp::Permute: return 1.0;
    default: return static_cast<double>(n - 1) / n;
  }
}

CollReport run_collectives(const config::SystemConfig& sys, const CollSpec& spec) {
  auto topo = std::make_unique<Topology>(sys);
  const int eb = spec.bf16 ? 2 : 4;
  const int n = spec.ranks.empty() ? topo->ranks() : static_cast<int>(spec.ranks.size());
  std::vector<PlanRequest> reqs;
  for (int64_t bytes : spec.sizes) {
    if (bytes < 0) throw InputError(fmt::format("size {} bytes is negative", bytes));
    PlanRequest req;
    req.op = spec.op;
    req.algo = spec.algo;
    req.channels = spec.channels;
    req.ranks = spec.ranks;
    req.elem_bytes = eb;
    int64_t elems = bytes / eb;
    // Like nccl-tests: chunked collectives move a whole number of elements per rank.
    if (spec.op != CollOp::AllReduce && spec.op != CollOp::Permute) elems = elems / n * n;
    req.elems = elems;
    if (spec.check && static_cast<double>(elems) * n * 8.0 > 4.0 * (1 << 30))
      throw InputError(fmt::format("--check at {} bytes over {} ranks needs more than 4 GiB of "
                                   "buffers; check smaller sizes", bytes, n));
    reqs.push_back(req);
  }
  if (reqs.empty()) throw InputError("no sizes to run");
  Plan first = make_plan(*topo, reqs[0]);
  auto driver = std::make_unique<Driver>("collectives", *topo, spec, reqs, std::move(first));
  sc_core::sc_start();
  if (!driver->error.empty()) throw InputError(driver->error);
  CollReport rep;
  rep.rows = driver->rows;
  rep.links = topo->links();
  rep.use = driver->engine.link_use();
  rep.sim_end_ps = now_ps();
  if (!spec.trace.empty()) write_trace(spec.trace, *topo, *driver);
  return rep;
}

}  // namespace trnsim::model
