// Pass allocate_sbuf: physical SBUF space for the lowerings' virtual buffers, from live ranges,
// with store-to-load forwarding.
//
// 1. Every SBUF access pattern names one buffer (LowerCtx gives each allocation a unique
//    virtual range); a buffer is live from its first to its last access in program order.
// 2. Forwarding: a `dma` load whose HBM source is what an earlier `dma` store wrote from an
//    SBUF buffer X (same elements, no write to that HBM range in between, an exact dtype round
//    trip, X not written after the store, the load the first writer of its buffer Y, later
//    in-place writes to Y only after every other read of X, every access to Y inside the
//    loaded range) is dropped: Y's accesses are redirected to X, whose live range grows to Y's
//    last access. The load may also read one step of the store's outermost free dim (a fused
//    matmul stores 4 feature tiles at once; the next matmul loads one k tile at a time). A
//    load that converts (fp32 -> bf16 for the Tensor Engine), or whose buffer cannot become X
//    (several loads fill it), becomes an act copy from X that converts the same way. A forward is only taken while the live bytes over the extension
//    stay within a budget of SBUF; otherwise the tensor keeps going through HBM (the spill).
//    Stores to scratch tensors whose every reader was forwarded are dropped.
// 3. Placement: a linear scan in program order. Ring buffers go next-fit from a cursor that
//    moves on like the old ring (a new buffer avoids the space freed most recently, so the load
//    of tile i+1 does not wait for the readers of tile i); pinned buffers go at the top. If it
//    does not fit, forwarding is retried with a smaller budget, and finally without it; should
//    even that fail, the old ring offsets (recorded at allocation) are used.
// The semaphore pass, which runs next, orders reuse of space by address overlap.
// If parts (lower/control.cpp) are alternative paths: a store is forwarded only to loads in its
// own part or one nested in it (a store in the then-part says nothing about the else-part or
// the code after the If). Live ranges stay linear, which is right for both paths: a buffer used
// only in the then-part is dead in the else-part, one used before and after the If is live
// throughout.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <stdexcept>

#include "compiler/passes/passes.h"
#include "isa/footprint.h"
#include "support/error.h"

namespace trnsim::compiler {

using isa::AccessPattern;
using isa::MemSpace;

namespace {

struct Access {
  int op = 0;  // operand index
  bool read = false, write = false;
};

// The access-pattern operands of an instruction with their read/write roles.
std::vector<Access> accesses_of(const isa::Instr& in) {
  std::vector<Access> out;
  const auto& info = in.info();
  for (int k = 0; k < info.num_operands; ++k) {
    const auto kind = info.operands[k].kind;
    if (!in.ops[k].ap.present()) continue;
    if (kind == isa::OperandKind::PsumAcc) {
      out.push_back({k, true, true});
    } else if (kind == isa::OperandKind::Scalar) {
      out.push_back({k, true, false});
    } else if (isa::operand_is_ap(kind)) {
      out.push_back({k, isa::operand_reads(kind), isa::operand_writes(kind)});
    }
  }
  return out;
}

// Byte range [lo, hi) and partitions [p0, p1) an access pattern touches.
using Range = isa::ByteHull;
Range range_of(const AccessPattern& ap) { return isa::byte_hull(ap); }

bool is_dma(const isa::Instr& in) { return in.op == isa::Opcode::Dma; }

// SBUF dtype s -> HBM dtype h -> s gives back every value.
bool exact_round_trip(DType s, DType h) {
  if (s == h) return true;
  return h == DType::Fp32 && (s == DType::Bf16 || s == DType::Fp16 || s == DType::Fp8e4m3 ||
                              s == DType::Fp8e5m2);
}

// The same access pattern with unit dims dropped and contiguous dims merged (the elements and
// their order are unchanged), so equal patterns written differently compare equal.
AccessPattern canonical(AccessPattern ap) {
  std::array<isa::Dim, 4> d{};
  int n = 0;
  for (int i = 0; i < ap.ndims; ++i) {
    if (ap.dims[i].count == 1) continue;
    if (n > 0 && d[n - 1].stride == ap.dims[i].stride * ap.dims[i].count) {
      d[n - 1] = {ap.dims[i].stride, d[n - 1].count * ap.dims[i].count};
      continue;
    }
    d[n++] = ap.dims[i];
  }
  ap.dims = d;
  ap.ndims = static_cast<uint8_t>(n);
  if (ap.num_partitions == 1) ap.partition_stride = 0;
  return ap;
}

// The SBUF elements a store (SBUF `s` -> HBM `h`) wrote to the HBM elements `load` reads: all of
// them (same elements), or one step of the store's outermost free dim (a store of several
// tiles, e.g. a fused matmul's group of 4 feature tiles, read back one tile at a time).
std::optional<AccessPattern> stored_part(const AccessPattern& h, const AccessPattern& s,
                                         const AccessPattern& load) {
  if (h.offset_reg >= 0 || s.offset_reg >= 0 || load.offset_reg >= 0) return std::nullopt;
  const AccessPattern ch = canonical(h), cl = canonical(load);
  if (ch == cl) return s;
  if (ch.ndims != cl.ndims + 1 || ch.tensor != cl.tensor || ch.dtype != cl.dtype ||
      ch.num_partitions != cl.num_partitions || ch.partition_stride != cl.partition_stride)
    return std::nullopt;
  for (int d = 0; d < cl.ndims; ++d)
    if (ch.dims[d + 1].stride != cl.dims[d].stride || ch.dims[d + 1].count != cl.dims[d].count)
      return std::nullopt;
  const int64_t step = ch.dims[0].stride * isa::dtype_size(ch.dtype);
  const int64_t diff = cl.offset - ch.offset;
  if (step <= 0 || diff % step != 0 || diff / step < 0 || diff / step >= ch.dims[0].count)
    return std::nullopt;
  const int64_t j = diff / step, inner = cl.free_elements();
  // The SBUF side: one contiguous run of count x inner elements, or [A, count][1, inner].
  const AccessPattern cs = canonical(s);
  AccessPattern part = s;
  part.ndims = 1;
  part.dims = {};
  part.dims[0] = {1, inner};
  const int64_t es = isa::dtype_size(s.dtype);
  if (cs.ndims == 1 && cs.dims[0].stride == 1 && cs.dims[0].count == ch.dims[0].count * inner) {
    part.offset = s.offset + j * inner * es;
  } else if (cs.ndims == 2 && cs.dims[0].count == ch.dims[0].count && cs.dims[1].stride == 1 &&
             cs.dims[1].count == inner) {
    part.offset = s.offset + j * cs.dims[0].stride * es;
  } else {
    return std::nullopt;
  }
  return part;
}

// Same partitions and element layout (and dtype when `dtype`).
bool same_layout(const AccessPattern& a, const AccessPattern& b, bool dtype = true) {
  if ((dtype && a.dtype != b.dtype) || a.start_partition != b.start_partition ||
      a.num_partitions != b.num_partitions || a.offset_reg >= 0 || b.offset_reg >= 0)
    return false;
  const AccessPattern ca = canonical(a), cb = canonical(b);
  if (ca.ndims != cb.ndims) return false;
  for (int d = 0; d < ca.ndims; ++d)
    if (ca.dims[d].stride != cb.dims[d].stride || ca.dims[d].count != cb.dims[d].count)
      return false;
  return true;
}

class Allocator {
 public:
  Allocator(Lowered& l, const isa::Target& t) : l_(l), t_(t) {}

  SbufAllocStats run(bool forwarding) {
    const int64_t cap = t_.sbuf_bytes_per_partition;
    regions();
    scan();
    std::vector<double> budgets{0.75, 0.5, 0.25};
    if (!forwarding) budgets.clear();
    budgets.push_back(-1.0);  // no forwarding
    for (double share : budgets) {
      Plan p = plan(share < 0 ? -1 : static_cast<int64_t>(share * static_cast<double>(cap)));
      if (place(p)) return apply(p, false);
    }
    Plan none = plan(-1);
    check_ring(none);
    return apply(none, true);
  }

 private:
  struct Use {
    int64_t first = -1, last = -1;
    int writers = 0;
    int64_t first_write = -1, second_write = -1, last_write = -1;
    Range hull;  // union of all accesses (virtual addresses)
  };
  // Forwarding decisions and the resulting buffers.
  struct Plan {
    std::vector<int> target;        // buffer -> buffer it was forwarded to (itself if none)
    std::vector<int64_t> delta;     // virtual address shift into the target
    std::vector<int64_t> clobbered;  // root -> first in-place write by a forwarded buffer
    std::vector<char> drop;         // instruction dropped (1) or replaced by a copy (2)
    std::vector<int64_t> first, last;  // live range of each root buffer in the new code
    std::vector<int64_t> phys;      // physical offset of each root buffer
    std::map<int64_t, LInstr> copies;  // loads replaced by a converting copy (drop == 2)
    int forwarded = 0, converted = 0, dropped_stores = 0;
    int64_t saved_bytes = 0;
  };

  int buffer_of(int64_t voff) const {
    const int64_t b = (voff - kSbufVirtBase) / kSbufVirtStride;
    if (voff < kSbufVirtBase || b >= static_cast<int64_t>(l_.sbuf_buffers.size()))
      throw std::logic_error(fmt::format("allocate_sbuf: SBUF offset {} is not a buffer", voff));
    return static_cast<int>(b);
  }

  // Live ranges, writer counts and access hulls of every buffer.
  void scan() {
    uses_.assign(l_.sbuf_buffers.size(), Use{});
    for (size_t i = 0; i < l_.code.size(); ++i) {
      const isa::Instr& in = l_.code[i].in;
      for (const Access& a : accesses_of(in)) {
        const AccessPattern& ap = in.ops[a.op].ap;
        if (ap.space != MemSpace::Sbuf) continue;
        const Range r = range_of(ap);
        const int b = buffer_of(r.lo);
        const SbufBuffer& buf = l_.sbuf_buffers[b];
        if (r.hi > buf.vbase + buf.bytes || ap.offset_reg >= 0)
          throw std::logic_error(fmt::format(
              "allocate_sbuf: instruction {} accesses bytes [{}, {}) of a {}-byte buffer", i,
              r.lo - buf.vbase, r.hi - buf.vbase, buf.bytes));
        Use& u = uses_[b];
        const auto at = static_cast<int64_t>(i);
        if (u.first < 0) {
          u.first = at;
          u.hull = r;
        } else {
          u.hull.lo = std::min(u.hull.lo, r.lo);
          u.hull.hi = std::max(u.hull.hi, r.hi);
          u.hull.p0 = std::min(u.hull.p0, r.p0);
          u.hull.p1 = std::max(u.hull.p1, r.p1);
        }
        u.last = at;
        if (a.write) {
          if (u.writers == 0) u.first_write = at;
          else if (u.writers == 1) u.second_write = at;
          ++u.writers;
          u.last_write = at;
        }
      }
    }
  }

  // The If part each instruction is in: 0 outside any If, parts numbered from 1, each with its
  // enclosing part in parent_.
  void regions() {
    region_.assign(l_.code.size(), 0);
    parent_.assign(1, 0);
    std::vector<int> stack{0};
    for (size_t i = 0; i < l_.code.size(); ++i) {
      const LInstr::Mark m = l_.code[i].mark;
      if (m == LInstr::Mark::IfElse || m == LInstr::Mark::IfEnd) stack.pop_back();
      if (m == LInstr::Mark::IfBegin || m == LInstr::Mark::IfElse) {
        parent_.push_back(stack.back());
        stack.push_back(static_cast<int>(parent_.size()) - 1);
      }
      region_[i] = stack.back();
    }
  }

  // Whether part `outer` is part `inner` or encloses it.
  bool encloses(int outer, int inner) const {
    while (inner != outer && inner != 0) inner = parent_[inner];
    return inner == outer;
  }

  int root(const Plan& p, int b) const {
    while (p.target[b] != b) b = p.target[b];
    return b;
  }

  // An HBM write in program order: instruction, hull and pattern.
  struct HbmWrite {
    int64_t at;
    Range hull;
    AccessPattern ap;
  };

  // Chooses the forwards under `budget` live bytes per partition (-1: none).
  Plan plan(int64_t budget) {
    const size_t nb = l_.sbuf_buffers.size(), n = l_.code.size();
    Plan p;
    p.target.resize(nb);
    std::iota(p.target.begin(), p.target.end(), 0);
    p.delta.assign(nb, 0);
    p.clobbered.assign(nb, std::numeric_limits<int64_t>::max());
    p.drop.assign(n, 0);
    std::vector<int64_t> last(nb);
    for (size_t b = 0; b < nb; ++b) last[b] = uses_[b].last;
    if (budget >= 0) {
      // Live bytes per instruction (difference array, then prefix sums).
      std::vector<int64_t> live(n + 1, 0);
      for (size_t b = 0; b < nb; ++b)
        if (uses_[b].first >= 0) {
          live[uses_[b].first] += l_.sbuf_buffers[b].bytes;
          live[uses_[b].last + 1] -= l_.sbuf_buffers[b].bytes;
        }
      for (size_t i = 1; i <= n; ++i) live[i] += live[i - 1];
      // HBM writes per tensor, in program order.
      std::vector<std::vector<HbmWrite>> writes(l_.prog.tensors.size());
      for (size_t i = 0; i < n; ++i) {
        const isa::Instr& in = l_.code[i].in;
        const auto acc = accesses_of(in);
        if (is_dma(in) && in.ops[1].ap.space == MemSpace::Sbuf &&
            in.ops[2].ap.space == MemSpace::Hbm)
          try_forward(p, static_cast<int64_t>(i), writes, live, last, budget);
        for (const Access& a : acc) {
          const AccessPattern& ap = in.ops[a.op].ap;
          if (a.write && ap.space == MemSpace::Hbm)
            writes[ap.tensor].push_back({static_cast<int64_t>(i), range_of(ap), ap});
        }
      }
      drop_dead_stores(p);
    }
    // Live ranges of the roots in the remaining code.
    p.first.assign(nb, -1);
    p.last.assign(nb, -1);
    for (size_t i = 0; i < n; ++i) {
      if (p.drop[i] == 1) continue;
      const isa::Instr& in = p.drop[i] ? p.copies.at(i).in : l_.code[i].in;
      for (const Access& a : accesses_of(in)) {
        const AccessPattern& ap = in.ops[a.op].ap;
        if (ap.space != MemSpace::Sbuf) continue;
        const int r = root(p, buffer_of(ap.offset));
        if (p.first[r] < 0) p.first[r] = static_cast<int64_t>(i);
        p.last[r] = static_cast<int64_t>(i);
      }
    }
    return p;
  }

  // Y (filled by load `li` with `dst`) can become X (root r's last access so far `last_r`): the
  // load is Y's first write and covers every access to Y; later (in-place) writes to Y come
  // after every other read of X, and nothing reads X after a forwarded buffer overwrote it.
  bool can_alias(const Plan& p, int64_t li, int x, int y, const AccessPattern& dst,
                 int64_t last_r) const {
    const Use& uy = uses_[y];
    if (x == y || uy.first_write != li || !range_of(dst).contains(uy.hull)) return false;
    if (uy.writers > 1 && last_r >= uy.second_write) return false;
    return uy.last < p.clobbered[root(p, x)];
  }

  void try_forward(Plan& p, int64_t li,
                   const std::vector<std::vector<HbmWrite>>& writes,
                   std::vector<int64_t>& live, std::vector<int64_t>& last, int64_t budget) {
    const isa::Instr& load = l_.code[li].in;
    const AccessPattern& src = load.ops[2].ap;
    const AccessPattern& dst = load.ops[1].ap;
    const Range hr = range_of(src);
    // The latest earlier write that shares a byte with the loaded HBM elements (exact, not
    // by hull: the column tiles of a row-major tensor interleave without sharing a byte).
    const auto& w = writes[src.tensor];
    int64_t si = -1;
    for (auto it = w.rbegin(); it != w.rend(); ++it)
      if (it->hull.overlaps(hr) && isa::patterns_meet(it->ap, src)) {
        si = it->at;
        break;
      }
    if (si < 0 || p.drop[si] || !encloses(region_[si], region_[li])) return;
    const isa::Instr& store = l_.code[si].in;
    if (!is_dma(store) || store.ops[2].ap.space != MemSpace::Sbuf) return;
    const std::optional<AccessPattern> part = stored_part(store.ops[1].ap, store.ops[2].ap, src);
    if (!part) return;
    const AccessPattern& from = *part;
    if (!exact_round_trip(from.dtype, src.dtype) || !same_layout(from, dst, false)) return;
    const int x = buffer_of(from.offset), y = buffer_of(dst.offset);
    if (x == y || uses_[x].last_write > si) return;  // X changes after the store
    const int r = root(p, x);
    const int64_t rb = l_.sbuf_buffers[r].bytes;
    if (from.dtype != dst.dtype || !can_alias(p, li, x, y, dst, last[r])) {
      // An act copy from X into Y (converting like the load would: fp32 -> bf16 for the Tensor
      // Engine) when Y cannot simply become X (several loads fill it, e.g. pinned k tiles);
      // X lives until the copy.
      if (!isa::dtype_is_float(dst.dtype) || !isa::dtype_is_float(from.dtype) ||
          li >= p.clobbered[r])
        return;
      for (int64_t i = last[r] + 1; i <= li; ++i)
        if (live[i] + rb > budget) return;
      for (int64_t i = last[r] + 1; i <= li; ++i) live[i] += rb;
      last[r] = std::max(last[r], li);
      LInstr copy{isa::Engine::Act, make_instr(isa::Opcode::Act)};
      copy.in.ops[0] = ap_operand(dst);
      copy.in.ops[1] = ap_operand(from);
      copy.in.ops[2] = int_operand(static_cast<int64_t>(isa::ActFn::Copy));
      copy.in.ops[3] = imm(1.0f);
      copy.in.ops[4] = imm(0.0f);
      copy.in.tag = load.tag;
      copy.in.label = load.label;
      copy.in.comment = load.comment;
      p.copies[li] = copy;
      p.drop[li] = 2;
      ++p.converted;
      p.saved_bytes += dst.total_elements() * isa::dtype_size(src.dtype);
      return;
    }
    const Use& uy = uses_[y];
    const int64_t yb = l_.sbuf_buffers[y].bytes;
    // Spill check: the root's range grows from last[r] to uy.last; Y's own range goes.
    for (int64_t i = last[r] + 1; i <= uy.last; ++i) {
      const int64_t here = live[i] + rb - (i >= uy.first ? yb : 0);
      if (here > budget) return;
    }
    for (int64_t i = last[r] + 1; i <= uy.last; ++i) live[i] += rb;
    for (int64_t i = uy.first; i <= uy.last; ++i) live[i] -= yb;
    last[r] = std::max(last[r], uy.last);
    if (uy.writers > 1) p.clobbered[r] = std::min(p.clobbered[r], uy.second_write);
    p.target[y] = x;
    p.delta[y] = from.offset - dst.offset;
    p.drop[li] = 1;
    ++p.forwarded;
    p.saved_bytes += dst.total_elements() * isa::dtype_size(src.dtype);
  }

  // Stores to scratch tensors whose every reader was forwarded.
  void drop_dead_stores(Plan& p) {
    const size_t nt = l_.prog.tensors.size();
    std::vector<char> read_left(nt, 0), forwarded(nt, 0), other_writer(nt, 0);
    for (size_t i = 0; i < l_.code.size(); ++i) {
      const isa::Instr& in = l_.code[i].in;
      for (const Access& a : accesses_of(in)) {
        const AccessPattern& ap = in.ops[a.op].ap;
        if (ap.space != MemSpace::Hbm) continue;
        if (a.read) (p.drop[i] ? forwarded : read_left)[ap.tensor] = 1;
        if (a.write && !(is_dma(in) && in.ops[2].ap.space == MemSpace::Sbuf))
          other_writer[ap.tensor] = 1;
      }
    }
    for (size_t i = 0; i < l_.code.size(); ++i) {
      const isa::Instr& in = l_.code[i].in;
      if (!is_dma(in) || in.ops[1].ap.space != MemSpace::Hbm) continue;
      const int t = in.ops[1].ap.tensor;
      if (l_.prog.tensors[t].role != isa::TensorRole::Scratch || !forwarded[t] || read_left[t] ||
          other_writer[t])
        continue;
      p.drop[i] = 1;
      ++p.dropped_stores;
      p.saved_bytes += in.ops[1].ap.total_elements() * isa::dtype_size(in.ops[1].ap.dtype);
    }
  }

  // Linear-scan placement of the root buffers; false when SBUF is too small for the plan.
  bool place(Plan& p) {
    const int64_t cap = t_.sbuf_bytes_per_partition;
    const size_t nb = l_.sbuf_buffers.size();
    p.phys.assign(nb, -1);
    std::vector<int> order;
    for (size_t b = 0; b < nb; ++b)
      if (p.first[b] >= 0) order.push_back(static_cast<int>(b));
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return p.first[a] < p.first[b]; });
    struct Busy {
      int64_t lo, hi, until;
    };
    std::vector<Busy> busy;  // sorted by lo
    int64_t cursor = 0;
    for (int b : order) {
      const int64_t start = p.first[b], size = l_.sbuf_buffers[b].bytes;
      busy.erase(std::remove_if(busy.begin(), busy.end(),
                                [&](const Busy& x) { return x.until < start; }),
                 busy.end());
      // Free gaps in address order.
      std::vector<std::pair<int64_t, int64_t>> gaps;
      int64_t at = 0;
      for (const Busy& x : busy) {
        if (x.lo > at) gaps.push_back({at, x.lo});
        at = std::max(at, x.hi);
      }
      if (at < cap) gaps.push_back({at, cap});
      int64_t off = -1;
      if (l_.sbuf_buffers[b].pinned) {
        for (auto it = gaps.rbegin(); it != gaps.rend() && off < 0; ++it)
          if (it->second - it->first >= size) off = it->second - size;
      } else {
        // Next fit: the first gap at or after the cursor, else wrap around.
        for (int pass = 0; pass < 2 && off < 0; ++pass)
          for (const auto& g : gaps) {
            const int64_t lo = pass == 0 ? std::max(g.first, cursor) : g.first;
            if (pass == 0 && g.second <= cursor) continue;
            if (g.second - lo >= size) {
              off = lo;
              break;
            }
          }
        if (off >= 0) cursor = off + size;
      }
      if (off < 0) return false;
      p.phys[b] = off;
      const Busy nbusy{off, off + size, p.last[b]};
      busy.insert(std::upper_bound(busy.begin(), busy.end(), nbusy,
                                   [](const Busy& a, const Busy& c) { return a.lo < c.lo; }),
                  nbusy);
    }
    return true;
  }

  // The ring fallback keeps the lowerings' own offsets. Two buffers live at once in the same
  // bytes would overwrite each other's data (the semaphores only order the accesses, they do
  // not keep the bytes), a silent wrong answer: refused instead, as not fitting in SBUF.
  void check_ring(const Plan& p) const {
    std::vector<int> order;
    for (size_t b = 0; b < l_.sbuf_buffers.size(); ++b)
      if (p.target[b] == static_cast<int>(b) && p.first[b] >= 0) order.push_back(static_cast<int>(b));
    std::sort(order.begin(), order.end(), [&](int a, int b) { return p.first[a] < p.first[b]; });
    std::vector<int> live;
    for (int b : order) {
      live.erase(std::remove_if(live.begin(), live.end(),
                                [&](int a) { return p.last[a] <= p.first[b]; }),
                 live.end());
      const SbufBuffer& nb = l_.sbuf_buffers[b];
      for (int a : live) {
        const SbufBuffer& ob = l_.sbuf_buffers[a];
        if (ob.ring_offset < nb.ring_offset + nb.bytes && nb.ring_offset < ob.ring_offset + ob.bytes) {
          const size_t i = static_cast<size_t>(p.first[b]);
          const std::string node = i < l_.code.size() ? l_.prog.str(l_.code[i].in.tag) : "";
          throw InputError(fmt::format(
              "{}the tiles it keeps in SBUF at once need more than its {} bytes per partition "
              "(a {}-byte tile would overwrite a {}-byte one still in use)",
              node.empty() ? "" : "node '" + node + "': ", t_.sbuf_bytes_per_partition, nb.bytes,
              ob.bytes));
        }
      }
      live.push_back(b);
    }
  }

  SbufAllocStats apply(Plan& p, bool ring) {
    SbufAllocStats st;
    st.ring_fallback = ring;
    st.forwarded_loads = p.forwarded;
    st.converted_loads = p.converted;
    st.dropped_stores = p.dropped_stores;
    st.hbm_bytes_saved = p.saved_bytes;
    std::vector<LInstr> out;
    out.reserve(l_.code.size());
    for (size_t i = 0; i < l_.code.size(); ++i) {
      if (p.drop[i] == 1) continue;
      LInstr li = p.drop[i] ? p.copies.at(i) : l_.code[i];
      for (const Access& a : accesses_of(li.in)) {
        AccessPattern& ap = li.in.ops[a.op].ap;
        if (ap.space != MemSpace::Sbuf) continue;
        int b = buffer_of(ap.offset);
        int64_t v = ap.offset;
        while (p.target[b] != b) {
          v += p.delta[b];
          b = p.target[b];
        }
        const int64_t base = ring ? l_.sbuf_buffers[b].ring_offset : p.phys[b];
        ap.offset = base + (v - l_.sbuf_buffers[b].vbase);
      }
      out.push_back(li);
    }
    for (size_t b = 0; b < l_.sbuf_buffers.size(); ++b)
      if (p.first[b] >= 0) {
        ++st.buffers;
        st.peak_bytes = std::max(st.peak_bytes, (ring ? l_.sbuf_buffers[b].ring_offset
                                                      : p.phys[b]) + l_.sbuf_buffers[b].bytes);
      }
    l_.code = std::move(out);
    return st;
  }

  Lowered& l_;
  const isa::Target& t_;
  std::vector<Use> uses_;
  std::vector<int> region_, parent_;
};

}  // namespace

SbufAllocStats allocate_sbuf(Lowered& l, const isa::Target& t, bool forwarding) {
  return Allocator(l, t).run(forwarding);
}

std::string SbufAllocStats::summary() const {
  return fmt::format(
      "# allocate_sbuf: {} buffers, highest byte used {} per partition{}; {} loads forwarded "
      "from SBUF, {} replaced by an act copy, {} scratch stores dropped, {} HBM "
      "bytes not transferred\n",
      buffers, peak_bytes, ring_fallback ? " (ring fallback)" : "", forwarded_loads,
      converted_loads, dropped_stores, hbm_bytes_saved);
}

}  // namespace trnsim::compiler
