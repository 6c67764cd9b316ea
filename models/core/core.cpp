// NeuronCore: semaphores, barriers, completion of instructions, DMA queue hand-off.
#include "models/core/core.h"

#include <fmt/format.h>

#include "models/act_engine/act_engine.h"
#include "models/chip/chip.h"
#include "models/gpsimd_engine/gpsimd_engine.h"
#include "models/sync_engine/sync_engine.h"
#include "models/tensor_engine/tensor_engine.h"
#include "models/vector_engine/vector_engine.h"
#include "support/error.h"

namespace trnsim::model {

using isa::Engine;

Core::Core(sc_core::sc_module_name name, Chip& chip, int index)
    : sc_module(name), chip_(chip), index_(index), sem_(chip.cfg().semaphores, 0),
      sem_ev_(std::make_unique<sc_core::sc_event[]>(chip.cfg().semaphores)),
      dma_engines_(chip.cfg()), mem_(chip.cfg(), chip.numerics()) {
  engines_[static_cast<int>(Engine::Pe)] = std::make_unique<TensorEngine>("pe", *this);
  engines_[static_cast<int>(Engine::Act)] = std::make_unique<ActEngine>("act", *this);
  engines_[static_cast<int>(Engine::Dve)] = std::make_unique<VectorEngine>("dve", *this);
  engines_[static_cast<int>(Engine::Pool)] = std::make_unique<GpSimdEngine>("pool", *this);
  engines_[static_cast<int>(Engine::Sp)] = std::make_unique<SyncEngine>("sp", *this);
  for (int q = 0; q < chip.cfg().dma_queues; ++q)
    queues_.push_back(std::make_unique<DmaQueue>(fmt::format("q{}", q).c_str(), *this, q));
}

const config::ChipConfig& Core::cfg() const { return chip_.cfg(); }
const isa::Program& Core::prog() const { return chip_.prog(); }

const std::vector<isa::Instr>& Core::stream(Engine e) const {
  static const std::vector<isa::Instr> kEmpty;
  const auto& cores = chip_.prog().cores;
  return index_ < static_cast<int>(cores.size()) ? cores[index_].stream(e) : kEmpty;
}

bool Core::sem_wait(uint16_t sem, int64_t target, EngineBase::Block& block) {
  if (sem_[sem] >= target) return false;
  block.kind = EngineBase::Block::Kind::Semaphore;
  block.sem = sem;
  block.target = target;
  while (sem_[sem] < target) sc_core::wait(sem_ev_[sem]);
  block.kind = EngineBase::Block::Kind::None;
  return true;
}

void Core::sem_add(uint16_t sem, int64_t amount) {
  sem_[sem] += amount;
  sem_ev_[sem].notify();
}

void Core::fire_incs(const isa::Instr& in, const InstrRef& ref) {
  for (int k = 0; k < in.num_incs; ++k) {
    const isa::SemInc& inc = in.incs[k];
    int c = inc.core < 0 ? index_ : inc.core;
    if (c >= chip_.num_cores() || inc.sem >= chip_.core(c).num_semaphores())
      throw SimFault(describe_instr(prog(), in, ref) +
                     fmt::format(": increment of semaphore s{} on core {}, which does not exist",
                                 inc.sem, c));
    chip_.core(c).sem_add(inc.sem, inc.amount);
  }
}

void Core::barrier(isa::EngineMask mask, Engine self, EngineBase::Block& block) {
  mask |= isa::engine_bit(self);
  BarrierState& b = barriers_[mask];
  b.arrived |= isa::engine_bit(self);
  if (b.arrived == mask) {
    b.arrived = 0;
    ++b.generation;
    b.ev.notify();
    return;
  }
  block.kind = EngineBase::Block::Kind::Barrier;
  block.mask = mask;
  uint64_t gen = b.generation;
  while (b.generation == gen) sc_core::wait(b.ev);
  block.kind = EngineBase::Block::Kind::None;
}

void Core::complete(const isa::Instr& in, const InstrRef& ref, const int64_t* regs,
                    const MemTraffic& traffic, bool reg_addressed) {
  if (chip_.numerics()) {
    ExecState st{&prog(), &mem_.bytes, &chip_.hbm_store(), regs};
    execute(in, st, ref);
  } else if (reg_addressed) {
    // Timing-only runs move no data, but a register-computed address must still be in bounds
    // (the same checks and messages as execute()).
    ExecState st{&prog(), &mem_.bytes, nullptr, regs};
    check_bounds(in, st, ref);
  }
  mem_.count(traffic);
  Tracer& tr = chip_.tracer();
  if (tr.enabled()) {
    Picos t = now_ps();
    if (traffic.sbuf_write)
      tr.counter(index_, Tracer::Counter::SbufWritten, t, mem_.sbuf.write_bytes);
    if (traffic.psum_write)
      tr.counter(index_, Tracer::Counter::PsumWritten, t, mem_.psum.write_bytes);
  }
}

int64_t Core::load_register(const isa::Instr& in, const InstrRef& ref, const int64_t* regs,
                            const MemTraffic& traffic, bool reg_addressed) {
  int64_t v = 0;
  if (chip_.numerics()) {
    ExecState st{&prog(), &mem_.bytes, &chip_.hbm_store(), regs};
    v = load_register_value(in, st, ref);
  } else if (reg_addressed) {
    ExecState st{&prog(), &mem_.bytes, nullptr, regs};
    check_bounds(in, st, ref);
  }
  mem_.count(traffic);
  return v;
}

std::vector<float> Core::read_operand(const isa::Instr& in, const InstrRef& ref,
                                     const int64_t* regs, int k) {
  ExecState st{&prog(), &mem_.bytes, &chip_.hbm_store(), regs};
  return model::read_operand(in, st, ref, k);
}

void Core::write_operand(const isa::Instr& in, const InstrRef& ref, const int64_t* regs, int k,
                         const std::vector<float>& values) {
  ExecState st{&prog(), &mem_.bytes, &chip_.hbm_store(), regs};
  model::write_operand(in, st, ref, k, values);
}

void Core::check_operands(const isa::Instr& in, const InstrRef& ref, const int64_t* regs) {
  ExecState st{&prog(), &mem_.bytes, chip_.numerics() ? &chip_.hbm_store() : nullptr, regs};
  check_bounds(in, st, ref);
}

void Core::enqueue_dma(int queue, const DmaTransfer& t) {
  if (queue < 0 || queue >= static_cast<int>(queues_.size()))
    throw SimFault(describe_instr(prog(), *t.in, {index_, t.engine, t.index}) +
                   fmt::format(": DMA queue q{} does not exist", queue));
  queues_[queue]->push(t);
}

CoreStats Core::stats() const {
  CoreStats s;
  for (int e = 0; e < isa::kNumEngines; ++e) s.engines[e] = engines_[e]->stats();
  for (const auto& q : queues_) s.queues.push_back(q->stats());
  s.sbuf = mem_.sbuf;
  s.psum = mem_.psum;
  return s;
}

}  // namespace trnsim::model
