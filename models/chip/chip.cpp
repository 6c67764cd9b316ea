// The chip: elaboration of the cores, the run, fault and deadlock reporting.
#include "models/chip/chip.h"

#include <fmt/format.h>

#include "support/error.h"

namespace trnsim::model {

Chip::Chip(sc_core::sc_module_name name, const isa::Program& prog, const config::ChipConfig& cfg,
           const ChipRunOptions& opts, Tracer& tracer, HbmStore& hbm_store, int index,
           CollectiveHub* hub)
    : sc_module(name), prog_(prog), cfg_(cfg), opts_(opts), tracer_(tracer),
      hbm_store_(hbm_store), hbm_(cfg),
      fluid_("fluid", static_cast<int>(cfg.cores * cfg.dma_engines) + 2), index_(index),
      hub_(hub) {
  profile_.reset(prog.strings.size());
  for (int c = 0; c < cfg.cores; ++c)
    cores_.push_back(std::make_unique<Core>(fmt::format("core{}", c).c_str(), *this, c));
}

void Chip::fault(const std::string& msg) {
  if (faulted_) return;
  faulted_ = true;
  fault_ = msg;
  sc_core::sc_stop();
}

void Chip::run() {
  sc_core::sc_start();
  check_finished();
}

void Chip::check_finished() const {
  if (faulted_) throw SimFault(fault_);
  for (const auto& c : cores_)
    for (int e = 0; e < isa::kNumEngines; ++e)
      if (!c->engine(static_cast<isa::Engine>(e)).done())
        throw SimFault(hub_ ? fmt::format("chip{}: {}", index_, deadlock_report())
                            : deadlock_report());
}

std::string Chip::deadlock_report() const {
  std::string out =
      fmt::format("deadlock at {:.3f} ns: the event queue is empty but engines are still blocked",
                  ps_to_ns(now_ps()));
  for (const auto& core : cores_) {
    const int ci = core->index();
    for (int e = 0; e < isa::kNumEngines; ++e) {
      const EngineBase& eng = core->engine(static_cast<isa::Engine>(e));
      if (eng.done()) continue;
      const isa::Instr& in = core->stream(eng.engine()).at(eng.pc());
      std::string who = describe_instr(prog_, in, {ci, eng.engine(), eng.pc()});
      const EngineBase::Block& b = eng.block();
      if (b.kind == EngineBase::Block::Kind::Barrier) {
        std::string names;
        for (int k = 0; k < isa::kNumEngines; ++k)
          if (b.mask & (1u << k))
            names += (names.empty() ? "" : "|") +
                     std::string(isa::engine_name(static_cast<isa::Engine>(k)));
        out += fmt::format("\n  {} waits at barrier {}", who, names);
        continue;
      }
      if (b.kind != EngineBase::Block::Kind::Semaphore) {
        out += fmt::format("\n  {} is stalled", who);
        continue;
      }
      out += fmt::format("\n  {} waits for s{} >= {} (current value {})", who, b.sem, b.target,
                         core->sem_value(b.sem));
      // Every instruction that increments this semaphore, and whether it was reached.
      std::string incs;
      int listed = 0, total = 0;
      for (size_t sc = 0; sc < prog_.cores.size() && sc < cores_.size(); ++sc) {
        for (int se = 0; se < isa::kNumEngines; ++se) {
          const auto& s = prog_.cores[sc].streams[se];
          const EngineBase& src = cores_[sc]->engine(static_cast<isa::Engine>(se));
          for (size_t i = 0; i < s.size(); ++i) {
            for (int k = 0; k < s[i].num_incs; ++k) {
              const isa::SemInc& inc = s[i].incs[k];
              int target = inc.core < 0 ? static_cast<int>(sc) : inc.core;
              if (target != ci || inc.sem != b.sem) continue;
              ++total;
              if (listed < 8) {
                incs += fmt::format(
                    "{}{} (+{}, {})", listed ? ", " : "",
                    describe_instr(prog_, s[i], {static_cast<int>(sc), src.engine(), i}),
                    inc.amount, src.reached()[i] ? "reached" : "not reached");
                ++listed;
              }
            }
          }
        }
      }
      if (total == 0)
        out += fmt::format("; no instruction increments s{} of core{}", b.sem, ci);
      else
        out += fmt::format("; incremented by: {}{}", incs,
                           total > listed ? fmt::format(" and {} more", total - listed) : "");
    }
  }
  return out;
}

SimStats Chip::stats() const {
  SimStats s;
  s.chip = cfg_.name;
  s.sim_time_ps = now_ps();
  for (const auto& c : cores_) {
    s.cores.push_back(c->stats());
    s.pe_flops += c->flops();
    for (int k = 0; k < 3; ++k) s.pe_flops_by_class[k] += c->flops_by_class()[k];
  }
  s.hbm = hbm_.stats();
  s.peak_flops_per_s = static_cast<double>(cfg_.cores) * static_cast<double>(cfg_.pe_rows) *
                       static_cast<double>(cfg_.pe_cols) * 2.0 * cfg_.pe_clock_ghz * 1e9;
  compute_energy(s, cfg_);
  s.nodes = profile_.nodes(prog_.strings);
  return s;
}

}  // namespace trnsim::model
