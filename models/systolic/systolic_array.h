// Per-PE, cycle-level systolic array (SystemC): real operands move one PE per clock for ws/os/is
// dataflows. A validation and teaching model for small arrays; docs/systolic.md.
#pragma once

#include <systemc>

#include <cstdint>
#include <string>
#include <vector>

#include "models/scalesim/scalesim_input.h"

namespace trnsim::model::systolic {

using scalesim::Dataflow;

// C[M,N] = A[M,K] x B[K,N], row-major fp32 operands.
struct GemmProblem {
  int64_t m = 0, n = 0, k = 0;
  std::vector<float> a;  // M x K
  std::vector<float> b;  // K x N
};

// What the array did for one GEMM.
struct GemmRun {
  std::vector<float> c;     // M x N
  int64_t first_cycle = 0;  // global cycle of the GEMM's first fold cycle
  int64_t cycles = 0;       // cycles from its first fold's first cycle to its last output
  int64_t folds = 0;
  int64_t macs = 0;         // MACs on real (non-padding) operands
};

// The array and its controller. The controller feeds each fold's operands at the left (rows) and
// top (columns) edges with the systolic skew; the PEs only talk to their neighbours. One
// SC_METHOD on the rising clock edge evaluates "cycle t": it computes the edge feeds of cycle t
// and every PE's MAC, and updates all registers. Folds and GEMMs run back to back; after the
// last one the method calls sc_stop().
class SystolicArray : public sc_core::sc_module {
 public:
  sc_core::sc_in<bool> clk;

  SC_HAS_PROCESS(SystolicArray);
  SystolicArray(sc_core::sc_module_name name, int rows, int cols, Dataflow df);

  // Queues a GEMM (before sc_start). `p` must outlive the simulation. Throws InputError.
  void add_gemm(const GemmProblem* p);
  // Traces every PE register, the edge feeds, the cycle counter and the fold number.
  void trace(sc_core::sc_trace_file* tf) const;

  bool finished() const { return job_ >= jobs_.size(); }
  const std::vector<GemmRun>& runs() const { return runs_; }
  int64_t cycles() const { return cycle_ + 1; }  // cycles evaluated so far
  const std::string& error() const { return error_; }  // a fault inside the clocked process

 private:
  // One tile of the GEMM on the array: SCALE-Sim's fold (row fold fr, column fold fc).
  struct Fold {
    int64_t fr = 0, fc = 0;
  };
  static constexpr int kBubble = -1;  // tag of an empty slot

  void step();
  void feed(const GemmProblem& p, int64_t t);
  void step_os(const GemmProblem& p, int64_t t_len);
  void step_stationary(const GemmProblem& p, int64_t t, int64_t t_len);
  void start_job();
  void end_fold();
  size_t at(int i, int j) const { return static_cast<size_t>(i) * cols_ + j; }

  const int rows_, cols_;
  const Dataflow df_;
  std::vector<const GemmProblem*> jobs_;
  std::vector<GemmRun> runs_;

  // Controller state.
  size_t job_ = 0;
  int64_t row_folds_ = 0, col_folds_ = 0, fold_ = 0;  // fold_ counts column folds outer
  int64_t t_ = 0;                                     // cycle within the fold
  long long cycle_ = -1;                              // global cycle counter (traced)
  bool fold_done_ = false;

  // Edge feeds of the current cycle: left edge per row, top edge per column (traced).
  std::vector<float> feed_row_, feed_col_;
  std::vector<int> feed_row_tag_, feed_col_tag_;
  // PE registers, row-major [i * cols + j] (traced):
  //   h    horizontal operand passed to the right (A in os/ws, B in is), with its time tag
  //   v    vertical operand passed down (B in os only)
  //   w    stationary operand (B in ws, A in is), shifted down from the top while loading
  //   acc  os: the output accumulator; ws/is: the partial sum passed down
  std::vector<float> h_, v_, w_, acc_;
  std::vector<int> h_tag_, v_tag_, acc_tag_;
  int fold_traced_ = 0;
  std::string error_;
};

// Runs `problems` back to back on one rows x cols array in ONE SystemC simulation (SystemC allows
// one per process: a second call throws SimFault). With a non-empty vcd_path, writes a VCD
// waveform of the whole run there (via a temporary file renamed into place).
struct SystolicResult {
  std::vector<GemmRun> runs;
  int64_t total_cycles = 0;
  double wall_seconds = 0;  // sc_start() only
};
SystolicResult run_systolic(int rows, int cols, Dataflow df,
                            const std::vector<GemmProblem>& problems,
                            const std::string& vcd_path = "");

}  // namespace trnsim::model::systolic
