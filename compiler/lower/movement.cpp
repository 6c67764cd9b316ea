// Lowering of data movement: Reshape-like ops alias the input's HBM bytes; Transpose, Slice,
// Concat, Split, Expand and boundary copies are strided DMA copies through SBUF.
#include <fmt/format.h>

#include "compiler/lower/emit.h"
#include "compiler/lower/lower_ctx.h"
#include "compiler/ops/op_fns.h"
#include "compiler/ops/strided_copy.h"
#include "support/error.h"

namespace trnsim::compiler {

using isa::AccessPattern;

namespace {

// Copies move bytes unchanged: every dtype is staged as itself (bool as uint8, which the
// engines may hold).
DType staging_dtype(DType t) { return t == DType::Bool ? DType::Uint8 : t; }

// Copies src (offset + strides over `shape`) to dst (offset + strides) through SBUF tiles.
void copy_view(LowerCtx& ctx, const HbmView& dst, int64_t dst_off, const std::vector<int64_t>& dst_st,
               const HbmView& src, int64_t src_off, const std::vector<int64_t>& src_st,
               const Shape& shape) {
  const DType sd = staging_dtype(src.dtype);
  const int es = isa::dtype_size(sd);
  ctx.for_each_tile(shape, {dst_st, src_st}, ctx.max_free(1) * 4 / es, [&](const TileSpec& ts) {
    AccessPattern t = ctx.sbuf(ctx.sbuf_alloc(ts.nf * es), ts.np, ts.nf, sd);
    ctx.dma(t, ctx.hbm(src, src_off + ts.offsets[1], ts.np, ts.pstride[1], {{ts.fstride[1], ts.nf}}));
    ctx.dma(ctx.hbm(dst, dst_off + ts.offsets[0], ts.np, ts.pstride[0], {{ts.fstride[0], ts.nf}}), t,
            isa::Engine::Pool);  // pool issues stores: sp keeps loading
  });
}

void copy_dense(LowerCtx& ctx, int dst_id, int src_id) {
  HbmView d = ctx.view(dst_id), s = ctx.view(src_id);
  copy_view(ctx, d, d.offset, d.strides, s, s.offset, row_major_strides(d.shape), d.shape);
}

}  // namespace

void copy_hbm(LowerCtx& ctx, const HbmView& dst, const HbmView& src) {
  copy_view(ctx, dst, dst.offset, dst.strides, src, src.offset, src.strides, dst.shape);
}

void lower_reshape(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  int out = n.outputs[0], in = n.inputs[0];
  // Graph outputs (and reshapes of constants into outputs) need their own bytes.
  if (g.t(out).escapes()) return copy_dense(ctx, out, in);
  ctx.alias(out, in);
  for (size_t k = 1; k < n.outputs.size(); ++k)
    if (n.outputs[k] >= 0 && !g.t(n.outputs[k]).is_const())
      throw InputError(g.where(n) + ": the mask output is not supported");
}

// A Transpose is folded (no copy: its output is the permuted strided view of its input's bytes)
// when the output is not a graph output, every consumer is a MatMul (which addresses its
// operands through view strides, lower/matmul.cpp), and the innermost axis stays innermost with
// at least kMinFoldRunBytes contiguous: the consumer's loads then keep contiguous runs (an
// element-strided DMA costs a descriptor per element on real hardware).
constexpr int64_t kMinFoldRunBytes = 64;

bool transpose_foldable(const Graph& g, const Node& n, const HbmView& view) {
  const int out = n.outputs[0];
  if (g.t(out).escapes() || view.shape.empty()) return false;
  if (view.strides.back() != 1 ||
      view.shape.back() * isa::dtype_size(view.dtype) < kMinFoldRunBytes)
    return false;
  bool used = false;
  for (const Node& c : g.nodes) {
    for (size_t k = 0; k < c.inputs.size(); ++k) {
      if (c.inputs[k] != out) continue;
      if (c.op != "MatMul" || k > 1) return false;
      used = true;
    }
  }
  return used;
}

void lower_transpose(LowerCtx& ctx, const Node& n) {
  HbmView s = ctx.view(n.inputs[0]);
  auto perm = n.attr_ints("perm");
  if (perm.empty())
    for (int64_t i = static_cast<int64_t>(s.shape.size()) - 1; i >= 0; --i) perm.push_back(i);
  std::vector<int64_t> st;
  for (int64_t p : perm) st.push_back(s.strides[p]);
  HbmView folded = s;
  folded.shape = ctx.graph().t(n.outputs[0]).shape;
  folded.strides = st;
  if (transpose_foldable(ctx.graph(), n, folded)) return ctx.alias_view(n.outputs[0], folded);
  HbmView d = ctx.view(n.outputs[0]);
  copy_view(ctx, d, d.offset, d.strides, s, s.offset, st, d.shape);
}

void lower_slice(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  HbmView s = ctx.view(n.inputs[0]), d = ctx.view(n.outputs[0]);
  std::vector<const Value*> vals;
  for (int id : n.inputs) vals.push_back(id >= 0 && g.t(id).is_const() ? &*g.t(id).value : nullptr);
  auto w = slice_window(n, s.shape, vals);
  int64_t off = s.offset;
  std::vector<int64_t> st;
  for (size_t i = 0; i < s.shape.size(); ++i) {
    off += w.start[i] * s.strides[i];
    st.push_back(w.step[i] * s.strides[i]);
  }
  copy_view(ctx, d, d.offset, d.strides, s, off, st, d.shape);
}

void lower_concat(LowerCtx& ctx, const Node& n) {
  HbmView d = ctx.view(n.outputs[0]);
  int64_t axis = normalize_axis(n.attr_int("axis", 0), static_cast<int64_t>(d.shape.size()));
  int64_t pos = 0;
  for (int id : n.inputs) {
    if (id < 0) continue;
    HbmView s = ctx.view(id);
    copy_view(ctx, d, d.offset + pos * d.strides[axis], d.strides, s, s.offset, s.strides, s.shape);
    pos += s.shape[axis];
  }
}

void lower_split(LowerCtx& ctx, const Node& n) {
  HbmView s = ctx.view(n.inputs[0]);
  int64_t axis = normalize_axis(n.attr_int("axis", 0), static_cast<int64_t>(s.shape.size()));
  int64_t pos = 0;
  for (int id : n.outputs) {
    if (id < 0) continue;
    HbmView d = ctx.view(id);
    copy_view(ctx, d, d.offset, d.strides, s, s.offset + pos * s.strides[axis], s.strides, d.shape);
    pos += d.shape[axis];
  }
}

void lower_expand(LowerCtx& ctx, const Node& n) {
  HbmView s = ctx.view(n.inputs[0]), d = ctx.view(n.outputs[0]);
  copy_view(ctx, d, d.offset, d.strides, s, s.offset, broadcast_strides(s, d.shape), d.shape);
}

void lower_gather(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  HbmView data = ctx.view(n.inputs[0]), out = ctx.view(n.outputs[0]);
  const Tensor& it = g.t(n.inputs[1]);
  HbmView idx;
  const int64_t r = static_cast<int64_t>(data.shape.size());
  const int64_t axis = normalize_axis(n.attr_int("axis", 0), r);
  const int64_t V = data.shape[axis];
  if (it.is_const()) {
    Value v(DType::Int32, it.shape);
    for (int64_t i = 0; i < v.numel(); ++i) {
      int64_t e = it.value->data.int_at(i);
      if (e < -V || e >= V)
        throw InputError(fmt::format("{}: index {} out of range [-{}, {})", g.where(n), e, V, V));
      v.data[i] = static_cast<double>(e < 0 ? e + V : e);
    }
    idx = ctx.add_const(n.name + ".indices", v);
  } else {
    idx = ctx.view(n.inputs[1]);
  }
  // Runtime indices may count from the end (ONNX): idx + V * (idx < 0) on the tile.
  const bool wrap = !it.is_const();
  const DType dt = LowerCtx::sbuf_dtype(data.dtype);
  const int64_t es = isa::dtype_size(dt);
  int64_t O = 1, I = 1;
  for (int64_t i = 0; i < axis; ++i) O *= data.shape[i];
  for (int64_t i = axis + 1; i < r; ++i) I *= data.shape[i];
  const int64_t N = num_elements(it.shape);
  const int64_t P = ctx.target().partitions;
  const int64_t max_f = ctx.max_free(2);
  // Partitions carry indices; the free axis carries the rows' elements and, when a row is
  // shorter than a tile, several outer positions o (strided by V*I in the table, N*I in the
  // output), so a Gather over a short inner axis is not one instruction per outer position.
  const int64_t oc_max = I >= max_f ? 1 : max_f / I;
  for (int64_t j0 = 0; j0 < N; j0 += P) {
    const int64_t np = std::min(P, N - j0);
    AccessPattern ix = ctx.sbuf(ctx.sbuf_alloc(4), np, 1, DType::Int32);
    ctx.dma(ix, ctx.hbm(idx, idx.offset + j0, np, 1, {{1, 1}}));
    if (wrap) {
      AccessPattern neg = ctx.sbuf(ctx.sbuf_alloc(4), np, 1, DType::Int32);
      ts(ctx, neg, ix, isa::AluOp::Lt, 0.0f, isa::AluOp::Mul, static_cast<float>(V));
      tt(ctx, ix, ix, neg, isa::AluOp::Add);
    }
    for (int64_t o0 = 0; o0 < O; o0 += oc_max) {
      const int64_t oc = std::min(oc_max, O - o0);
      for (int64_t f0 = 0; f0 < I; f0 += max_f) {
        const int64_t nf = std::min(max_f, I - f0);
        AccessPattern t = ctx.sbuf(ctx.sbuf_alloc(oc * nf * es), np, oc * nf, dt);
        isa::Instr in = make_instr(isa::Opcode::DmaGather);
        in.ops[0] = int_operand(ctx.next_queue());
        in.ops[1] = ap_operand(t);
        in.ops[2] = ap_operand(
            ctx.hbm(data, data.offset + o0 * V * I + f0, V, I, {{V * I, oc}, {1, nf}}));
        in.ops[3] = ap_operand(ix);
        ctx.emit(isa::Engine::Sp, in);
        ctx.dma(ctx.hbm(out, out.offset + (o0 * N + j0) * I + f0, np, I, {{N * I, oc}, {1, nf}}), t);
      }
    }
  }
}

// Tile, DepthToSpace, SpaceToDepth: one strided copy (ops/strided_copy.h).
void lower_strided_copy(LowerCtx& ctx, const Node& n) {
  const Graph& g = ctx.graph();
  std::vector<const Value*> vals;
  for (int id : n.inputs) vals.push_back(id >= 0 && g.t(id).is_const() ? &*g.t(id).value : nullptr);
  HbmView s = ctx.view(n.inputs[0]), d = ctx.view(n.outputs[0]);
  const StridedCopy c = strided_copy_of(n, s.shape, vals);
  if (num_elements(c.shape) == 0) return;
  copy_view(ctx, d, d.offset, row_major_strides(c.shape), s, s.offset, c.src_strides, c.shape);
}

}  // namespace trnsim::compiler
