// The abstract execution behind check_program(): a canonical, timing-independent schedule of
// every engine stream and DMA queue with vector clocks for happens-before.
#include "models/check/checker.h"

#include <algorithm>
#include <string>

#include "models/exec/exec.h"
#include "support/error.h"

namespace trnsim::model::check_detail {

using isa::Engine;
using isa::Opcode;

namespace {
// Instructions a thread runs before the scheduler moves on to the next thread.
constexpr int kSlice = 64;

// Collectives are queued like dma; on one chip's program they read src and write dst.
bool is_dma(Opcode op) {
  return op == Opcode::Dma || op == Opcode::DmaGather || isa::opcode_is_collective(op);
}
}  // namespace

Checker::Checker(const isa::Program& prog, const isa::Target& target, const CheckOptions& opts)
    : prog_(prog), target_(target), opts_(opts) {
  const int ncores = static_cast<int>(prog.cores.size());
  engine_thread_.assign(ncores, std::vector<int>(isa::kNumEngines, -1));
  queue_thread_.resize(ncores);
  sems_.resize(static_cast<size_t>(std::max(ncores, target.num_cores)));
  barriers_.resize(ncores);
  for (int c = 0; c < ncores; ++c) {
    for (int e = 0; e < isa::kNumEngines; ++e) {
      Thread th;
      th.core = c;
      th.engine = static_cast<Engine>(e);
      th.stream = &prog.cores[c].streams[e];
      th.instr_base = static_cast<uint32_t>(instrs_.size());
      for (size_t i = 0; i < th.stream->size(); ++i) {
        const isa::Instr& in = (*th.stream)[i];
        instrs_.push_back(StaticInstr{c, th.engine, i, &in, false, {}});
        shadow_ = shadow_ || in.op == Opcode::Ldr;
        if (is_dma(in.op)) queue_thread_[c].emplace(static_cast<int>(in.ops[0].i), -1);
      }
      engine_thread_[c][e] = static_cast<int>(threads_.size());
      threads_.push_back(std::move(th));
    }
  }
  for (int c = 0; c < ncores; ++c)
    for (auto& [q, idx] : queue_thread_[c]) {
      Thread th;
      th.is_queue = true;
      th.core = c;
      th.queue = q;
      idx = static_cast<int>(threads_.size());
      threads_.push_back(std::move(th));
    }
  nthreads_ = threads_.size();
  for (auto& th : threads_) {
    th.vc.assign(nthreads_, 0);
    th.vc[&th - threads_.data()] = 1;
  }
  fired_.assign(instrs_.size(), 0);
  shadow_ = shadow_ || opts_.races || opts_.uninit;
  if (shadow_) {
    for (int c = 0; c < ncores; ++c) {
      sbuf_.push_back(std::make_unique<Region>(target_.partitions));
      psum_.push_back(std::make_unique<Region>(target_.partitions));
    }
    std::vector<bool> written(prog.tensors.size(), false);
    for (const StaticInstr& si : instrs_) {
      const isa::OpcodeInfo& info = si.in->info();
      for (int k = 0; k < info.num_operands; ++k) {
        const isa::AccessPattern& ap = si.in->ops[k].ap;
        if (isa::operand_writes(info.operands[k].kind) && ap.space == isa::MemSpace::Hbm &&
            ap.tensor < written.size())
          written[ap.tensor] = true;
      }
    }
    for (size_t i = 0; i < prog.tensors.size(); ++i) {
      const auto& t = prog.tensors[i];
      hbm_read_only_.push_back(!written[i] && (t.role == isa::TensorRole::Input ||
                                               t.role == isa::TensorRole::Const));
      hbm_.push_back(std::make_unique<Region>(1));
      if (t.role == isa::TensorRole::Input || t.role == isa::TensorRole::Const)
        hbm_.back()->set_initialised(0, t.num_bytes());
    }
  }
}

void Checker::join(std::vector<int32_t>& into, const int32_t* from) const {
  for (size_t i = 0; i < nthreads_; ++i) into[i] = std::max(into[i], from[i]);
}

Checker::SemState& Checker::sem(int core, int id) {
  auto& v = sems_[core];
  if (static_cast<size_t>(id) >= v.size()) v.resize(static_cast<size_t>(id) + 1);
  return v[id];
}

InstrSite Checker::site(uint32_t instr) const {
  const StaticInstr& si = instrs_[instr];
  InstrSite s;
  s.core = si.core;
  s.engine = si.engine;
  s.index = si.index;
  s.name = describe_instr(prog_, *si.in, InstrRef{si.core, si.engine, si.index});
  if (is_dma(si.in->op)) {
    s.queue = static_cast<int>(si.in->ops[0].i);
    s.name += " [q" + std::to_string(s.queue) + "]";
  }
  return s;
}

MemRange Checker::range(int p0, int p1, int64_t lo, int64_t hi) const {
  MemRange r;
  r.space = cur_.space;
  r.core = cur_.core;
  r.tensor = cur_.tensor;
  if (cur_.tensor >= 0) r.tensor_name = prog_.tensors[cur_.tensor].name;
  r.p0 = std::max(p0, cur_.p0);
  r.p1 = std::min(p1, cur_.p1);
  r.lo = lo;
  r.hi = hi;
  return r;
}

void Checker::race(const Acc& prev, bool prev_write, int p0, int p1, int64_t lo, int64_t hi) {
  if (!opts_.races) return;
  const RaceKind kind = prev_write ? (cur_.write ? RaceKind::Waw : RaceKind::Raw) : RaceKind::War;
  const auto key = std::minmax(prev.instr, cur_.instr);
  auto it = race_index_.find(key);
  if (it != race_index_.end()) {
    if (it->second == SIZE_MAX) return;
    MemRange& r = report_.races[it->second].range;
    if (r.space == cur_.space && r.core == cur_.core && r.tensor == cur_.tensor) {
      r.p0 = std::min(r.p0, std::max(p0, cur_.p0));
      r.p1 = std::max(r.p1, std::min(p1, cur_.p1));
      r.lo = std::min(r.lo, lo);
      r.hi = std::max(r.hi, hi);
    }
    return;
  }
  if (report_.races.size() >= opts_.max_reports) {
    race_index_.emplace(key, SIZE_MAX);
    ++report_.dropped;
    return;
  }
  race_index_.emplace(key, report_.races.size());
  report_.races.push_back(Race{kind, site(prev.instr), site(cur_.instr), range(p0, p1, lo, hi)});
}

void Checker::uninit(int p0, int p1, int64_t lo, int64_t hi) {
  if (!opts_.uninit) return;
  if (!uninit_reported_.insert(cur_.instr).second) {
    // One report per instruction; widen it while the same access continues.
    if (report_.uninit.empty() || last_uninit_instr_ != cur_.instr) return;
    UninitRead& u = report_.uninit.back();
    if (u.range.space == cur_.space &&
        u.range.tensor == cur_.tensor && u.range.core == cur_.core) {
      u.range.p0 = std::min(u.range.p0, std::max(p0, cur_.p0));
      u.range.p1 = std::max(u.range.p1, std::min(p1, cur_.p1));
      u.range.lo = std::min(u.range.lo, lo);
      u.range.hi = std::max(u.range.hi, hi);
    }
    return;
  }
  if (report_.uninit.size() >= opts_.max_reports) {
    ++report_.dropped;
    return;
  }
  last_uninit_instr_ = cur_.instr;
  report_.uninit.push_back(UninitRead{site(cur_.instr), range(p0, p1, lo, hi)});
}

void Checker::ordered(const Acc& prev) {
  if (ordered_pairs.size() < 4000000) ordered_pairs.emplace(prev.dyn, cur_.stable);
}

void Checker::do_accesses(int t, uint32_t instr, const int64_t* regs, uint64_t stable) {
  Thread& th = threads_[t];
  if (!want_x.empty() && want_x.count(stable))
    seen_x[stable] = {t, th.vc[t]};
  if (!want_y.empty() && want_y.count(stable)) seen_y[stable] = th.vc;
  if (!shadow_) return;
  StaticInstr& si = instrs_[instr];
  if (!si.footprints_done) {
    si.footprints = instr_footprints(*si.in);
    si.footprints_done = true;
  }
  Access a;
  a.acc.thread = t;
  a.acc.epoch = th.vc[t];
  a.acc.instr = instr;
  a.acc.dyn = stable;
  a.vc = th.vc.data();
  a.record_ordered = record_ordered;
  cur_.instr = instr;
  cur_.stable = stable;
  for (const OperandFootprint& f : si.footprints) {
    const int64_t shift =
        f.offset_reg >= 0 && f.offset_reg < isa::kNumRegisters ? regs[f.offset_reg] : 0;
    Region* r = nullptr;
    cur_.space = f.space;
    cur_.core = th.core;
    cur_.tensor = -1;
    if (f.space == isa::MemSpace::Sbuf) {
      r = sbuf_[th.core].get();
    } else if (f.space == isa::MemSpace::Psum) {
      r = psum_[th.core].get();
    } else if (f.space == isa::MemSpace::Hbm && f.tensor < hbm_.size() &&
               !hbm_read_only_[f.tensor]) {
      r = hbm_[f.tensor].get();
      cur_.tensor = f.tensor;
    }
    if (r == nullptr) continue;
    cur_.write = f.write;
    cur_.p0 = f.p0;
    cur_.p1 = f.p1;
    a.write = f.write;
    r->access(f.p0, f.p1, f.runs, shift, a, *this);
  }
}

void Checker::fire_incs(const isa::Instr& in, int core, const std::vector<int32_t>& vc,
                        const StaticInstr& si) {
  for (int k = 0; k < in.num_incs; ++k) {
    const isa::SemInc& inc = in.incs[k];
    const int c = inc.core < 0 ? core : inc.core;
    if (c >= static_cast<int>(sems_.size()))
      throw SimFault(describe_instr(prog_, in, InstrRef{si.core, si.engine, si.index}) +
                     ": increment of semaphore s" + std::to_string(inc.sem) + " on core " +
                     std::to_string(c) + ", which does not exist");
    SemState& s = sem(c, inc.sem);
    s.value += inc.amount;
    s.cum.push_back(s.value);
    const size_t n = s.prefix.size();
    s.prefix.insert(s.prefix.end(), vc.begin(), vc.end());
    if (n > 0) {
      int32_t* tail = s.prefix.data() + n;
      const int32_t* prev = s.prefix.data() + n - nthreads_;
      for (size_t i = 0; i < nthreads_; ++i) tail[i] = std::max(tail[i], prev[i]);
    }
  }
}

bool Checker::step(int t) {
  return threads_[t].is_queue ? step_queue(t) : step_engine(t);
}

bool Checker::step_queue(int t) {
  Thread& th = threads_[t];
  if (th.fifo.empty()) return false;
  Transfer tr = std::move(th.fifo.front());
  th.fifo.pop_front();
  join(th.vc, tr.vc.data());
  do_accesses(t, tr.instr, tr.regs, tr.stable);
  const StaticInstr& si = instrs_[tr.instr];
  if (si.in->num_incs > 0) fire_incs(*si.in, th.core, th.vc, si);
  ++fired_[tr.instr];
  ++th.vc[t];
  ++th.dyn;
  return true;
}

bool Checker::step_engine(int t) {
  Thread& th = threads_[t];
  if (th.done) return false;
  if (th.pc >= th.stream->size()) {
    th.done = true;
    return false;
  }
  const size_t pc = th.pc;
  const isa::Instr& in = (*th.stream)[pc];
  const uint32_t id = th.instr_base + static_cast<uint32_t>(pc);
  int64_t targets[isa::kMaxWaits] = {};
  for (int w = 0; w < in.num_waits; ++w) {
    const isa::SemWait& sw = in.waits[w];
    const WaitRef* skip = opts_.skip_wait ? &*opts_.skip_wait : nullptr;
    if (skip && skip->core == th.core && skip->engine == th.engine && skip->index == pc &&
        skip->slot == w) {
      targets[w] = 0;
      continue;
    }
    targets[w] = sw.reg >= 0 && sw.reg < isa::kNumRegisters ? th.regs[sw.reg] : sw.value;
    if (sem(th.core, sw.sem).value < targets[w]) {
      th.block = BlockKind::Semaphore;
      th.sem = sw.sem;
      th.target = targets[w];
      return false;
    }
  }
  if (in.op == Opcode::Barrier && !th.barrier_passed) {
    if (th.at_barrier) return false;
    const isa::EngineMask mask =
        static_cast<isa::EngineMask>(in.ops[0].i) | isa::engine_bit(th.engine);
    BarrierState& b = barriers_[th.core][mask];
    b.arrived |= isa::engine_bit(th.engine);
    if (b.arrived != mask) {
      th.at_barrier = true;
      th.block = BlockKind::Barrier;
      return false;
    }
    b.arrived = 0;
    std::vector<int32_t> joined = th.vc;
    for (int e = 0; e < isa::kNumEngines; ++e)
      if (mask & (1u << e)) join(joined, threads_[engine_thread_[th.core][e]].vc.data());
    for (int e = 0; e < isa::kNumEngines; ++e) {
      if (!(mask & (1u << e))) continue;
      Thread& o = threads_[engine_thread_[th.core][e]];
      o.vc = joined;
      if (&o != &th) {
        o.barrier_passed = true;
        o.at_barrier = false;
        o.block = BlockKind::None;
      }
    }
  }
  th.barrier_passed = false;
  th.block = BlockKind::None;
  if (++th.executed > opts_.max_instructions_per_engine)
    throw SimFault("core" + std::to_string(th.core) + " " +
                   std::string(isa::engine_name(th.engine)) + ": instruction budget of " +
                   std::to_string(opts_.max_instructions_per_engine) +
                   " exceeded (infinite loop?) at #" + std::to_string(pc) + " (" +
                   in.info().mnemonic + ")");
  for (int w = 0; w < in.num_waits; ++w) {
    if (targets[w] <= 0) continue;
    const SemState& s = sem(th.core, in.waits[w].sem);
    const size_t j = static_cast<size_t>(
        std::lower_bound(s.cum.begin(), s.cum.end(), targets[w]) - s.cum.begin());
    join(th.vc, s.prefix.data() + j * nthreads_);
  }
  const uint64_t stable = stable_id(t, th.dyn);
  size_t next = pc + 1;
  auto reg = [&](int k) -> int64_t& { return th.regs[in.ops[k].i & (isa::kNumRegisters - 1)]; };
  auto branch = [&](bool taken) {
    if (taken) next = static_cast<size_t>(in.ops[2].i);
  };
  bool release = in.num_incs > 0 || in.op == Opcode::Barrier;
  switch (in.op) {
    case Opcode::Movi: reg(0) = in.ops[1].i; break;
    case Opcode::Addi: reg(0) = reg(1) + in.ops[2].i; break;
    case Opcode::Blt: branch(reg(0) < in.ops[1].i); break;
    case Opcode::Bge: branch(reg(0) >= in.ops[1].i); break;
    case Opcode::Beq: branch(reg(0) == in.ops[1].i); break;
    case Opcode::Bne: branch(reg(0) != in.ops[1].i); break;
    case Opcode::Jmp: next = static_cast<size_t>(in.ops[0].i); break;
    case Opcode::Nop:
    case Opcode::Barrier: break;
    case Opcode::Ldr:
      do_accesses(t, id, th.regs, stable);
      reg(0) = ldr_value(th, in);
      break;
    case Opcode::Dma:
    case Opcode::DmaGather:
    case Opcode::AllReduce:
    case Opcode::AllGather:
    case Opcode::ReduceScatter:
    case Opcode::AllToAll:
    case Opcode::Permute:
    case Opcode::Send:
    case Opcode::Recv: {
      const int q = static_cast<int>(in.ops[0].i);
      if (q < 0 || q >= target_.num_dma_queues)
        throw SimFault(describe_instr(prog_, in, InstrRef{th.core, th.engine, pc}) +
                       ": DMA queue q" + std::to_string(q) + " does not exist");
      Transfer tr;
      tr.instr = id;
      tr.vc = th.vc;
      std::copy(th.regs, th.regs + isa::kNumRegisters, tr.regs);
      tr.stable = stable;
      threads_[queue_thread_[th.core].at(q)].fifo.push_back(std::move(tr));
      release = true;
      break;
    }
    default: do_accesses(t, id, th.regs, stable); break;
  }
  if (!is_dma(in.op) && in.num_incs > 0) {
    fire_incs(in, th.core, th.vc, instrs_[id]);
    ++fired_[id];
  }
  if (release) ++th.vc[t];
  ++th.dyn;
  th.pc = next;
  return true;
}

int64_t Checker::ldr_value(const Thread& th, const isa::Instr& in) {
  const isa::AccessPattern& ap = in.ops[1].ap;
  const int64_t byte =
      ap.offset + (ap.offset_reg >= 0 && ap.offset_reg < isa::kNumRegisters ? th.regs[ap.offset_reg] : 0);
  const Region* r = nullptr;
  if (ap.space == isa::MemSpace::Sbuf) r = sbuf_[th.core].get();
  else if (ap.space == isa::MemSpace::Psum) r = psum_[th.core].get();
  const Cell* c = r ? r->find(ap.start_partition, byte) : nullptr;
  const Acc w = c ? c->write : Acc{};
  const auto key = std::make_tuple(static_cast<int>(ap.space), th.core,
                                   static_cast<int>(ap.start_partition), byte, w.thread, w.dyn);
  auto it = ldr_values_.find(key);
  if (it != ldr_values_.end()) return it->second;
  const size_t k = ldr_decisions_.size();
  const uint8_t v = k < opts_.ldr_choices.size() ? opts_.ldr_choices[k] : 0;
  ldr_decisions_.push_back(v);
  ldr_values_.emplace(key, v);
  return v;
}

CheckReport Checker::run() {
  bool progress = true;
  while (progress) {
    progress = false;
    for (size_t t = 0; t < threads_.size(); ++t) {
      int n = 0;
      while (n < kSlice && step(static_cast<int>(t))) ++n;
      if (n > 0) progress = true;
    }
  }
  for (const auto& th : threads_) report_.dynamic_instructions += th.is_queue ? 0 : th.executed;
  Deadlock d = deadlock();
  if (!d.waiters.empty()) report_.deadlock = std::move(d);
  return std::move(report_);
}

std::string Checker::thread_state(const Thread& th) const {
  std::string name = "core" + std::to_string(th.core) + " " + std::string(isa::engine_name(th.engine));
  if (th.done || th.pc >= th.stream->size()) return name + " finished";
  const isa::Instr& in = (*th.stream)[th.pc];
  std::string at = name + " " + (th.block == BlockKind::None ? "at" : "blocked at") + " #" +
                   std::to_string(th.pc) + " (" + in.info().mnemonic + ")";
  if (th.block == BlockKind::Semaphore) {
    const auto& v = sems_[th.core];
    const int64_t now = th.sem < v.size() ? v[th.sem].value : 0;
    at += " waiting for s" + std::to_string(th.sem) + " >= " + std::to_string(th.target) +
          " (now " + std::to_string(now) + ")";
  } else if (th.block == BlockKind::Barrier) {
    at += " waiting at a barrier";
  }
  return at;
}

Deadlock Checker::deadlock() const {
  Deadlock d;
  for (const auto& th : threads_) {
    if (th.is_queue || th.done || th.pc >= th.stream->size()) continue;
    DeadlockWaiter w;
    const uint32_t id = th.instr_base + static_cast<uint32_t>(th.pc);
    w.instr = site(id);
    if (th.block == BlockKind::Barrier) {
      w.barrier = true;
      const isa::Instr& in = (*th.stream)[th.pc];
      w.barrier_mask = static_cast<isa::EngineMask>(in.ops[0].i) | isa::engine_bit(th.engine);
      auto it = barriers_[th.core].find(w.barrier_mask);
      if (it != barriers_[th.core].end()) w.barrier_arrived = it->second.arrived;
    } else {
      w.sem = th.sem;
      w.target = th.target;
      const auto& v = sems_[th.core];
      w.current = th.sem < v.size() ? v[th.sem].value : 0;
      for (uint32_t i = 0; i < instrs_.size(); ++i) {
        const StaticInstr& si = instrs_[i];
        for (int k = 0; k < si.in->num_incs; ++k) {
          const isa::SemInc& inc = si.in->incs[k];
          const int c = inc.core < 0 ? si.core : inc.core;
          if (c != th.core || inc.sem != th.sem) continue;
          SemIncrementer s;
          s.instr = site(i);
          s.amount = inc.amount;
          s.executed = fired_[i];
          s.where = thread_state(threads_[engine_thread_[si.core][static_cast<int>(si.engine)]]);
          w.incrementers.push_back(std::move(s));
        }
      }
    }
    d.waiters.push_back(std::move(w));
  }
  return d;
}

}  // namespace trnsim::model::check_detail
