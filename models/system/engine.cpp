// Collective plans on the links of a system, in SystemC (engine.h).
#include "models/system/engine.h"

#include <cmath>
#include <memory>

namespace trnsim::model {

CollectiveEngine::CollectiveEngine(sc_core::sc_module_name name, const Topology& t)
    : sc_module(name),
      topo_(t),
      fluid_("fluid", static_cast<int>(t.links().size())),
      use_(t.links().size()) {
  SC_METHOD(on_wake);
  sensitive << wake_;
  dont_initialize();
}

const CollectiveEngine::Hop& CollectiveEngine::hop(int src_rank, int dst_rank) {
  const int a = topo_.chip_of(src_rank), b = topo_.chip_of(dst_rank);
  const int64_t key = static_cast<int64_t>(a) * topo_.chips() + b;
  auto it = hops_.find(key);
  if (it != hops_.end()) return it->second;
  const auto& s = topo_.system();
  Hop h;
  h.route = topo_.route(a, b);
  double ns = s.cc_step_ns + h.route.hops * s.link_latency_ns;
  if (s.topology == "switch" && h.route.hops > 0) ns += s.switch_latency_ns;
  if (h.route.efa) ns += s.efa_latency_ns;
  h.alpha_ps = ns_to_ps(ns);
  return hops_.emplace(key, std::move(h)).first->second;
}

// Service time of `bytes` on a resource of `gbps` (bytes per ns), in ps.
static Picos work_ps(int64_t bytes, double gbps) {
  return static_cast<Picos>(std::llround(static_cast<double>(bytes) * 1000.0 / gbps));
}

void CollectiveEngine::start(Run& r, int i) {
  const Plan& plan = *r.plan;
  const Xfer& x = plan.xfers[static_cast<size_t>(i)];
  const int src = plan.ranks[static_cast<size_t>(x.src)], dst = plan.ranks[static_cast<size_t>(x.dst)];
  if (r.data) r.payload[static_cast<size_t>(i)] = read_payload(plan, x, *r.data);
  if (r.spans) r.started[static_cast<size_t>(i)] = now_ps();
  const Hop& h = hop(src, dst);
  const int64_t bytes = x.count * r.elem_bytes;
  std::vector<std::pair<int, Picos>>& jobs = jobs_;
  jobs.clear();
  // Each job: `b` bytes on resource `res` at `gbps`, counted in the resource's use.
  auto add = [&](int res, int64_t b, double gbps) {
    const Picos w = work_ps(b, gbps);
    jobs.emplace_back(res, w);
    use_[static_cast<size_t>(res)].bytes += b;
    use_[static_cast<size_t>(res)].busy_ps += w;
  };
  auto rate = [&](int res) { return topo_.links()[static_cast<size_t>(res)].gbps; };
  for (int l : h.route.links) add(l, bytes, rate(l));
  chip_jobs_.clear();
  if (r.chip) {
    r.chip->jobs(plan, x, bytes, chip_jobs_);
  } else {
    // The sending rank's DMA engines move the data; the receiver's reduce it in flight (at
    // cc.reduce_gbps when set). HBM: the source reads the data, the destination writes it (a
    // reduction also reads what it adds to) [INTRA: collectives are HBM-bound enough that
    // KangaRing saves HBM accesses].
    const int ds = topo_.dma_resource(src), dd = topo_.dma_resource(dst);
    add(ds, bytes, rate(ds));
    if (x.reduce) {
      const double rg = topo_.system().cc_reduce_gbps;
      add(dd, bytes, rg > 0 ? rg : rate(dd));
    }
    const int hs = topo_.hbm_resource(topo_.chip_of(src)), hd = topo_.hbm_resource(topo_.chip_of(dst));
    const int64_t at_dst = bytes * (x.reduce ? 2 : 1);
    if (hs == hd) {
      add(hs, bytes + at_dst, rate(hs));
    } else {
      add(hs, bytes, rate(hs));
      add(hd, at_dst, rate(hd));
    }
  }
  r.alpha[static_cast<size_t>(i)] = h.alpha_ps;
  // The transfer is served when its jobs on every server are done. (Captures fit
  // std::function's local buffer: no allocation per transfer.)
  Run* rp = &r;
  r.servers_left[static_cast<size_t>(i)] = 1 + static_cast<int>(chip_jobs_.size());
  for (const ChipWork::Jobs& j : chip_jobs_) j.server->submit(j.jobs, [this, rp, i] { served(*rp, i); });
  fluid_.submit(jobs, [this, rp, i] { served(*rp, i); });
}

void CollectiveEngine::served(Run& r, int i) {
  if (--r.servers_left[static_cast<size_t>(i)] > 0) return;
  const Picos alpha = r.alpha[static_cast<size_t>(i)];
  if (r.spans) r.served[static_cast<size_t>(i)] = now_ps();
  arrivals_.push(Arrival{now_ps() + alpha, r.id, i});
  wake_.notify(ps_to_time(alpha));
}

void CollectiveEngine::on_wake() {
  const Picos now = now_ps();
  FluidServer::Batch batch(fluid_);
  while (!arrivals_.empty() && arrivals_.top().at <= now) {
    const Arrival a = arrivals_.top();
    arrivals_.pop();
    Run& r = *runs_.at(a.run);
    const int i = a.xfer;
    const Xfer& x = r.plan->xfers[static_cast<size_t>(i)];
    if (r.data) {
      deliver(x, r.red, r.bf16, r.payload[static_cast<size_t>(i)], *r.data);
      r.payload[static_cast<size_t>(i)].clear();
      r.payload[static_cast<size_t>(i)].shrink_to_fit();
    }
    if (r.spans)
      r.spans->push_back(XferSpan{i, r.started[static_cast<size_t>(i)], r.served[static_cast<size_t>(i)], now});
    ++transfers_;
    for (int64_t k = r.dependents_begin[static_cast<size_t>(i)]; k < r.dependents_begin[static_cast<size_t>(i) + 1]; ++k) {
      const int d = r.dependents[static_cast<size_t>(k)];
      if (--r.waiting[static_cast<size_t>(d)] == 0) start(r, d);
    }
    if (--r.remaining == 0) r.finished.notify(sc_core::SC_ZERO_TIME);
  }
  if (!arrivals_.empty()) wake_.notify(ps_to_time(arrivals_.top().at - now));
}

void CollectiveEngine::run(const Plan& p, int elem_bytes, Buffers* data, RedOp op, bool bf16,
                           std::vector<XferSpan>* spans, ChipWork* chip) {
  auto owned = std::make_unique<Run>();
  Run& r = *owned;
  r.id = next_run_++;
  r.plan = &p;
  r.elem_bytes = elem_bytes;
  r.data = data;
  r.red = op;
  r.bf16 = bf16;
  r.spans = spans;
  r.chip = chip;
  if (r.data) init_outputs(p, *r.data);
  const size_t n = p.xfers.size();
  r.waiting.assign(n, 0);
  r.payload.assign(r.data ? n : 0, {});
  r.started.assign(spans ? n : 0, 0);
  r.served.assign(spans ? n : 0, 0);
  r.alpha.assign(n, 0);
  r.servers_left.assign(n, 0);
  // Dependents as compressed rows: count, prefix-sum, fill.
  r.dependents_begin.assign(n + 1, 0);
  for (size_t i = 0; i < n; ++i) {
    const Xfer& x = p.xfers[i];
    r.waiting[i] = x.dep_count;
    for (int64_t k = x.dep_begin; k < x.dep_begin + x.dep_count; ++k)
      ++r.dependents_begin[static_cast<size_t>(p.deps[static_cast<size_t>(k)]) + 1];
  }
  for (size_t i = 0; i < n; ++i) r.dependents_begin[i + 1] += r.dependents_begin[i];
  r.dependents.assign(static_cast<size_t>(r.dependents_begin[n]), 0);
  std::vector<int64_t> fill(r.dependents_begin.begin(), r.dependents_begin.end() - 1);
  for (size_t i = 0; i < n; ++i) {
    const Xfer& x = p.xfers[i];
    for (int64_t k = x.dep_begin; k < x.dep_begin + x.dep_count; ++k)
      r.dependents[static_cast<size_t>(fill[static_cast<size_t>(p.deps[static_cast<size_t>(k)])]++)] =
          static_cast<int32_t>(i);
  }
  r.remaining = static_cast<int64_t>(n);
  wait(ps_to_time(ns_to_ps(topo_.system().cc_launch_ns)));
  if (n == 0) return;
  runs_[r.id] = &r;
  {
    FluidServer::Batch batch(fluid_);
    for (size_t i = 0; i < n; ++i)
      if (r.waiting[i] == 0) start(r, static_cast<int>(i));
  }
  wait(r.finished);
  runs_.erase(r.id);
}

}  // namespace trnsim::model
