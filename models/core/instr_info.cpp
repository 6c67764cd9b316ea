// Static per-instruction facts for the timing model.
#include "models/core/instr_info.h"

#include <algorithm>
#include <utility>

namespace trnsim::model {

using isa::AccessPattern;
using isa::MemSpace;
using isa::Opcode;
using isa::OperandKind;

namespace {
int64_t ap_bytes(const AccessPattern& ap) {
  return ap.total_elements() * isa::dtype_size(ap.dtype);
}
void add(MemTraffic& t, MemSpace s, bool write, int64_t b) {
  switch (s) {
    case MemSpace::Sbuf: (write ? t.sbuf_write : t.sbuf_read) += b; break;
    case MemSpace::Psum: (write ? t.psum_write : t.psum_read) += b; break;
    case MemSpace::Hbm: (write ? t.hbm_write : t.hbm_read) += b; break;
    case MemSpace::None: break;
  }
}
}  // namespace

MemTraffic mem_traffic(const isa::Instr& in) {
  MemTraffic t;
  const auto& info = in.info();
  for (int k = 0; k < info.num_operands; ++k) {
    OperandKind kind = info.operands[k].kind;
    const AccessPattern& ap = in.ops[k].ap;
    if (!ap.present()) continue;
    if (!isa::operand_is_ap(kind) && kind != OperandKind::Scalar) continue;
    int64_t b = ap_bytes(ap);
    if (in.op == Opcode::DmaGather && k == 2) {
      // Only the gathered rows of the table are read: one dst-sized block.
      b = in.ops[1].ap.total_elements() * isa::dtype_size(ap.dtype);
    }
    if (isa::operand_reads(kind)) add(t, ap.space, false, b);
    if (isa::operand_writes(kind)) add(t, ap.space, true, b);
    if (kind == OperandKind::PsumAcc && in.op == Opcode::Matmul &&
        in.ops[3].i == static_cast<int64_t>(isa::AccFlag::Acc))
      add(t, ap.space, false, b);
  }
  return t;
}

namespace {
// Contiguous runs of one partition row: {number of runs, elements per run}.
std::pair<int64_t, int64_t> ap_runs(const AccessPattern& ap) {
  int64_t run = 1;  // elements in the innermost contiguous run
  int d = ap.ndims - 1;
  while (d >= 0 && (ap.dims[d].count == 1 || ap.dims[d].stride == run)) {
    run *= ap.dims[d].count;
    --d;
  }
  int64_t runs = 1;
  for (int i = 0; i <= d; ++i) runs *= ap.dims[i].count;
  return {runs, run};
}
}  // namespace

int64_t ap_descriptors(const AccessPattern& ap, int64_t max_bytes) {
  auto [runs, run] = ap_runs(ap);
  int64_t per_run = std::max<int64_t>(1, ceil_div(run * isa::dtype_size(ap.dtype), max_bytes));
  return static_cast<int64_t>(ap.num_partitions) * runs * per_run;
}

int64_t ap_charged_bytes(const AccessPattern& ap, int64_t min_run) {
  auto [runs, run] = ap_runs(ap);
  int64_t run_bytes = run * isa::dtype_size(ap.dtype);
  if (run == 0) return 0;
  return static_cast<int64_t>(ap.num_partitions) * runs * std::max(run_bytes, min_run);
}

DmaShape dma_shape(const isa::Instr& in, const config::ChipConfig& cfg) {
  DmaShape s;
  // send reads its one buffer, recv writes it: the other side is empty (no elements).
  static const AccessPattern kNone = [] {
    AccessPattern a;
    a.num_partitions = 0;
    return a;
  }();
  const bool send = in.op == Opcode::Send, recv = in.op == Opcode::Recv;
  const AccessPattern& dst = send ? kNone : in.ops[1].ap;
  const AccessPattern& src = recv ? kNone : send ? in.ops[1].ap : in.ops[2].ap;
  int64_t wbytes = ap_bytes(dst);
  int64_t rbytes = in.op == Opcode::DmaGather ? dst.total_elements() * isa::dtype_size(src.dtype)
                                              : ap_bytes(src);
  s.bytes = std::max(wbytes, rbytes);
  int64_t dd = ap_descriptors(dst, cfg.dma_descriptor_bytes);
  // A gather reads one table row per destination partition row.
  int64_t sd = in.op == Opcode::DmaGather ? dd : ap_descriptors(src, cfg.dma_descriptor_bytes);
  s.descriptors = std::max(dd, sd);
  s.touches_hbm = dst.space == MemSpace::Hbm || src.space == MemSpace::Hbm;
  // Per-run floor (dma.min_run_bytes): a 4-byte run still costs one HBM burst and one engine
  // beat [JESD235 32-B burst; DMABW]. A gather reads one table row per destination row.
  const int64_t min_run = cfg.dma_min_run_bytes;
  int64_t wc = ap_charged_bytes(dst, min_run);
  int64_t rc = ap_charged_bytes(src, min_run);
  if (in.op == Opcode::DmaGather)
    rc = static_cast<int64_t>(dst.num_partitions) *
         std::max(dst.free_elements() * isa::dtype_size(src.dtype), min_run);
  s.engine_bytes = std::max(wc, rc);
  if (src.space == MemSpace::Hbm) s.hbm_read = rc;
  if (dst.space == MemSpace::Hbm) s.hbm_write = wc;
  // The on-chip side picks the engines: the destination if it is on chip, else the source.
  auto on_chip = [](const AccessPattern& a) { return a.present() && a.space != MemSpace::Hbm; };
  const AccessPattern* chip_side = on_chip(dst)   ? &dst
                                   : on_chip(src) ? &src
                                                  : nullptr;
  if (chip_side) {
    s.part_start = chip_side->start_partition;
    s.part_count = chip_side->num_partitions;
  }
  return s;
}

InstrKind instr_kind(Opcode op) {
  switch (op) {
    case Opcode::Dma:
    case Opcode::DmaGather:
    case Opcode::AllReduce:
    case Opcode::AllGather:
    case Opcode::ReduceScatter:
    case Opcode::AllToAll:
    case Opcode::Permute:
    case Opcode::Send:
    case Opcode::Recv: return InstrKind::Dma;
    case Opcode::Nop:
    case Opcode::Barrier:
    case Opcode::Movi:
    case Opcode::Addi:
    case Opcode::Blt:
    case Opcode::Bge:
    case Opcode::Beq:
    case Opcode::Bne:
    case Opcode::Jmp: return InstrKind::Control;
    case Opcode::Ldr: return InstrKind::RegLoad;
    default: return InstrKind::Data;
  }
}

int64_t ldr_cycles(const config::ChipConfig& cfg) {
  return cfg.access_start_cycles + cfg.control_cycles;
}

int64_t matmul_flops(const isa::Instr& in) {
  if (in.op != Opcode::Matmul) return 0;
  const AccessPattern& st = in.ops[1].ap;
  const AccessPattern& mv = in.ops[2].ap;
  return 2 * static_cast<int64_t>(st.num_partitions) * st.free_elements() * mv.free_elements();
}

int matmul_mac_class(const isa::Instr& in) {
  isa::DType a = in.ops[1].ap.dtype, b = in.ops[2].ap.dtype;
  auto width = [](isa::DType t) { return isa::dtype_size(t); };
  if (width(a) >= 4 || width(b) >= 4) return 0;
  if (width(a) == 1 && width(b) == 1) return 2;
  return 1;
}

bool register_addressed(const isa::Instr& in) {
  const auto& info = in.info();
  for (int k = 0; k < info.num_operands; ++k) {
    OperandKind kind = info.operands[k].kind;
    if ((isa::operand_is_ap(kind) || kind == OperandKind::Scalar) && in.ops[k].ap.present() &&
        in.ops[k].ap.offset_reg >= 0)
      return true;
  }
  return false;
}

}  // namespace trnsim::model

namespace trnsim::model {
int64_t elements_per_partition(const isa::Instr& in) {
  int64_t n = 0;
  const auto& info = in.info();
  for (int k = 0; k < info.num_operands; ++k) {
    OperandKind kind = info.operands[k].kind;
    if ((isa::operand_is_ap(kind) || kind == OperandKind::Scalar) && in.ops[k].ap.present())
      n = std::max(n, in.ops[k].ap.free_elements());
  }
  return n;
}
}  // namespace trnsim::model

namespace trnsim::model {
namespace {
// Calls fn(k, ap) for each present access-pattern operand (Scalar operands given by an AP too).
template <typename Fn>
void for_each_ap(const isa::Instr& in, Fn fn) {
  const auto& info = in.info();
  for (int k = 0; k < info.num_operands; ++k) {
    OperandKind kind = info.operands[k].kind;
    if ((isa::operand_is_ap(kind) || kind == OperandKind::Scalar) && in.ops[k].ap.present())
      fn(k, kind, in.ops[k].ap);
  }
}
}  // namespace

bool wide_stride(const isa::Instr& in, int64_t limit_bytes, int only_operand) {
  if (limit_bytes <= 0) return false;
  bool wide = false;
  for_each_ap(in, [&](int k, OperandKind, const AccessPattern& ap) {
    if (only_operand >= 0 && k != only_operand) return;
    if (ap.space != MemSpace::Sbuf && ap.space != MemSpace::Psum) return;
    for (int d = ap.ndims - 1; d >= 0; --d) {
      if (ap.dims[d].count <= 1) continue;
      int64_t stride = ap.dims[d].stride < 0 ? -ap.dims[d].stride : ap.dims[d].stride;
      if (stride * isa::dtype_size(ap.dtype) > limit_bytes) wide = true;
      break;
    }
  });
  return wide;
}

int streamed_sbuf_inputs(const isa::Instr& in) {
  int n = 0;
  for_each_ap(in, [&](int, OperandKind kind, const AccessPattern& ap) {
    if (isa::operand_reads(kind) && ap.space == MemSpace::Sbuf && ap.free_elements() > 1) ++n;
  });
  return n;
}

int64_t streamed_input_bytes(const isa::Instr& in) {
  int64_t b = 0;
  for_each_ap(in, [&](int, OperandKind kind, const AccessPattern& ap) {
    if (isa::operand_reads(kind) && !isa::operand_writes(kind) && ap.free_elements() > 1)
      b += ap.free_elements() * isa::dtype_size(ap.dtype);
  });
  return b;
}
}  // namespace trnsim::model
