// Lowering of Pad and Resize as gathers (GpSimd `gather`) over the trailing axes: the leading
// axes' rows go on partitions, each row's input elements are loaded into SBUF with one extra
// element holding Pad's constant, and every output element is sum_t w_t[j] * row[idx_t[j]]
// (one term for Pad and nearest Resize, 2 or 4 for linear Resize, up to 16 for cubic). The index
// and weight maps are compile-time constants, broadcast over partitions by stride-0 DMA.
// A row longer than a quarter of SBUF is not loaded whole: the outputs go in chunks, and each
// chunk loads only the input span its terms read (one span for all terms when it fits, else
// one per term), with the index map made relative to that span at compile time.
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "compiler/lower/emit.h"
#include "compiler/lower/lower_ctx.h"
#include "compiler/ops/cnn.h"
#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

using isa::AccessPattern;
using isa::AluOp;
using isa::Engine;
using isa::Opcode;

namespace {

// Outputs [j0, j0 + nf) read input spans `spans` ([lo, lo + len) of a row each); term t reads
// span term_span[t], where index `len` is the constant element.
struct MapChunk {
  int64_t j0 = 0, nf = 0;
  std::vector<std::pair<int64_t, int64_t>> spans;
  std::vector<size_t> term_span;
};

// Greedy chunks of at most max_nf outputs: one span shared by all terms while it stays within
// max_span, else (an output whose terms are further apart, e.g. two input rows wider than
// max_span) one span per term.
std::vector<MapChunk> map_chunks(const GatherMap& m, int64_t max_nf, int64_t max_span) {
  const size_t T = m.terms.size();
  std::vector<MapChunk> out;
  for (int64_t j0 = 0; j0 < m.out_free;) {
    std::vector<int64_t> lo(T, m.in_free), hi(T, -1);
    auto span_of = [&](size_t t, int64_t j, int64_t& l, int64_t& h) {
      const int64_t i = m.terms[t].idx[j];
      if (i < m.in_free) l = std::min(l, i), h = std::max(h, i);
    };
    // Union span: extend while the union of every term's indices stays within max_span.
    int64_t j1 = j0, ulo = m.in_free, uhi = -1;
    while (j1 < m.out_free && j1 - j0 < max_nf) {
      int64_t l = ulo, h = uhi;
      for (size_t t = 0; t < T; ++t) span_of(t, j1, l, h);
      if (h >= 0 && h - l + 1 > max_span) break;
      ulo = l, uhi = h, ++j1;
    }
    MapChunk c;
    c.j0 = j0;
    if (j1 > j0) {
      c.nf = j1 - j0;
      c.spans.push_back({uhi >= 0 ? ulo : 0, uhi >= 0 ? uhi - ulo + 1 : 0});
      c.term_span.assign(T, 0);
    } else {  // per term: extend while every term's own span stays within max_span
      j1 = j0;
      while (j1 < m.out_free && j1 - j0 < max_nf) {
        std::vector<int64_t> l = lo, h = hi;
        bool fits = true;
        for (size_t t = 0; t < T; ++t) {
          span_of(t, j1, l[t], h[t]);
          fits = fits && (h[t] < 0 || h[t] - l[t] + 1 <= max_span);
        }
        if (!fits && j1 > j0) break;
        lo = l, hi = h, ++j1;
      }
      c.nf = j1 - j0;
      for (size_t t = 0; t < T; ++t) {
        c.spans.push_back({hi[t] >= 0 ? lo[t] : 0, hi[t] >= 0 ? hi[t] - lo[t] + 1 : 0});
        c.term_span.push_back(t);
      }
    }
    out.push_back(c);
    j0 = j1;
  }
  return out;
}

}  // namespace

void lower_gather_map(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  std::vector<const Value*> vals;
  for (int id : n.inputs) vals.push_back(id >= 0 && g.t(id).is_const() ? &*g.t(id).value : nullptr);
  const Shape& xs = g.t(n.inputs[0]).shape;
  const GatherMap m = n.op == "Pad" ? pad_map(n, xs, vals) : resize_map(n, xs, vals);
  HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  if (m.out_free == 0 || m.rows == 0) return;
  const DType dt = LowerCtx::sbuf_dtype(x.dtype);
  const int64_t es = isa::dtype_size(dt);
  const int64_t cap = ctx.target().sbuf_bytes_per_partition;
  // A whole row fits (as always): one load per tile of rows. Else chunks with their spans.
  const bool whole = (m.in_free + 1) * es * 4 <= cap;
  const int64_t F = std::max<int64_t>(
      16, std::min<int64_t>(2048, (cap / 2 - (whole ? (m.in_free + 1) * es : cap / 6)) / 16));
  std::vector<MapChunk> chunks;
  if (whole) {
    for (int64_t j0 = 0; j0 < m.out_free; j0 += F) {
      MapChunk c;
      c.j0 = j0;
      c.nf = std::min(F, m.out_free - j0);
      c.spans = {{0, m.in_free}};
      c.term_span.assign(m.terms.size(), 0);
      chunks.push_back(c);
    }
  } else {
    chunks = map_chunks(m, F, cap / 6 / es - 1);
  }
  // Constant maps: indices relative to their chunk's span (the constant element = its length).
  std::vector<HbmView> idx, wts;
  for (size_t t = 0; t < m.terms.size(); ++t) {
    Value iv(DType::Int32, {m.out_free});
    for (const MapChunk& c : chunks) {
      const auto [lo, len] = c.spans[c.term_span[t]];
      for (int64_t j = c.j0; j < c.j0 + c.nf; ++j) {
        const int64_t i = m.terms[t].idx[j];
        iv.data[j] = static_cast<double>(i == m.in_free ? len : i - lo);
      }
    }
    idx.push_back(ctx.add_const(fmt::format("{}.idx{}", n.name, t), iv));
    bool ones = true;
    for (double w : m.terms[t].w) ones = ones && w == 1.0;
    if (!ones) {
      Value wv(DType::Fp32, {m.out_free});
      for (int64_t j = 0; j < m.out_free; ++j) wv.data[j] = m.terms[t].w[j];
      wts.push_back(ctx.add_const(fmt::format("{}.w{}", n.name, t), wv));
    } else {
      wts.push_back(HbmView{});
    }
  }
  const int64_t P = ctx.target().partitions;
  // A span of the rows [r0, r0 + np) with the constant after it.
  auto load_span = [&](int64_t r0, int64_t np, int64_t lo, int64_t len) {
    const int64_t off = ctx.sbuf_alloc((len + 1) * es);
    if (len > 0)
      ctx.dma(ctx.sbuf(off, np, len, dt),
              ctx.hbm(x, x.offset + r0 * m.in_free + lo, np, m.in_free, {{1, len}}));
    isa::Instr ms = make_instr(Opcode::Memset);
    ms.ops[0] = ap_operand(ctx.sbuf(off + len * es, np, 1, dt));
    ms.ops[1] = imm(static_cast<float>(m.constant));
    ctx.emit(Engine::Pool, ms);
    return ctx.sbuf(off, np, len + 1, dt);
  };
  for (int64_t r0 = 0; r0 < m.rows; r0 += P) {
    const int64_t np = std::min(P, m.rows - r0);
    std::optional<AccessPattern> whole_row;
    if (whole) whole_row = load_span(r0, np, 0, m.in_free);
    for (const MapChunk& c : chunks) {
      const int64_t j0 = c.j0, nf = c.nf;
      // One span shared by every term is loaded once; per-term spans (up to 16 of them for
      // cubic, each up to a sixth of SBUF) are loaded just before their term's gather, so that
      // only one is live at a time (all of them at once overflowed SBUF and overwrote each
      // other: difftest seed 811648, a 2-D cubic Resize on rows of 8193).
      std::optional<AccessPattern> shared = whole_row;
      if (!whole && c.spans.size() == 1)
        shared = load_span(r0, np, c.spans[0].first, c.spans[0].second);
      AccessPattern acc = ctx.sbuf(ctx.sbuf_alloc(nf * es), np, nf, dt);
      for (size_t t = 0; t < m.terms.size(); ++t) {
        AccessPattern it = ctx.sbuf(ctx.sbuf_alloc(nf * 4), np, nf, DType::Int32);
        ctx.dma(it, ctx.hbm(idx[t], j0, np, 0, {{1, nf}}));
        AccessPattern gt = t == 0 ? acc : ctx.sbuf(ctx.sbuf_alloc(nf * es), np, nf, dt);
        const AccessPattern table =
            shared ? *shared
                   : load_span(r0, np, c.spans[c.term_span[t]].first, c.spans[c.term_span[t]].second);
        isa::Instr ga = make_instr(Opcode::Gather);
        ga.ops[0] = ap_operand(gt);
        ga.ops[1] = ap_operand(table);
        ga.ops[2] = ap_operand(it);
        ctx.emit(Engine::Pool, ga);
        if (wts[t].tensor >= 0) {
          AccessPattern wt = ctx.sbuf(ctx.sbuf_alloc(nf * 4), np, nf, DType::Fp32);
          ctx.dma(wt, ctx.hbm(wts[t], j0, np, 0, {{1, nf}}));
          tt(ctx, gt, gt, wt, AluOp::Mul);
        }
        if (t > 0) tt(ctx, acc, acc, gt, AluOp::Add);
      }
      ctx.dma(ctx.hbm(y, y.offset + r0 * m.out_free + j0, np, m.out_free, {{1, nf}}), acc);
    }
  }
}

}  // namespace trnsim::compiler
