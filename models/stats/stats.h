// Counters of a simulation run (models only count) and the one dumper: JSON and human summary.
#pragma once

#include <algorithm>
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

// DMA bytes by contiguous run size: a transfer's bytes go to the bucket of its average run
// (bytes / descriptors, i.e. the shorter of the source's and destination's runs). The hardware
// moves short runs far below peak ([DMABW]: < 256 B per partition is overhead-bound, >= 2 KiB
// recommended; HBM reads whole 32-byte bursts), so this shows how DMA-friendly a program is
// independently of what the timing model charges per run.
inline constexpr int kDmaRunBuckets = 5;
inline constexpr int64_t kDmaRunBucketMax[kDmaRunBuckets - 1] = {4, 64, 512, 2048};
inline constexpr const char* kDmaRunBucketName[kDmaRunBuckets] = {"le4B", "le64B", "le512B",
                                                                  "le2KiB", "gt2KiB"};
inline int dma_run_bucket(int64_t run_bytes) {
  int b = 0;
  while (b < kDmaRunBuckets - 1 && run_bytes > kDmaRunBucketMax[b]) ++b;
  return b;
}

struct QueueStats {
  int64_t busy_ps = 0;  // time with a transfer in flight
  int64_t bytes = 0;    // bytes moved (the larger of the read and written bytes per transfer)
  int64_t transfers = 0;
  std::array<int64_t, kDmaRunBuckets> run_bytes{};  // `bytes` by average run size
  std::array<int64_t, kDmaRunBuckets> runs{};       // descriptors (contiguous runs) likewise
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

// Time attributed to one source tag (the graph node a compiled instruction came from), summed
// over cores: what a compiler engineer asks first ("which node takes the time?").
struct NodeStats {
  std::string name;
  std::array<int64_t, isa::kNumEngines> busy_ps{};  // engine time of its instructions
  int64_t dma_ps = 0;                               // DMA queue time of its transfers
  int64_t dma_bytes = 0;
  int64_t instructions = 0;
  int64_t first_ps = -1, last_ps = 0;  // first start and last end of any of its instructions
  int64_t span_ps() const { return first_ps < 0 ? 0 : last_ps - first_ps; }
};

// Accumulates NodeStats by tag (an index into Program::strings) while the simulation runs.
class NodeProfile {
 public:
  void reset(size_t num_strings) { by_tag_.assign(num_strings, NodeStats{}); }
  // One instruction (engine >= 0) or DMA transfer (engine -1) of tag `tag` over [start, start+dur).
  void add(uint32_t tag, int engine, int64_t start_ps, int64_t dur_ps, int64_t bytes = 0) {
    if (tag == 0 || tag >= by_tag_.size()) return;  // untagged
    NodeStats& n = by_tag_[tag];
    if (engine >= 0) n.busy_ps[engine] += dur_ps, ++n.instructions;
    else n.dma_ps += dur_ps, n.dma_bytes += bytes;
    if (n.first_ps < 0 || start_ps < n.first_ps) n.first_ps = start_ps;
    n.last_ps = std::max(n.last_ps, start_ps + dur_ps);
  }
  // The tags seen, named from `strings`, in the order they first ran.
  std::vector<NodeStats> nodes(const std::vector<std::string>& strings) const;

 private:
  std::vector<NodeStats> by_tag_;
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
  std::vector<NodeStats> nodes;  // per source tag, in the order they first ran (empty if untagged)
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
