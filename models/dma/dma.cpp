// DMA engines (bandwidth shares) and queues (FIFO threads).
#include "models/dma/dma.h"

#include <algorithm>
#include <cmath>

#include "models/chip/chip.h"
#include "models/core/core.h"
#include "models/system/hub.h"
#include "support/error.h"

namespace trnsim::model {

DmaEngines::DmaEngines(const config::ChipConfig& cfg)
    : gbps_(cfg.dma_engine_gbps), descriptor_ns_(cfg.dma_descriptor_ns),
      per_engine_(cfg.dma_partitions_per_engine),
      free_at_(static_cast<size_t>(cfg.dma_engines), 0) {}

namespace {
// Engine time for `num`/`den` of a transfer's engine bytes and descriptors.
Picos share_ps(const DmaShape& s, double num, double den, double gbps, double descriptor_ns) {
  double bytes = static_cast<double>(s.engine_bytes) * num / den;
  double descs = static_cast<double>(s.descriptors) * num / den;
  return static_cast<Picos>(std::llround(bytes * 1000.0 / gbps + descs * descriptor_ns * 1000.0));
}
}  // namespace

std::vector<std::pair<int, Picos>> DmaEngines::shares(const DmaShape& s) {
  const int64_t e = static_cast<int64_t>(free_at_.size());
  std::vector<std::pair<int, Picos>> out;
  if (per_engine_ > 0 && s.part_count > 0) {
    // Partition groups: count the transfer's partitions on each engine.
    std::vector<int64_t> parts(free_at_.size(), 0);
    for (int64_t p = s.part_start; p < s.part_start + s.part_count; ++p) ++parts[(p / per_engine_) % e];
    for (int64_t j = 0; j < e; ++j)
      if (parts[j] > 0)
        out.emplace_back(static_cast<int>(j),
                         share_ps(s, static_cast<double>(parts[j]),
                                  static_cast<double>(s.part_count), gbps_, descriptor_ns_));
    return out;
  }
  // Round robin: descriptor k of this transfer goes to engine (next + k) mod E.
  const int64_t d = std::max<int64_t>(s.descriptors, 1);
  for (int64_t j = 0; j < std::min(d, e); ++j) {
    int64_t n = d / e + (j < d % e ? 1 : 0);
    out.emplace_back(static_cast<int>((next_ + static_cast<size_t>(j)) % free_at_.size()),
                     share_ps(s, static_cast<double>(n), static_cast<double>(d), gbps_,
                              descriptor_ns_));
  }
  next_ = (next_ + static_cast<size_t>(d % e)) % free_at_.size();
  return out;
}

Picos DmaEngines::reserve(Picos start, const DmaShape& s) {
  Picos end = start;
  for (const auto& [j, ps] : shares(s)) {
    Picos& free = free_at_[static_cast<size_t>(j)];
    free = std::max(start, free) + ps;
    end = std::max(end, free);
  }
  return end;
}

Picos DmaEngines::fixed_ps(const config::ChipConfig& cfg, isa::Engine trigger) {
  bool hwdge = cfg.dma_hwdge_fixed_ns > 0 &&
               (trigger == isa::Engine::Sp || trigger == isa::Engine::Act);
  return ns_to_ps(hwdge ? cfg.dma_hwdge_fixed_ns : cfg.dma_fixed_ns);
}

Picos DmaEngines::isolated_ps(const DmaShape& s, const config::ChipConfig& cfg,
                              isa::Engine trigger) {
  DmaEngines engines(cfg);
  Picos start = fixed_ps(cfg, trigger);
  Picos end = engines.reserve(start, s);
  if (s.touches_hbm) {
    Hbm hbm(cfg);
    end = std::max(end, hbm.access(start, s.hbm_read, s.hbm_write, s.hbm_read, s.hbm_write));
  }
  return end;
}

DmaQueue::DmaQueue(sc_core::sc_module_name name, Core& core, int queue)
    : sc_module(name), core_(core), queue_(queue) {
  SC_THREAD(run);
}

void DmaQueue::push(const DmaTransfer& t) {
  fifo_.push_back(t);
  ev_.notify();
}

void DmaQueue::run() {
  Chip& chip = core_.chip();
  const config::ChipConfig& cfg = chip.cfg();
  const bool fair_engines = cfg.dma_scheduling == "fair";
  const bool fair_hbm = cfg.hbm_sharing == "fair";
  try {
    for (;;) {
      while (fifo_.empty()) sc_core::wait(ev_);
      const DmaTransfer& t = fifo_.front();
      const Picos start = now_ps();
      if (isa::opcode_is_collective(t.in->op)) {
        run_collective(t);
        fifo_.pop_front();
        continue;
      }
      // Descriptor generation / sync / semaphore-to-start first (dma.fixed_ns [DMABW], or the
      // HW-DGE cost [G2, DGE]), then the data moves on the core's DMA engines and, if it
      // touches HBM, through HBM and the interconnect shared by all cores.
      const Picos data_start = start + DmaEngines::fixed_ps(cfg, t.engine);
      if (data_start > start) sc_core::wait(ps_to_time(data_start - start));
      Picos end = data_start;
      std::vector<std::pair<int, Picos>> jobs;
      if (fair_engines) {
        for (const auto& [e, ps] : core_.dma_engines().shares(t.shape))
          jobs.emplace_back(chip.engine_resource(core_.index(), e), ps);
      } else {
        end = std::max(end, core_.dma_engines().reserve(data_start, t.shape));
      }
      const int64_t hbm_bytes = t.traffic.hbm_read + t.traffic.hbm_write;
      if (t.shape.touches_hbm) {
        if (fair_hbm) {
          chip.hbm().count(t.traffic.hbm_read, t.traffic.hbm_write, t.shape.hbm_read,
                           t.shape.hbm_write);
          for (const auto& [r, ps] : chip.hbm_jobs(t.shape.hbm_read + t.shape.hbm_write))
            jobs.emplace_back(r, ps);
        } else {
          end = std::max(end, chip.hbm().access(data_start, t.traffic.hbm_read,
                                                t.traffic.hbm_write, t.shape.hbm_read,
                                                t.shape.hbm_write));
        }
      }
      if (!jobs.empty()) {
        chip.fluid().submit(jobs, &done_);
        sc_core::wait(done_);
        end = std::max(end, now_ps() + (t.shape.touches_hbm && fair_hbm ? chip.hbm().latency_ps() : 0));
      }
      if (end > now_ps()) sc_core::wait(ps_to_time(end - now_ps()));
      if (t.shape.touches_hbm) chip.tracer().hbm_transfer(data_start, end, hbm_bytes);
      const InstrRef ref{core_.index(), t.engine, t.index};
      core_.complete(*t.in, ref, t.regs, t.traffic, t.reg_addressed);
      stats_.busy_ps += end - start;
      stats_.bytes += t.shape.bytes;
      ++stats_.transfers;
      {
        const int64_t d = std::max<int64_t>(t.shape.descriptors, 1);
        const int b = dma_run_bucket(t.shape.bytes / d);
        stats_.run_bytes[b] += t.shape.bytes;
        stats_.runs[b] += d;
      }
      chip.tracer().slice(core_.index(), t.engine, queue_, t.index, start, end - start);
      chip.profile().add(t.in->tag, -1, start, end - start, t.shape.bytes);
      if (t.in->num_incs > 0) core_.fire_incs(*t.in, ref);
      fifo_.pop_front();
    }
  } catch (const sc_core::sc_unwind_exception&) {
    throw;
  } catch (const SimFault& e) {
    chip.fault(e.what());
  } catch (const std::exception& e) {
    chip.fault(std::string("DMA queue: internal error: ") + e.what());
  }
}

// A collective at the head of the queue: posted to the system's hub, which completes it when
// every rank of its replica group has posted (models/system/hub.h); then its increments fire.
void DmaQueue::run_collective(const DmaTransfer& t) {
  Chip& chip = core_.chip();
  const InstrRef ref{core_.index(), t.engine, t.index};
  CollectiveHub* hub = chip.hub();
  if (!hub)
    throw SimFault(describe_instr(chip.prog(), *t.in, ref) +
                   ": a collective needs a system of chips (trnsim run --system S)");
  const Picos start = now_ps();
  hub->post(chip.index(), core_, t, &done_);
  sc_core::wait(done_);
  const Picos end = now_ps();
  // The data moved in the hub; this counts the traffic (execute() does nothing for it).
  core_.complete(*t.in, ref, t.regs, t.traffic, t.reg_addressed);
  stats_.busy_ps += end - start;
  stats_.bytes += t.shape.bytes;
  ++stats_.transfers;
  chip.tracer().slice(core_.index(), t.engine, queue_, t.index, start, end - start);
  chip.profile().add(t.in->tag, -1, start, end - start, t.shape.bytes);
  if (t.in->num_incs > 0) core_.fire_incs(*t.in, ref);
}

}  // namespace trnsim::model
