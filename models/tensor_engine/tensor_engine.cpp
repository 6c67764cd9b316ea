// Tensor Engine timing: matmul (ws/os/is dataflows), transpose, background stationary load.
#include "models/tensor_engine/tensor_engine.h"

#include <algorithm>

#include "models/core/core.h"

namespace trnsim::model {

using isa::DType;
using isa::Opcode;

namespace {
bool is_fp8(DType t) { return t == DType::Fp8e4m3 || t == DType::Fp8e5m2; }

// Matmul dtype scaling: fp32 x pe.fp32_factor [ISA226: "fp32: 4x"], fp8 / pe.fp8_speedup
// (1 on NC-v2: fp8 at the bf16 rate; 2 with NC-v3 double-row [G2]).
int64_t dtype_scale(int64_t cycles, DType t, const config::ChipConfig& p) {
  if (t == DType::Fp32) return cycles * p.pe_fp32_factor;
  if (is_fp8(t)) return ceil_div(cycles, p.pe_fp8_factor);
  return cycles;
}
}  // namespace

TensorEngine::TensorEngine(sc_core::sc_module_name name, Core& core)
    : EngineBase(name, core, isa::Engine::Pe, core.cfg().pe_clock_ghz, &TensorEngine::latency) {
  const auto& s = core.stream(isa::Engine::Pe);
  ls_ps_.resize(s.size(), 0);
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i].op == Opcode::Matmul) ls_ps_[i] = clock().to_ps(load_stationary(s[i], core.cfg()));
}

Cycles TensorEngine::latency(const isa::Instr& in, const config::ChipConfig& p) {
  if (in.op == Opcode::Transpose) {
    // [ISA226 nc_transpose, PE]: max(P, min(64, F)); 64 = MM_INIT_LATENCY = pe.min_ii. A
    // transpose is a matmul against an identity [G1], so an fp32 source pays the fp32 factor:
    // pe.fp32_transpose_factor (4 on NC-v2 [ISA226]; 2 with NC-v3 transpose mode [G2]).
    const isa::AccessPattern& src = in.ops[1].ap;
    int64_t c = std::max<int64_t>(src.num_partitions, std::min(p.pe_min_ii, src.free_elements()));
    if (src.dtype == DType::Fp32) c *= p.pe_fp32_transpose_factor;
    return Cycles(c);
  }
  if (in.op != Opcode::Matmul) return Cycles(0);
  const isa::AccessPattern& st = in.ops[1].ap;
  const isa::AccessPattern& mv = in.ops[2].ap;
  // A moving operand with an innermost stride > engine.wide_stride_bytes streams at half
  // bandwidth [G1]: twice the N term.
  const int64_t K = st.num_partitions, M = st.free_elements(),
                N = mv.free_elements() * (wide_stride(in, p.wide_stride_bytes, 2) ? 2 : 1);
  int64_t c = 0;
  if (p.pe_dataflow == "os") {
    // Output-stationary: each PE owns one output; an output tile of rows x cols accumulates K
    // products in K cycles; tiles (folds) follow back to back; one fill/drain of the array.
    int64_t folds = ceil_div(M, p.pe_rows) * ceil_div(N, p.pe_cols);
    c = std::max(p.pe_min_ii, folds * K + p.pe_rows + p.pe_cols - 2);
  } else if (p.pe_dataflow == "is") {
    // Input-stationary: the moving operand [K, N] is held (N over the columns, in folds of
    // pe.cols); the stationary operand streams its M columns through each fold.
    int64_t folds = ceil_div(N, p.pe_cols);
    c = folds * std::max(p.pe_min_ii, M);
  } else {
    // Weight-stationary, the real chip [ISA226 nc_matmul]: max(min(64, N_stat), N_mov), with
    // 64 = MM_INIT_LATENCY [G1, PERF] = pe.min_ii and N_stat = M (stationary free size).
    c = std::max(std::min(p.pe_min_ii, M), N);
  }
  return Cycles(dtype_scale(c, mv.dtype, p));
}

Cycles TensorEngine::load_stationary(const isa::Instr& in, const config::ChipConfig& p) {
  if (in.op != Opcode::Matmul || p.pe_dataflow != "ws") return Cycles(0);
  // Fast LS: up to 4x faster than an MM of the same free size, so LS_II ~ 128/4 = 32 cycles
  // for a full [128,128] stationary [PERF Opt#7]: ceil(M / pe.ls_speedup), dtype-scaled.
  const isa::AccessPattern& st = in.ops[1].ap;
  return Cycles(dtype_scale(ceil_div(st.free_elements(), p.pe_ls_speedup), st.dtype, p));
}

Picos TensorEngine::occupy(const isa::Instr& in, size_t pc, Picos now) {
  if (in.op != Opcode::Matmul) {
    loaded_ = false;  // a transpose streams through the array with its own (identity) weights
    prev_mm_start_ = now;
    return latency_ps(pc);
  }
  const isa::AccessPattern& st = in.ops[1].ap;
  int64_t off = st.offset + (st.offset_reg >= 0 ? regs()[st.offset_reg] : 0);
  Picos mm_start = now;
  if (!(loaded_ && st == stationary_ && off == stationary_offset_)) {
    // The background LS may start while the previous MM streams, but not before this engine
    // last synchronised (the operand may only be ready then) and not before the LS path is free.
    Picos ls_start = std::max({prev_mm_start_ < 0 ? now : prev_mm_start_, ls_free_,
                               last_sync_ps_});
    ls_start = std::min(ls_start, now);
    ls_free_ = ls_start + ls_ps_[pc];
    mm_start = std::max(now, ls_free_);
    loaded_ = true;
    stationary_ = st;
    stationary_offset_ = off;
  }
  prev_mm_start_ = mm_start;
  return mm_start - now + latency_ps(pc);
}

}  // namespace trnsim::model
