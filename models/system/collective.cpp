// Collective algorithms as transfer plans, and their numerics (docs/multichip.md).
#include "models/system/collective.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "isa/dtype.h"
#include "support/error.h"

namespace trnsim::model {
namespace {

struct Range {
  int64_t off = 0, count = 0;
};

// Part i of n of [off, off + count): sizes differ by at most one element.
Range part(Range r, int64_t n, int64_t i) {
  const int64_t a = r.off + r.count * i / n, b = r.off + r.count * (i + 1) / n;
  return {a, b - a};
}

bool pow2(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

class Builder {
 public:
  explicit Builder(Plan& p) : p_(p) {}

  int phase(const std::string& name) {
    auto it = std::find(p_.phases.begin(), p_.phases.end(), name);
    if (it != p_.phases.end()) return static_cast<int>(it - p_.phases.begin());
    p_.phases.push_back(name);
    return static_cast<int>(p_.phases.size()) - 1;
  }

  int add(int src, int dst, Range from, int64_t to_off, bool reduce, bool from_input, int ph,
          const std::vector<int>& deps) {
    Xfer x;
    x.src = src;
    x.dst = dst;
    x.src_off = from.off;
    x.dst_off = to_off;
    x.count = from.count;
    x.reduce = reduce;
    x.from_input = from_input;
    x.phase = ph;
    x.dep_begin = static_cast<int64_t>(p_.deps.size());
    for (int d : deps) {
      if (d < 0) continue;
      const auto first = p_.deps.begin() + x.dep_begin;
      if (std::find(first, p_.deps.end(), d) == p_.deps.end()) p_.deps.push_back(d);
    }
    x.dep_count = static_cast<int32_t>(static_cast<int64_t>(p_.deps.size()) - x.dep_begin);
    p_.xfers.push_back(x);
    return static_cast<int>(p_.xfers.size()) - 1;
  }

 private:
  Plan& p_;
};

using Deps = std::vector<std::vector<int>>;  // per rank index: transfers to wait for

// Ring reduce-scatter and/or all-gather over `order` (rank indices, ring order). `chunk(q)` is
// the range of label q; the member at position p ends the reduce-scatter owning label
// `label[p]`. `entry[rank]` are what each rank waits for before its first send; on return,
// entry[rank] is what a later phase must wait for (the last transfers into the rank).
void ring(Builder& b, const std::vector<int>& order, const std::function<Range(int)>& chunk,
          const std::vector<int>& label, bool rs, bool ag, int ph_rs, int ph_ag, Deps& entry) {
  const int n = static_cast<int>(order.size());
  if (n < 2) return;
  std::vector<int> prev(n, -1);   // previous step's transfer from position p
  bool first = true;
  std::vector<int> deps;
  auto step = [&](int s, bool reduce) {
    std::vector<int> cur(n);
    for (int p = 0; p < n; ++p) {
      const int src = order[p], dst = order[(p + 1) % n];
      const int q = reduce ? label[((p - s - 1) % n + n) % n] : label[((p - s) % n + n) % n];
      if (first) {
        deps = entry[src];
      } else {
        deps.assign({prev[(p - 1 + n) % n], prev[p]});
      }
      const Range r = chunk(q);
      cur[p] = b.add(src, dst, r, r.off, reduce, false, reduce ? ph_rs : ph_ag, deps);
    }
    prev = cur;
    first = false;
  };
  if (rs)
    for (int s = 0; s < n - 1; ++s) step(s, true);
  if (ag)
    for (int s = 0; s < n - 1; ++s) step(s, false);
  for (int p = 0; p < n; ++p) entry[order[(p + 1) % n]] = {prev[p]};
}

// The rank indices of the plan in the ring order of channel family f (reversed when `rev`):
// the chips along the topology's cycle (instance after instance), each chip's cores in order.
std::vector<int> ring_order(const Topology& t, const Plan& p, int f, bool rev) {
  const auto cycles = t.chip_cycles();
  const auto& cyc = cycles[static_cast<size_t>(f) % cycles.size()];
  std::vector<int> index_of(static_cast<size_t>(t.ranks()), -1);
  for (size_t i = 0; i < p.ranks.size(); ++i) index_of[static_cast<size_t>(p.ranks[i])] = static_cast<int>(i);
  std::vector<int> order;
  const int n = static_cast<int>(t.system().chips);
  for (int inst = 0; inst < static_cast<int>(t.system().instances); ++inst)
    for (int local : cyc)
      for (int c = 0; c < t.cores_per_chip(); ++c) {
        const int g = (inst * n + local) * t.cores_per_chip() + c;
        if (index_of[static_cast<size_t>(g)] >= 0) order.push_back(index_of[static_cast<size_t>(g)]);
      }
  if (rev) std::reverse(order.begin(), order.end());
  return order;
}

int channel_count(const Topology& t, int requested) {
  if (requested > 0) return requested;
  if (t.system().cc_channels > 0) return static_cast<int>(t.system().cc_channels);
  const std::string& topo = t.system().topology;
  if (topo == "ring") return 2;
  if (topo == "torus2d") return 4;
  if (topo == "torus3d") return 6;
  return 1;
}

void plan_ring(const Topology& t, Plan& p, Builder& b) {
  const int n = static_cast<int>(p.ranks.size());
  const size_t per_phase = static_cast<size_t>(p.channels) * static_cast<size_t>(n) * static_cast<size_t>(n - 1);
  p.xfers.reserve(2 * per_phase);
  p.deps.reserve(4 * per_phase);
  const Range all{0, p.elems};
  for (int c = 0; c < p.channels; ++c) {
    const std::vector<int> order = ring_order(t, p, c / 2, c % 2 == 1);
    std::vector<int> label(static_cast<size_t>(n));
    for (int q = 0; q < n; ++q) label[static_cast<size_t>(q)] = order[static_cast<size_t>(q)];
    // Channel c moves part c of every rank's chunk.
    auto chunk = [&](int q) { return part(part(all, n, q), p.channels, c); };
    Deps entry(static_cast<size_t>(n));
    const bool rs = p.op == CollOp::AllReduce || p.op == CollOp::ReduceScatter;
    const bool ag = p.op == CollOp::AllReduce || p.op == CollOp::AllGather;
    ring(b, order, chunk, label, rs, ag, b.phase("reduce-scatter"), b.phase("all-gather"), entry);
  }
}

void plan_rdh(Plan& p, Builder& b) {
  const int n = static_cast<int>(p.ranks.size());
  if (!pow2(n))
    throw InputError(fmt::format("algorithm rdh needs a power-of-two number of ranks, not {}", n));
  std::vector<Range> have(static_cast<size_t>(n), Range{0, p.elems});
  std::vector<int> last(static_cast<size_t>(n), -1), own(static_cast<size_t>(n), -1);
  const bool rs = p.op == CollOp::AllReduce || p.op == CollOp::ReduceScatter;
  const bool ag = p.op == CollOp::AllReduce || p.op == CollOp::AllGather;
  if (rs) {
    const int ph = b.phase("reduce-scatter (recursive halving)");
    for (int d = n / 2; d >= 1; d /= 2) {
      std::vector<int> into(static_cast<size_t>(n)), sent(static_cast<size_t>(n));
      std::vector<Range> keep(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) {
        const int j = i ^ d;
        const Range lo = part(have[static_cast<size_t>(i)], 2, 0), hi = part(have[static_cast<size_t>(i)], 2, 1);
        const bool low = (i & d) == 0;
        keep[static_cast<size_t>(i)] = low ? lo : hi;
        const Range give = low ? hi : lo;
        const int x = b.add(i, j, give, give.off, true, false, ph, {last[static_cast<size_t>(i)], own[static_cast<size_t>(i)]});
        into[static_cast<size_t>(j)] = x;
        sent[static_cast<size_t>(i)] = x;
      }
      last = into;
      own = sent;
      have = keep;
    }
  } else {
    for (int i = 0; i < n; ++i) have[static_cast<size_t>(i)] = part(Range{0, p.elems}, n, i);
  }
  if (ag) {
    const int ph = b.phase("all-gather (recursive doubling)");
    for (int d = 1; d < n; d *= 2) {
      std::vector<int> into(static_cast<size_t>(n)), sent(static_cast<size_t>(n));
      std::vector<Range> merged(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) {
        const int j = i ^ d;
        const Range mine = have[static_cast<size_t>(i)];
        const int x = b.add(i, j, mine, mine.off, false, false, ph, {last[static_cast<size_t>(i)], own[static_cast<size_t>(i)]});
        into[static_cast<size_t>(j)] = x;
        sent[static_cast<size_t>(i)] = x;
        const Range other = have[static_cast<size_t>(j)];
        merged[static_cast<size_t>(i)] = {std::min(mine.off, other.off), mine.count + other.count};
      }
      last = into;
      own = sent;
      have = merged;
    }
  }
}

void plan_mesh(Plan& p, Builder& b) {
  const int n = static_cast<int>(p.ranks.size());
  const Range all{0, p.elems};
  std::vector<std::vector<int>> into(static_cast<size_t>(n));
  if (p.op == CollOp::AllReduce || p.op == CollOp::ReduceScatter) {
    const int ph = b.phase("reduce-scatter (direct)");
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        if (j != i) {
          const Range r = part(all, n, j);
          into[static_cast<size_t>(j)].push_back(b.add(i, j, r, r.off, true, false, ph, {}));
        }
  }
  if (p.op == CollOp::AllReduce || p.op == CollOp::AllGather) {
    const int ph = b.phase("all-gather (direct)");
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        if (j != i) {
          const Range r = part(all, n, i);
          b.add(i, j, r, r.off, false, false, ph, into[static_cast<size_t>(i)]);
        }
  }
}

void plan_all_to_all(Plan& p, Builder& b) {
  const int n = static_cast<int>(p.ranks.size());
  const Range all{0, p.elems};
  if (p.algo == CollAlgo::Mesh) {
    const int ph = b.phase("all-to-all (direct)");
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        if (j != i) b.add(i, j, part(all, n, j), part(all, n, i).off, false, true, ph, {});
    return;
  }
  // Pairwise exchange: step s, rank i sends to i + s; one peer at a time.
  const int ph = b.phase("all-to-all (pairwise)");
  std::vector<int> prev(static_cast<size_t>(n), -1);
  for (int s = 1; s < n; ++s)
    for (int i = 0; i < n; ++i) {
      const int j = (i + s) % n;
      prev[static_cast<size_t>(i)] = b.add(i, j, part(all, n, j), part(all, n, i).off, false, true, ph,
                                           {prev[static_cast<size_t>(i)]});
    }
}

// Hierarchical all-reduce: reduce-scatter along each level (the cores of a chip, then each
// torus dimension, then the instances), then all-gather back in reverse [INTER; ASTRA-sim's
// localBWAware]. Each level is a ring inside the groups of ranks that differ only there.
void plan_hier(const Topology& t, Plan& p, Builder& b) {
  if (p.op != CollOp::AllReduce)
    throw InputError(fmt::format("algorithm hier is for all_reduce only, not {}", coll_op_name(p.op)));
  if (static_cast<int>(p.ranks.size()) != t.ranks())
    throw InputError(fmt::format("algorithm hier needs every rank of the system ({}), not {}",
                                 t.ranks(), p.ranks.size()));
  const auto& sys = t.system();
  const std::vector<int64_t> dims = sys.dims.empty() ? std::vector<int64_t>{sys.chips} : sys.dims;
  // Coordinates of rank g: [core, dim 0.., instance]; level sizes alike.
  std::vector<int64_t> sizes{sys.chip_config.cores};
  std::vector<std::string> names{"core"};
  for (size_t d = 0; d < dims.size(); ++d) {
    sizes.push_back(dims[d]);
    names.push_back(std::string(1, "xyz"[std::min<size_t>(d, 2)]));
  }
  sizes.push_back(sys.instances);
  names.push_back("efa");
  const int n = t.ranks();
  auto coord = [&](int g, size_t level) {
    int64_t v = g;
    for (size_t k = 0; k < level; ++k) v /= sizes[k];
    return static_cast<int>(v % sizes[level]);
  };
  auto with = [&](int g, size_t level, int value) {
    int64_t mul = 1;
    for (size_t k = 0; k < level; ++k) mul *= sizes[k];
    return static_cast<int>(g + (value - coord(g, level)) * mul);
  };
  for (int c = 0; c < p.channels; ++c) {
    const bool rev = c % 2 == 1;
    std::vector<Range> have(static_cast<size_t>(n), part(Range{0, p.elems}, p.channels, c));
    std::vector<std::vector<Range>> before;  // per level: each rank's range before it
    Deps entry(static_cast<size_t>(n));
    std::vector<size_t> used;
    for (size_t lv = 0; lv < sizes.size(); ++lv) {
      if (sizes[lv] < 2) continue;
      used.push_back(lv);
      before.push_back(have);
      const int ph = b.phase("reduce-scatter " + names[lv]);
      std::vector<Range> next = have;
      for (int g = 0; g < n; ++g) {
        if (coord(g, lv) != 0) continue;  // one ring per group, from its member 0
        std::vector<int> order;
        for (int v = 0; v < sizes[lv]; ++v) order.push_back(with(g, lv, v));
        if (rev) std::reverse(order.begin(), order.end());
        const Range r = have[static_cast<size_t>(g)];
        const int m = static_cast<int>(order.size());
        std::vector<int> label(static_cast<size_t>(m));
        for (int q = 0; q < m; ++q) label[static_cast<size_t>(q)] = q;
        ring(b, order, [&](int q) { return part(r, m, q); }, label, true, false, ph, ph, entry);
        for (int q = 0; q < m; ++q) next[static_cast<size_t>(order[static_cast<size_t>(q)])] = part(r, m, q);
      }
      have = next;
    }
    for (size_t k = used.size(); k-- > 0;) {
      const size_t lv = used[k];
      const int ph = b.phase("all-gather " + names[lv]);
      for (int g = 0; g < n; ++g) {
        if (coord(g, lv) != 0) continue;
        std::vector<int> order;
        for (int v = 0; v < sizes[lv]; ++v) order.push_back(with(g, lv, v));
        if (rev) std::reverse(order.begin(), order.end());
        const Range r = before[k][static_cast<size_t>(g)];
        const int m = static_cast<int>(order.size());
        std::vector<int> label(static_cast<size_t>(m));
        for (int q = 0; q < m; ++q) label[static_cast<size_t>(q)] = q;
        ring(b, order, [&](int q) { return part(r, m, q); }, label, false, true, ph, ph, entry);
      }
    }
  }
}

}  // namespace

const char* coll_op_name(CollOp op) {
  switch (op) {
    case CollOp::AllReduce: return "all_reduce";
    case CollOp::AllGather: return "all_gather";
    case CollOp::ReduceScatter: return "reduce_scatter";
    case CollOp::AllToAll: return "all_to_all";
    case CollOp::Permute: return "permute";
  }
  return "?";
}

const char* coll_algo_name(CollAlgo a) {
  switch (a) {
    case CollAlgo::Auto: return "auto";
    case CollAlgo::Ring: return "ring";
    case CollAlgo::Rdh: return "rdh";
    case CollAlgo::Mesh: return "mesh";
    case CollAlgo::Hier: return "hier";
  }
  return "?";
}

CollOp parse_coll_op(const std::string& s) {
  for (CollOp op : {CollOp::AllReduce, CollOp::AllGather, CollOp::ReduceScatter, CollOp::AllToAll,
                    CollOp::Permute})
    if (s == coll_op_name(op)) return op;
  throw InputError(fmt::format(
      "--op: unknown collective '{}' (all_reduce, all_gather, reduce_scatter, all_to_all, permute)", s));
}

CollAlgo parse_coll_algo(const std::string& s) {
  for (CollAlgo a : {CollAlgo::Auto, CollAlgo::Ring, CollAlgo::Rdh, CollAlgo::Mesh, CollAlgo::Hier})
    if (s == coll_algo_name(a)) return a;
  throw InputError(fmt::format("--algo: unknown algorithm '{}' (auto, ring, rdh, mesh, hier)", s));
}

RedOp parse_red_op(const std::string& s) {
  if (s == "sum") return RedOp::Sum;
  if (s == "max") return RedOp::Max;
  throw InputError(fmt::format("--reduce: unknown reduction '{}' (sum, max)", s));
}

CollAlgo choose_algo(const Topology& t, const PlanRequest& r) {
  if (r.op == CollOp::Permute) return CollAlgo::Ring;
  const int n = r.ranks.empty() ? t.ranks() : static_cast<int>(r.ranks.size());
  const auto& s = t.system();
  const int64_t bytes = r.elems * r.elem_bytes;
  // Across instances the runtime's default is hierarchical [INTER]; a 3-D torus is the Trn2
  // UltraServer, whose Z rings join 4 instances [TRN2I, CCA].
  if (r.op == CollOp::AllReduce && n == t.ranks() &&
      (s.instances > 1 || s.topology == "torus3d"))
    return CollAlgo::Hier;
  if (bytes <= s.cc_mesh_max_bytes) return CollAlgo::Mesh;
  if (r.op != CollOp::AllToAll && pow2(n) && bytes <= s.cc_rdh_max_bytes) return CollAlgo::Rdh;
  return CollAlgo::Ring;
}

Plan make_plan(const Topology& t, const PlanRequest& r) {
  Plan p;
  p.op = r.op;
  p.algo = r.algo == CollAlgo::Auto ? choose_algo(t, r) : r.algo;
  p.elems = r.elems;
  if (r.ranks.empty()) {
    for (int g = 0; g < t.ranks(); ++g) p.ranks.push_back(g);
  } else {
    p.ranks = r.ranks;
  }
  std::vector<bool> seen(static_cast<size_t>(t.ranks()), false);
  for (int g : p.ranks) {
    if (g < 0 || g >= t.ranks())
      throw InputError(fmt::format("replica group: rank {} does not exist (the system has {} ranks: "
                                   "{} chips x {} cores)", g, t.ranks(), t.chips(), t.cores_per_chip()));
    if (seen[static_cast<size_t>(g)]) throw InputError(fmt::format("replica group: rank {} is listed twice", g));
    seen[static_cast<size_t>(g)] = true;
  }
  const int n = static_cast<int>(p.ranks.size());
  if (n < 1) throw InputError("replica group: no ranks");
  if (r.elems < 0) throw InputError("collective size must not be negative");
  if (p.op != CollOp::Permute && p.op != CollOp::AllReduce && r.elems % n != 0)
    throw InputError(fmt::format("{}: {} elements are not a multiple of the {} ranks",
                                 coll_op_name(p.op), r.elems, n));
  p.channels = p.algo == CollAlgo::Ring || p.algo == CollAlgo::Hier ? channel_count(t, r.channels) : 1;
  if (p.op == CollOp::AllToAll && (p.algo == CollAlgo::Rdh || p.algo == CollAlgo::Hier))
    throw InputError(fmt::format("all_to_all runs with mesh (direct) or ring (pairwise), not {}",
                                 coll_algo_name(p.algo)));
  Builder b(p);
  if (p.op == CollOp::Permute) {
    const int ph = b.phase("permute");
    p.channels = 1;
    if (n > 1)
      for (int i = 0; i < n; ++i) b.add(i, (i + 1) % n, Range{0, p.elems}, 0, false, true, ph, {});
    return p;
  }
  if (p.op == CollOp::AllToAll) {
    plan_all_to_all(p, b);
    return p;
  }
  switch (p.algo) {
    case CollAlgo::Ring: plan_ring(t, p, b); break;
    case CollAlgo::Rdh: plan_rdh(p, b); break;
    case CollAlgo::Mesh: plan_mesh(p, b); break;
    case CollAlgo::Hier: plan_hier(t, p, b); break;
    case CollAlgo::Auto: break;
  }
  return p;
}

float round_value(float v, bool bf16) {
  return bf16 ? isa::bf16_to_float(isa::float_to_bf16(v)) : v;
}

void init_outputs(const Plan& p, Buffers& b) {
  const int n = static_cast<int>(p.ranks.size());
  b.out.assign(static_cast<size_t>(n), std::vector<float>(static_cast<size_t>(p.elems),
                                                          std::numeric_limits<float>::quiet_NaN()));
  for (int i = 0; i < n; ++i) {
    auto& o = b.out[static_cast<size_t>(i)];
    const auto& in = b.in[static_cast<size_t>(i)];
    if (p.op == CollOp::AllReduce || p.op == CollOp::ReduceScatter) {
      o = in;
    } else if (p.op == CollOp::Permute && n == 1) {
      o = in;  // a ring of one: the rank's own input
    } else if (p.op == CollOp::AllGather || p.op == CollOp::AllToAll) {
      const Range r = part(Range{0, p.elems}, n, i);
      std::copy(in.begin() + r.off, in.begin() + r.off + r.count, o.begin() + r.off);
    }
  }
}

std::vector<float> read_payload(const Plan&, const Xfer& x, const Buffers& b) {
  const auto& src = x.from_input ? b.in[static_cast<size_t>(x.src)] : b.out[static_cast<size_t>(x.src)];
  return std::vector<float>(src.begin() + x.src_off, src.begin() + x.src_off + x.count);
}

void deliver(const Xfer& x, RedOp op, bool bf16, const std::vector<float>& payload, Buffers& b) {
  float* dst = b.out[static_cast<size_t>(x.dst)].data() + x.dst_off;
  for (int64_t k = 0; k < x.count; ++k) {
    const float v = payload[static_cast<size_t>(k)];
    if (!x.reduce) {
      dst[k] = v;
    } else if (op == RedOp::Sum) {
      dst[k] = round_value(dst[k] + v, bf16);
    } else {
      dst[k] = std::isnan(dst[k]) || std::isnan(v) ? dst[k] + v : std::max(dst[k], v);
    }
  }
}

std::vector<float> reference_result(const Plan& p, RedOp op, bool bf16, const Buffers& b, int r) {
  const int n = static_cast<int>(p.ranks.size());
  const Range all{0, p.elems};
  std::vector<float> out(static_cast<size_t>(p.elems), std::numeric_limits<float>::quiet_NaN());
  auto reduced = [&](int64_t k) {
    float acc = b.in[0][static_cast<size_t>(k)];
    for (int i = 1; i < n; ++i) {
      const float v = b.in[static_cast<size_t>(i)][static_cast<size_t>(k)];
      acc = op == RedOp::Sum ? round_value(acc + v, bf16) : std::max(acc, v);
    }
    return acc;
  };
  switch (p.op) {
    case CollOp::AllReduce:
      for (int64_t k = 0; k < p.elems; ++k) out[static_cast<size_t>(k)] = reduced(k);
      break;
    case CollOp::ReduceScatter: {
      const Range c = part(all, n, r);
      for (int64_t k = c.off; k < c.off + c.count; ++k) out[static_cast<size_t>(k)] = reduced(k);
      break;
    }
    case CollOp::AllGather:
      for (int i = 0; i < n; ++i) {
        const Range c = part(all, n, i);
        for (int64_t k = c.off; k < c.off + c.count; ++k)
          out[static_cast<size_t>(k)] = b.in[static_cast<size_t>(i)][static_cast<size_t>(k)];
      }
      break;
    case CollOp::AllToAll:
      for (int i = 0; i < n; ++i) {
        const Range to = part(all, n, i), from = part(all, n, r);
        for (int64_t k = 0; k < to.count; ++k)
          out[static_cast<size_t>(to.off + k)] = b.in[static_cast<size_t>(i)][static_cast<size_t>(from.off + k)];
      }
      break;
    case CollOp::Permute:
      out = b.in[static_cast<size_t>((r - 1 + n) % n)];
      break;
  }
  return out;
}

}  // namespace trnsim::model
