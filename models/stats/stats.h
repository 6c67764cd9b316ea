// Counters of a simulation run (models only count) and the one dumper: JSON and human summary.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "config/chip_config.h"
#include "isa/isa.h"

namespace trnsim::model {

struct EngineStats {
  int64_t busy_ps = 0;       // time spent executing instructions (not waiting on semaphores)
  int64_t instructions = 0;  // dynamic instructions retired
};

struct QueueStats {
  int64_t busy_ps = 0;  // time with a transfer in flight
  int64_t bytes = 0;    // bytes moved (the larger of the read and written bytes per transfer)
  int64_t transfers = 0;
};

struct MemStats {
  int64_t read_bytes = 0;
  int64_t write_bytes = 0;
};

struct CoreStats {
  std::array<EngineStats, isa::kNumEngines> engines{};
  std::vector<QueueStats> queues;
  MemStats sbuf, psum;
};

// Energy of a run by component (models/stats/energy.cpp; parameters energy.* of params.def).
struct EnergyStats {
  double pe_j = 0, sbuf_j = 0, psum_j = 0, hbm_j = 0, dma_j = 0, instr_j = 0, static_j = 0;
  double total_j() const { return pe_j + sbuf_j + psum_j + hbm_j + dma_j + instr_j + static_j; }
};

struct SimStats {
  std::string chip;
  int64_t sim_time_ps = 0;
  std::vector<CoreStats> cores;
  MemStats hbm;
  int64_t pe_flops = 0;          // 2*K*M*N per matmul
  std::array<int64_t, 3> pe_flops_by_class{};  // fp32, 16-bit, fp8 (matmul_mac_class)
  EnergyStats energy;
  double peak_flops_per_s = 0;   // cores * pe.rows * pe.cols * 2 * pe clock
  int64_t instructions() const;
  double mfu() const;            // pe_flops / (sim time * peak)
  double avg_power_w() const;    // energy / sim time
};

// Fills s.energy from the counters and the chip's energy.* parameters.
void compute_energy(SimStats& s, const config::ChipConfig& cfg);

// The stats document: {"sim_time_ns": {"value": 1.5, "unit": "ns"}, "core0": {"pe": {...}}, ...}.
std::string stats_json(const SimStats& s);
// Multi-line human summary: time, per-engine utilisation, FLOPs and MFU, bytes, bottleneck.
std::string stats_summary(const SimStats& s);

}  // namespace trnsim::model
