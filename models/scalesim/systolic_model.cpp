// SCALE-Sim v2's per-layer numbers from closed forms plus one pass over the demand lines.
//
// Studied (scalesim-project/scale-sim-v2 at 22f88b1, not copied):
// scalesim/compute/systolic_compute_{os,ws,is}.py (operand folding, prefix/suffix null lines,
// skew, mapping efficiency, compute utilisation, SRAM request counts),
// scalesim/single_layer_sim.py (report items, USER/CALC backing bandwidths),
// scalesim/memory/double_buffered_scratchpad_mem.py (stall accounting per demand line),
// scalesim/memory/read_buffer.py, read_buffer_estimate_bw.py, write_buffer.py, read_port.py and
// write_port.py (prefetch and drain timing, DRAM access counts). docs/scalesim.md has the
// derivations; the comments below name the SCALE-Sim behaviour each formula reproduces.
#include "models/scalesim/systolic_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "models/scalesim/operand_streams.h"
#include "models/scalesim/read_buffer.h"
#include "models/scalesim/write_buffer.h"
#include "support/error.h"

namespace trnsim::model::scalesim {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Rows (or columns) of an input of size `in` touched by `out` windows of size `f` at stride `s`
// (operand_matrix.calc_ifmap_elem_addr marks taps past the edge as null, -1).
int64_t touched(int64_t in, int64_t out, int64_t f, int64_t s) {
  if (s <= f) return std::min(in, (out - 1) * s + f);
  int64_t n = 0;
  for (int64_t o = 0; o < out; ++o) n += std::max<int64_t>(0, std::min(f, in - o * s));
  return n;
}

// Valid (non-null) taps summed over all windows along one dimension.
int64_t valid_taps(int64_t in, int64_t out, int64_t f, int64_t s) {
  int64_t n = 0;
  for (int64_t o = 0; o < out; ++o) n += std::max<int64_t>(0, std::min(f, in - o * s));
  return n;
}

// Where an operand's valid requests sit in one fold's demand lines: rows [a, b) of the fold's
// matrix hold data in columns [0, u); a skewed matrix shifts column c down by c lines.
struct Band {
  int64_t a = 0, b = 0, u = 0;
  bool skew = false;
  int64_t first() const { return a; }
  int64_t last() const { return skew ? b - 2 + u : b - 1; }
  int64_t count(int64_t r) const {  // valid requests in local line r
    if (!skew) return (r >= a && r < b) ? u : 0;
    int64_t lo = std::max<int64_t>(0, r - b + 1), hi = std::min(u - 1, r - a);
    return hi >= lo ? hi - lo + 1 : 0;
  }
};

struct FoldBands {
  Band ifmap, filter, ofmap;
};

// ru/cu: rows/columns of the array used in this fold.
FoldBands bands(Dataflow df, const Mapping& m, int64_t ru, int64_t cu) {
  const int64_t r = m.rows, t = m.t;
  switch (df) {
    case Dataflow::kOs:  // operands stream T lines, outputs drain (flipped) after T-1 null lines
      return {{0, t, ru, true}, {0, t, cu, true}, {t - 1 + r - ru, t - 1 + r, cu, true}};
    case Dataflow::kWs:  // R lines load the (flipped, unskewed) weights, then T input lines
      return {{r, r + t, ru, true}, {r - ru, r, cu, false}, {2 * r - 1, 2 * r - 1 + t, cu, true}};
    case Dataflow::kIs:  // R lines load the (flipped, unskewed) inputs, then T filter lines
      return {{r - ru, r, cu, false}, {r, r + t, ru, true}, {2 * r - 1, 2 * r - 1 + t, cu, true}};
  }
  return {};
}

// USER mode's read bandwidth of an operand (BW, else the first Bandwidth); 0 in CALC mode.
int64_t user_read_bw(const ScaleSimConfig& cfg, int64_t bw) {
  if (!cfg.user_bandwidth) return 0;
  if (bw > 0) return bw;
  if (cfg.bandwidths.empty()) throw SimFault("scalesim: USER mode without a Bandwidth");
  return cfg.bandwidths[0];
}

// Whether im2col tap J of output pixel P reads inside the ifmap (operand_matrix.py nulls the rest).
struct Taps {
  const Layer& l;
  int64_t fwc() const { return l.filter_w * l.channels; }
  bool valid(int64_t p, int64_t j) const {
    const int64_t oh = p / l.ofmap_w(), ow = p % l.ofmap_w();
    const int64_t cr = j / fwc(), cc = (j % fwc()) / l.channels;
    return oh * l.stride_h + cr < l.ifmap_h && ow * l.stride_w + cc < l.ifmap_w;
  }
  // Highest valid tap of pixel P below LIMIT, or -1.
  int64_t max_valid(int64_t p, int64_t limit) const {
    const int64_t oh = p / l.ofmap_w(), ow = p % l.ofmap_w();
    const int64_t rmax = std::min(l.filter_h - 1, l.ifmap_h - 1 - oh * l.stride_h);
    const int64_t cmax = std::min(l.filter_w - 1, l.ifmap_w - 1 - ow * l.stride_w);
    if (rmax < 0 || cmax < 0) return -1;
    for (int64_t j = std::min(limit - 1, rmax * fwc() + cmax * l.channels + l.channels - 1); j >= 0;
         --j) {
      if (valid(p, j)) return j;
    }
    return -1;
  }
};

// Local line of fold (FR, FC)'s last ifmap request, or -1 when all its taps are null (windows
// hanging over the ifmap edge read nothing there).
int64_t last_ifmap_line(Dataflow df, const Mapping& m, const Layer& layer, int64_t fr, int64_t fc) {
  const Taps taps{layer};
  const int64_t r = m.rows;
  const int64_t r0 = fr * r, r1 = std::min(m.sr, r0 + r);
  const int64_t c0 = fc * m.cols, c1 = std::min(m.sc, c0 + m.cols);
  int64_t best = -1;
  switch (df) {
    case Dataflow::kOs:  // rows: taps (time), columns: pixels r0..r1 (skewed)
      for (int64_t p = r0; p < r1; ++p) {
        const int64_t j = taps.max_valid(p, m.t);
        if (j >= 0) best = std::max(best, j + (p - r0));
      }
      return best;
    case Dataflow::kWs:  // R weight-load lines, rows: pixels (time), columns: taps r0..r1 (skewed)
      for (int64_t p = 0; p < m.t; ++p) {
        const int64_t j = taps.max_valid(p, r1);
        if (j >= r0) best = std::max(best, r + p + (j - r0));
      }
      return best;
    case Dataflow::kIs:  // unskewed, flipped: line R-1-(j-r0) for taps j with a valid pixel
      for (int64_t j = r0; j < r1; ++j) {
        for (int64_t p = c0; p < c1; ++p) {
          if (taps.valid(p, j)) return r - 1 - (j - r0);
        }
      }
      return best;
  }
  return best;
}

// Global demand line of the layer's last ifmap request (searching folds from the last one).
int64_t last_ifmap_request(Dataflow df, const Mapping& m, const Layer& layer) {
  for (int64_t k = m.row_folds * m.col_folds - 1; k >= 0; --k) {
    const int64_t local = last_ifmap_line(df, m, layer, k % m.row_folds, k / m.row_folds);
    if (local >= 0) return k * m.lines_per_fold + local;
  }
  return 0;
}

}  // namespace

Mapping map_layer(const ScaleSimConfig& cfg, const Layer& layer) {
  Mapping m;
  const int64_t px = layer.ofmap_px(), win = layer.window(), nf = layer.num_filters;
  switch (cfg.dataflow) {  // topology_utils.calc_spatio_temporal_params
    case Dataflow::kOs: m.sr = px, m.sc = nf, m.t = win; break;
    case Dataflow::kWs: m.sr = win, m.sc = nf, m.t = px; break;
    case Dataflow::kIs: m.sr = win, m.sc = px, m.t = nf; break;
  }
  m.rows = cfg.array_rows;
  m.cols = cfg.array_cols;
  m.row_folds = ceil_div(m.sr, m.rows);
  m.col_folds = ceil_div(m.sc, m.cols);
  const int64_t r = m.rows, c = m.cols, t = m.t;
  if (cfg.dataflow == Dataflow::kOs) {
    m.lines_per_fold = t + r + c - 2;
    m.util_cycles_per_fold = t + r + c - 2;
  } else {
    m.lines_per_fold = 2 * r + c + t - 2;
    m.util_cycles_per_fold = 2 * r + 2 * c + t - 3;  // unskewed operand's rows + cols - 1
  }
  return m;
}

LayerResult simulate_layer(const ScaleSimConfig& cfg, const Layer& layer) {
  LayerScratch scratch;
  return simulate_layer(cfg, layer, scratch);
}

LayerResult simulate_layer(const ScaleSimConfig& cfg, const Layer& layer, LayerScratch& scratch) {
  const Mapping m = map_layer(cfg, layer);
  const Dataflow df = cfg.dataflow;
  const int64_t r = m.rows, c = m.cols, t = m.t;
  const int64_t folds = m.row_folds * m.col_folds;
  const int64_t lf = m.lines_per_fold;
  LayerResult res;

  // Mapping efficiency and compute utilisation: per-fold ratios averaged in fold order (column
  // folds outer), summed in the same order as Python's sum() so the doubles are identical.
  double map_sum = 0, util_sum = 0;
  for (int64_t fc = 0; fc < m.col_folds; ++fc) {
    const int64_t cu = std::min(c, m.sc - fc * c);
    for (int64_t fr = 0; fr < m.row_folds; ++fr) {
      const int64_t ru = std::min(r, m.sr - fr * r);
      const int64_t mac = ru * cu;
      map_sum += static_cast<double>(mac) / static_cast<double>(r * c);
      util_sum += static_cast<double>(mac * t) / static_cast<double>(r * c * m.util_cycles_per_fold);
    }
  }
  res.mapping_eff = map_sum / static_cast<double>(folds) * 100;
  res.compute_util = util_sum / static_cast<double>(folds) * 100;

  // SRAM request counts as the compute classes tally them (OS adds R + C per fold to the OFMAP
  // count when it flips the output block).
  switch (df) {
    case Dataflow::kOs:
      res.ifmap_sram_reads = m.col_folds * m.sr * t;
      res.filter_sram_reads = m.row_folds * t * m.sc;
      res.ofmap_sram_writes = m.sr * m.sc + folds * (r + c);
      break;
    case Dataflow::kWs:
      res.ifmap_sram_reads = m.col_folds * t * m.sr;
      res.filter_sram_reads = m.sr * m.sc;
      res.ofmap_sram_writes = m.row_folds * t * m.sc;
      break;
    case Dataflow::kIs:
      res.ifmap_sram_reads = m.sr * m.sc;
      res.filter_sram_reads = m.col_folds * t * m.sr;
      res.ofmap_sram_writes = m.row_folds * t * m.sc;
      break;
  }

  // First/last demand lines carrying ifmap and filter requests (first fold / last fold).
  const int64_t last_ru = m.sr - (m.row_folds - 1) * r, last_cu = m.sc - (m.col_folds - 1) * c;
  const FoldBands b0 = bands(df, m, std::min(r, m.sr), std::min(c, m.sc));
  const FoldBands bl = bands(df, m, last_ru, last_cu);
  const int64_t last_base = (folds - 1) * lf;
  const int64_t if_first = b0.ifmap.first();
  const int64_t if_last = last_ifmap_request(df, m, layer);
  const int64_t fl_first = b0.filter.first(), fl_last = last_base + bl.filter.last();

  // The two read operands' buffers. USER mode: read_buffer.py, which needs the prefetch matrix
  // (size, non-null entries, and its addresses when the hashed lines do not all fit the active
  // half). CALC mode: read_buffer_estimate_bw.py at 10 words/cycle, which needs the distinct
  // addresses.
  const int64_t u_ifmap =
      touched(layer.ifmap_h, layer.ofmap_h(), layer.filter_h, layer.stride_h) *
      touched(layer.ifmap_w, layer.ofmap_w(), layer.filter_w, layer.stride_w) * layer.channels;
  const int64_t v_ifmap =  // valid entries of the im2col ifmap operand
      valid_taps(layer.ifmap_h, layer.ofmap_h(), layer.filter_h, layer.stride_h) *
      valid_taps(layer.ifmap_w, layer.ofmap_w(), layer.filter_w, layer.stride_w) * layer.channels;
  const int64_t u_filter = layer.window() * layer.num_filters;  // every entry valid and distinct
  int64_t if_prefetch = 0, fl_prefetch = 0;  // create_*_prefetch_mat sizes, null slots included
  switch (df) {
    case Dataflow::kOs:
      if_prefetch = m.row_folds * r * t, fl_prefetch = m.col_folds * c * t;
      break;
    case Dataflow::kWs:
      if_prefetch = m.row_folds * r * t, fl_prefetch = m.col_folds * c * m.sr;
      break;
    case Dataflow::kIs:
      if_prefetch = m.col_folds * c * m.sr, fl_prefetch = m.row_folds * r * t;
      break;
  }
  const OperandStreams if_streams(df, m, layer, ReadKind::kIfmap);
  const OperandStreams fl_streams(df, m, layer, ReadKind::kFilter);
  auto make_buffer = [&](int64_t sram_kb, int64_t read_bw, const OperandStreams& s,
                         int64_t prefetch_elems, int64_t valid_elems, int64_t unique,
                         EpochTable& marks) -> std::unique_ptr<ReadBuffer> {
    if (!cfg.user_bandwidth) {
      return std::make_unique<EstimateReadBuffer>(sram_kb * 1024, 10, unique, s.addr_space(),
                                                  marks);
    }
    auto b = std::make_unique<UserReadBuffer>(sram_kb * 1024, read_bw, prefetch_elems,
                                              valid_elems);
    b->set_v3_waits(cfg.version == 3);
    if (b->simulated()) {
      b->build_index(s.addr_space(), [&](auto&& visit) { s.for_each_prefetch(visit); });
    }
    return b;
  };
  const std::unique_ptr<ReadBuffer> ifbuf =
      make_buffer(cfg.ifmap_sram_kb, user_read_bw(cfg, cfg.ifmap_read_bw), if_streams,
                  if_prefetch, v_ifmap, u_ifmap, scratch.ifmap_marks);
  const std::unique_ptr<ReadBuffer> flbuf =
      make_buffer(cfg.filter_sram_kb, user_read_bw(cfg, cfg.filter_read_bw), fl_streams,
                  fl_prefetch, u_filter, u_filter, scratch.filter_marks);
  const bool sim_if = ifbuf->simulated(), sim_fl = flbuf->simulated();
  // USER buffers take each demand line's addresses. CALC buffers are stall free: operands without
  // repeated addresses within a repetition are served from request counts and repeat distances,
  // the others address by address without materialising the line.
  const bool if_counts = ifbuf->simulated() && if_streams.injective();
  const bool fl_counts = flbuf->simulated() && fl_streams.injective();
  std::vector<int64_t> addrs;
  // Serves one operand's requests of local line LINE (global line I) of fold (FR, FC), issued at
  // CYC; returns the cycle they are served.
  auto serve = [&](ReadBuffer& buf, const OperandStreams& s, bool by_counts, int64_t fr,
                   int64_t fc, int64_t line, int64_t i, int64_t cyc) -> int64_t {
    if (cfg.user_bandwidth) {
      s.demand_line(fr, fc, line, &addrs);
      return buf.service_line(addrs, cyc);
    }
    auto& calc = static_cast<EstimateReadBuffer&>(buf);
    if (by_counts) {
      const OperandStreams::Cols cols = s.demand_cols(fr, fc, line);
      calc.service_repeating_line(
          i, cyc, cols.lo, cols.hi, s.repeat_shift(fr, fc, m.row_folds, lf),
          [&](int64_t c0, int64_t c1) { return s.valid_in(fr, fc, line, c0, c1); },
          [&](int64_t c) { return s.demand_addr(fr, fc, line, c) >= 0; });
    } else {
      calc.service_addresses(cyc, [&](auto&& visit) { s.for_each_demand(fr, fc, line, visit); });
    }
    return cyc + 1;
  };

  // One pass over the demand lines: line i is issued at cycle i + stalls so far; reads are
  // serviced one cycle later on hits (hit latency 1) or when the prefetch they waited for is
  // served; the OFMAP buffer may stall a line.
  const int64_t ofmap_bw = cfg.user_bandwidth ? cfg.bandwidths[0] : c;
  OfmapWriteBuffer wb(cfg.ofmap_sram_kb * 1024, ofmap_bw);
  wb.set_v3_stop(cfg.version == 3);
  int64_t stall = 0, last_out = 0;
  int64_t if_first_out = 0, if_last_out = 0, fl_first_out = 0, fl_last_out = 0;
  int64_t of_first = -1, of_last = 0;
  int64_t i = 0;
  for (int64_t fc = 0; fc < m.col_folds; ++fc) {
    const int64_t cu = std::min(c, m.sc - fc * c);
    for (int64_t fr = 0; fr < m.row_folds; ++fr) {
      const int64_t ru = std::min(r, m.sr - fr * r);
      const FoldBands fb = bands(df, m, ru, cu);
      for (int64_t line = 0; line < lf; ++line, ++i) {
        const int64_t cyc = i + stall;
        int64_t if_out = cyc + 1, fl_out = cyc + 1;
        if (sim_if && fb.ifmap.count(line) > 0) {
          if_out = serve(*ifbuf, if_streams, if_counts, fr, fc, line, i, cyc);
        }
        if (sim_fl && fb.filter.count(line) > 0) {
          fl_out = serve(*flbuf, fl_streams, fl_counts, fr, fc, line, i, cyc);
        }
        if (i == if_first) if_first_out = if_out;
        if (i == if_last) if_last_out = if_out;
        if (i == fl_first) fl_first_out = fl_out;
        if (i == fl_last) fl_last_out = fl_out;
        const int64_t n = fb.ofmap.count(line);
        int64_t out = cyc;
        if (n > 0) {
          out = wb.service_line(n, cyc);
          if (of_first < 0) of_first = out;
          of_last = out;
        }
        // double_buffered_scratchpad_mem.py: the line stalls the array by the largest of the
        // read waits (served - cycle - hit latency, never negative) and the OFMAP wait
        // (completion - cycle).
        stall += std::max({if_out - cyc - 1, fl_out - cyc - 1, out - cyc});
        last_out = out;
      }
    }
  }
  wb.flush(last_out);
  res.total_cycles = last_out;
  res.stall_cycles = stall;
  res.ifmap_sram_start = static_cast<double>(if_first_out);
  res.ifmap_sram_stop = static_cast<double>(if_last_out);
  res.filter_sram_start = static_cast<double>(fl_first_out);
  res.filter_sram_stop = static_cast<double>(fl_last_out);
  res.ofmap_sram_start = static_cast<double>(of_first);
  res.ofmap_sram_stop = static_cast<double>(of_last);
  res.ofmap_dram_writes = wb.dram_writes();
  res.ofmap_dram_start = static_cast<double>(wb.dram_start());
  res.ofmap_dram_stop = static_cast<double>(wb.dram_stop());

  res.ifmap_dram_reads = ifbuf->dram_reads();
  res.ifmap_dram_start = static_cast<double>(ifbuf->dram_start());
  res.ifmap_dram_stop = static_cast<double>(ifbuf->dram_stop());
  res.filter_dram_reads = flbuf->dram_reads();
  res.filter_dram_start = static_cast<double>(flbuf->dram_start());
  res.filter_dram_stop = static_cast<double>(flbuf->dram_stop());

  // Utilisation and bandwidths (Python true division of integers; exact below 2^53).
  const double tc = static_cast<double>(res.total_cycles);
  const int64_t num_compute = layer.ofmap_px() * layer.num_filters * layer.window();
  res.overall_util = tc > 0 ? static_cast<double>(num_compute * 100) / (tc * r * c) : 0.0;
  if (tc > 0) {
    res.ifmap_sram_bw = static_cast<double>(res.ifmap_sram_reads) / tc;
    res.filter_sram_bw = static_cast<double>(res.filter_sram_reads) / tc;
    res.ofmap_sram_bw = static_cast<double>(res.ofmap_sram_writes) / tc;
  }
  res.ifmap_dram_bw = res.ifmap_dram_reads / (res.ifmap_dram_stop - res.ifmap_dram_start + 1);
  res.filter_dram_bw = res.filter_dram_reads / (res.filter_dram_stop - res.filter_dram_start + 1);
  res.ofmap_dram_bw = res.ofmap_dram_writes / (res.ofmap_dram_stop - res.ofmap_dram_start + 1);
  // v3's extra COMPUTE_REPORT column (single_layer_sim.py: int(ofmap DRAM stop - the earlier
  // IFMAP/filter DRAM start)).
  res.v3 = cfg.version == 3;
  res.total_cycles_incl_prefetch = static_cast<int64_t>(
      res.ofmap_dram_stop - std::min(res.ifmap_dram_start, res.filter_dram_start));
  return res;
}

}  // namespace trnsim::model::scalesim
