// Pass prefetch_weights: moves each node's loads of constants (weights, bias tables) up to the
// start of the node two before it, so they stream while the nodes before it compute.
//
// `sp` issues its DMAs in program order and stops at the first one whose semaphores are not
// ready. A node's lowering issues its activation loads first (they wait for the producer's
// stores) and its weight loads after them, so the weights only started once the previous node
// was done, and the DMA queues idled while it computed. This pass moves a node's sp-issued
// loads of constant HBM tensors to the start of the node `kLookback` (2) nodes back, after the
// loads already moved there: they are issued before that node's activation loads block `sp`.
// (Measured on BERT-base and ResNet-50: 1 node back gains less; 3 or 4 are not better.) The
// node's code is otherwise unchanged: a constant tensor is never written, so a moved load can
// only conflict over SBUF space, which allocate_sbuf (next) places by live range, the moved
// buffers now living longer. A moved load is the first access to its buffer (or follows
// moved loads into it). The buffers moved for the nodes in flight at once (the lookback
// window) take at most a quarter of SBUF per partition, first loads first, so a long weight
// stream still double-buffers through the ring for the rest. Nothing moves across If markers.
#include <algorithm>
#include <vector>

#include "compiler/passes/passes.h"
#include "support/error.h"

namespace trnsim::compiler {

namespace {

using isa::MemSpace;

int buffer_of(const Lowered& l, int64_t voff) {
  if (voff < kSbufVirtBase) return -1;
  const int64_t b = (voff - kSbufVirtBase) / kSbufVirtStride;
  return b < static_cast<int64_t>(l.sbuf_buffers.size()) ? static_cast<int>(b) : -1;
}

// The SBUF buffer a sp-issued load of a constant HBM tensor fills, else -1.
int const_load_buffer(const Lowered& l, const LInstr& li) {
  const isa::Instr& in = li.in;
  if (li.engine != isa::Engine::Sp || li.mark != LInstr::Mark::None ||
      in.op != isa::Opcode::Dma)
    return -1;
  const isa::AccessPattern& dst = in.ops[1].ap;
  const isa::AccessPattern& src = in.ops[2].ap;
  if (dst.space != MemSpace::Sbuf || src.space != MemSpace::Hbm || dst.offset_reg >= 0 ||
      src.offset_reg >= 0 ||
      src.tensor >= static_cast<int>(l.prog.tensors.size()) ||
      l.prog.tensors[src.tensor].role != isa::TensorRole::Const)
    return -1;
  return buffer_of(l, dst.offset);
}

// How many nodes ahead constant loads are issued.
constexpr size_t kLookback = 2;

}  // namespace

PrefetchStats prefetch_weights(Lowered& l, const isa::Target& t) {
  PrefetchStats st;
  const int64_t budget = t.sbuf_bytes_per_partition / 4;
  std::vector<LInstr>& code = l.code;
  // First access of every buffer (program order), from every SBUF operand.
  std::vector<int64_t> first(l.sbuf_buffers.size(), -1);
  for (size_t i = 0; i < code.size(); ++i)
    for (int k = 0; k < isa::kMaxOperands; ++k) {
      const isa::AccessPattern& ap = code[i].in.ops[k].ap;
      if (ap.space != MemSpace::Sbuf) continue;
      const int b = buffer_of(l, ap.offset);
      if (b >= 0 && first[b] < 0) first[b] = static_cast<int64_t>(i);
    }
  // Node segments: maximal runs of one tag.
  std::vector<size_t> starts;
  for (size_t i = 0; i < code.size(); ++i)
    if (i == 0 || code[i].in.tag != code[i - 1].in.tag) starts.push_back(i);
  std::vector<LInstr> out;
  out.reserve(code.size());
  // Where each segment's own code starts in `out`, and the bytes moved out of it.
  std::vector<size_t> seg_pos;
  std::vector<int64_t> seg_bytes;
  const size_t lookback = kLookback;
  constexpr char kOpen = 1, kClosed = 2;
  std::vector<char> state(l.sbuf_buffers.size(), 0);
  std::vector<int> touched;
  for (size_t s = 0; s < starts.size(); ++s) {
    const size_t b = starts[s], e = s + 1 < starts.size() ? starts[s + 1] : code.size();
    if (s == 0) {
      seg_pos.push_back(0);
      seg_bytes.push_back(0);
      out.insert(out.end(), code.begin() + b, code.begin() + e);
      continue;
    }
    // Moved loads of the nodes in between are still in flight: they share the budget.
    int64_t window = budget;
    for (size_t k = s > lookback ? s - lookback + 1 : 1; k < s; ++k) window -= seg_bytes[k];
    // Loads to move: the constant loads into a buffer first touched in this segment, up to
    // its first access that is not such a load (several loads may fill one pinned tile).
    std::vector<char> move(e - b, 0);
    // Per buffer in this segment: open (its loads are being moved) or closed (touched by
    // anything else first). An array, not lists searched per instruction: a segment of many
    // instructions over many buffers was quadratic (difftest seed 1306737: >60 s).
    int64_t bytes = 0;
    for (size_t i = b; i < e; ++i) {
      const int y = const_load_buffer(l, code[i]);
      if (y >= 0 && state[y] != kClosed) {
        if (state[y] == kOpen) {
          move[i - b] = 1;
          continue;
        }
        if (first[y] == static_cast<int64_t>(i) && bytes + l.sbuf_buffers[y].bytes <= window) {
          bytes += l.sbuf_buffers[y].bytes;
          state[y] = kOpen;
          touched.push_back(y);
          move[i - b] = 1;
          continue;
        }
      }
      for (int k = 0; k < isa::kMaxOperands; ++k) {
        const isa::AccessPattern& ap = code[i].in.ops[k].ap;
        if (!ap.present() || ap.space != MemSpace::Sbuf) continue;
        const int z = buffer_of(l, ap.offset);
        if (z >= 0 && state[z] != kClosed) {
          state[z] = kClosed;
          touched.push_back(z);
        }
      }
    }
    for (int t : touched) state[t] = 0;
    touched.clear();
    // Where: at the start of the node `lookback` nodes back (after the loads moved into it);
    // never across an If marker.
    const size_t pos = seg_pos[s >= lookback ? s - lookback : 0];
    bool blocked = false;
    for (size_t j = pos; j < out.size(); ++j) blocked |= out[j].mark != LInstr::Mark::None;
    for (size_t i = b; i < e && !blocked; ++i) blocked |= code[i].mark != LInstr::Mark::None;
    std::vector<LInstr> hoisted;
    for (size_t i = b; i < e; ++i)
      if (move[i - b] && !blocked) hoisted.push_back(code[i]);
    if (!hoisted.empty()) {
      out.insert(out.begin() + static_cast<std::ptrdiff_t>(pos), hoisted.begin(), hoisted.end());
      for (size_t& p : seg_pos)
        if (p >= pos) p += hoisted.size();
      st.moved_loads += static_cast<int>(hoisted.size());
      st.moved_bytes += bytes;
      st.nodes += 1;
    }
    seg_pos.push_back(out.size());
    seg_bytes.push_back(hoisted.empty() ? 0 : bytes);
    for (size_t i = b; i < e; ++i)
      if (hoisted.empty() || !move[i - b]) out.push_back(code[i]);
  }
  code = std::move(out);
  return st;
}

SbufAllocStats allocate_sbuf_prefetched(Lowered& l, std::vector<LInstr> unmoved,
                                        const isa::Target& t, bool forwarding) {
  try {
    const SbufAllocStats st = allocate_sbuf(l, t, forwarding);  // a refusal changes nothing
    if (!st.ring_fallback) return st;
  } catch (const InputError&) {
  }
  l.code = std::move(unmoved);
  return allocate_sbuf(l, t, forwarding);
}

}  // namespace trnsim::compiler
