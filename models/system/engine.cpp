// Collective plans on the links of a system, in SystemC (engine.h).
#include "models/system/engine.h"

#include <cmath>

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

void CollectiveEngine::start(int i) {
  const Xfer& x = plan_->xfers[static_cast<size_t>(i)];
  const int src = plan_->ranks[static_cast<size_t>(x.src)], dst = plan_->ranks[static_cast<size_t>(x.dst)];
  if (data_) payload_[static_cast<size_t>(i)] = read_payload(*plan_, x, *data_);
  if (spans_) started_[static_cast<size_t>(i)] = now_ps();
  const Hop& h = hop(src, dst);
  const int64_t bytes = x.count * elem_bytes_;
  std::vector<std::pair<int, Picos>>& jobs = jobs_;
  jobs.clear();
  auto add = [&](int res) {
    const Picos w = work_ps(bytes, topo_.links()[static_cast<size_t>(res)].gbps);
    jobs.emplace_back(res, w);
    use_[static_cast<size_t>(res)].bytes += bytes;
    use_[static_cast<size_t>(res)].busy_ps += w;
  };
  for (int l : h.route.links) add(l);
  // The sending rank's DMA engines move the data; the receiver's reduce it in flight. HBM:
  // the source reads the data, the destination writes it (a reduction also reads what it
  // adds to) [INTRA: collectives are HBM-bound enough that KangaRing saves HBM accesses].
  add(topo_.dma_resource(src));
  const int hs = topo_.hbm_resource(topo_.chip_of(src)), hd = topo_.hbm_resource(topo_.chip_of(dst));
  const double hbm_gbps = topo_.links()[static_cast<size_t>(hs)].gbps;
  const int64_t at_dst = bytes * (x.reduce ? 2 : 1);
  auto add_hbm = [&](int res, int64_t b) {
    const Picos w = work_ps(b, hbm_gbps);
    jobs.emplace_back(res, w);
    use_[static_cast<size_t>(res)].bytes += b;
    use_[static_cast<size_t>(res)].busy_ps += w;
  };
  if (hs == hd) {
    add_hbm(hs, bytes + at_dst);
  } else {
    add_hbm(hs, bytes);
    add_hbm(hd, at_dst);
  }
  if (x.reduce) {
    const double rg = topo_.system().cc_reduce_gbps;
    if (rg > 0) {
      const Picos w = work_ps(bytes, rg);
      jobs.emplace_back(topo_.dma_resource(dst), w);
    } else {
      add(topo_.dma_resource(dst));
    }
  }
  alpha_[static_cast<size_t>(i)] = h.alpha_ps;
  // (Captures fit std::function's local buffer: no allocation per transfer.)
  fluid_.submit(jobs, [this, i] {
    const Picos alpha = alpha_[static_cast<size_t>(i)];
    if (spans_) served_[static_cast<size_t>(i)] = now_ps();
    arrivals_.push(Arrival{now_ps() + alpha, i});
    wake_.notify(ps_to_time(alpha));
  });
}

void CollectiveEngine::on_wake() {
  const Picos now = now_ps();
  FluidServer::Batch batch(fluid_);
  while (!arrivals_.empty() && arrivals_.top().at <= now) {
    const int i = arrivals_.top().xfer;
    arrivals_.pop();
    const Xfer& x = plan_->xfers[static_cast<size_t>(i)];
    if (data_) {
      deliver(x, red_, bf16_, payload_[static_cast<size_t>(i)], *data_);
      payload_[static_cast<size_t>(i)].clear();
      payload_[static_cast<size_t>(i)].shrink_to_fit();
    }
    if (spans_)
      spans_->push_back(XferSpan{i, started_[static_cast<size_t>(i)], served_[static_cast<size_t>(i)], now});
    ++transfers_;
    for (int64_t k = dependents_begin_[static_cast<size_t>(i)]; k < dependents_begin_[static_cast<size_t>(i) + 1]; ++k) {
      const int d = dependents_[static_cast<size_t>(k)];
      if (--waiting_[static_cast<size_t>(d)] == 0) start(d);
    }
    if (--remaining_ == 0) finished_.notify(sc_core::SC_ZERO_TIME);
  }
  if (!arrivals_.empty()) wake_.notify(ps_to_time(arrivals_.top().at - now));
}

void CollectiveEngine::run(const Plan& p, int elem_bytes, Buffers* data, RedOp op, bool bf16,
                           std::vector<XferSpan>* spans) {
  plan_ = &p;
  elem_bytes_ = elem_bytes;
  data_ = data;
  red_ = op;
  bf16_ = bf16;
  spans_ = spans;
  if (data_) init_outputs(p, *data_);
  const size_t n = p.xfers.size();
  waiting_.assign(n, 0);
  payload_.assign(data_ ? n : 0, {});
  started_.assign(spans ? n : 0, 0);
  served_.assign(spans ? n : 0, 0);
  alpha_.assign(n, 0);
  // Dependents as compressed rows: count, prefix-sum, fill.
  dependents_begin_.assign(n + 1, 0);
  for (size_t i = 0; i < n; ++i) {
    const Xfer& x = p.xfers[i];
    waiting_[i] = x.dep_count;
    for (int64_t k = x.dep_begin; k < x.dep_begin + x.dep_count; ++k)
      ++dependents_begin_[static_cast<size_t>(p.deps[static_cast<size_t>(k)]) + 1];
  }
  for (size_t i = 0; i < n; ++i) dependents_begin_[i + 1] += dependents_begin_[i];
  dependents_.assign(static_cast<size_t>(dependents_begin_[n]), 0);
  std::vector<int64_t> fill(dependents_begin_.begin(), dependents_begin_.end() - 1);
  for (size_t i = 0; i < n; ++i) {
    const Xfer& x = p.xfers[i];
    for (int64_t k = x.dep_begin; k < x.dep_begin + x.dep_count; ++k)
      dependents_[static_cast<size_t>(fill[static_cast<size_t>(p.deps[static_cast<size_t>(k)])]++)] =
          static_cast<int32_t>(i);
  }
  remaining_ = static_cast<int64_t>(n);
  wait(ps_to_time(ns_to_ps(topo_.system().cc_launch_ns)));
  if (n == 0) return;
  {
    FluidServer::Batch batch(fluid_);
    for (size_t i = 0; i < n; ++i)
      if (waiting_[i] == 0) start(static_cast<int>(i));
  }
  wait(finished_);
  plan_ = nullptr;
}

}  // namespace trnsim::model
