// Tensor Engine (pe): the systolic array; matmul and transpose into PSUM.
#pragma once

#include <vector>

#include "models/core/engine.h"

namespace trnsim::model {

// A matmul is LoadStationary (LS) + MultiplyMoving (MM) [G1]. The LS of the next matmul runs in
// the background while the current MM streams ("background weight load" [G1, PERF Opt#7]),
// so only the part of an LS not hidden behind the previous MM delays the array; a matmul whose
// stationary operand is the one already loaded pays no LS.
class TensorEngine : public EngineBase {
 public:
  TensorEngine(sc_core::sc_module_name name, Core& core);
  // MultiplyMoving (matmul) or the whole transpose, in PE cycles.
  static Cycles latency(const isa::Instr& in, const config::ChipConfig& p);
  // LoadStationary of a matmul's stationary operand, in PE cycles (0 for os/is dataflows,
  // whose operand loading is inside latency()).
  static Cycles load_stationary(const isa::Instr& in, const config::ChipConfig& p);

 protected:
  Picos occupy(const isa::Instr& in, size_t pc, Picos now) override;

 private:
  std::vector<Picos> ls_ps_;
  bool loaded_ = false;           // the array holds a known stationary operand
  isa::AccessPattern stationary_;  // ... this one
  int64_t stationary_offset_ = 0;  // its effective byte offset (register included)
  Picos prev_mm_start_ = -1;       // start of the previous MM (background LS may begin there)
  Picos ls_free_ = 0;              // when the LS path is free again
};

}  // namespace trnsim::model
