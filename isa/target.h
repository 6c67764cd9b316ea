// The software-visible limits of a chip: what the compiler targets and validation checks.
#pragma once

#include <cstdint>
#include <string>

namespace trnsim::isa {

// Every field of Target, once: X(type, name, default, comment). The struct, its equality and
// target_key() (the sweep's compile-cache key) all come from this list, so a field added here
// is part of the key without anyone remembering to add it.
#define TRNSIM_TARGET_FIELDS(X)                                                         \
  X(int, num_cores, 2, "NeuronCores")                                                   \
  X(int, partitions, 128, "SBUF/PSUM partitions")                                       \
  X(int64_t, sbuf_bytes_per_partition, 196608, "SBUF bytes per partition")              \
  X(int, psum_banks, 8, "PSUM banks")                                                   \
  X(int64_t, psum_bank_bytes, 2048, "bytes per PSUM bank per partition")                \
  X(int, pe_rows, 128, "max contraction K (stationary/moving partitions)")              \
  X(int, pe_cols, 128, "max stationary free size M (PSUM output partitions)")           \
  X(int, max_moving_free, 512, "max matmul moving free size N")                         \
  X(int, num_semaphores, 64, "semaphores per core")                                     \
  X(int, num_dma_queues, 16, "DMA queues per core")                                     \
  X(int64_t, hbm_bytes, int64_t{32} << 30, "HBM capacity of the chip")

// Filled from the chip configuration (config/chip_config.h: ChipConfig::target()). The compiler
// sees the chip only through this struct (compiler/compile.h).
struct Target {
#define TRNSIM_TARGET_FIELD(type, name, def, doc) type name = def;  // doc
  TRNSIM_TARGET_FIELDS(TRNSIM_TARGET_FIELD)
#undef TRNSIM_TARGET_FIELD

  int64_t psum_bytes_per_partition() const { return psum_banks * psum_bank_bytes; }
  bool operator==(const Target& o) const;
  bool operator!=(const Target& o) const { return !(*this == o); }
};

// "num_cores=2 partitions=128 ...": every field, in declaration order. Two chips compile a
// model to the same program exactly when their keys are equal.
std::string target_key(const Target& t);

}  // namespace trnsim::isa
