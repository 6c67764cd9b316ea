// Byte-exact footprints of access patterns.
#include "models/check/footprint.h"

#include <algorithm>

namespace trnsim::model::check_detail {

using isa::AccessPattern;
using isa::MemSpace;
using isa::OperandKind;

std::vector<OperandFootprint> instr_footprints(const isa::Instr& in) {
  std::vector<OperandFootprint> reads, writes;
  const isa::OpcodeInfo& info = in.info();
  bool acc = false;
  for (int j = 0; j < info.num_operands; ++j)
    if (info.operands[j].kind == OperandKind::AccFlag)
      acc = in.ops[j].i == static_cast<int64_t>(isa::AccFlag::Acc);
  for (int k = 0; k < info.num_operands; ++k) {
    const OperandKind kind = info.operands[k].kind;
    const AccessPattern& ap = in.ops[k].ap;
    if (!(isa::operand_is_ap(kind) || kind == OperandKind::Scalar) || !ap.present()) continue;
    if (ap.num_partitions == 0) continue;
    OperandFootprint f;
    f.space = ap.space;
    f.offset_reg = ap.offset_reg;
    Runs free;
    free_runs(ap, free);
    if (free.empty()) continue;
    if (ap.space == MemSpace::Hbm) {
      f.tensor = ap.tensor;
      f.p0 = 0;
      f.p1 = 1;
      // A dma_gather table reads rows chosen by data, but only the table's own rows (the ISA
      // bounds idx by its partitions), so every row it lists is a possible read.
      const int64_t ps = ap.partition_stride * isa::dtype_size(ap.dtype);
      for (int p = 0; p < ap.num_partitions; ++p) {
        const int64_t row = (ap.start_partition + p) * ps + ap.offset;
        for (const auto& r : free) f.runs.emplace_back(row + r.first, row + r.second);
      }
      isa::sort_merge_runs(f.runs);
    } else {
      f.p0 = ap.start_partition;
      f.p1 = ap.start_partition + ap.num_partitions;
      for (const auto& r : free) f.runs.emplace_back(r.first + ap.offset, r.second + ap.offset);
    }
    if (isa::operand_reads(kind) || (kind == OperandKind::PsumAcc && acc)) {
      f.write = false;
      reads.push_back(f);
    }
    if (isa::operand_writes(kind)) {
      f.write = true;
      writes.push_back(std::move(f));
    }
  }
  for (auto& w : writes) reads.push_back(std::move(w));
  return reads;
}

}  // namespace trnsim::model::check_detail
