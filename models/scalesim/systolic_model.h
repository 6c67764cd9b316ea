// Closed-form model of SCALE-Sim v2's systolic array + double-buffered memory for one layer:
// the same folds, fill/drain lines, utilisation and report numbers, without address matrices.
#pragma once

#include <cstdint>

#include "models/scalesim/read_buffer.h"
#include "models/scalesim/scalesim_input.h"

namespace trnsim::model::scalesim {

// How one layer maps on the array (SCALE-Sim's Sr x Sc operand tiled over R x C, T in time).
struct Mapping {
  int64_t sr = 0, sc = 0, t = 0;        // spatial rows, spatial cols, temporal extent
  int64_t rows = 0, cols = 0;           // array R x C
  int64_t row_folds = 0, col_folds = 0;
  int64_t lines_per_fold = 0;           // demand-matrix lines (cycles) per fold
  int64_t util_cycles_per_fold = 0;     // the denominator SCALE-Sim uses for Compute Util
  int64_t total_lines() const { return row_folds * col_folds * lines_per_fold; }
};

Mapping map_layer(const ScaleSimConfig& cfg, const Layer& layer);

// One row of each of SCALE-Sim's three reports. Cycle columns that SCALE-Sim takes from numpy
// float arrays are doubles (they print as "12.0"); counts are integers.
struct LayerResult {
  // COMPUTE_REPORT
  int64_t total_cycles = 0;
  int64_t stall_cycles = 0;
  bool v3 = false;                          // report in scale-sim-v3's layout
  int64_t total_cycles_incl_prefetch = 0;  // v3's "Total Cycles (incl. prefetch)"
  double overall_util = 0, mapping_eff = 0, compute_util = 0;  // percent
  // BANDWIDTH_REPORT
  double ifmap_sram_bw = 0, filter_sram_bw = 0, ofmap_sram_bw = 0;
  double ifmap_dram_bw = 0, filter_dram_bw = 0, ofmap_dram_bw = 0;
  // DETAILED_ACCESS_REPORT
  double ifmap_sram_start = 0, ifmap_sram_stop = 0;
  int64_t ifmap_sram_reads = 0;
  double filter_sram_start = 0, filter_sram_stop = 0;
  int64_t filter_sram_reads = 0;
  double ofmap_sram_start = 0, ofmap_sram_stop = 0;
  int64_t ofmap_sram_writes = 0;
  double ifmap_dram_start = 0, ifmap_dram_stop = 0;
  int64_t ifmap_dram_reads = 0;
  double filter_dram_start = 0, filter_dram_stop = 0;
  int64_t filter_dram_reads = 0;
  double ofmap_dram_start = 0, ofmap_dram_stop = 0;
  int64_t ofmap_dram_writes = 0;
};

// Buffers a study reuses from one layer to the next instead of allocating them per layer.
struct LayerScratch {
  EpochTable ifmap_marks, filter_marks;  // CALC buffers' per-address marks
};

LayerResult simulate_layer(const ScaleSimConfig& cfg, const Layer& layer, LayerScratch& scratch);
LayerResult simulate_layer(const ScaleSimConfig& cfg, const Layer& layer);  // own scratch

}  // namespace trnsim::model::scalesim
