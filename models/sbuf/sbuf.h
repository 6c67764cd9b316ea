// SBUF and PSUM of one core: partitioned byte arrays (numerics) and their traffic counters.
#pragma once

#include <cstdint>

#include "config/chip_config.h"
#include "models/core/instr_info.h"
#include "models/exec/exec.h"
#include "models/stats/stats.h"

namespace trnsim::model {

// The memory bytes live in CoreMem (the functional executor's layout, allocated only when
// numerics are on). Ports are not arbitrated: every engine gets its documented streaming
// rate through the per-instruction latency; the SRAM port conflicts of NC-v2 (Vector/GpSimd on
// SBUF, Vector/Scalar on PSUM) are not modelled.
class OnChipMemory {
 public:
  OnChipMemory(const config::ChipConfig& cfg, bool numerics) {
    if (numerics)
      bytes.init(static_cast<int>(cfg.partitions), cfg.sbuf_bytes_per_partition,
                 cfg.psum_banks * cfg.psum_bank_bytes, 0xFF);
    else {
      bytes.partitions = static_cast<int>(cfg.partitions);
      bytes.sbuf_bytes_per_partition = cfg.sbuf_bytes_per_partition;
      bytes.psum_bytes_per_partition = cfg.psum_banks * cfg.psum_bank_bytes;
    }
  }
  void count(const MemTraffic& t) {
    sbuf.read_bytes += t.sbuf_read;
    sbuf.write_bytes += t.sbuf_write;
    psum.read_bytes += t.psum_read;
    psum.write_bytes += t.psum_write;
  }
  CoreMem bytes;
  MemStats sbuf, psum;
};

}  // namespace trnsim::model
