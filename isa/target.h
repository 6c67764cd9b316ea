// The software-visible limits of a chip: what the compiler targets and validation checks.
#pragma once

#include <cstdint>

namespace trnsim::isa {

// Filled from the chip configuration (config/chip_config.h: ChipConfig::target()).
struct Target {
  int num_cores = 2;
  int partitions = 128;                   // SBUF/PSUM partitions
  int64_t sbuf_bytes_per_partition = 196608;
  int psum_banks = 8;
  int64_t psum_bank_bytes = 2048;         // per partition
  int pe_rows = 128;                      // max contraction K (stationary/moving partitions)
  int pe_cols = 128;                      // max stationary free size M (PSUM output partitions)
  int max_moving_free = 512;              // max matmul moving free size N
  int num_semaphores = 64;                // per core
  int num_dma_queues = 16;                // per core
  int64_t hbm_bytes = int64_t{32} << 30;  // HBM capacity of the chip
  bool dma_psum_access = false;           // may a dma read/write PSUM (dma.psum_access)

  int64_t psum_bytes_per_partition() const { return psum_banks * psum_bank_bytes; }
};

}  // namespace trnsim::isa
