// The collective hub: rendezvous per replica group and sequence number, then the collective.
// (A collective runs in a process spawned when its last member posts.)
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "models/system/hub.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "models/chip/chip.h"
#include "models/core/core.h"
#include "support/error.h"

namespace trnsim::model {

using isa::Opcode;

std::vector<int> replica_group(int rank, int64_t gsize, int64_t gstride, int ranks) {
  std::vector<int> g;
  if (gsize <= 0) {
    for (int r = 0; r < ranks; ++r) g.push_back(r);
    return g;
  }
  const int64_t base = rank - ((rank / gstride) % gsize) * gstride;
  for (int64_t k = 0; k < gsize; ++k) g.push_back(static_cast<int>(base + k * gstride));
  return g;
}

std::string group_text(const std::vector<int>& g) {
  bool consecutive = g.size() > 2;
  for (size_t i = 1; i < g.size(); ++i) consecutive = consecutive && g[i] == g[i - 1] + 1;
  if (consecutive) return fmt::format("{{{}..{}}}", g.front(), g.back());
  std::string s;
  for (int r : g) s += (s.empty() ? "" : ",") + std::to_string(r);
  return "{" + s + "}";
}

CollOp collective_op(Opcode op) {
  switch (op) {
    case Opcode::AllGather: return CollOp::AllGather;
    case Opcode::ReduceScatter: return CollOp::ReduceScatter;
    case Opcode::AllToAll: return CollOp::AllToAll;
    case Opcode::Permute: return CollOp::Permute;
    default: return CollOp::AllReduce;
  }
}

CollOperands collective_operands(Opcode op) {
  if (op == Opcode::AllReduce || op == Opcode::ReduceScatter) return {3, 4, 5};
  if (isa::opcode_is_p2p(op)) return {-1, 2, 3};
  return {-1, 3, 4};
}

namespace {

// "0-3,6" (ranks sorted).
std::string ranges(const std::vector<int>& rs) {
  std::string s;
  for (size_t i = 0; i < rs.size();) {
    size_t j = i;
    while (j + 1 < rs.size() && rs[j + 1] == rs[j] + 1) ++j;
    s += (s.empty() ? "" : ",") +
         (j > i ? fmt::format("{}-{}", rs[i], rs[j]) : std::to_string(rs[i]));
    i = j + 1;
  }
  return fmt::format("rank{} {}", rs.size() > 1 ? "s" : "", s);
}

std::string site(const isa::Instr& in, int core, isa::Engine e, size_t index) {
  return fmt::format("core{} {} #{} ({})", core, isa::engine_name(e), index, in.info().mnemonic);
}

// Elements per rank of the plan: the whole buffer (all_gather: gsize x src).
int64_t plan_elems(CollOp op, int64_t src_elems, int n) {
  return op == CollOp::AllGather ? src_elems * n : src_elems;
}

}  // namespace

void check_collectives(const isa::Program& prog, const Topology& topo) {
  const std::string file = prog.source_name.empty() ? "program" : prog.source_name;
  const int ranks = topo.ranks(), cores = topo.cores_per_chip();
  for (size_t c = 0; c < prog.cores.size(); ++c)
    for (int e = 0; e < isa::kNumEngines; ++e) {
      const auto& s = prog.cores[c].streams[e];
      for (size_t i = 0; i < s.size(); ++i) {
        const isa::Instr& in = s[i];
        if (!isa::opcode_is_collective(in.op)) continue;
        const CollOperands o = collective_operands(in.op);
        const int64_t gsize = in.ops[o.gsize].i, gstride = in.ops[o.gstride].i;
        const std::string where =
            fmt::format("{}: {}", file, site(in, static_cast<int>(c), static_cast<isa::Engine>(e), i));
        if (gsize > ranks)
          throw InputError(fmt::format("{}: group size {} exceeds the {} ranks of system {}",
                                       where, gsize, ranks, topo.system().name));
        for (int chip = 0; chip < topo.chips(); ++chip) {
          const int r = chip * cores + static_cast<int>(c);
          const std::vector<int> g = replica_group(r, gsize, std::max<int64_t>(gstride, 1), ranks);
          for (int m : g)
            if (m < 0 || m >= ranks)
              throw InputError(fmt::format(
                  "{}: the replica group of rank {} ({} of size {}, stride {}) names rank {}, but "
                  "system {} has ranks 0-{}",
                  where, r, group_text(g), gsize, gstride, m, topo.system().name, ranks - 1));
        }
        if (gsize > 0) continue;
        // gsize 0: the size rules of validation with the system's rank count.
        const int64_t d = in.ops[1].ap.total_elements(), sr = in.ops[2].ap.total_elements();
        std::string bad;
        if (in.op == Opcode::AllGather && d != sr * ranks)
          bad = fmt::format("dst has {} elements, expected ranks x src = {} x {}", d, ranks, sr);
        if (in.op == Opcode::ReduceScatter && sr != d * ranks)
          bad = fmt::format("src has {} elements, expected ranks x dst = {} x {}", sr, ranks, d);
        if (in.op == Opcode::AllToAll && sr % ranks != 0)
          bad = fmt::format("src has {} elements, not a multiple of the {} ranks", sr, ranks);
        if (!bad.empty())
          throw InputError(fmt::format("{}: {} (gsize 0 = every rank of system {})", where, bad,
                                       topo.system().name));
      }
    }
}

// The DMA and HBM work of a running collective's transfers, on the chips' own servers: the
// sending core's DMA engines (the bytes spread evenly over them) and, when the data is in HBM,
// the source chip's HBM read; the destination chip's HBM write (a reduction also reads what it
// adds to, on the receiving core's DMA engines).
class HubWork : public ChipWork {
 public:
  struct Side {
    Chip* chip;
    int core;
    isa::MemSpace src_space, dst_space;
  };
  explicit HubWork(std::vector<Side> sides) : sides_(std::move(sides)) {}

  void jobs(const Plan&, const Xfer& x, int64_t bytes, std::vector<Jobs>& out) override {
    const Side& s = sides_[static_cast<size_t>(x.src)];
    const Side& d = sides_[static_cast<size_t>(x.dst)];
    out.push_back({&s.chip->fluid(), {}});
    auto& a = out.back().jobs;
    engines(s, bytes, a);
    if ((x.from_input ? s.src_space : s.dst_space) == isa::MemSpace::Hbm)
      for (const auto& j : s.chip->hbm_jobs(bytes)) a.push_back(j);
    std::vector<std::pair<int, Picos>>* b = &a;
    if (d.chip != s.chip) {
      out.push_back({&d.chip->fluid(), {}});
      b = &out.back().jobs;
    }
    if (x.reduce) engines(d, bytes, *b);
    if (d.dst_space == isa::MemSpace::Hbm)
      for (const auto& j : d.chip->hbm_jobs(bytes * (x.reduce ? 2 : 1))) b->push_back(j);
  }

 private:
  static void engines(const Side& s, int64_t bytes, std::vector<std::pair<int, Picos>>& out) {
    const config::ChipConfig& cfg = s.chip->cfg();
    const int n = static_cast<int>(cfg.dma_engines);
    const double share = static_cast<double>(bytes) / n;
    const Picos w = static_cast<Picos>(std::llround(share * 1000.0 / cfg.dma_engine_gbps));
    for (int e = 0; e < n; ++e) out.emplace_back(s.chip->engine_resource(s.core, e), w);
  }
  std::vector<Side> sides_;
};

CollectiveHub::CollectiveHub(sc_core::sc_module_name name, const Topology& topo, bool numerics,
                             bool trace)
    : sc_module(name), topo_(topo), numerics_(numerics), trace_(trace), engine_("engine", topo) {}

void CollectiveHub::fault(const std::string& msg) {
  if (faulted_) return;
  faulted_ = true;
  fault_ = msg;
  sc_core::sc_stop();
}

void CollectiveHub::post(int chip, Core& core, const DmaTransfer& t, sc_core::sc_event* done) {
  const int rank = chip * topo_.cores_per_chip() + core.index();
  const CollOperands o = collective_operands(t.in->op);
  std::vector<int> g = replica_group(rank, t.in->ops[o.gsize].i,
                                     std::max<int64_t>(t.in->ops[o.gstride].i, 1), topo_.ranks());
  if (isa::opcode_is_p2p(t.in->op)) {
    post_p2p(chip, rank, g, core, t, done);
    return;
  }
  const int64_t seq = seq_[{rank, g}]++;
  Key key{g, seq};
  Pending& p = pending_[key];
  if (p.members.empty()) {
    p.ranks = g;
    p.seq = seq;
    p.order = next_order_++;
    p.posted.assign(g.size(), false);
    p.members.resize(g.size());
  }
  const size_t k = static_cast<size_t>(std::find(g.begin(), g.end(), rank) - g.begin());
  p.posted[k] = true;
  p.members[k] = Member{chip, &core, t, done};
  if (++p.count == static_cast<int>(g.size()))
    sc_core::sc_spawn([this, key] { run_collective(key); });
}

template <typename F>
void CollectiveHub::guarded(F&& body) {
  try {
    body();
  } catch (const sc_core::sc_unwind_exception&) {
    throw;
  } catch (const SimFault& e) {
    fault(e.what());
  } catch (const std::exception& e) {
    fault(std::string("collective hub: internal error: ") + e.what());
  }
}

void CollectiveHub::run_collective(Key key) {
  guarded([&] {
    Pending p = std::move(pending_.at(key));
    pending_.erase(key);
    const int n = static_cast<int>(p.ranks.size());
    const Member& m0 = p.members[0];
    const isa::Instr& in0 = *m0.t.in;
    const CollOperands o = collective_operands(in0.op);
    auto describe = [&](const Member& m, bool full) {
      const isa::Instr& in = *m.t.in;
      const int64_t elems = in.ops[2].ap.total_elements();
      const int oi = collective_operands(in.op).op;
      if (!full) return fmt::format("{} of {} elements", in.info().mnemonic, elems);
      return fmt::format("{}{} of {} {} elements", in.info().mnemonic,
                         oi >= 0 ? " " + std::string(isa::alu_op_name(static_cast<isa::AluOp>(in.ops[oi].i))) : "",
                         elems, isa::dtype_name(in.ops[2].ap.dtype));
    };
    for (int k = 1; k < n; ++k) {
      const isa::Instr& in = *p.members[static_cast<size_t>(k)].t.in;
      const bool same_shape = in.op == in0.op &&
                              in.ops[2].ap.total_elements() == in0.ops[2].ap.total_elements();
      const bool same_kind = in.ops[2].ap.dtype == in0.ops[2].ap.dtype &&
                             (o.op < 0 || in.ops[o.op].i == in0.ops[o.op].i);
      if (!same_shape || !same_kind) {
        const bool full = same_shape;
        throw SimFault(fmt::format("mismatched collective across ranks: rank {} {}, rank {} {}",
                                   p.ranks[0], describe(m0, full), p.ranks[static_cast<size_t>(k)],
                                   describe(p.members[static_cast<size_t>(k)], full)));
      }
    }
    const CollOp op = collective_op(in0.op);
    const int64_t src_elems = in0.ops[2].ap.total_elements();
    const bool bf16 = in0.ops[2].ap.dtype == isa::DType::Bf16;
    const RedOp red = o.op >= 0 && static_cast<isa::AluOp>(in0.ops[o.op].i) == isa::AluOp::Max
                          ? RedOp::Max
                          : RedOp::Sum;
    PlanRequest req;
    req.op = op;
    req.algo = CollAlgo::Auto;
    req.channels = 0;  // cc.channels, itself 0 = what the topology offers
    req.ranks = p.ranks;
    req.elems = plan_elems(op, src_elems, n);
    req.elem_bytes = bf16 ? 2 : 4;
    Plan plan;
    try {
      plan = make_plan(topo_, req);
    } catch (const InputError& e) {
      throw SimFault(fmt::format("{} of group {}: {}", in0.info().mnemonic, group_text(p.ranks),
                                 e.what()));
    }
    std::vector<HubWork::Side> sides;
    for (const Member& m : p.members)
      sides.push_back({chips_[static_cast<size_t>(m.chip)], m.core->index(),
                       m.t.in->ops[2].ap.space, m.t.in->ops[1].ap.space});
    HubWork work(std::move(sides));
    auto ref = [](const Member& m) { return InstrRef{m.core->index(), m.t.engine, m.t.index}; };
    Buffers data;
    if (numerics_) {
      data.in.assign(static_cast<size_t>(n), std::vector<float>(static_cast<size_t>(plan.elems), 0.0f));
      data.out = data.in;
      for (int k = 0; k < n; ++k) {
        const Member& m = p.members[static_cast<size_t>(k)];
        std::vector<float> v = m.core->read_operand(*m.t.in, ref(m), m.t.regs, 2);
        const size_t at = op == CollOp::AllGather ? static_cast<size_t>(k) * v.size() : 0;
        std::copy(v.begin(), v.end(), data.in[static_cast<size_t>(k)].begin() + static_cast<std::ptrdiff_t>(at));
      }
    } else {
      for (const Member& m : p.members) m.core->check_operands(*m.t.in, ref(m), m.t.regs);
    }
    std::vector<XferSpan> xs;
    const Picos t0 = now_ps();
    engine_.run(plan, req.elem_bytes, numerics_ ? &data : nullptr, red, bf16,
                trace_ ? &xs : nullptr, &work);
    if (numerics_) {
      for (int k = 0; k < n; ++k) {
        const Member& m = p.members[static_cast<size_t>(k)];
        std::vector<float>& out = data.out[static_cast<size_t>(k)];
        if (op == CollOp::ReduceScatter) {
          const int64_t chunk = plan.elems / n;
          out = std::vector<float>(out.begin() + k * chunk, out.begin() + (k + 1) * chunk);
        }
        m.core->write_operand(*m.t.in, ref(m), m.t.regs, 1, out);
      }
    }
    if (trace_)
      record(fmt::format("{} #{} {}", in0.info().mnemonic, p.seq, group_text(p.ranks)), plan, t0, xs);
    ++done_count_;
    for (const Member& m : p.members) m.done->notify(sc_core::SC_ZERO_TIME);
  });
}

void CollectiveHub::record(std::string name, const Plan& plan, Picos t0,
                           const std::vector<XferSpan>& xs) {
  CollectiveSpan s;
  s.name = std::move(name);
  s.ranks = plan.ranks;
  s.start_ps = t0;
  s.end_ps = now_ps();
  for (const XferSpan& x : xs) {
    const Xfer& xf = plan.xfers[static_cast<size_t>(x.xfer)];
    s.xfers.push_back({plan.ranks[static_cast<size_t>(xf.src)], plan.ranks[static_cast<size_t>(xf.dst)],
                       plan.phases.empty() ? "" : plan.phases[static_cast<size_t>(xf.phase)],
                       x.start_ps, x.end_ps});
  }
  spans_.push_back(std::move(s));
}


void CollectiveHub::post_p2p(int chip, int rank, const std::vector<int>& g, Core& core,
                             const DmaTransfer& t, sc_core::sc_event* done) {
  const bool send = t.in->op == Opcode::Send;
  const int64_t k = std::find(g.begin(), g.end(), rank) - g.begin();
  const int64_t peer = send ? k + t.in->ops[4].i : k - t.in->ops[4].i;
  if (peer < 0 || peer >= static_cast<int64_t>(g.size())) {  // no peer: skipped
    done->notify(sc_core::SC_ZERO_TIME);
    return;
  }
  const int other = g[static_cast<size_t>(peer)];
  const int src = send ? rank : other, dst = send ? other : rank;
  const int64_t seq = p2p_seq_[{src, dst, !send}]++;
  const P2PKey key{src, dst, seq};
  P2P& p = p2p_[key];
  if (!p.has_send && !p.has_recv) {
    p.src = src;
    p.dst = dst;
    p.seq = seq;
    p.order = next_order_++;
  }
  (send ? p.has_send : p.has_recv) = true;
  (send ? p.send : p.recv) = Member{chip, &core, t, done};
  if (p.has_send && p.has_recv) sc_core::sc_spawn([this, key] { run_p2p(key); });
}

// One transfer from the sender's buffer into the receiver's: a plan of two ranks and one
// transfer, run like a collective's (cc.launch_ns, then the links, DMA engines and HBM).
void CollectiveHub::run_p2p(P2PKey key) {
  guarded([&] {
    P2P p = std::move(p2p_.at(key));
    p2p_.erase(key);
    const isa::Instr& si = *p.send.t.in;
    const isa::Instr& ri = *p.recv.t.in;
    const isa::AccessPattern &sa = si.ops[1].ap, &ra = ri.ops[1].ap;
    if (sa.total_elements() != ra.total_elements() || sa.dtype != ra.dtype)
      throw SimFault(fmt::format(
          "mismatched send/recv: rank {} sends {} {} elements to rank {}, which receives {} {} "
          "elements ({}; {})",
          p.src, sa.total_elements(), isa::dtype_name(sa.dtype), p.dst, ra.total_elements(),
          isa::dtype_name(ra.dtype), site(si, p.send.core->index(), p.send.t.engine, p.send.t.index),
          site(ri, p.recv.core->index(), p.recv.t.engine, p.recv.t.index)));
    const bool bf16 = sa.dtype == isa::DType::Bf16;
    Plan plan;
    plan.op = CollOp::Permute;
    plan.algo = CollAlgo::Ring;
    plan.elems = sa.total_elements();
    plan.ranks = {p.src, p.dst};
    plan.phases = {"send"};
    Xfer x;
    x.src = 0;
    x.dst = 1;
    x.count = plan.elems;
    x.from_input = true;
    plan.xfers = {x};
    HubWork work({{chips_[static_cast<size_t>(p.send.chip)], p.send.core->index(), sa.space,
                   sa.space},
                  {chips_[static_cast<size_t>(p.recv.chip)], p.recv.core->index(), ra.space,
                   ra.space}});
    auto ref = [](const Member& m) { return InstrRef{m.core->index(), m.t.engine, m.t.index}; };
    Buffers data;
    if (numerics_) {
      data.in = {p.send.core->read_operand(si, ref(p.send), p.send.t.regs, 1),
                 std::vector<float>(static_cast<size_t>(plan.elems), 0.0f)};
      data.out = data.in;
    } else {
      p.send.core->check_operands(si, ref(p.send), p.send.t.regs);
      p.recv.core->check_operands(ri, ref(p.recv), p.recv.t.regs);
    }
    std::vector<XferSpan> xs;
    const Picos t0 = now_ps();
    engine_.run(plan, bf16 ? 2 : 4, numerics_ ? &data : nullptr, RedOp::Sum, bf16,
                trace_ ? &xs : nullptr, &work);
    if (numerics_) p.recv.core->write_operand(ri, ref(p.recv), p.recv.t.regs, 1, data.out[1]);
    if (trace_) record(fmt::format("send #{} {} -> {}", p.seq, p.src, p.dst), plan, t0, xs);
    ++p2p_done_;
    p.send.done->notify(sc_core::SC_ZERO_TIME);
    p.recv.done->notify(sc_core::SC_ZERO_TIME);
  });
}

std::string CollectiveHub::pending_report() const {
  const Pending* first = nullptr;
  for (const auto& [key, p] : pending_)
    if (!first || p.order < first->order) first = &p;
  const P2P* lone = nullptr;  // the oldest unmatched send or recv
  for (const auto& [key, p] : p2p_)
    if (!lone || p.order < lone->order) lone = &p;
  if (lone && (!first || lone->order < first->order)) {
    const Member& m = lone->has_send ? lone->send : lone->recv;
    const size_t more = pending_.size() + p2p_.size() - 1;
    return fmt::format(
        "{} #{} from rank {} to rank {}: rank {} waiting, rank {} never reached its {} ({}){}",
        lone->has_send ? "send" : "recv", lone->seq, lone->src, lone->dst,
        lone->has_send ? lone->src : lone->dst, lone->has_send ? lone->dst : lone->src,
        lone->has_send ? "recv" : "send", site(*m.t.in, m.core->index(), m.t.engine, m.t.index),
        more ? fmt::format(" (and {} more waiting)", more) : "");
  }
  if (!first) return "";
  std::vector<int> waiting, missing;
  const Member* posted = nullptr;
  for (size_t k = 0; k < first->ranks.size(); ++k) {
    (first->posted[k] ? waiting : missing).push_back(first->ranks[k]);
    if (first->posted[k] && !posted) posted = &first->members[k];
  }
  std::string s = fmt::format(
      "collective #{} {} of group {}: {} waiting, {} never reached it ({})", first->seq,
      posted->t.in->info().mnemonic, group_text(first->ranks), ranges(waiting), ranges(missing),
      site(*posted->t.in, posted->core->index(), posted->t.engine, posted->t.index));
  if (pending_.size() > 1) s += fmt::format(" (and {} more collectives waiting)", pending_.size() - 1);
  return s;
}

}  // namespace trnsim::model
