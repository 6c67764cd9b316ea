// Compute cycles of one GEMM on SCALE-Sim's systolic array with ideal memory: a pure wrapper over
// map_layer/simulate_layer (the fast model the per-PE array in models/systolic is checked against).
#pragma once

#include <cstdint>

#include "models/scalesim/scalesim_input.h"
#include "models/scalesim/systolic_model.h"

namespace trnsim::model::scalesim {

struct GemmCycles {
  Mapping mapping;               // Sr/Sc/T, folds and lines per fold for this GEMM
  int64_t folds = 0;             // row_folds x col_folds
  int64_t lines_per_fold = 0;    // os: T+R+C-2; ws/is: 2R+C+T-2
  int64_t compute_cycles = 0;    // folds x lines_per_fold: cycles the array is busy
  int64_t total_cycles = 0;      // SCALE-Sim's "Total Cycles" (0-based index of the last line)
};

// The GEMM topology row `name, M, N, K` as SCALE-Sim normalises it (ifmap M x K, N 1 x K filters).
Layer gemm_layer(int64_t m, int64_t n, int64_t k);

// A SCALE-Sim config with memory that never stalls: CALC bandwidth mode (reads never stall) and
// SRAMs so large that the OFMAP buffer never drains before the final flush.
ScaleSimConfig ideal_memory_config(int64_t rows, int64_t cols, Dataflow df);

// Cycles of C[M,N] = A[M,K] x B[K,N] on a rows x cols array. total_cycles comes from
// simulate_layer() and equals compute_cycles - 1 (checked; throws SimFault otherwise). Throws
// InputError for non-positive sizes.
GemmCycles gemm_cycles(int64_t rows, int64_t cols, Dataflow df, int64_t m, int64_t n, int64_t k);

}  // namespace trnsim::model::scalesim
