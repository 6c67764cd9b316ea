// HBM and the on-chip interconnect: bandwidth shared by every core's DMA traffic.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "config/chip_config.h"
#include "models/clock/clock.h"
#include "models/stats/stats.h"

namespace trnsim::model {

// A link of fixed bandwidth that transfers reserve back to back: a transfer that wants it at
// `earliest` gets it when the previous reservation ends. Concurrent transfers therefore share
// the bandwidth in arrival order (first come, first served) rather than fluidly; the total
// throughput is the same.
class SharedLink {
 public:
  explicit SharedLink(double gbps) : gbps_(gbps) {}
  // GB/s = bytes/ns, so a transfer takes bytes / gbps ns.
  Picos duration_ps(int64_t bytes) const {
    return static_cast<Picos>(std::llround(static_cast<double>(bytes) * 1000.0 / gbps_));
  }
  // Returns when the reservation ends.
  Picos reserve(Picos earliest, int64_t bytes) {
    Picos start = std::max(earliest, free_at_);
    free_at_ = start + duration_ps(bytes);
    return free_at_;
  }

 private:
  double gbps_;
  Picos free_at_ = 0;
};

// The chip's HBM (hbm.gbps, hbm.latency_ns) behind the interconnect (noc.gbps).
class Hbm {
 public:
  explicit Hbm(const config::ChipConfig& cfg)
      : hbm_(cfg.hbm_gbps), noc_(cfg.noc_gbps), latency_ps_(ns_to_ps(cfg.hbm_latency_ns)) {}
  // hbm.sharing = fcfs: moves `read` + `write` useful bytes, charged `charged_read` +
  // `charged_write` bytes (every run at least dma.min_run_bytes), starting no earlier than
  // `start`; returns when the data is through both HBM and the interconnect, plus the latency.
  Picos access(Picos start, int64_t read, int64_t write, int64_t charged_read,
               int64_t charged_write) {
    count(read, write, charged_read, charged_write);
    Picos a = hbm_.reserve(start, charged_read + charged_write);
    Picos b = noc_.reserve(start, charged_read + charged_write);
    return std::max(a, b) + latency_ps_;
  }
  // Counts a transfer's bytes (useful and charged) without reserving the links.
  void count(int64_t read, int64_t write, int64_t charged_read, int64_t charged_write) {
    stats_.read_bytes += read;
    stats_.write_bytes += write;
    stats_.charged_bytes += charged_read + charged_write;
  }
  // Link times of `bytes` for hbm.sharing = fair: {HBM ps, interconnect ps}.
  Picos hbm_ps(int64_t bytes) const { return hbm_.duration_ps(bytes); }
  Picos noc_ps(int64_t bytes) const { return noc_.duration_ps(bytes); }
  Picos latency_ps() const { return latency_ps_; }
  const MemStats& stats() const { return stats_; }

 private:
  SharedLink hbm_, noc_;
  Picos latency_ps_;
  MemStats stats_;
};

}  // namespace trnsim::model
