// Placeholder: the config loader lands with the chip-configuration work.
#include "config/chip_config.h"

namespace trnsim::config {
isa::Target ChipConfig::target() const {
  isa::Target t;
  t.num_cores = static_cast<int>(cores);
  t.partitions = static_cast<int>(partitions);
  t.sbuf_bytes_per_partition = sbuf_bytes_per_partition;
  t.psum_banks = static_cast<int>(psum_banks);
  t.psum_bank_bytes = psum_bank_bytes;
  t.pe_rows = static_cast<int>(pe_rows);
  t.pe_cols = static_cast<int>(pe_cols);
  t.max_moving_free = static_cast<int>(pe_max_moving_free);
  t.num_semaphores = static_cast<int>(semaphores);
  t.num_dma_queues = static_cast<int>(dma_queues);
  return t;
}
}  // namespace trnsim::config
