// The engine stream loop shared by every engine.
#include "models/core/engine.h"

#include <fmt/format.h>

#include "models/chip/chip.h"
#include "models/core/core.h"
#include "support/error.h"

namespace trnsim::model {

using isa::Opcode;

EngineBase::EngineBase(sc_core::sc_module_name name, Core& core, isa::Engine engine,
                       double clock_ghz, LatencyFn latency)
    : sc_module(name), core_(core), engine_(engine), clock_(clock_ghz),
      stream_(&core.stream(engine)) {
  const config::ChipConfig& cfg = core.cfg();
  pre_.resize(stream_->size());
  reached_.assign(stream_->size(), 0);
  for (size_t i = 0; i < stream_->size(); ++i) {
    const isa::Instr& in = (*stream_)[i];
    Pre& p = pre_[i];
    p.kind = instr_kind(in.op);
    Cycles c;
    switch (p.kind) {
      case InstrKind::Control: c = Cycles(cfg.control_cycles); break;
      case InstrKind::Dma: c = Cycles(cfg.dma_issue_cycles); break;
      case InstrKind::Data: c = latency(in, cfg); break;
      case InstrKind::RegLoad: c = Cycles(ldr_cycles(cfg)); break;
    }
    p.dur_ps = clock_.to_ps(c);
    p.reg_addressed = register_addressed(in);
    p.flops = matmul_flops(in);
    if (p.flops) p.mac_class = matmul_mac_class(in);
    p.traffic = mem_traffic(in);
    if (p.kind == InstrKind::Dma) p.dma = dma_shape(in, cfg);
  }
  SC_THREAD(run);
}

Picos EngineBase::occupy(const isa::Instr&, size_t pc, Picos) { return pre_[pc].dur_ps; }

void EngineBase::run() {
  try {
    run_stream();
  } catch (const sc_core::sc_unwind_exception&) {
    throw;  // SystemC kills threads by unwinding: let it through
  } catch (const SimFault& e) {
    core_.chip().fault(e.what());
  } catch (const std::exception& e) {
    core_.chip().fault(fmt::format("core{} {}: internal error: {}", core_.index(),
                                   isa::engine_name(engine_), e.what()));
  }
}

bool EngineBase::wait_semaphores(const isa::Instr& in) {
  bool waited = false;
  for (int w = 0; w < in.num_waits; ++w) {
    const isa::SemWait& sw = in.waits[w];
    int64_t target = sw.reg >= 0 ? regs_[sw.reg] : sw.value;
    if (sw.sem >= core_.num_semaphores())
      throw SimFault(describe_instr(core_.prog(), in, {core_.index(), engine_, pc_}) +
                     fmt::format(": semaphore s{} does not exist", sw.sem));
    waited |= core_.sem_wait(sw.sem, target, block_);
  }
  return waited;
}

size_t EngineBase::control(const isa::Instr& in, size_t pc) {
  auto reg = [&](int k) -> int64_t& { return regs_[in.ops[k].i & (isa::kNumRegisters - 1)]; };
  switch (in.op) {
    case Opcode::Movi: reg(0) = in.ops[1].i; break;
    case Opcode::Addi: reg(0) = reg(1) + in.ops[2].i; break;
    case Opcode::Blt: if (reg(0) < in.ops[1].i) return static_cast<size_t>(in.ops[2].i); break;
    case Opcode::Bge: if (reg(0) >= in.ops[1].i) return static_cast<size_t>(in.ops[2].i); break;
    case Opcode::Beq: if (reg(0) == in.ops[1].i) return static_cast<size_t>(in.ops[2].i); break;
    case Opcode::Bne: if (reg(0) != in.ops[1].i) return static_cast<size_t>(in.ops[2].i); break;
    case Opcode::Jmp: return static_cast<size_t>(in.ops[0].i);
    default: break;
  }
  return pc + 1;
}

void EngineBase::run_stream() {
  const std::vector<isa::Instr>& s = *stream_;
  const int64_t budget = core_.chip().opts().max_instructions_per_engine;
  const bool numerics = core_.chip().numerics();
  Tracer& tracer = core_.chip().tracer();
  NodeProfile& profile = core_.chip().profile();
  const int eidx = static_cast<int>(engine_);
  const int ci = core_.index();
  // Control ops without semaphore effects only touch private registers, so their time is
  // accumulated locally and waited for in one go before the next visible action (exact, and
  // saves a SystemC context switch per control op).
  Picos pending = 0;
  auto flush = [&] {
    if (pending > 0) sc_core::wait(ps_to_time(pending));
    pending = 0;
  };
  while (pc_ < s.size()) {
    const size_t pc = pc_;
    const isa::Instr& in = s[pc];
    const Pre& p = pre_[pc];
    if (++stats_.instructions > budget) {
      flush();
      throw SimFault(fmt::format(
          "core{} {}: instruction budget of {} exceeded (infinite loop?) at #{} ({})", ci,
          isa::engine_name(engine_), budget, pc, in.info().mnemonic));
    }
    if (p.kind == InstrKind::Control && in.num_waits == 0 && in.num_incs == 0 &&
        in.op != Opcode::Barrier) {
      reached_[pc] = 1;
      tracer.slice(ci, engine_, -1, static_cast<uint32_t>(pc), now_ps() + pending, p.dur_ps);
      profile.add(in.tag, eidx, now_ps() + pending, p.dur_ps);
      pending += p.dur_ps;
      stats_.busy_ps += p.dur_ps;
      pc_ = control(in, pc);
      continue;
    }
    flush();
    reached_[pc] = 1;
    if (in.num_waits > 0 && wait_semaphores(in)) last_sync_ps_ = now_ps();
    const InstrRef ref{ci, engine_, pc};
    size_t next = pc + 1;
    switch (p.kind) {
      case InstrKind::Control: {
        if (in.op == Opcode::Barrier) {
          core_.barrier(static_cast<isa::EngineMask>(in.ops[0].i), engine_, block_);
          last_sync_ps_ = now_ps();
        }
        Picos t0 = now_ps();
        if (p.dur_ps > 0) sc_core::wait(ps_to_time(p.dur_ps));
        stats_.busy_ps += p.dur_ps;
        tracer.slice(ci, engine_, -1, static_cast<uint32_t>(pc), t0, p.dur_ps);
        profile.add(in.tag, eidx, t0, p.dur_ps);
        next = control(in, pc);
        if (in.num_incs > 0) core_.fire_incs(in, ref);
        break;
      }
      case InstrKind::Dma: {
        Picos t0 = now_ps();
        if (p.dur_ps > 0) sc_core::wait(ps_to_time(p.dur_ps));
        stats_.busy_ps += p.dur_ps;
        tracer.slice(ci, engine_, -1, static_cast<uint32_t>(pc), t0, p.dur_ps);
        profile.add(in.tag, eidx, t0, p.dur_ps);
        DmaTransfer t;
        t.in = &in;
        t.engine = engine_;
        t.index = static_cast<uint32_t>(pc);
        t.shape = p.dma;
        t.traffic = p.traffic;
        t.reg_addressed = p.reg_addressed;
        std::copy(regs_, regs_ + isa::kNumRegisters, t.regs);
        core_.enqueue_dma(static_cast<int>(in.ops[0].i), t);
        break;
      }
      case InstrKind::Data: {
        Picos t0 = now_ps();
        Picos d = occupy(in, pc, t0);
        if (d > 0) sc_core::wait(ps_to_time(d));
        stats_.busy_ps += d;
        tracer.slice(ci, engine_, -1, static_cast<uint32_t>(pc), t0, d);
        profile.add(in.tag, eidx, t0, d);
        if (numerics || p.reg_addressed || tracer.enabled())
          core_.complete(in, ref, regs_, p.traffic, p.reg_addressed);
        else
          core_.count_traffic(p.traffic);
        if (p.flops) core_.add_flops(p.flops, p.mac_class);
        if (in.num_incs > 0) core_.fire_incs(in, ref);
        break;
      }
      case InstrKind::RegLoad: {
        // The value is read at completion, like every data read; a timing-only run holds no
        // data and loads 0.
        Picos t0 = now_ps();
        if (p.dur_ps > 0) sc_core::wait(ps_to_time(p.dur_ps));
        stats_.busy_ps += p.dur_ps;
        tracer.slice(ci, engine_, -1, static_cast<uint32_t>(pc), t0, p.dur_ps);
        profile.add(in.tag, eidx, t0, p.dur_ps);
        regs_[in.ops[0].i & (isa::kNumRegisters - 1)] =
            core_.load_register(in, ref, regs_, p.traffic, p.reg_addressed);
        if (in.num_incs > 0) core_.fire_incs(in, ref);
        break;
      }
    }
    pc_ = next;
  }
  flush();
  done_ = true;
}

}  // namespace trnsim::model
