// Tilings of the choose_layout pass for the elementwise lowering (see layout.h).
#include "compiler/lower/layout.h"

#include <algorithm>
#include <array>
#include <string>

#include "compiler/ops/op_fns.h"

namespace trnsim::compiler {

namespace {

enum class Kind { Full, Scalar, Row };  // how an operand maps onto the output's index space

// Element strides with those along unit dims of `shape` zeroed (they never move).
std::vector<int64_t> strides(const Shape& shape, std::vector<int64_t> st) {
  for (size_t d = 0; d < st.size() && d < shape.size(); ++d)
    if (shape[d] == 1) st[d] = 0;
  return st;
}

std::optional<std::vector<Kind>> kinds_of(const HbmView& out, const std::vector<HbmView>& ins) {
  const auto full = strides(out.shape, row_major_strides(out.shape));
  std::vector<Kind> k;
  for (const HbmView& v : ins) {
    const auto st = strides(out.shape, broadcast_strides(v, out.shape));
    const bool zero = std::all_of(st.begin(), st.end(), [](int64_t s) { return s == 0; });
    bool row = !st.empty() && st.back() == 1;
    for (size_t d = 0; d + 1 < st.size() && row; ++d) row = st[d] == 0;
    if (st == full) k.push_back(Kind::Full);
    else if (zero) k.push_back(Kind::Scalar);
    else if (row) k.push_back(Kind::Row);
    else return std::nullopt;
  }
  return k;
}

std::optional<std::vector<LayoutTile>> rows(LowerCtx& ctx, const HbmView& out,
                                            const std::vector<HbmView>& ins, int buffers) {
  auto kinds = kinds_of(out, ins);
  if (!kinds || out.shape.empty()) return std::nullopt;
  const int64_t R = out.shape.back(), n = num_elements(out.shape);
  if (R == 0 || n == 0) return std::nullopt;
  const int64_t rows = n / R, P = ctx.target().partitions;
  const int64_t width = std::max<int64_t>(1, ctx.max_free(buffers));
  std::vector<LayoutTile> tiles;
  for (int64_t r0 = 0; r0 < rows; r0 += P)
    for (int64_t c0 = 0; c0 < R; c0 += width) {
      LayoutTile t;
      t.np = std::min(P, rows - r0);
      t.nf = std::min(width, R - c0);
      t.hbm.push_back(ctx.hbm(out, out.offset + r0 * R + c0, t.np, R, {{1, t.nf}}));
      for (size_t k = 0; k < ins.size(); ++k) {
        const HbmView& v = ins[k];
        switch ((*kinds)[k]) {
          case Kind::Full:
            t.hbm.push_back(ctx.hbm(v, v.offset + r0 * R + c0, t.np, R, {{1, t.nf}}));
            break;
          case Kind::Scalar: t.hbm.push_back(ctx.hbm(v, v.offset, t.np, 0, {{0, t.nf}})); break;
          case Kind::Row: t.hbm.push_back(ctx.hbm(v, v.offset + c0, t.np, 0, {{1, t.nf}})); break;
        }
      }
      tiles.push_back(std::move(t));
    }
  return tiles;
}

std::optional<std::vector<LayoutTile>> follow(LowerCtx& ctx, const HbmView& out,
                                              const std::vector<HbmView>& ins, int buffers,
                                              const HbmView& src) {
  auto kinds = kinds_of(out, ins);
  if (!kinds || src.shape != out.shape ||
      strides(out.shape, src.strides) != strides(out.shape, row_major_strides(out.shape)))
    return std::nullopt;
  for (Kind k : *kinds)
    if (k == Kind::Row) return std::nullopt;
  const auto& stores = ctx.stores(src.tensor);
  const int64_t n = num_elements(out.shape);
  if (stores.empty() || n > (int64_t{1} << 24)) return std::nullopt;
  const int64_t cap = ctx.target().sbuf_bytes_per_partition / 4;
  std::vector<char> seen(static_cast<size_t>(n), 0);
  int64_t covered = 0;
  std::vector<LayoutTile> tiles;
  for (const auto& st : stores) {
    const isa::AccessPattern& h = st.hbm;
    const int64_t es = isa::dtype_size(h.dtype);
    if (h.dtype != src.dtype || h.offset % es != 0 || h.offset_reg >= 0) return std::nullopt;
    LayoutTile t;
    t.np = h.num_partitions;
    t.nf = h.free_elements();
    if (t.nf * 4 * buffers > cap) return std::nullopt;
    const int64_t rel = h.offset / es - src.offset;
    // Every element of the tile: in range and not yet covered (rows of the innermost dim).
    const int in = h.ndims - 1;
    const int64_t is = in >= 0 ? h.dims[in].stride : 0, ic = in >= 0 ? h.dims[in].count : 1;
    const int64_t rows = in >= 0 ? t.nf / ic : 1;
    std::array<int64_t, 4> idx{};
    for (int64_t p = 0; p < t.np; ++p) {
      idx.fill(0);
      for (int64_t r = 0; r < rows; ++r) {
        int64_t e = rel + p * h.partition_stride;
        for (int d = 0; d < in; ++d) e += idx[d] * h.dims[d].stride;
        for (int64_t i = 0; i < ic; ++i, e += is) {
          if (e < 0 || e >= n || seen[e]) return std::nullopt;
          seen[e] = 1;
        }
        for (int d = in - 1; d >= 0; --d) {
          if (++idx[d] < h.dims[d].count) break;
          idx[d] = 0;
        }
      }
    }
    covered += t.np * t.nf;
    std::vector<isa::Dim> dims(h.dims.begin(), h.dims.begin() + h.ndims);
    t.hbm.push_back(ctx.hbm(out, out.offset + rel, t.np, h.partition_stride, dims));
    for (size_t k = 0; k < ins.size(); ++k) {
      const HbmView& v = ins[k];
      if ((*kinds)[k] == Kind::Full) {
        t.hbm.push_back(ctx.hbm(v, v.offset + rel, t.np, h.partition_stride, dims));
      } else {
        std::vector<isa::Dim> zero = dims;
        for (auto& d : zero) d.stride = 0;
        t.hbm.push_back(ctx.hbm(v, v.offset, t.np, 0, zero));
      }
    }
    tiles.push_back(std::move(t));
  }
  if (covered != n) return std::nullopt;
  return tiles;
}

}  // namespace

std::optional<std::vector<LayoutTile>> layout_tiles(LowerCtx& ctx, const HbmView& out,
                                                    const std::vector<HbmView>& ins, int buffers) {
  const Node* n = ctx.node();
  if (!n || !n->has_attr("_layout")) return std::nullopt;
  const std::string l = n->attr_string("_layout", "");
  if (l == "rows") return rows(ctx, out, ins, buffers);
  if (l.rfind("follow:", 0) == 0) {
    const int k = std::stoi(l.substr(7));
    if (k < 0 || !n->has_input(k)) return std::nullopt;
    return follow(ctx, out, ins, buffers, ctx.view(n->inputs[k]));
  }
  return std::nullopt;
}

}  // namespace trnsim::compiler
