// Lowering of Conv and ConvTranspose onto the Tensor Engine (depthwise Conv on the Vector
// engine). ConvTranspose is the Conv of the zero-upsampled input with the flipped kernel.
// For each output block [co tile x (rows x cols)] the input band it needs (input channels of
// one group on partitions, the contraction K) is loaded into SBUF, zero-padded by a memset
// where the band leaves the input; every tap (kh, kw) then reads a strided window of the band
// through the moving access pattern (no im2col copy) and the taps and input-channel tiles
// accumulate in one PSUM bank. The act engine evacuates PSUM adding the bias (a
// per-partition scalar) and applying a fused activation.
#include <fmt/format.h>

#include <algorithm>
#include <optional>

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

// A conv over the virtual input: the real input upsampled by `u` (zeros between), then
// padded; W laid out [G][Cin_g][KH*KW][Cout_g].
struct ConvPlan {
  WindowGeom g;  // H, W = real input; pads on the virtual input; OH, OW = output
  int64_t uh = 1, uw = 1;  // ConvTranspose: the input upsampled by the strides
  int64_t cin_g = 1, cout_g = 1;
};

// Window of the virtual padded input read by an output block: rows [r0, r0+bh), cols
// [c0, c0+bw); the real input rows/cols inside it and where they land in the band.
struct Band {
  int64_t bh = 0, bw = 0;
  int64_t ih0 = 0, nh = 0, iw0 = 0, nw = 0;  // real input region (nh/nw may be 0)
  int64_t dst_row = 0, dst_col = 0;          // its first element's place in the band
  bool full = false;                         // the region covers the band (no memset)
};

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

void axis_band(int64_t o0, int64_t no, int64_t s, int64_t k, int64_t d, int64_t pad, int64_t in,
               int64_t u, int64_t& b, int64_t& i0, int64_t& ni, int64_t& dst) {
  const int64_t r0 = o0 * s;
  b = (no - 1) * s + (k - 1) * d + 1;
  // Real index i sits at padded virtual position i*u + pad.
  i0 = std::max<int64_t>(0, ceil_div(r0 - pad, u));
  const int64_t i1 = std::min<int64_t>(in - 1, floor_div(r0 + b - 1 - pad, u));
  ni = std::max<int64_t>(0, i1 - i0 + 1);
  dst = i0 * u + pad - r0;
}

Band band_for(const ConvPlan& p, int64_t oh0, int64_t nr, int64_t ow0, int64_t nc) {
  Band b;
  const WindowGeom& g = p.g;
  axis_band(oh0, nr, g.sh, g.KH, g.dh, g.pt, g.H, p.uh, b.bh, b.ih0, b.nh, b.dst_row);
  axis_band(ow0, nc, g.sw, g.KW, g.dw, g.pl, g.W, p.uw, b.bw, b.iw0, b.nw, b.dst_col);
  b.full = p.uh == 1 && p.uw == 1 && b.nh == b.bh && b.nw == b.bw;
  return b;
}

void memset_tile(LowerCtx& ctx, const AccessPattern& t, float v) {
  isa::Instr in = make_instr(Opcode::Memset);
  in.ops[0] = ap_operand(t);
  in.ops[1] = imm(v);
  ctx.emit(Engine::Pool, in);
}

// Loads the band of `np` channel planes (first plane at element `x_off` of x, planes H*W
// apart) into a fresh SBUF tile of dtype dt; returns the tile's byte offset.
int64_t load_band(LowerCtx& ctx, const ConvPlan& p, const HbmView& x, int64_t x_off, int64_t np,
                  const Band& b, DType dt, float fill) {
  const int es = isa::dtype_size(dt);
  const int64_t off = ctx.sbuf_alloc(b.bh * b.bw * es);
  if (!b.full) memset_tile(ctx, ctx.sbuf(off, np, b.bh * b.bw, dt), fill);
  if (b.nh > 0 && b.nw > 0) {
    AccessPattern dst = ctx.sbuf(off + (b.dst_row * b.bw + b.dst_col) * es, np, 0, dt);
    dst.ndims = 2;
    dst.dims[0] = {p.uh * b.bw, b.nh};
    dst.dims[1] = {p.uw, b.nw};
    ctx.dma(dst, ctx.hbm(x, x_off + b.ih0 * p.g.W + b.iw0, np, p.g.H * p.g.W,
                         {{p.g.W, b.nh}, {1, b.nw}}));
  }
  return off;
}

// The window of tap (kh, kw) for an output block of nr x nc in a band at byte offset `off`.
AccessPattern tap_window(LowerCtx& ctx, const ConvPlan& p, const Band& b, int64_t off, int64_t np,
                         int64_t kh, int64_t kw, int64_t nr, int64_t nc, DType dt) {
  const int es = isa::dtype_size(dt);
  AccessPattern w = ctx.sbuf(off + (kh * p.g.dh * b.bw + kw * p.g.dw) * es, np, 0, dt);
  w.ndims = 2;
  w.dims[0] = {p.g.sh * b.bw, nr};
  w.dims[1] = {p.g.sw, nc};
  return w;
}

// Output block sizes: nc columns x nr rows with nr*nc <= max_n and the band within budget;
// false when even one output's window exceeds it.
bool block_dims(const ConvPlan& p, int64_t max_n, int64_t budget_bytes, int es, int64_t& nr,
                int64_t& nc) {
  const WindowGeom& g = p.g;
  nc = std::min(g.OW, max_n);
  nr = std::max<int64_t>(1, std::min(g.OH, max_n / nc));
  auto bytes = [&] {
    return ((nr - 1) * g.sh + (g.KH - 1) * g.dh + 1) * ((nc - 1) * g.sw + (g.KW - 1) * g.dw + 1) *
           es;
  };
  while (nr > 1 && bytes() > budget_bytes) nr = (nr + 1) / 2;
  while (nc > 1 && bytes() > budget_bytes) nc = (nc + 1) / 2;
  return bytes() <= budget_bytes;
}

isa::ActFn epilogue(const Node& n) {
  std::string a = n.attr_string("_act", "");
  return a.empty() ? isa::ActFn::Copy : *find_op(a)->act;
}

void evacuate(LowerCtx& ctx, const AccessPattern& dst, const AccessPattern& src, isa::ActFn fn,
              isa::Operand bias) {
  isa::Instr ev = make_instr(Opcode::Act);
  ev.ops[0] = ap_operand(dst);
  ev.ops[1] = ap_operand(src);
  ev.ops[2] = int_operand(static_cast<int64_t>(fn));
  ev.ops[3] = imm(1.0f);
  ev.ops[4] = bias;
  ctx.emit(Engine::Act, ev);
}

// Per-output-channel bias tile [np, 1] (fp32) or immediate 0.
isa::Operand bias_operand(LowerCtx& ctx, const std::optional<HbmView>& bias, int64_t c0,
                          int64_t np) {
  if (!bias) return imm(0.0f);
  AccessPattern bt = ctx.sbuf(ctx.sbuf_alloc(4), np, 1, DType::Fp32);
  ctx.dma(bt, ctx.hbm(*bias, bias->offset + c0, np, 1, {{1, 1}}));
  return ap_operand(bt);
}

void store_block(LowerCtx& ctx, const ConvPlan& p, const HbmView& y, int64_t plane0, int64_t np,
                 int64_t oh0, int64_t nr, int64_t ow0, int64_t nc, const AccessPattern& res) {
  const WindowGeom& g = p.g;
  ctx.dma(ctx.hbm(y, y.offset + plane0 * g.OH * g.OW + oh0 * g.OW + ow0, np, g.OH * g.OW,
                  {{g.OW, nr}, {1, nc}}),
          res);
}

// Depthwise (one input and one output channel per group) on the Vector engine: channels on
// partitions, acc = sum over taps of window * w[c, tap] with per-partition scalar weights.
void lower_depthwise(LowerCtx& ctx, const Node& n, const ConvPlan& p, const HbmView& x,
                     const HbmView& wt, const std::optional<HbmView>& bias, const HbmView& y) {
  const WindowGeom& g = p.g;
  const int64_t P = ctx.target().partitions, taps = g.KH * g.KW;
  const isa::ActFn fn = epilogue(n);
  int64_t nr, nc;
  if (!block_dims(p, ctx.max_free(4), ctx.target().sbuf_bytes_per_partition / 8, 4, nr, nc))
    throw InputError("a depthwise convolution window does not fit in SBUF");
  for (int64_t c0 = 0; c0 < g.C; c0 += P) {
    const int64_t np = std::min(P, g.C - c0);
    // wt is [C][1][taps][1]: channel c's taps are contiguous.
    AccessPattern w = ctx.sbuf(ctx.sbuf_alloc(taps * 4), np, taps, DType::Fp32);
    ctx.dma(w, ctx.hbm(wt, wt.offset + c0 * taps, np, taps, {{1, taps}}));
    isa::Operand b = bias_operand(ctx, bias, c0, np);
    for (int64_t nn = 0; nn < g.N; ++nn)
      for (int64_t oh0 = 0; oh0 < g.OH; oh0 += nr)
        for (int64_t ow0 = 0; ow0 < g.OW; ow0 += nc) {
          const int64_t r = std::min(nr, g.OH - oh0), c = std::min(nc, g.OW - ow0);
          Band bd = band_for(p, oh0, r, ow0, c);
          int64_t off = load_band(ctx, p, x, x.offset + (nn * g.C + c0) * g.H * g.W, np, bd,
                                  DType::Fp32, 0.0f);
          AccessPattern acc = ctx.sbuf(ctx.sbuf_alloc(r * c * 4), np, r * c, DType::Fp32);
          AccessPattern tmp = ctx.sbuf(ctx.sbuf_alloc(r * c * 4), np, r * c, DType::Fp32);
          for (int64_t t = 0; t < taps; ++t) {
            AccessPattern win =
                tap_window(ctx, p, bd, off, np, t / g.KW, t % g.KW, r, c, DType::Fp32);
            AccessPattern wsc = ctx.sbuf(w.offset + t * 4, np, 1, DType::Fp32);
            isa::Instr mul = make_instr(Opcode::TensorScalar);
            mul.ops[0] = ap_operand(t == 0 ? acc : tmp);
            mul.ops[1] = ap_operand(win);
            mul.ops[2] = int_operand(static_cast<int64_t>(AluOp::Mul));
            mul.ops[3] = ap_operand(wsc);
            mul.ops[4] = int_operand(static_cast<int64_t>(AluOp::Bypass));
            mul.ops[5] = imm(0.0f);
            ctx.emit(Engine::Dve, mul);
            if (t == 0) continue;
            isa::Instr add = make_instr(Opcode::TensorTensor);
            add.ops[0] = ap_operand(acc);
            add.ops[1] = ap_operand(acc);
            add.ops[2] = ap_operand(tmp);
            add.ops[3] = int_operand(static_cast<int64_t>(AluOp::Add));
            ctx.emit(Engine::Dve, add);
          }
          evacuate(ctx, acc, acc, fn, b);
          store_block(ctx, p, y, nn * g.C + c0, np, oh0, r, ow0, c, acc);
        }
  }
}

// Few input channels per group: im2col. The input (all channels) is first copied into a
// zero-padded HBM scratch tensor in the matmul dtype, so that every (c, kh, kw) row of the
// contraction is one strided window of it. Partitions hold (c, kh, kw) for a group of whole
// kernel rows kh (cin_g * fh * KW <= K rows), filled per chunk of output positions by ONE dma
// per kh group (HBM rows = channels, dims [kh][kw][oh][ow]); each output block then needs
// ceil(KH / fh) matmuls instead of KH * KW with K = cin_g. A kernel row wider than K rows hold
// (an STFT's 512 taps) is cut into groups of fw columns (cin_g * fw <= K rows), one kernel
// row each.
struct Im2col {
  int64_t fh = 1;          // kernel rows per contraction group
  int64_t fw = 1;          // kernel columns per contraction group (KW unless rows are cut)
  int64_t Hp = 1, Wp = 1;  // padded input plane
  int64_t zero_elems = 0;  // zero tile for the padding border
};

std::optional<Im2col> plan_im2col(const LowerCtx& ctx, const ConvPlan& p) {
  const WindowGeom& g = p.g;
  const int64_t tk = std::min<int64_t>(ctx.target().pe_rows, ctx.target().partitions);
  // Worth it when the contraction is small (at least four taps fold into K; a kernel row wider
  // than K is cut into column groups); ConvTranspose's upsampled input stays on the tap path.
  if (p.uh != 1 || p.uw != 1 || g.KH * g.KW < 2 || p.cin_g * 4 > tk) return {};
  Im2col m;
  m.fw = std::min(g.KW, tk / p.cin_g);
  m.fh = m.fw == g.KW ? std::min(g.KH, tk / (p.cin_g * g.KW)) : 1;
  m.Hp = g.H + g.pt + g.pb;
  m.Wp = g.W + g.pl + g.pr;
  m.zero_elems =
      std::max({g.pt * m.Wp + g.pl, (g.H - 1) * (g.pl + g.pr), g.pr + g.pb * m.Wp, int64_t{1}});
  if (m.zero_elems * isa::dtype_size(ctx.mm_dtype()) > ctx.target().sbuf_bytes_per_partition / 8)
    return {};
  return m;
}

void lower_im2col(LowerCtx& ctx, const Node& n, const ConvPlan& p, const Im2col& m,
                  const HbmView& x, const HbmView& wv, const std::optional<HbmView>& bias,
                  const HbmView& y) {
  const WindowGeom& g = p.g;
  const isa::Target& t = ctx.target();
  const DType mt = ctx.mm_dtype();
  const int es = isa::dtype_size(mt);
  const int64_t P = t.partitions, taps = g.KH * g.KW, plane = m.Hp * m.Wp;
  const int64_t tm = std::min<int64_t>(t.pe_cols, t.partitions);
  const int64_t tn = std::min<int64_t>(t.max_moving_free, t.psum_bank_bytes / 4);
  const isa::ActFn fn = epilogue(n);

  // 1. The padded copy: interior by one HBM -> HBM dma per 128 planes (converting to the
  //    matmul dtype), the border from a zeroed SBUF tile (top + first left pad, the right+left
  //    pads between rows, last right pad + bottom: each contiguous in the plane).
  isa::TensorDecl d;
  d.name = n.name + ".im2col_pad";
  d.dtype = mt;
  d.shape = {g.N * g.C, m.Hp, m.Wp};
  d.role = isa::TensorRole::Scratch;
  ctx.prog().tensors.push_back(std::move(d));
  HbmView xp;
  xp.tensor = static_cast<int>(ctx.prog().tensors.size()) - 1;
  xp.dtype = mt;
  xp.shape = {g.N * g.C, m.Hp, m.Wp};
  xp.strides = {plane, m.Wp, 1};
  const bool padded = g.pt + g.pb + g.pl + g.pr > 0;
  for (int64_t q0 = 0; q0 < g.N * g.C; q0 += P) {
    const int64_t np = std::min(P, g.N * g.C - q0);
    ctx.dma(ctx.hbm(xp, q0 * plane + g.pt * m.Wp + g.pl, np, plane, {{m.Wp, g.H}, {1, g.W}}),
            ctx.hbm(x, x.offset + q0 * g.H * g.W, np, g.H * g.W, {{g.W, g.H}, {1, g.W}}));
    if (!padded) continue;
    const int64_t z = ctx.sbuf_alloc(m.zero_elems * es);
    memset_tile(ctx, ctx.sbuf(z, np, m.zero_elems, mt), 0.0f);
    auto zero = [&](int64_t off, std::vector<isa::Dim> dims) {
      int64_t cnt = 1;
      for (const isa::Dim& dm : dims) cnt *= dm.count;
      if (cnt > 0)
        ctx.dma(ctx.hbm(xp, q0 * plane + off, np, plane, dims), ctx.sbuf(z, np, cnt, mt));
    };
    zero(0, {{1, g.pt * m.Wp + g.pl}});
    if (g.H > 1 && g.pl + g.pr > 0)
      zero(g.pt * m.Wp + g.pl + g.W, {{m.Wp, g.H - 1}, {1, g.pl + g.pr}});
    zero((g.pt + g.H - 1) * m.Wp + g.pl + g.W, {{1, g.pr + g.pb * m.Wp}});
  }

  // 2. Output blocks (nr x nc <= one PSUM bank) and chunks of blocks sharing one im2col load
  //    (about 8 KiB per partition per kh group: big dmas, still several chunks to overlap).
  //    Contraction groups: fh kernel rows x fw kernel columns from (kh0, kw0).
  struct Group {
    int64_t kh0, fh, kw0, fw;
  };
  std::vector<Group> groups;
  for (int64_t kh0 = 0; kh0 < g.KH; kh0 += m.fh)
    for (int64_t kw0 = 0; kw0 < g.KW; kw0 += m.fw)
      groups.push_back({kh0, std::min(m.fh, g.KH - kh0), kw0, std::min(m.fw, g.KW - kw0)});
  const int64_t ngr = static_cast<int64_t>(groups.size());
  const int64_t nc = std::min(g.OW, tn);
  const int64_t nr = std::max<int64_t>(1, std::min(g.OH, tn / nc));
  const int64_t chunk_bytes = std::min<int64_t>(8192, t.sbuf_bytes_per_partition / (8 * ngr));
  // A column stride sw > 1 would make every element its own contiguous run (2-4 bytes; a DMA
  // moves each at the cost of a whole 32-byte HBM burst plus a descriptor). While sw elements
  // take at most 16 bytes (a wider innermost stride halves an engine's read bandwidth, [G1];
  // it also stays within one burst), the tile holds each output row's whole input span
  // instead (sw x the elements, one run of ~sw x cols) and the matmul's moving pattern strides
  // over it.
  constexpr int64_t kMaxStrideBytes = 16;
  const int64_t csw = g.sw > 1 && g.sw * es <= kMaxStrideBytes ? g.sw : 1;
  auto span = [csw](int64_t cols) { return csw * (cols - 1) + 1; };
  int64_t cr = nr, cc = nc;
  if (nc == g.OW) {
    cr = std::clamp<int64_t>(chunk_bytes / (span(g.OW) * es) / nr * nr, nr, g.OH);
  } else {
    cc = std::clamp<int64_t>(chunk_bytes / (csw * es) / nc * nc, nc, g.OW);
  }

  // Output-channel tiles go in groups whose weights (every contraction group) and bias fit the
  // pinned half of SBUF, and whose chunk results fit a quarter of it; the im2col tiles are
  // loaded once per group (once in all when every tile fits, the usual case).
  const int64_t nco = (p.cout_g + tm - 1) / tm;
  const int64_t wbytes = (tm * es + 63) / 64 * 64;
  const int64_t cap = t.sbuf_bytes_per_partition;
  const int64_t per_ct = ngr * wbytes + 64;
  const int64_t ctg = std::min({nco, cap / 2 / per_ct, std::max<int64_t>(1, cap / 4 / (cr * cc * 4))});
  if (ctg < 1) throw InputError("convolution weights do not fit in SBUF");
  for (int64_t grp = 0; grp < g.G; ++grp)
    for (int64_t ct0 = 0; ct0 < nco; ct0 += ctg) {
      const int64_t nct = std::min(ctg, nco - ct0);
      // Weights [cin_g x (fh x fw) rows, mm] per contraction group and co tile, and the bias.
      const int64_t pin = ctx.sbuf_pin(ngr * nct * wbytes + nct * 64);
      if (pin < 0) throw InputError("convolution weights do not fit in SBUF");
      std::vector<int64_t> wbase(ngr * nct);
      std::vector<isa::Operand> bops(nct);
      for (int64_t j = 0; j < nct; ++j) {
        const int64_t co0 = (ct0 + j) * tm, mm = std::min(tm, p.cout_g - co0);
        for (int64_t gi = 0; gi < ngr; ++gi) {
          const Group& q = groups[gi];
          const int64_t base = pin + (j * ngr + gi) * wbytes;
          wbase[j * ngr + gi] = base;
          // Rows (c, kh, kw) of the group: taps kh0*KW + kw0 on, contiguous when fw == KW (or
          // fh == 1).
          ctx.dma(ctx.sbuf(base, p.cin_g * q.fh * q.fw, mm, mt),
                  ctx.hbm(wv,
                          wv.offset + ((grp * p.cin_g) * taps + q.kh0 * g.KW + q.kw0) * p.cout_g +
                              co0,
                          p.cin_g, taps * p.cout_g, {{p.cout_g, q.fh * q.fw}, {1, mm}}));
        }
        if (bias) {
          AccessPattern bt = ctx.sbuf(pin + ngr * nct * wbytes + j * 64, mm, 1, DType::Fp32);
          ctx.dma(bt, ctx.hbm(*bias, bias->offset + grp * p.cout_g + co0, mm, 1, {{1, 1}}));
          bops[j] = ap_operand(bt);
        } else {
          bops[j] = imm(0.0f);
        }
      }
      for (int64_t nn = 0; nn < g.N; ++nn) {
        const int64_t plane0 = nn * g.C + grp * p.cin_g;
        for (int64_t oh0 = 0; oh0 < g.OH; oh0 += cr)
          for (int64_t ow0 = 0; ow0 < g.OW; ow0 += cc) {
            const int64_t rr = std::min(cr, g.OH - oh0), ccn = std::min(cc, g.OW - ow0);
            // One im2col tile per contraction group: partition (c, kh, kw), free (oh, input
            // columns of the row's span: ow x csw).
            const int64_t sw_cols = span(ccn), ssw = g.sw / csw;
            std::vector<int64_t> tiles(ngr);
            for (int64_t gi = 0; gi < ngr; ++gi) {
              const Group& q = groups[gi];
              tiles[gi] = ctx.sbuf_alloc(rr * sw_cols * es);
              ctx.dma(ctx.sbuf(tiles[gi], p.cin_g * q.fh * q.fw, rr * sw_cols, mt),
                      ctx.hbm(xp,
                              plane0 * plane + (oh0 * g.sh + q.kh0 * g.dh) * m.Wp + ow0 * g.sw +
                                  q.kw0 * g.dw,
                              p.cin_g, plane,
                              {{g.dh * m.Wp, q.fh},
                               {g.dw, q.fw},
                               {g.sh * m.Wp, rr},
                               {ssw, sw_cols}}));
            }
            // The chunk's result per co tile is stored by ONE dma issued by act after its last
            // evacuation (stores to one tensor are ordered by the sync pass, so few big ones).
            std::vector<int64_t> res(nct);
            for (int64_t j = 0; j < nct; ++j) res[j] = ctx.sbuf_alloc(rr * ccn * 4);
            for (int64_t r0 = 0; r0 < rr; r0 += nr)
              for (int64_t c0 = 0; c0 < ccn; c0 += nc) {
                const int64_t r = std::min(nr, rr - r0), c = std::min(nc, ccn - c0);
                for (int64_t j = 0; j < nct; ++j) {
                  const int64_t co0 = (ct0 + j) * tm, mm = std::min(tm, p.cout_g - co0);
                  const AccessPattern acc = ctx.psum(ctx.psum_alloc(), mm, r * c);
                  for (int64_t gi = 0; gi < ngr; ++gi) {
                    const int64_t kk = p.cin_g * groups[gi].fh * groups[gi].fw;
                    AccessPattern mv =
                        ctx.sbuf(tiles[gi] + (r0 * sw_cols + c0 * csw) * es, kk, 0, mt);
                    mv.ndims = 2;
                    mv.dims[0] = {sw_cols, r};
                    mv.dims[1] = {csw, c};
                    isa::Instr in = make_instr(Opcode::Matmul);
                    in.ops[0] = ap_operand(acc);
                    in.ops[1] = ap_operand(ctx.sbuf(wbase[j * ngr + gi], kk, mm, mt));
                    in.ops[2] = ap_operand(mv);
                    in.ops[3] = int_operand(
                        static_cast<int64_t>(gi == 0 ? isa::AccFlag::Zero : isa::AccFlag::Acc));
                    ctx.emit(Engine::Pe, in);
                  }
                  AccessPattern dst = ctx.sbuf(res[j] + (r0 * ccn + c0) * 4, mm, 0, DType::Fp32);
                  dst.ndims = 2;
                  dst.dims[0] = {ccn, r};
                  dst.dims[1] = {1, c};
                  evacuate(ctx, dst, acc, fn, bops[j]);
                }
              }
            for (int64_t j = 0; j < nct; ++j) {
              const int64_t co0 = (ct0 + j) * tm, mm = std::min(tm, p.cout_g - co0);
              ctx.dma(ctx.hbm(y,
                              y.offset + (nn * g.M + grp * p.cout_g + co0) * g.OH * g.OW +
                                  oh0 * g.OW + ow0,
                              mm, g.OH * g.OW, {{g.OW, rr}, {1, ccn}}),
                      ctx.sbuf(res[j], mm, rr * ccn, DType::Fp32), Engine::Act);
            }
          }
      }
      ctx.unpin_all();
    }
}

}  // namespace

void lower_conv(LowerCtx& ctx, const Node& n) {
  const Graph& gr = ctx.graph();
  const Tensor& wten = gr.t(n.inputs[1]);
  if (!wten.is_const())
    throw InputError("weights computed at run time are not supported (they must be constant)");
  const Value& w = *wten.value;
  const bool transpose = n.op == "ConvTranspose";
  ConvPlan p;
  const Shape& xs = gr.t(n.inputs[0]).shape;
  p.g = transpose ? conv_transpose_geom(n, xs, w.shape) : conv_geom(n, xs, w.shape);
  WindowGeom& g = p.g;
  p.cin_g = g.C / g.G;
  p.cout_g = g.M / g.G;
  const int64_t taps = g.KH * g.KW;
  // Weights as [G][Cin_g][taps][Cout_g] (fp32; DMA converts to the matmul dtype).
  const Shape packed_shape = {g.G, p.cin_g, taps, p.cout_g};
  auto pack = [g, packed_shape, transpose](const Value& w) {
    const int64_t cin_g = packed_shape[1], taps = packed_shape[2], cout_g = packed_shape[3];
    Value wt(DType::Fp32, packed_shape);
    for (int64_t grp = 0; grp < g.G; ++grp)
      for (int64_t ci = 0; ci < cin_g; ++ci)
        for (int64_t t = 0; t < taps; ++t)
          for (int64_t co = 0; co < cout_g; ++co) {
            double v;
            if (!transpose) {
              v = w.data[((grp * cout_g + co) * cin_g + ci) * taps + t];
            } else {  // w [C][M/G][KH][KW], flipped
              const int64_t kh = g.KH - 1 - t / g.KW, kw = g.KW - 1 - t % g.KW;
              v = w.data[(((grp * cin_g + ci) * cout_g + co) * g.KH + kh) * g.KW + kw];
            }
            wt.data[((grp * cin_g + ci) * taps + t) * cout_g + co] = v;
          }
    return wt;
  };
  // Weights left in the model file (timing-only) are packed only if something reads them.
  const Value wt = w.data.has_data() ? pack(w)
                                     : Value::deferred(DType::Fp32, packed_shape,
                                                       [pack, w] { return pack(w).data; });
  if (transpose) {
    // Conv over the input upsampled by the stride, padded by d*(K-1) - pad (+ output_padding
    // at the end), stride 1.
    p.uh = g.spatial == 1 ? 1 : g.sh;
    p.uw = g.sw;
    WindowGeom c = g;
    c.pt = g.dh * (g.KH - 1) - g.pt;
    c.pb = g.dh * (g.KH - 1) - g.pb + g.oph;
    c.pl = g.dw * (g.KW - 1) - g.pl;
    c.pr = g.dw * (g.KW - 1) - g.pr + g.opw;
    c.sh = c.sw = 1;
    if (g.spatial == 1) c.H = 1;
    g = c;
  }
  const HbmView x = ctx.view(n.inputs[0]), y = ctx.view(n.outputs[0]);
  std::optional<HbmView> bias;
  if (n.has_input(2)) {
    const Tensor& bt = gr.t(n.inputs[2]);
    if (bt.is_const()) {
      Value b(DType::Fp32, {g.M});
      for (int64_t i = 0; i < g.M; ++i) b.data[i] = bt.value->data[i];
      bias = ctx.add_const(n.name + ".bias", b);
    } else {
      bias = ctx.view(n.inputs[2]);
    }
  }
  if (!transpose && p.cin_g == 1 && p.cout_g == 1 && g.G > 1) {
    lower_depthwise(ctx, n, p, x, ctx.add_const(n.name + ".w_packed", wt), bias, y);
    return;
  }
  if (!transpose) {
    if (std::optional<Im2col> m = plan_im2col(ctx, p)) {
      lower_im2col(ctx, n, p, *m, x, ctx.add_const(n.name + ".w_packed", wt), bias, y);
      return;
    }
  }
  const isa::Target& t = ctx.target();
  const DType mt = ctx.mm_dtype();
  const int es = isa::dtype_size(mt);
  const int64_t tk = std::min<int64_t>(t.pe_rows, t.partitions);
  const int64_t tm = std::min<int64_t>(t.pe_cols, t.partitions);
  const int64_t tn = std::min<int64_t>(t.max_moving_free, t.psum_bank_bytes / 4);
  const int64_t nk = (p.cin_g + tk - 1) / tk;
  const isa::ActFn fn = epilogue(n);
  // The weights again, blocked by output-channel tile ([group][tile][C_in][tap][<= tm]) and in
  // the matmul dtype (the rounding the load did, done at compile time): a K tile of one output
  // tile is one contiguous run per partition (taps x 128 elements) instead of `taps` runs of
  // 128 fp32, and half the bytes in bf16.
  const int64_t G = g.G, cin_g = p.cin_g, cout_g = p.cout_g;
  auto block = [G, cin_g, cout_g, taps, tm](const Value& wt) {
    Value wblk(DType::Fp32, {G * cout_g * cin_g * taps});
    for (int64_t grp = 0; grp < G; ++grp)
      for (int64_t co0 = 0; co0 < cout_g; co0 += tm) {
        const int64_t mm = std::min(tm, cout_g - co0);
        for (int64_t ci = 0; ci < cin_g; ++ci)
          for (int64_t tp = 0; tp < taps; ++tp)
            for (int64_t co = 0; co < mm; ++co)
              wblk.data[(grp * cout_g + co0) * cin_g * taps + (ci * taps + tp) * mm + co] =
                  wt.data[((grp * cin_g + ci) * taps + tp) * cout_g + co0 + co];
      }
    return wblk;
  };
  // Weights left in the model file (timing-only) are blocked only if something reads them.
  const Value wblk = w.data.has_data()
                         ? block(wt)
                         : Value::deferred(DType::Fp32, {G * cout_g * cin_g * taps},
                                           [block, wt] { return block(wt).data; });
  const HbmView wb = ctx.add_const(n.name + ".w_blocked", wblk, mt);
  int64_t nr, nc;
  const int64_t budget = t.sbuf_bytes_per_partition / (8 * nk);
  // A window whose band does not fit even for one output: the kernel in rectangles of taps
  // (each the conv with that part of the kernel, its pads shifted by the part's offset), each
  // with its own band and at most a quarter of SBUF of weights, accumulating in the same bank.
  struct Rect {
    int64_t kh0, fkh, kw0, fkw;
  };
  std::vector<Rect> rects{{0, g.KH, 0, g.KW}};
  if (!block_dims(p, tn, budget, es, nr, nc)) {
    nr = nc = 1;
    const int64_t max_taps = std::max<int64_t>(1, t.sbuf_bytes_per_partition / 4 / (tm * es));
    int64_t fkh = g.KH, fkw = g.KW;
    auto fits = [&](int64_t kh, int64_t kw) {
      return ((kh - 1) * g.dh + 1) * ((kw - 1) * g.dw + 1) * es <= budget && kh * kw <= max_taps;
    };
    while (!fits(fkh, fkw)) (fkw > 1 ? fkw : fkh) = ((fkw > 1 ? fkw : fkh) + 1) / 2;
    rects.clear();
    for (int64_t kh0 = 0; kh0 < g.KH; kh0 += fkh)
      for (int64_t kw0 = 0; kw0 < g.KW; kw0 += fkw)
        rects.push_back({kh0, std::min(fkh, g.KH - kh0), kw0, std::min(fkw, g.KW - kw0)});
  }
  auto sub_plan = [&](const Rect& q) {
    ConvPlan s = p;
    s.g.KH = q.fkh;
    s.g.KW = q.fkw;
    s.g.pt = g.pt - q.kh0 * g.dh;
    s.g.pl = g.pl - q.kw0 * g.dw;
    return s;
  };
  for (int64_t grp = 0; grp < g.G; ++grp)
    for (int64_t co0 = 0; co0 < p.cout_g; co0 += tm) {
      const int64_t mm = std::min(tm, p.cout_g - co0);
      // Weight tiles [ci, taps x mm] (tap-major), pinned across the output blocks when they fit;
      // else loaded per block in groups of `tg` taps (a quarter of SBUF at most each), so a
      // kernel of any size fits.
      const int64_t wbytes = (taps * mm * es + 63) / 64 * 64;
      const int64_t pin = ctx.sbuf_pin(nk * wbytes);
      const int64_t tg =
          pin >= 0 ? taps
                   : std::clamp<int64_t>(t.sbuf_bytes_per_partition / 4 / (mm * es), 1, taps);
      // wb holds the tile's [ci][tap][mm] contiguously: taps tp0 .. tp0 + nt of one partition
      // are one run of nt x mm elements.
      auto load_w = [&](int64_t ki, int64_t tp0, int64_t nt, int64_t base) {
        const int64_t k0 = ki * tk, kk = std::min(tk, p.cin_g - k0);
        AccessPattern wtile = ctx.sbuf(base, kk, nt * mm, mt);
        ctx.dma(wtile, ctx.hbm(wb, wb.offset + (grp * p.cout_g + co0) * p.cin_g * taps +
                                       k0 * taps * mm + tp0 * mm,
                               kk, taps * mm, {{1, nt * mm}}));
        return base;
      };
      std::vector<int64_t> wbase;
      if (pin >= 0)
        for (int64_t ki = 0; ki < nk; ++ki) wbase.push_back(load_w(ki, 0, taps, pin + ki * wbytes));
      const int64_t plane_out = grp * p.cout_g + co0;
      for (int64_t nn = 0; nn < g.N; ++nn)
        for (int64_t oh0 = 0; oh0 < g.OH; oh0 += nr)
          for (int64_t ow0 = 0; ow0 < g.OW; ow0 += nc) {
            const int64_t r = std::min(nr, g.OH - oh0), c = std::min(nc, g.OW - ow0);
            Band bd = band_for(p, oh0, r, ow0, c);
            isa::Operand bb = bias_operand(ctx, bias, plane_out, mm);
            const AccessPattern acc = ctx.psum(ctx.psum_alloc(), mm, r * c);
            for (int64_t ki = 0; ki < nk; ++ki) {
              const int64_t k0 = ki * tk, kk = std::min(tk, p.cin_g - k0);
              const int64_t x_off = x.offset + (nn * g.C + grp * p.cin_g + k0) * g.H * g.W;
              if (rects.size() > 1) {
                for (const Rect& q : rects) {
                  const ConvPlan ps = sub_plan(q);
                  const Band bq = band_for(ps, oh0, r, ow0, c);
                  const int64_t off = load_band(ctx, ps, x, x_off, kk, bq, mt, 0.0f);
                  int64_t woff = 0;
                  if (pin < 0) {  // the rectangle's taps: rows kh (KW taps apart), columns kw
                    woff = ctx.sbuf_alloc(q.fkh * q.fkw * mm * es);
                    ctx.dma(ctx.sbuf(woff, kk, q.fkh * q.fkw * mm, mt),
                            ctx.hbm(wb,
                                    wb.offset + (grp * p.cout_g + co0) * p.cin_g * taps +
                                        k0 * taps * mm + (q.kh0 * g.KW + q.kw0) * mm,
                                    kk, taps * mm, {{g.KW * mm, q.fkh}, {mm, q.fkw}, {1, mm}}));
                  }
                  for (int64_t i = 0; i < q.fkh; ++i)
                    for (int64_t j = 0; j < q.fkw; ++j) {
                      const int64_t tp = (q.kh0 + i) * g.KW + q.kw0 + j;
                      const int64_t st = pin >= 0 ? wbase[ki] + tp * mm * es
                                                  : woff + (i * q.fkw + j) * mm * es;
                      isa::Instr in = make_instr(Opcode::Matmul);
                      in.ops[0] = ap_operand(acc);
                      in.ops[1] = ap_operand(ctx.sbuf(st, kk, mm, mt));
                      in.ops[2] = ap_operand(tap_window(ctx, ps, bq, off, kk, i, j, r, c, mt));
                      in.ops[3] = int_operand(static_cast<int64_t>(
                          ki == 0 && tp == 0 ? isa::AccFlag::Zero : isa::AccFlag::Acc));
                      ctx.emit(Engine::Pe, in);
                    }
                }
                continue;
              }
              const int64_t off = load_band(ctx, p, x, x_off, kk, bd, mt, 0.0f);
              int64_t woff = 0, tp0 = 0;
              for (int64_t tp = 0; tp < taps; ++tp) {
                if (tp % tg == 0) {
                  tp0 = tp;
                  const int64_t nt = std::min(tg, taps - tp);
                  woff = pin >= 0 ? wbase[ki] : load_w(ki, tp, nt, ctx.sbuf_alloc(nt * mm * es));
                }
                isa::Instr in = make_instr(Opcode::Matmul);
                in.ops[0] = ap_operand(acc);
                in.ops[1] = ap_operand(ctx.sbuf(woff + (tp - tp0) * mm * es, kk, mm, mt));
                in.ops[2] =
                    ap_operand(tap_window(ctx, p, bd, off, kk, tp / g.KW, tp % g.KW, r, c, mt));
                in.ops[3] = int_operand(static_cast<int64_t>(
                    ki == 0 && tp == 0 ? isa::AccFlag::Zero : isa::AccFlag::Acc));
                ctx.emit(Engine::Pe, in);
              }
            }
            AccessPattern res = ctx.sbuf(ctx.sbuf_alloc(r * c * 4), mm, r * c, DType::Fp32);
            evacuate(ctx, res, acc, fn, bb);
            store_block(ctx, p, y, nn * g.M + plane_out, mm, oh0, r, ow0, c, res);
          }
      ctx.unpin_all();
    }
}

}  // namespace trnsim::compiler
