// Pass insert_sync: scheduling across engines with semaphores. Each compute engine (pe, act,
// dve, pool) and each DMA queue owns one semaphore that every instruction of it increments on
// completion, so "instruction #k of stream S is done" is "sem S >= k" (DMA queues are assumed
// to complete in order). An instruction waits for every earlier instruction of another stream
// whose memory range overlaps its own with at least one write (RAW, WAR, WAW); an engine is
// in order, so its own earlier instructions and waits it already made are not repeated.
// More than two waits spill onto `nop`s on the same engine.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "compiler/passes/passes.h"
#include "support/error.h"

namespace trnsim::compiler {

using isa::AccessPattern;
using isa::Engine;
using isa::MemSpace;

namespace {

constexpr int kComputeStreams = 4;

struct Hull {
  MemSpace space = MemSpace::None;
  int tensor = 0;
  int64_t p0 = 0, p1 = 0, lo = 0, hi = 0;
  bool write = false;
  bool contains(const Hull& o) const {
    return p0 <= o.p0 && o.p1 <= p1 && lo <= o.lo && o.hi <= hi;
  }
  bool overlaps(const Hull& o) const {
    return p0 < o.p1 && o.p0 < p1 && lo < o.hi && o.lo < hi;
  }
};

Hull hull_of(const AccessPattern& ap, bool write) {
  Hull h;
  h.space = ap.space;
  h.write = write;
  const int64_t es = isa::dtype_size(ap.dtype);
  int64_t mn = 0, mx = 0;
  for (int d = 0; d < ap.ndims; ++d) {
    int64_t span = ap.dims[d].stride * (ap.dims[d].count - 1);
    (span > 0 ? mx : mn) += span;
  }
  if (ap.space == MemSpace::Hbm) {
    int64_t span = ap.partition_stride * (ap.num_partitions - 1);
    (span > 0 ? mx : mn) += span;
    h.tensor = ap.tensor;
    h.p0 = 0;
    h.p1 = 1;
  } else {
    h.p0 = ap.start_partition;
    h.p1 = ap.start_partition + ap.num_partitions;
  }
  h.lo = ap.offset + mn * es;
  h.hi = ap.offset + mx * es + es;
  return h;
}

std::vector<Hull> hulls_of(const isa::Instr& in) {
  std::vector<Hull> out;
  const auto& info = in.info();
  for (int k = 0; k < info.num_operands; ++k) {
    auto kind = info.operands[k].kind;
    const AccessPattern& ap = in.ops[k].ap;
    if (!ap.present()) continue;
    if (kind == isa::OperandKind::PsumAcc) {
      out.push_back(hull_of(ap, true));
      out.push_back(hull_of(ap, false));
      continue;
    }
    if (!isa::operand_is_ap(kind) && kind != isa::OperandKind::Scalar) continue;
    if (isa::operand_writes(kind)) out.push_back(hull_of(ap, true));
    if (isa::operand_reads(kind) || kind == isa::OperandKind::Scalar) out.push_back(hull_of(ap, false));
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
  Hull h;
  int stream;
  int64_t seq;
  bool alive = true;
};

struct Bucket {
  std::vector<int> recs;
  bool has_write = false;
};

}  // namespace

void insert_sync(Lowered& l, const isa::Target& t) {
  std::vector<LInstr> out;
  out.reserve(l.code.size() + l.code.size() / 8);
  std::vector<Rec> recs;
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
    std::vector<int64_t> need(max_stream, 0);
    for (const Hull& h : hs) {
      auto it = buckets.find({static_cast<int>(h.space), h.tensor});
      if (it == buckets.end()) continue;
      Bucket& b = it->second;
      if (!h.write && !b.has_write) continue;
      for (int ri : b.recs) {
        const Rec& r = recs[ri];
        if (!r.alive || (!h.write && !r.h.write) || !r.h.overlaps(h)) continue;
        if (r.stream == self && self < kComputeStreams) continue;  // same in-order engine
        need[r.stream] = std::max(need[r.stream], r.seq);
      }
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
      // that must wait for that record will now wait for this later one).
      for (const Hull& h : hs) {
        Bucket& b = buckets[{static_cast<int>(h.space), h.tensor}];
        if (h.write) {
          b.has_write = true;
          size_t w = 0;
          for (int ri : b.recs) {
            Rec& r = recs[ri];
            if (r.alive && h.contains(r.h)) r.alive = false;
            if (recs[ri].alive) b.recs[w++] = ri;
          }
          b.recs.resize(w);
        }
        recs.push_back({h, my_stream, seq, true});
        b.recs.push_back(static_cast<int>(recs.size()) - 1);
      }
    }
    out.push_back(li);
  }
  l.code = std::move(out);
}

}  // namespace trnsim::compiler
