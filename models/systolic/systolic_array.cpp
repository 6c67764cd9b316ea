// Per-PE systolic array: the edge controller (folds, skewed feeds) and the PE grid, one clock at
// a time. The fold layout is SCALE-Sim's (models/scalesim): docs/systolic.md has the derivations.
#include "models/systolic/systolic_array.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "models/clock/clock.h"
#include "support/error.h"

namespace trnsim::model::systolic {

namespace {
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// SCALE-Sim's operand matrix for a GEMM (topology_utils.calc_spatio_temporal_params with
// ifmap M x K, N filters of 1 x K): spatial rows Sr, spatial cols Sc, temporal extent T.
struct Extent {
  int64_t sr, sc, t;
};
Extent extent(Dataflow df, const GemmProblem& p) {
  switch (df) {
    case Dataflow::kOs: return {p.m, p.n, p.k};  // PE(i,j) owns C[m][n]; K streams
    case Dataflow::kWs: return {p.k, p.n, p.m};  // PE(i,j) holds B[k][n]; A's rows stream
    case Dataflow::kIs: return {p.k, p.m, p.n};  // PE(i,j) holds A[m][k]; B's columns stream
  }
  return {0, 0, 0};
}
}  // namespace

SystolicArray::SystolicArray(sc_core::sc_module_name name, int rows, int cols, Dataflow df)
    : sc_module(name), clk("clk"), rows_(rows), cols_(cols), df_(df) {
  if (rows < 1 || cols < 1) {
    throw InputError(fmt::format("systolic: array {}x{}: rows and cols must be >= 1", rows, cols));
  }
  const size_t n = static_cast<size_t>(rows) * cols;
  feed_row_.assign(rows, 0.0f);
  feed_row_tag_.assign(rows, kBubble);
  feed_col_.assign(cols, 0.0f);
  feed_col_tag_.assign(cols, kBubble);
  h_.assign(n, 0.0f);
  v_.assign(n, 0.0f);
  w_.assign(n, 0.0f);
  acc_.assign(n, 0.0f);
  h_tag_.assign(n, kBubble);
  v_tag_.assign(n, kBubble);
  acc_tag_.assign(n, kBubble);
  SC_METHOD(step);
  sensitive << clk.pos();
  dont_initialize();
}

void SystolicArray::add_gemm(const GemmProblem* p) {
  if (p->m < 1 || p->n < 1 || p->k < 1) {
    throw InputError(fmt::format("systolic: GEMM M={} N={} K={}: sizes must be >= 1", p->m, p->n,
                                 p->k));
  }
  if (static_cast<int64_t>(p->a.size()) != p->m * p->k ||
      static_cast<int64_t>(p->b.size()) != p->k * p->n) {
    throw InputError(fmt::format("systolic: GEMM M={} N={} K={}: A has {} values, B has {}", p->m,
                                 p->n, p->k, p->a.size(), p->b.size()));
  }
  jobs_.push_back(p);
}

void SystolicArray::trace(sc_core::sc_trace_file* tf) const {
  sc_core::sc_trace(tf, cycle_, "cycle");
  sc_core::sc_trace(tf, fold_traced_, "fold");
  for (int i = 0; i < rows_; ++i) {
    sc_core::sc_trace(tf, feed_row_[i], fmt::format("feed.row_{}", i));
  }
  for (int j = 0; j < cols_; ++j) {
    sc_core::sc_trace(tf, feed_col_[j], fmt::format("feed.col_{}", j));
  }
  for (int i = 0; i < rows_; ++i) {
    for (int j = 0; j < cols_; ++j) {
      const std::string pe = fmt::format("pe_{}_{}.", i, j);
      sc_core::sc_trace(tf, h_[at(i, j)], pe + "h");
      if (df_ == Dataflow::kOs) {
        sc_core::sc_trace(tf, v_[at(i, j)], pe + "v");
        sc_core::sc_trace(tf, acc_[at(i, j)], pe + "acc");
      } else {
        sc_core::sc_trace(tf, w_[at(i, j)], pe + "w");
        sc_core::sc_trace(tf, acc_[at(i, j)], pe + "psum");
      }
    }
  }
}

void SystolicArray::start_job() {
  const GemmProblem& p = *jobs_[job_];
  const Extent e = extent(df_, p);
  row_folds_ = ceil_div(e.sr, rows_);
  col_folds_ = ceil_div(e.sc, cols_);
  fold_ = 0;
  t_ = 0;
  GemmRun r;
  r.c.assign(static_cast<size_t>(p.m * p.n), 0.0f);
  r.first_cycle = cycle_;
  r.folds = row_folds_ * col_folds_;
  runs_.push_back(std::move(r));
}

// Edge feeds of fold cycle t. Row i's operand stream is delayed i cycles and column j's j cycles
// (the skew). Lanes outside the GEMM (a partial fold) carry 0: SCALE-Sim's null requests, which
// still occupy their slot. Stationary operands (ws/is) enter at the top during cycles 0..R-1,
// bottom row first, unskewed, and then shift down one row per cycle.
void SystolicArray::feed(const GemmProblem& p, int64_t t) {
  const int64_t fr = fold_ % row_folds_, fc = fold_ / row_folds_;
  const int64_t r0 = fr * rows_, c0 = fc * cols_;
  const auto A = [&p](int64_t m, int64_t k) {
    return (m < p.m && k < p.k) ? p.a[m * p.k + k] : 0.0f;
  };
  const auto B = [&p](int64_t k, int64_t n) {
    return (k < p.k && n < p.n) ? p.b[k * p.n + n] : 0.0f;
  };
  const Extent e = extent(df_, p);
  for (int i = 0; i < rows_; ++i) {
    feed_row_[i] = 0.0f;
    feed_row_tag_[i] = kBubble;
  }
  for (int j = 0; j < cols_; ++j) {
    feed_col_[j] = 0.0f;
    feed_col_tag_[j] = kBubble;
  }
  if (df_ == Dataflow::kOs) {  // A[m0+i][tau] from the left, B[tau][n0+j] from the top
    for (int i = 0; i < rows_; ++i) {
      const int64_t tau = t - i;
      if (tau < 0 || tau >= e.t) continue;
      feed_row_[i] = A(r0 + i, tau);
      feed_row_tag_[i] = static_cast<int>(tau);
    }
    for (int j = 0; j < cols_; ++j) {
      const int64_t tau = t - j;
      if (tau < 0 || tau >= e.t) continue;
      feed_col_[j] = B(tau, c0 + j);
      feed_col_tag_[j] = static_cast<int>(tau);
    }
    return;
  }
  if (t < rows_) {  // load: row R-1-t of the stationary tile enters the top of every column
    const int64_t k = r0 + rows_ - 1 - t;
    for (int j = 0; j < cols_; ++j) {
      feed_col_[j] = df_ == Dataflow::kWs ? B(k, c0 + j) : A(c0 + j, k);
      feed_col_tag_[j] = static_cast<int>(rows_ - 1 - t);  // the row it is bound for
    }
    return;
  }
  const int64_t s = t - rows_;  // stream: time step tau enters row i at s = tau + i
  for (int i = 0; i < rows_; ++i) {
    const int64_t tau = s - i;
    if (tau < 0 || tau >= e.t) continue;
    feed_row_[i] = df_ == Dataflow::kWs ? A(tau, r0 + i) : B(r0 + i, tau);
    feed_row_tag_[i] = static_cast<int>(tau);
  }
}

// Output-stationary PEs: a from the left, b from the top, acc += a*b; both operands must carry
// the same k (the skew lines them up). The accumulator restarts on k = 0 and is final on K-1.
void SystolicArray::step_os(const GemmProblem& p, int64_t t_len) {
  const int64_t fr = fold_ % row_folds_, fc = fold_ / row_folds_;
  GemmRun& run = runs_.back();
  for (int i = rows_ - 1; i >= 0; --i) {  // reverse order: neighbours still hold last cycle's
    for (int j = cols_ - 1; j >= 0; --j) {
      const size_t x = at(i, j);
      const float a = j == 0 ? feed_row_[i] : h_[at(i, j - 1)];
      const int at_ = j == 0 ? feed_row_tag_[i] : h_tag_[at(i, j - 1)];
      const float b = i == 0 ? feed_col_[j] : v_[at(i - 1, j)];
      const int bt = i == 0 ? feed_col_tag_[j] : v_tag_[at(i - 1, j)];
      if (at_ != bt) {
        throw SimFault(fmt::format("systolic: cycle {}: PE({},{}) got k={} from the left but "
                                   "k={} from the top", cycle_, i, j, at_, bt));
      }
      if (at_ != kBubble) {
        if (at_ == 0) acc_[x] = 0.0f;
        acc_[x] = acc_[x] + a * b;
        acc_tag_[x] = at_;
        const int64_t m = fr * rows_ + i, n = fc * cols_ + j;
        const bool real = m < p.m && n < p.n;
        if (real) ++run.macs;
        if (at_ == t_len - 1) {
          if (real) run.c[m * p.n + n] = acc_[x];
          if (i == rows_ - 1 && j == cols_ - 1) fold_done_ = true;
        }
      }
      h_[x] = a;
      h_tag_[x] = at_;
      v_[x] = b;
      v_tag_[x] = bt;
    }
  }
}

// Weight-/input-stationary PEs: during the load cycles the stationary registers shift down;
// then a moving operand from the left meets the stationary one, and the partial sum from the PE
// above (0 in row 0) plus a*w goes down. Row R-1 emits the finished column sums: outputs of a
// row fold are written (first row fold) or accumulated (later ones) into C, like PSUM zero/acc.
void SystolicArray::step_stationary(const GemmProblem& p, int64_t t, int64_t t_len) {
  const int64_t fr = fold_ % row_folds_, fc = fold_ / row_folds_;
  GemmRun& run = runs_.back();
  const bool load = t < rows_;
  for (int i = rows_ - 1; i >= 0; --i) {
    for (int j = cols_ - 1; j >= 0; --j) {
      const size_t x = at(i, j);
      if (load) w_[x] = i == 0 ? feed_col_[j] : w_[at(i - 1, j)];
      const float a = j == 0 ? feed_row_[i] : h_[at(i, j - 1)];
      const int at_ = j == 0 ? feed_row_tag_[i] : h_tag_[at(i, j - 1)];
      if (at_ == kBubble) {
        acc_[x] = 0.0f;
        acc_tag_[x] = kBubble;
      } else {
        const float pin = i == 0 ? 0.0f : acc_[at(i - 1, j)];
        const int pt = i == 0 ? at_ : acc_tag_[at(i - 1, j)];
        if (pt != at_) {
          throw SimFault(fmt::format("systolic: cycle {}: PE({},{}) got step {} from the left "
                                     "but a partial sum of step {} from above", cycle_, i, j,
                                     at_, pt));
        }
        acc_[x] = pin + a * w_[x];
        acc_tag_[x] = at_;
        const int64_t k = fr * rows_ + i, c = fc * cols_ + j;
        const int64_t m = df_ == Dataflow::kWs ? at_ : c;
        const int64_t n = df_ == Dataflow::kWs ? c : at_;
        if (k < p.k && m < p.m && n < p.n) ++run.macs;
        if (i == rows_ - 1) {
          if (m < p.m && n < p.n) {
            float& out = run.c[m * p.n + n];
            out = fr == 0 ? acc_[x] : out + acc_[x];
          }
          if (j == cols_ - 1 && at_ == t_len - 1) fold_done_ = true;
        }
      }
      h_[x] = a;
      h_tag_[x] = at_;
    }
  }
}

void SystolicArray::end_fold() {
  fold_done_ = false;
  t_ = 0;
  if (++fold_ < row_folds_ * col_folds_) return;
  GemmRun& run = runs_.back();
  run.cycles = cycle_ - run.first_cycle + 1;
  ++job_;
  fold_ = 0;
}

void SystolicArray::step() {
  if (finished() || !error_.empty()) {
    // Stop one edge after the last cycle, so a VCD trace records that cycle's values too.
    sc_core::sc_stop();
    return;
  }
  ++cycle_;
  try {
    if (fold_ == 0 && t_ == 0) start_job();
    const GemmProblem& p = *jobs_[job_];
    const Extent e = extent(df_, p);
    fold_traced_ = static_cast<int>(fold_);
    feed(p, t_);
    if (df_ == Dataflow::kOs) {
      step_os(p, e.t);
    } else {
      step_stationary(p, t_, e.t);
    }
    if (fold_done_) {
      end_fold();
    } else if (++t_ > 2 * (rows_ + cols_) + e.t + 8) {  // far past any fill + stream + drain
      throw SimFault(fmt::format("systolic: fold {} of GEMM {} did not finish after {} cycles",
                                 fold_, job_, t_));
    }
  } catch (const std::exception& ex) {
    // Exceptions must not cross the SystemC kernel (it rewraps them): report after sc_start.
    error_ = ex.what();
  }
}

SystolicResult run_systolic(int rows, int cols, Dataflow df,
                            const std::vector<GemmProblem>& problems,
                            const std::string& vcd_path) {
  if (sc_core::sc_get_status() != sc_core::SC_ELABORATION) {
    throw SimFault("systolic: a SystemC simulation already ran in this process (one per process)");
  }
  if (problems.empty()) throw InputError("systolic: no GEMM to run");
  // One cycle = 1 ns: cycle t is the rising edge at t ns (ps_to_time also links sc_main).
  sc_core::sc_clock clock("systolic_clk", ps_to_time(1000));
  auto array = std::make_unique<SystolicArray>("array", rows, cols, df);
  array->clk(clock);
  for (const GemmProblem& p : problems) array->add_gemm(&p);

  // The kernel's info lines ("Simulation stopped by user.", "timescale unit set") are noise.
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_trace_file* tf = nullptr;
  std::string tmp_base;
  if (!vcd_path.empty()) {
    // SystemC appends ".vcd"; write a temporary next to the target and rename it into place.
    tmp_base = fmt::format("{}.tmp.{}", vcd_path, static_cast<long>(getpid()));
    if (!std::ofstream(tmp_base + ".vcd")) {
      throw InputError(fmt::format("{}: cannot open for writing", vcd_path));
    }
    tf = sc_core::sc_create_vcd_trace_file(tmp_base.c_str());
    // 1 ps units: the clock's falling edge (0.5 ns) is a time step too. Cycle t is at t*1000.
    tf->set_time_unit(1, sc_core::SC_PS);
    array->trace(tf);
  }
  const auto t0 = std::chrono::steady_clock::now();
  sc_core::sc_start();
  const auto t1 = std::chrono::steady_clock::now();
  if (tf != nullptr) sc_core::sc_close_vcd_trace_file(tf);

  SystolicResult res;
  res.wall_seconds = std::chrono::duration<double>(t1 - t0).count();
  std::error_code ec;
  if (!array->error().empty() || !array->finished()) {
    if (tf != nullptr) std::filesystem::remove(tmp_base + ".vcd", ec);
    throw SimFault(array->error().empty() ? "systolic: simulation stopped before the last GEMM"
                                          : array->error());
  }
  if (tf != nullptr) {
    std::filesystem::rename(tmp_base + ".vcd", vcd_path, ec);
    if (ec) {
      std::filesystem::remove(tmp_base + ".vcd", ec);
      throw InputError(fmt::format("{}: cannot write: {}", vcd_path, ec.message()));
    }
  }
  res.runs = array->runs();
  res.total_cycles = array->cycles();
  return res;
}

}  // namespace trnsim::model::systolic
