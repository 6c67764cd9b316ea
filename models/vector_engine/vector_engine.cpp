// Vector engine timing [ISA226, G1].
#include "models/vector_engine/vector_engine.h"

#include <algorithm>

#include "models/core/core.h"

namespace trnsim::model {

using isa::AluOp;
using isa::DType;
using isa::MemSpace;
using isa::Opcode;

namespace {
bool is16(DType t) { return t == DType::Bf16 || t == DType::Fp16; }
bool unit_stride(const isa::AccessPattern& ap) {
  return ap.ndims == 0 || ap.dims[ap.ndims - 1].stride == 1 || ap.dims[ap.ndims - 1].count == 1;
}
}  // namespace

VectorEngine::VectorEngine(sc_core::sc_module_name name, Core& core)
    : EngineBase(name, core, isa::Engine::Dve, core.cfg().dve_clock_ghz, &VectorEngine::latency) {}

Cycles VectorEngine::latency(const isa::Instr& in, const config::ChipConfig& p) {
  // An innermost stride > engine.wide_stride_bytes halves the read/write bandwidth [G1].
  const bool wide = wide_stride(in, p.wide_stride_bytes);
  const int64_t n = elements_per_partition(in) * (wide ? 2 : 1);
  int64_t c = 0;
  switch (in.op) {
    case Opcode::TensorTensor: {
      // [ISA226 tensor_tensor]: max(MIN_II, N) if one input is in PSUM, or all-bf16 SBUF
      // add/mul/sub with contiguous access; otherwise max(MIN_II, 2N) (two inputs streamed).
      const auto& d = in.ops[0].ap;
      const auto& a = in.ops[1].ap;
      const auto& b = in.ops[2].ap;
      auto op = static_cast<AluOp>(in.ops[3].i);
      bool one_psum = (a.space == MemSpace::Psum) != (b.space == MemSpace::Psum);
      bool fast_bf16 = a.dtype == DType::Bf16 && b.dtype == DType::Bf16 && d.dtype == DType::Bf16 &&
                       a.space == MemSpace::Sbuf && b.space == MemSpace::Sbuf &&
                       (op == AluOp::Add || op == AluOp::Mul || op == AluOp::Sub) &&
                       unit_stride(a) && unit_stride(b) && unit_stride(d);
      c = (one_psum || fast_bf16) ? n : 2 * n;
      // NC-v3 perf mode: 2x with all-16-bit SBUF inputs [G2] (dve.perf_mode).
      if (is16(a.dtype) && is16(b.dtype) && a.space == MemSpace::Sbuf && b.space == MemSpace::Sbuf)
        c = ceil_div(c, p.dve_perf_mode);
      c = std::max(p.min_ii, c);
      break;
    }
    case Opcode::Memset: {
      // [ISA226 memset]: max(MIN_II, N/2) for zero in bf16/fp16, else max(MIN_II, N).
      DType t = in.ops[0].ap.dtype;
      bool half = in.ops[1].f == 0.0f && (t == DType::Bf16 || t == DType::Fp16);
      c = std::max(p.min_ii, half ? ceil_div(n, 2) : n);
      break;
    }
    case Opcode::Reduce: {
      // [ISA226 tensor_reduce]: N/2 if bf16 in and out with add/max, else N (no MIN_II given).
      auto op = static_cast<AluOp>(in.ops[2].i);
      bool half = in.ops[0].ap.dtype == DType::Bf16 && in.ops[1].ap.dtype == DType::Bf16 &&
                  (op == AluOp::Add || op == AluOp::Max);
      c = half ? ceil_div(n, 2) : n;
      break;
    }
    case Opcode::Scan:
      // [ISA226 tensor_tensor_scan]: max(MIN_II, 2N).
      c = std::max(p.min_ii, 2 * n);
      break;
    case Opcode::BnAggr:
      // [ISA226 bn_aggr]: max(MIN_II, 13N/3).
      c = std::max(p.min_ii, ceil_div(13 * n, 3));
      break;
    case Opcode::Copy:
    case Opcode::TensorScalar: {
      // [ISA226]: max(MIN_II, N). NC-v3 perf mode [G2]: 4x (dve.perf_mode_copy) SBUF -> SBUF,
      // all 16-bit, unit innermost stride; 2x (dve.perf_mode) otherwise.
      bool fast = true;
      for (int k : {0, 1}) {
        const auto& ap = in.ops[k].ap;
        fast = fast && ap.space == MemSpace::Sbuf && is16(ap.dtype) && unit_stride(ap);
      }
      c = std::max(p.min_ii, ceil_div(n, fast ? p.dve_perf_mode_copy : p.dve_perf_mode));
      break;
    }
    case Opcode::Select:
      // tensor_copy_predicated: 2N when src and predicate are both in SBUF [ISA226]; select
      // streams pred, on_true and on_false, so 2N with two or more of them in SBUF
      // (dve.select_two_pass).
      c = std::max(p.min_ii, (p.dve_select_two_pass && streamed_sbuf_inputs(in) >= 2) ? 2 * n : n);
      break;
    default:
      // bn_stats: max(MIN_II, N) [ISA226].
      c = std::max(p.min_ii, n);
      break;
  }
  // Every instruction pays the SBUF/PSUM access-start overhead (~60 cycles [G1]).
  return Cycles(c + p.access_start_cycles);
}

}  // namespace trnsim::model
