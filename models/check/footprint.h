// Byte-exact footprints of access patterns: sorted, merged byte runs (internal to the checker).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "isa/footprint.h"
#include "isa/program.h"
#include "isa/target.h"

namespace trnsim::model::check_detail {

using Runs = isa::Runs;  // [lo, hi) byte runs, sorted, disjoint

// One memory operand of an instruction with its footprint relative to a zero register offset.
// SBUF/PSUM: the same runs in every partition of [p0, p1). HBM: runs into tensor `tensor`
// (p0 = 0, p1 = 1), every row of the pattern included.
struct OperandFootprint {
  isa::MemSpace space = isa::MemSpace::None;
  uint16_t tensor = 0;
  int p0 = 0;
  int p1 = 0;
  bool write = false;
  int8_t offset_reg = -1;  // register added to every run at run time
  Runs runs;
};

// The memory operands of `in` in execution order: every read, then every write. A matmul
// with the acc flag reads its PSUM destination too. A dma_gather table is a read of every row
// it lists (its partitions; the ISA faults on an index beyond them).
std::vector<OperandFootprint> instr_footprints(const isa::Instr& in);

// Sorted merged runs of one pattern's free dims (bytes, relative to the pattern's offset).
using isa::free_runs;

}  // namespace trnsim::model::check_detail
