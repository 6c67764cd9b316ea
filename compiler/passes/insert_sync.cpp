// Pass insert_sync: scheduling across engines with semaphores. Each compute engine (pe, act,
// dve, pool) and each DMA queue owns one semaphore that every instruction of it increments on
// completion, so "instruction #k of stream S is done" is "sem S >= k" (DMA queues are assumed
// to complete in order). An instruction waits for every earlier instruction of another stream
// whose memory footprint overlaps its own with at least one write (RAW, WAR, WAW); an engine
// is in order, so its own earlier instructions and waits it already made are not repeated.
// More than two waits spill onto `nop`s on the same engine.
// Overlap is byte-exact: disjoint hulls (partitions x byte range) never overlap, identical
// patterns always do; patterns with the same strides get one lattice test, others have each
// byte run of the pattern with fewer runs (isa/footprint.h, computed once per access) tested
// against the other's affine footprint; when that one has more than kMaxRuns runs, or the
// search is long, they count as overlapping (safe, and bounds the cost). So
// strided accesses that interleave (stores of different channel blocks or rows of one tensor,
// column blocks of one output) do not serialise.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "compiler/passes/passes.h"
#include "isa/footprint.h"
#include "support/error.h"

namespace trnsim::compiler {

using isa::AccessPattern;
using isa::Engine;
using isa::MemSpace;

namespace {

constexpr int kComputeStreams = 4;
// Patterns with more contiguous runs than this are never enumerated (see overlaps, covers).
constexpr int64_t kMaxRuns = 4096;

// An access's byte hull (isa::byte_hull) with its memory space, tensor and direction.
struct Hull : isa::ByteHull {
  MemSpace space = MemSpace::None;
  int tensor = 0;
  bool write = false;
};

Hull hull_of(const AccessPattern& ap, bool write) {
  Hull h;
  static_cast<isa::ByteHull&>(h) = isa::byte_hull(ap);
  h.space = ap.space;
  h.write = write;
  if (ap.space == MemSpace::Hbm) h.tensor = ap.tensor;
  return h;
}

// One access of an instruction: its hull, its pattern, its affine footprint and (computed on
// first need) its sorted byte runs.
struct Access {
  Hull h;
  AccessPattern ap;
  isa::Footprint fp;
  int8_t runs_state = 0;  // 0: not computed, 1: `runs` exact, 2: too many runs (use the hull)
  isa::Runs runs;

  const isa::Runs* exact() {
    if (runs_state == 0) {
      runs_state = ap.offset_reg < 0 && fp.num_runs() <= kMaxRuns ? 1 : 2;
      if (runs_state == 1) isa::pattern_runs(ap, kMaxRuns, runs);
    }
    return runs_state == 1 ? &runs : nullptr;
  }
  void drop() {
    isa::Runs().swap(runs);
    runs_state = 2;
  }
};

Access access_of(const AccessPattern& ap, bool write) {
  return {hull_of(ap, write), ap, isa::footprint_of(ap), 0, {}};
}

// Whether a and b share a byte: exact when their hulls overlap (patterns with the same strides:
// one lattice test; else each run of the one with fewer runs against the other's footprint),
// unless that one has more than kMaxRuns runs or the search takes more than kMeetSteps (yes).
bool overlaps(Access& a, Access& b) {
  constexpr int64_t kMeetSteps = 1 << 12;
  if (!a.h.overlaps(b.h)) return false;
  if (a.ap == b.ap || a.ap.offset_reg >= 0 || b.ap.offset_reg >= 0) return true;
  int64_t budget = kMeetSteps;
  const int same = isa::footprints_meet_same_strides(a.fp, b.fp, budget);
  if (same >= 0) return same == 1;
  if (a.runs_state == 1 && b.runs_state == 1) return isa::runs_intersect(a.runs, b.runs);
  Access& small = a.fp.num_runs() <= b.fp.num_runs() ? a : b;
  const Access& big = &small == &a ? b : a;
  const isa::Runs* rs = small.exact();
  if (rs == nullptr) return true;
  // The small pattern's runs inside the big one's byte hull, each tested against its footprint.
  const int64_t lo = big.fp.base + big.fp.ext_lo[0], hi = big.fp.base + big.fp.ext_hi[0];
  auto it = std::partition_point(rs->begin(), rs->end(),
                                 [lo](const auto& r) { return r.second <= lo; });
  budget = kMeetSteps;
  for (; it != rs->end() && it->first < hi; ++it)
    if (big.fp.meets(it->first, it->second, budget)) return true;
  return false;
}

// Whether every byte of b is a byte of a (false when unsure).
bool covers(Access& a, Access& b) {
  if (!a.h.contains(b.h)) return false;
  if (a.ap == b.ap) return true;
  if (a.ap.offset_reg >= 0 || b.ap.offset_reg >= 0) return false;
  const isa::Runs* ra = a.exact();
  if (ra == nullptr) return false;
  const isa::Runs* rb = b.exact();
  return rb != nullptr && isa::runs_cover(*ra, *rb);
}

std::vector<Access> hulls_of(const isa::Instr& in) {
  std::vector<Access> out;
  const auto& info = in.info();
  for (int k = 0; k < info.num_operands; ++k) {
    auto kind = info.operands[k].kind;
    const AccessPattern& ap = in.ops[k].ap;
    if (!ap.present()) continue;
    if (kind == isa::OperandKind::PsumAcc) {
      out.push_back(access_of(ap, true));
      out.push_back(access_of(ap, false));
      continue;
    }
    if (!isa::operand_is_ap(kind) && kind != isa::OperandKind::Scalar) continue;
    if (isa::operand_writes(kind)) out.push_back(access_of(ap, true));
    if (isa::operand_reads(kind) || kind == isa::OperandKind::Scalar)
      out.push_back(access_of(ap, false));
  }
  return out;
}

int stream_of(const LInstr& li) {
  if (li.in.op == isa::Opcode::Dma || li.in.op == isa::Opcode::DmaGather)
    return kComputeStreams + static_cast<int>(li.in.ops[0].i);
  switch (li.engine) {
    case Engine::Pe: return 0;
    case Engine::Act: return 1;
    case Engine::Dve: return 2;
    case Engine::Pool: return 3;
    default: return -1;
  }
}

struct Rec {
  Access a;
  int stream;
  int64_t seq;
  bool alive = true;
};

// The records of one memory (SBUF, PSUM, or one HBM tensor), binned by the byte range of their
// hulls so that an access is tested only against records near it: a long program's many
// disjoint tiles and stores otherwise make every access scan every earlier record (quadratic
// compile time). A record spanning more than kMaxBins bins goes to `wide`, seen by every query.
struct Bucket {
  static constexpr int kShift = 10;  // 1 KiB bins
  static constexpr int64_t kMaxBins = 64;
  std::map<int64_t, std::vector<int>> bins;
  std::vector<int> wide;
  bool has_write = false;

  static bool is_wide(const Hull& h) { return ((h.hi - 1) >> kShift) - (h.lo >> kShift) >= kMaxBins; }
  void add(int ri, const Hull& h) {
    if (h.hi <= h.lo) return;
    if (is_wide(h)) {
      wide.push_back(ri);
      return;
    }
    for (int64_t b = h.lo >> kShift; b <= (h.hi - 1) >> kShift; ++b) bins[b].push_back(ri);
  }
  // Calls f(record index) once for each live record that may overlap hull h (the caller tests
  // the overlap); drops dead records from the lists it walks.
  template <typename F>
  void visit(const Hull& h, std::vector<Rec>& recs, std::vector<int64_t>& stamp, int64_t query,
             F f) {
    auto walk = [&](std::vector<int>& list) {
      size_t w = 0;
      for (int ri : list) {
        if (!recs[ri].alive) continue;
        list[w++] = ri;
        if (stamp[ri] == query) continue;
        stamp[ri] = query;
        f(ri);
      }
      list.resize(w);
    };
    walk(wide);
    if (h.hi <= h.lo) return;
    if (is_wide(h)) {
      for (auto& [b, list] : bins) walk(list);
      return;
    }
    for (int64_t b = h.lo >> kShift; b <= (h.hi - 1) >> kShift; ++b) {
      auto it = bins.find(b);
      if (it != bins.end()) walk(it->second);
    }
  }
};

}  // namespace

void insert_sync(Lowered& l, const isa::Target& t) {
  std::vector<LInstr> out;
  out.reserve(l.code.size() + l.code.size() / 8);
  std::vector<Rec> recs;
  std::vector<int64_t> stamp;  // per record: the last query that visited it
  int64_t query = 0;
  std::map<std::pair<int, int>, Bucket> buckets;  // (space, tensor) -> records
  int max_stream = kComputeStreams;
  for (const auto& li : l.code) max_stream = std::max(max_stream, stream_of(li) + 1);
  if (max_stream > t.num_semaphores)
    throw InputError(fmt::format("program needs {} semaphores; the chip has {}", max_stream,
                                 t.num_semaphores));
  std::vector<int64_t> count(max_stream, 0);
  // waited[e][s]: the highest value engine e already waited for on semaphore s.
  std::vector<std::vector<int64_t>> waited(isa::kNumEngines, std::vector<int64_t>(max_stream, 0));

  for (LInstr li : l.code) {
    const int e = static_cast<int>(li.engine);
    const int self = li.engine == Engine::Sp ? -1 : stream_of(li);
    const int my_stream = stream_of(li);
    auto hs = hulls_of(li.in);
    // Starts at what this engine already waited for: older records need no overlap test.
    std::vector<int64_t> need = waited[e];
    for (Access& a : hs) {
      const Hull& h = a.h;
      auto it = buckets.find({static_cast<int>(h.space), h.tensor});
      if (it == buckets.end()) continue;
      Bucket& b = it->second;
      if (!h.write && !b.has_write) continue;
      b.visit(h, recs, stamp, ++query, [&](int ri) {
        Rec& r = recs[ri];
        if (!h.write && !r.a.h.write) return;
        if (r.stream == self && self < kComputeStreams) return;  // same in-order engine
        if (r.seq <= need[r.stream] || !overlaps(a, r.a)) return;
        need[r.stream] = r.seq;
      });
    }
    std::vector<std::pair<int, int64_t>> waits;
    for (int s = 0; s < max_stream; ++s)
      if (need[s] > waited[e][s]) {
        waits.push_back({s, need[s]});
        waited[e][s] = need[s];
      }
    while (waits.size() > static_cast<size_t>(isa::kMaxWaits)) {
      LInstr nop{li.engine, make_instr(isa::Opcode::Nop)};
      nop.in.tag = li.in.tag;
      for (int k = 0; k < isa::kMaxWaits; ++k) {
        nop.in.waits[k].sem = static_cast<uint16_t>(waits.back().first);
        nop.in.waits[k].value = waits.back().second;
        waits.pop_back();
      }
      nop.in.num_waits = isa::kMaxWaits;
      out.push_back(nop);
    }
    li.in.num_waits = static_cast<uint8_t>(waits.size());
    for (size_t k = 0; k < waits.size(); ++k) {
      li.in.waits[k].sem = static_cast<uint16_t>(waits[k].first);
      li.in.waits[k].value = waits[k].second;
    }
    if (my_stream >= 0) {
      const int64_t seq = ++count[my_stream];
      li.in.num_incs = 1;
      li.in.incs[0].sem = static_cast<uint16_t>(my_stream);
      li.in.incs[0].amount = 1;
      // Register the accesses; a write that covers an earlier record supersedes it (anything
      // that must wait for that record will now wait for this later one), and so does a read
      // that covers an earlier read of the same stream (streams complete in order): a tile read
      // again and again (a pinned weight) keeps one record, not one per read.
      for (Access& a : hs) {
        Bucket& b = buckets[{static_cast<int>(a.h.space), a.h.tensor}];
        if (a.h.write) b.has_write = true;
        b.visit(a.h, recs, stamp, ++query, [&](int ri) {
          Rec& r = recs[ri];
          if ((a.h.write || (!r.a.h.write && r.stream == my_stream)) && covers(a, r.a)) {
            r.alive = false;
            r.a.drop();
          }
        });
        const Hull h = a.h;
        recs.push_back({std::move(a), my_stream, seq, true});
        stamp.push_back(0);
        b.add(static_cast<int>(recs.size()) - 1, h);
      }
    }
    out.push_back(li);
  }
  l.code = std::move(out);
}

}  // namespace trnsim::compiler
