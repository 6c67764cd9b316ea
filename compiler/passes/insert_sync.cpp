// Pass insert_sync: scheduling across engines with semaphores. Each compute engine (pe, act,
// dve, pool) and each DMA queue owns one semaphore that every instruction of it increments on
// completion, so "instruction #k of stream S is done" is "sem S >= k" (DMA queues are assumed
// to complete in order). An instruction waits for every earlier instruction of another stream
// whose memory footprint overlaps its own with at least one write (RAW, WAR, WAW); an engine
// is in order, so its own earlier instructions and waits it already made are not repeated.
// More than two waits spill onto `nop`s on the same engine. sp owns a semaphore only when it
// loads an If condition (ldr), the one sp instruction other engines may have to wait for.
// If parts are alternative paths, joined with padded counts (see Sync).
// Overlap is byte-exact: disjoint hulls (partitions x byte range) never overlap, identical
// patterns always do; patterns with the same strides get one lattice test, others have each
// byte run of the pattern with fewer runs (isa/footprint.h, computed once per access) tested
// against the other's affine footprint; when that one has more than kMaxRuns runs, or the
// search is long, they count as overlapping (safe, and bounds the cost). So
// strided accesses that interleave (stores of different channel blocks or rows of one tensor,
// column blocks of one output) do not serialise.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <iterator>
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

// The pass over the instruction list. If parts (LInstr marks) are processed as alternative
// paths: both parts start from the state before the If, and at its end the states are joined.
// The shorter path on each stream is padded (the increment of its last instruction of that
// stream in the part grows, or a nop increments), so after the If every stream's semaphore
// has the same count on both paths and means "everything of this stream up to here is done";
// waits after the If on anything from inside it wait for that joined count.
class Sync {
 public:
  Sync(Lowered& l, const isa::Target& t) : l_(l) {
    for (const auto& li : l.code) max_stream_ = std::max(max_stream_, queue_stream(li) + 1);
    for (const auto& li : l.code)
      if (li.engine == Engine::Sp && li.in.op == isa::Opcode::Ldr) sp_stream_ = max_stream_;
    if (sp_stream_ >= 0) ++max_stream_;
    if (max_stream_ > t.num_semaphores)
      throw InputError(fmt::format("program needs {} semaphores; the chip has {}", max_stream_,
                                   t.num_semaphores));
    count_.assign(max_stream_, 0);
    waited_.assign(isa::kNumEngines, std::vector<int64_t>(max_stream_, 0));
    last_out_.assign(max_stream_, -1);
    issuer_.assign(max_stream_, Engine::Sp);
    for (const auto& li : l.code)
      if (queue_stream(li) >= 0) issuer_[queue_stream(li)] = li.engine;
    match_.assign(l.code.size(), 0);
    std::vector<size_t> open;
    for (size_t i = 0; i < l.code.size(); ++i) {
      const LInstr::Mark m = l.code[i].mark;
      if (m == LInstr::Mark::IfElse || m == LInstr::Mark::IfEnd) {
        match_[open.back()] = i;
        open.pop_back();
      }
      if (m == LInstr::Mark::IfBegin || m == LInstr::Mark::IfElse) open.push_back(i);
    }
  }

  void run() {
    out_.reserve(l_.code.size() + l_.code.size() / 8);
    process(0, l_.code.size());
    l_.code = std::move(out_);
  }

 private:
  static int queue_stream(const LInstr& li) {
    if (li.mark == LInstr::Mark::None &&
        (li.in.op == isa::Opcode::Dma || li.in.op == isa::Opcode::DmaGather ||
         isa::opcode_is_collective(li.in.op)))  // collectives are queued and complete like dmas
      return kComputeStreams + static_cast<int>(li.in.ops[0].i);
    return -1;
  }

  // The semaphore an instruction increments: its engine's (pe, act, dve, pool; sp only for the
  // ldr of an If, the only sp instruction other engines may have to wait for), or its DMA
  // queue's; -1 for none.
  int stream_of(const LInstr& li) const {
    if (li.mark != LInstr::Mark::None) return -1;
    const int q = queue_stream(li);
    if (q >= 0) return q;
    switch (li.engine) {
      case Engine::Pe: return 0;
      case Engine::Act: return 1;
      case Engine::Dve: return 2;
      case Engine::Pool: return 3;
      default: return li.in.op == isa::Opcode::Ldr ? sp_stream_ : -1;
    }
  }

  void process(size_t begin, size_t end) {
    for (size_t i = begin; i < end;) {
      if (l_.code[i].mark == LInstr::Mark::IfBegin) {
        i = branch(i);
        continue;
      }
      instr(l_.code[i]);
      ++i;
    }
  }

  void instr(LInstr li) {
    const int e = static_cast<int>(li.engine);
    const int self = li.engine == Engine::Sp ? sp_stream_ : stream_of(li);
    const int my_stream = stream_of(li);
    auto hs = hulls_of(li.in);
    // Starts at what this engine already waited for: older records need no overlap test.
    std::vector<int64_t> need = waited_[e];
    for (Access& a : hs) {
      const Hull& h = a.h;
      auto it = buckets_.find({static_cast<int>(h.space), h.tensor});
      if (it == buckets_.end()) continue;
      Bucket& b = it->second;
      if (!h.write && !b.has_write) continue;
      b.visit(h, recs_, stamp_, ++query_, [&](int ri) {
        Rec& r = recs_[ri];
        if (!h.write && !r.a.h.write) return;
        // The same in-order engine (sp: its ldr, done before it issues anything later).
        if (r.stream == self && (self < kComputeStreams || self == sp_stream_)) return;
        if (r.seq <= need[r.stream] || !overlaps(a, r.a)) return;
        need[r.stream] = r.seq;
      });
    }
    std::vector<std::pair<int, int64_t>> waits;
    for (int s = 0; s < max_stream_; ++s)
      if (need[s] > waited_[e][s]) {
        waits.push_back({s, need[s]});
        waited_[e][s] = need[s];
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
      out_.push_back(nop);
    }
    li.in.num_waits = static_cast<uint8_t>(waits.size());
    for (size_t k = 0; k < waits.size(); ++k) {
      li.in.waits[k].sem = static_cast<uint16_t>(waits[k].first);
      li.in.waits[k].value = waits[k].second;
    }
    if (my_stream >= 0) {
      const int64_t seq = ++count_[my_stream];
      li.in.num_incs = 1;
      li.in.incs[0].sem = static_cast<uint16_t>(my_stream);
      li.in.incs[0].amount = 1;
      last_out_[my_stream] = static_cast<int64_t>(out_.size());
      // Register the accesses; a write that covers an earlier record supersedes it (anything
      // that must wait for that record will now wait for this later one), and so does a read
      // that covers an earlier read of the same stream (streams complete in order): a tile read
      // again and again (a pinned weight) keeps one record, not one per read.
      for (Access& a : hs) {
        Bucket& b = buckets_[{static_cast<int>(a.h.space), a.h.tensor}];
        if (a.h.write) b.has_write = true;
        b.visit(a.h, recs_, stamp_, ++query_, [&](int ri) {
          Rec& r = recs_[ri];
          if ((a.h.write || (!r.a.h.write && r.stream == my_stream)) && covers(a, r.a)) {
            r.alive = false;
            r.a.drop();
          }
        });
        const Hull h = a.h;
        recs_.push_back({std::move(a), my_stream, seq, true});
        stamp_.push_back(0);
        b.add(static_cast<int>(recs_.size()) - 1, h);
      }
    }
    out_.push_back(li);
  }

  // The If whose IfBegin marker is code[b]; returns the index after its IfEnd.
  size_t branch(size_t b) {
    const size_t el = match_[b], end = match_[el];
    out_.push_back(l_.code[b]);
    const isa::StrId tag = l_.code[b].in.tag;
    // State before the If.
    const size_t n0 = recs_.size();
    std::vector<char> alive0(n0);
    for (size_t i = 0; i < n0; ++i) alive0[i] = recs_[i].alive;
    const auto buckets0 = buckets_;
    const auto count0 = count_;
    const auto waited0 = waited_;
    const auto last0 = last_out_;
    // Then-part.
    const int64_t then_at = static_cast<int64_t>(out_.size());
    process(b + 1, el);
    std::vector<Rec> then_recs(std::make_move_iterator(recs_.begin() + static_cast<std::ptrdiff_t>(n0)),
                               std::make_move_iterator(recs_.end()));
    recs_.resize(n0);
    stamp_.resize(n0);
    std::vector<char> alive_then(n0);
    for (size_t i = 0; i < n0; ++i) {
      alive_then[i] = recs_[i].alive;
      recs_[i].alive = alive0[i];
    }
    const auto count_then = count_;
    const auto waited_then = waited_;
    const auto last_then = last_out_;
    buckets_ = buckets0;
    count_ = count0;
    waited_ = waited0;
    last_out_ = last0;
    // Else-part.
    const int64_t else_marker = static_cast<int64_t>(out_.size());
    out_.push_back(l_.code[el]);
    process(el + 1, end);
    // Join: pad the shorter path of every stream.
    std::vector<LInstr> then_pads, else_pads;
    for (int s = 0; s < max_stream_; ++s) {
      const int64_t ct = count_then[s], ce = count_[s];
      if (ct == ce) continue;
      const bool pad_then = ct < ce;
      const int64_t d = pad_then ? ce - ct : ct - ce;
      const int64_t last = pad_then ? last_then[s] : last_out_[s];
      const bool inside = pad_then ? last >= then_at && last < else_marker : last > else_marker;
      if (inside) {
        isa::SemInc& inc = out_[last].in.incs[0];
        if (inc.sem != s) throw std::logic_error("insert_sync: padded instruction's increment");
        inc.amount += static_cast<uint32_t>(d);
        continue;
      }
      (pad_then ? then_pads : else_pads).push_back(pad(s, d, pad_then ? ct : ce, tag));
    }
    out_.insert(out_.begin() + else_marker, then_pads.begin(), then_pads.end());
    for (LInstr& p : else_pads) out_.push_back(p);
    out_.push_back(l_.code[end]);
    // Records after the If: those of both parts, anything from inside the If at the joined
    // count; a record before the If stays while either part left it alive.
    for (size_t i = 0; i < n0; ++i) recs_[i].alive = recs_[i].alive || alive_then[i];
    for (Rec& r : then_recs) recs_.push_back(std::move(r));
    stamp_.resize(recs_.size(), 0);
    for (size_t i = n0; i < recs_.size(); ++i)
      recs_[i].seq = std::max(count_then[recs_[i].stream], count_[recs_[i].stream]);
    buckets_.clear();
    for (size_t i = 0; i < recs_.size(); ++i) {
      if (!recs_[i].alive) continue;
      Bucket& bk = buckets_[{static_cast<int>(recs_[i].a.h.space), recs_[i].a.h.tensor}];
      bk.add(static_cast<int>(i), recs_[i].a.h);
      bk.has_write = bk.has_write || recs_[i].a.h.write;
    }
    for (int s = 0; s < max_stream_; ++s) {
      const int64_t joined = std::max(count_then[s], count_[s]);
      // A later pad of an enclosing part cannot grow an increment that only one path runs.
      if (joined != count0[s]) last_out_[s] = -1;
      count_[s] = joined;
    }
    for (int e = 0; e < isa::kNumEngines; ++e)
      for (int s = 0; s < max_stream_; ++s)
        waited_[e][s] = std::min(waited_then[e][s], waited_[e][s]);
    return end + 1;
  }

  // A nop that brings stream s's semaphore up by d at the end of a part in which the stream
  // counted to `at`: on the stream's engine (in order, so after its earlier work), or for a DMA
  // queue on its issuing engine, waiting first for the queue's transfers so far.
  LInstr pad(int s, int64_t d, int64_t at, isa::StrId tag) const {
    Engine e = issuer_[s];
    if (s < kComputeStreams) e = std::array<Engine, 4>{Engine::Pe, Engine::Act, Engine::Dve, Engine::Pool}[s];
    else if (s == sp_stream_) e = Engine::Sp;
    LInstr nop{e, make_instr(isa::Opcode::Nop)};
    nop.in.tag = tag;
    if (s >= kComputeStreams && s != sp_stream_ && at > 0) {
      nop.in.num_waits = 1;
      nop.in.waits[0].sem = static_cast<uint16_t>(s);
      nop.in.waits[0].value = at;
    }
    nop.in.num_incs = 1;
    nop.in.incs[0].sem = static_cast<uint16_t>(s);
    nop.in.incs[0].amount = static_cast<uint32_t>(d);
    return nop;
  }

  Lowered& l_;
  int max_stream_ = kComputeStreams;
  int sp_stream_ = -1;
  std::vector<Engine> issuer_;  // per DMA queue stream: the engine that issues its transfers
  std::vector<size_t> match_;   // IfBegin -> its IfElse, IfElse -> its IfEnd
  std::vector<Rec> recs_;
  std::vector<int64_t> stamp_;  // per record: the last query that visited it
  int64_t query_ = 0;
  std::map<std::pair<int, int>, Bucket> buckets_;  // (space, tensor) -> records
  std::vector<int64_t> count_;
  // waited_[e][s]: the highest value engine e already waited for on semaphore s.
  std::vector<std::vector<int64_t>> waited_;
  // Per stream: where in out_ its latest counted instruction is (-1: none that may be padded).
  std::vector<int64_t> last_out_;
  std::vector<LInstr> out_;
};

}  // namespace

void insert_sync(Lowered& l, const isa::Target& t) { Sync(l, t).run(); }

}  // namespace trnsim::compiler
