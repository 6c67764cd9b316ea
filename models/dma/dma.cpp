// DMA engines (bandwidth shares) and queues (FIFO threads).
#include "models/dma/dma.h"

#include <algorithm>
#include <cmath>

#include "models/chip/chip.h"
#include "models/core/core.h"
#include "support/error.h"

namespace trnsim::model {

DmaEngines::DmaEngines(const config::ChipConfig& cfg)
    : gbps_(cfg.dma_engine_gbps), descriptor_ns_(cfg.dma_descriptor_ns),
      free_at_(static_cast<size_t>(cfg.dma_engines), 0) {}

namespace {
// Time one engine needs for `n` of a transfer's `d` descriptors (bytes split evenly).
Picos share_ps(const DmaShape& s, int64_t n, double gbps, double descriptor_ns) {
  double bytes = static_cast<double>(s.bytes) * static_cast<double>(n) /
                 static_cast<double>(s.descriptors);
  return static_cast<Picos>(std::llround(bytes * 1000.0 / gbps +
                                         static_cast<double>(n) * descriptor_ns * 1000.0));
}
}  // namespace

Picos DmaEngines::reserve(Picos start, const DmaShape& s) {
  const int64_t e = static_cast<int64_t>(free_at_.size());
  const int64_t d = std::max<int64_t>(s.descriptors, 1);
  Picos end = start;
  for (int64_t j = 0; j < std::min(d, e); ++j) {
    int64_t n = d / e + (j < d % e ? 1 : 0);
    Picos& free = free_at_[(next_ + static_cast<size_t>(j)) % free_at_.size()];
    free = std::max(start, free) + share_ps(s, n, gbps_, descriptor_ns_);
    end = std::max(end, free);
  }
  next_ = (next_ + static_cast<size_t>(d % e)) % free_at_.size();
  return end;
}

Picos DmaEngines::isolated_ps(const DmaShape& s, const config::ChipConfig& cfg) {
  DmaEngines engines(cfg);
  Picos start = ns_to_ps(cfg.dma_fixed_ns);
  Picos end = engines.reserve(start, s);
  if (s.touches_hbm) {
    Hbm hbm(cfg);
    end = std::max(end, hbm.access(start, s.bytes, 0));
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
  const Picos fixed = ns_to_ps(chip.cfg().dma_fixed_ns);
  try {
    for (;;) {
      while (fifo_.empty()) sc_core::wait(ev_);
      const DmaTransfer& t = fifo_.front();
      const Picos start = now_ps();
      // Descriptor generation / sync / semaphore-to-start first (dma.fixed_ns [DMABW]), then the
      // data moves on the core's DMA engines and, if it touches HBM, through HBM and the
      // interconnect shared by all cores.
      const Picos data_start = start + fixed;
      Picos end = core_.dma_engines().reserve(data_start, t.shape);
      if (t.shape.touches_hbm) {
        Picos h = chip.hbm().access(data_start, t.traffic.hbm_read, t.traffic.hbm_write);
        chip.tracer().hbm_transfer(data_start, h, t.traffic.hbm_read + t.traffic.hbm_write);
        end = std::max(end, h);
      }
      sc_core::wait(ps_to_time(end - start));
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

}  // namespace trnsim::model
