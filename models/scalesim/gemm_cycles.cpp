// GEMM compute cycles from the closed-form SCALE-Sim model (ideal memory).
#include "models/scalesim/gemm_cycles.h"

#include <fmt/format.h>

#include "support/error.h"

namespace trnsim::model::scalesim {

Layer gemm_layer(int64_t m, int64_t n, int64_t k) {
  // topology_utils.load_arrays_gemm: [M, K, 1, K, 1, N, 1, 1] (as parse_topology builds it).
  Layer l;
  l.name = "gemm";
  l.ifmap_h = m;
  l.ifmap_w = k;
  l.filter_h = 1;
  l.filter_w = k;
  l.channels = 1;
  l.num_filters = n;
  l.stride_h = l.stride_w = 1;
  return l;
}

ScaleSimConfig ideal_memory_config(int64_t rows, int64_t cols, Dataflow df) {
  ScaleSimConfig cfg;
  cfg.run_name = "ideal";
  cfg.array_rows = rows;
  cfg.array_cols = cols;
  // 2^30 words each: the OFMAP drain half (2^29 words) is never exceeded by a GEMM that fits in
  // memory here, and CALC-mode reads never stall.
  cfg.ifmap_sram_kb = cfg.filter_sram_kb = cfg.ofmap_sram_kb = int64_t{1} << 20;
  cfg.dataflow = df;
  cfg.user_bandwidth = false;
  return cfg;
}

GemmCycles gemm_cycles(int64_t rows, int64_t cols, Dataflow df, int64_t m, int64_t n, int64_t k) {
  if (rows <= 0 || cols <= 0 || m <= 0 || n <= 0 || k <= 0) {
    throw InputError(fmt::format("gemm_cycles: array {}x{}, GEMM M={} N={} K={}: every size must "
                                 "be positive", rows, cols, m, n, k));
  }
  const ScaleSimConfig cfg = ideal_memory_config(rows, cols, df);
  const Layer layer = gemm_layer(m, n, k);
  GemmCycles g;
  g.mapping = map_layer(cfg, layer);
  g.folds = g.mapping.row_folds * g.mapping.col_folds;
  g.lines_per_fold = g.mapping.lines_per_fold;
  g.compute_cycles = g.mapping.total_lines();
  const LayerResult r = simulate_layer(cfg, layer);
  g.total_cycles = r.total_cycles;
  if (r.stall_cycles != 0 || g.total_cycles != g.compute_cycles - 1) {
    throw SimFault(fmt::format("gemm_cycles: M={} N={} K={} on {}x{} {}: SCALE-Sim model reports "
                               "{} total cycles with {} stalls; ideal memory expects {}",
                               m, n, k, rows, cols, dataflow_name(df), g.total_cycles,
                               r.stall_cycles, g.compute_cycles - 1));
  }
  return g;
}

}  // namespace trnsim::model::scalesim
