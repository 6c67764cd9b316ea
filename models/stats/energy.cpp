// The energy model: counters of a run times per-operation energies (energy.* chip parameters).
#include "models/stats/stats.h"

#include <algorithm>

namespace trnsim::model {

void compute_energy(SimStats& s, const config::ChipConfig& cfg) {
  constexpr double kPj = 1e-12;
  EnergyStats& e = s.energy;
  e = EnergyStats{};
  // A MAC is 2 FLOPs; each dtype class has its own energy per MAC.
  const double mac_pj[3] = {cfg.energy_mac_pj_fp32, cfg.energy_mac_pj_16, cfg.energy_mac_pj_fp8};
  for (int k = 0; k < 3; ++k)
    e.pe_j += static_cast<double>(s.pe_flops_by_class[k]) / 2.0 * mac_pj[k] * kPj;
  int64_t dma_bytes = 0;
  for (const auto& c : s.cores) {
    e.sbuf_j += (static_cast<double>(c.sbuf.read_bytes) * cfg.energy_sbuf_read_pj_per_byte +
                 static_cast<double>(c.sbuf.write_bytes) * cfg.energy_sbuf_write_pj_per_byte) * kPj;
    e.psum_j += (static_cast<double>(c.psum.read_bytes) * cfg.energy_psum_read_pj_per_byte +
                 static_cast<double>(c.psum.write_bytes) * cfg.energy_psum_write_pj_per_byte) * kPj;
    for (const auto& q : c.queues) dma_bytes += q.bytes;
  }
  // HBM energy on the charged bytes: a run shorter than dma.min_run_bytes still costs a whole
  // burst [JESD235].
  e.hbm_j = static_cast<double>(std::max(s.hbm.charged_bytes, s.hbm.read_bytes + s.hbm.write_bytes)) *
            cfg.energy_hbm_pj_per_byte * kPj;
  e.dma_j = static_cast<double>(dma_bytes) * cfg.energy_dma_pj_per_byte * kPj;
  e.instr_j = static_cast<double>(s.instructions()) * cfg.energy_instr_pj * kPj;
  // Per-core static power plus the chip's uncore (HBM PHYs, links, DMA fabric).
  e.static_j = (cfg.energy_static_w * static_cast<double>(cfg.cores) + cfg.energy_uncore_static_w) *
               static_cast<double>(s.sim_time_ps) * 1e-12;
}

double SimStats::avg_power_w() const {
  return sim_time_ps > 0 ? energy.total_j() / (static_cast<double>(sim_time_ps) * 1e-12) : 0.0;
}

}  // namespace trnsim::model
