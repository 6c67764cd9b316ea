// Byte-exact footprints of access patterns.
#include "models/check/footprint.h"

#include <algorithm>

namespace trnsim::model::check_detail {

using isa::AccessPattern;
using isa::MemSpace;
using isa::OperandKind;

namespace {

// Patterns with more elements than this are summarised by their hull (they are invalid for
// any real chip; the bound keeps a corrupt program from exhausting memory).
constexpr int64_t kMaxEnumerated = int64_t{1} << 22;

void sort_merge(Runs& r) {
  std::sort(r.begin(), r.end());
  size_t n = 0;
  for (const auto& x : r) {
    if (x.second <= x.first) continue;
    if (n > 0 && x.first <= r[n - 1].second) {
      r[n - 1].second = std::max(r[n - 1].second, x.second);
    } else {
      r[n++] = x;
    }
  }
  r.resize(n);
}

}  // namespace

void free_runs(const AccessPattern& ap, Runs& out) {
  out.clear();
  const int64_t es = isa::dtype_size(ap.dtype);
  const int nd = std::min<int>(ap.ndims, 4);
  int64_t cnt[4] = {1, 1, 1, 1}, st[4] = {0, 0, 0, 0};
  int64_t total = 1;
  for (int d = 0; d < nd; ++d) {
    cnt[4 - nd + d] = ap.dims[d].count;
    st[4 - nd + d] = ap.dims[d].stride * es;
    if (ap.dims[d].count <= 0) return;
    total *= ap.dims[d].count;
    if (total > kMaxEnumerated) break;
  }
  if (total > kMaxEnumerated) {
    int64_t lo = 0, hi = 0;
    for (int d = 0; d < 4; ++d) {
      int64_t span = st[d] * (cnt[d] - 1);
      (span < 0 ? lo : hi) += span;
    }
    out.emplace_back(lo, hi + es);
    return;
  }
  // Innermost dim contiguous (stride = one element): one run per outer index.
  const bool inner_run = st[3] == es;
  for (int64_t a = 0; a < cnt[0]; ++a)
    for (int64_t b = 0; b < cnt[1]; ++b)
      for (int64_t c = 0; c < cnt[2]; ++c) {
        const int64_t base = a * st[0] + b * st[1] + c * st[2];
        if (inner_run) {
          out.emplace_back(base, base + cnt[3] * es);
        } else {
          for (int64_t d = 0; d < cnt[3]; ++d) out.emplace_back(base + d * st[3], base + d * st[3] + es);
        }
      }
  sort_merge(out);
}

std::vector<OperandFootprint> instr_footprints(const isa::Instr& in, const isa::Program& prog,
                                               const isa::Target& target) {
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
      sort_merge(f.runs);
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
