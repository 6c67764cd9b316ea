// Functional executor: access-pattern resolution, bounds checks, accesses() and dispatch.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "models/exec/exec_internal.h"
#include "support/error.h"

namespace trnsim::model {

using isa::AccessPattern;
using isa::MemSpace;
using isa::OperandKind;

void CoreMem::init(int parts, int64_t sbuf_pp, int64_t psum_pp, uint8_t fill) {
  partitions = parts;
  sbuf_bytes_per_partition = sbuf_pp;
  psum_bytes_per_partition = psum_pp;
  sbuf.assign(static_cast<size_t>(parts) * static_cast<size_t>(sbuf_pp), fill);
  psum.assign(static_cast<size_t>(parts) * static_cast<size_t>(psum_pp), fill);
}

std::string describe_instr(const isa::Program& prog, const isa::Instr& in, const InstrRef& ref) {
  std::string s = "core" + std::to_string(ref.core) + " " + std::string(isa::engine_name(ref.engine)) +
                  " #" + std::to_string(ref.index) + " (" + in.info().mnemonic + ")";
  if (in.tag != 0 && in.tag < prog.strings.size()) s += " @" + prog.str(in.tag);
  return s;
}

namespace detail {

void Ctx::fault(const std::string& msg) const {
  throw SimFault(describe_instr(*st.prog, in, ref) + ": " + msg);
}

int64_t effective_offset(const AccessPattern& ap, const int64_t* regs) {
  int64_t off = ap.offset;
  if (ap.offset_reg >= 0 && regs != nullptr) off += regs[ap.offset_reg];
  return off;
}

void free_offsets(const AccessPattern& ap, std::vector<int64_t>& offs, bool& contiguous) {
  const int64_t es = isa::dtype_size(ap.dtype);
  const int64_t n = std::max<int64_t>(ap.free_elements(), 0);
  offs.resize(static_cast<size_t>(n));
  contiguous = true;
  if (n == 0) return;
  // Pad to 4 dims (missing outer dims have count 1) and walk them with plain nested loops.
  int64_t cnt[4] = {1, 1, 1, 1}, st[4] = {0, 0, 0, 0};
  for (int d = 0; d < ap.ndims; ++d) {
    cnt[4 - ap.ndims + d] = ap.dims[d].count;
    st[4 - ap.ndims + d] = ap.dims[d].stride * es;
  }
  int64_t* o = offs.data();
  for (int64_t a = 0; a < cnt[0]; ++a)
    for (int64_t b = 0; b < cnt[1]; ++b)
      for (int64_t c = 0; c < cnt[2]; ++c) {
        const int64_t base = a * st[0] + b * st[1] + c * st[2];
        for (int64_t d = 0; d < cnt[3]; ++d) *o++ = base + d * st[3];
      }
  for (int64_t i = 0; i < n; ++i)
    if (offs[i] != i * es) {
      contiguous = false;
      break;
    }
}

namespace {

// Hull of the free pattern in elements: [lo_e, hi_e] (inclusive).
void free_hull(const AccessPattern& ap, int64_t& lo_e, int64_t& hi_e) {
  lo_e = 0;
  hi_e = 0;
  const int nd = std::min<int>(ap.ndims, static_cast<int>(ap.dims.size()));  // unvalidated APs
  for (int d = 0; d < nd; ++d) {
    int64_t span = ap.dims[d].stride * (ap.dims[d].count - 1);
    if (span < 0) lo_e += span;
    else hi_e += span;
  }
}

std::string range(int64_t lo, int64_t hi) {
  return "[" + std::to_string(lo) + ", " + std::to_string(hi) + ")";
}

}  // namespace

void check_ap(const Ctx& c, const AccessPattern& ap, const char* what) {
  if (!ap.present()) c.fault(std::string(what) + ": missing access pattern");
  if (ap.ndims > 4) c.fault(std::string(what) + ": more than 4 free dims");
  for (int d = 0; d < ap.ndims; ++d)
    if (ap.dims[d].count < 0) c.fault(std::string(what) + ": negative dim count");
  if (ap.offset_reg >= isa::kNumRegisters)
    c.fault(std::string(what) + ": bad offset register r" + std::to_string(ap.offset_reg));
  const int64_t es = isa::dtype_size(ap.dtype);
  const int64_t off = effective_offset(ap, c.st.regs);
  int64_t lo_e, hi_e;
  free_hull(ap, lo_e, hi_e);
  const bool empty = ap.num_partitions == 0 || ap.free_elements() == 0;
  const std::string sp(isa::mem_space_name(ap.space));
  if (ap.space == MemSpace::Hbm) {
    // Sizes come from the HBM store when there is one (numerics), else from the declarations.
    int64_t size = -1;
    if (c.st.hbm != nullptr) {
      if (ap.tensor < c.st.hbm->tensors.size())
        size = static_cast<int64_t>(c.st.hbm->tensors[ap.tensor].size());
    } else if (ap.tensor < c.st.prog->tensors.size()) {
      size = c.st.prog->tensors[ap.tensor].num_bytes();
    }
    if (size < 0)
      c.fault(std::string(what) + ": hbm tensor " + std::to_string(ap.tensor) + " does not exist");
    const int64_t ps = ap.partition_stride * es;
    const int64_t row0 = ap.start_partition * ps;
    const int64_t rowN = (ap.start_partition + std::max<int>(ap.num_partitions, 1) - 1) * ps;
    const int64_t lo = off + std::min(row0, rowN) + lo_e * es;
    const int64_t hi = off + std::max(row0, rowN) + hi_e * es + es;
    if (!empty && (lo < 0 || hi > size)) {
      std::string name = ap.tensor < c.st.prog->tensors.size()
                             ? c.st.prog->tensors[ap.tensor].name
                             : std::to_string(ap.tensor);
      c.fault(std::string(what) + " hbm tensor '" + name + "' bytes " + range(lo, hi) +
              " out of range (" + std::to_string(size) + " bytes)");
    }
  } else {
    if (c.st.mem == nullptr) c.fault(std::string(what) + ": no core memory");
    const CoreMem& m = *c.st.mem;
    const int64_t bpp =
        ap.space == MemSpace::Sbuf ? m.sbuf_bytes_per_partition : m.psum_bytes_per_partition;
    if (ap.start_partition + ap.num_partitions > m.partitions)
      c.fault(std::string(what) + " " + sp + " partitions " +
              range(ap.start_partition, ap.start_partition + ap.num_partitions) +
              " out of range (" + std::to_string(m.partitions) + " partitions)");
    const int64_t lo = off + lo_e * es;
    const int64_t hi = off + hi_e * es + es;
    if (!empty && (lo < 0 || hi > bpp))
      c.fault(std::string(what) + " " + sp + " bytes " + range(lo, hi) + " out of range (" +
              std::to_string(bpp) + " bytes per partition)");
  }
}

Tile resolve_ap(const Ctx& c, const AccessPattern& ap, const char* what) {
  check_ap(c, ap, what);
  Tile t;
  t.dt = ap.dtype;
  t.esize = isa::dtype_size(ap.dtype);
  t.np = ap.num_partitions;
  t.nfree = ap.free_elements();
  const int64_t off = effective_offset(ap, c.st.regs);
  if (ap.space == MemSpace::Hbm) {
    if (c.st.hbm == nullptr) c.fault(std::string(what) + ": no HBM contents (timing-only run?)");
    const int64_t ps = ap.partition_stride * t.esize;
    t.base = c.st.hbm->tensors[ap.tensor].data() + off + ap.start_partition * ps;
    t.pstride = ps;
  } else {
    CoreMem& m = *c.st.mem;
    const bool sb = ap.space == MemSpace::Sbuf;
    const int64_t bpp = sb ? m.sbuf_bytes_per_partition : m.psum_bytes_per_partition;
    auto& bytes = sb ? m.sbuf : m.psum;
    if (static_cast<int64_t>(bytes.size()) < m.partitions * bpp)
      c.fault(std::string(what) + ": core memory not allocated (timing-only run?)");
    t.base = bytes.data() + ap.start_partition * bpp + off;
    t.pstride = bpp;
  }
  free_offsets(ap, t.offs, t.contiguous);
  return t;
}

Tile resolve(const Ctx& c, int k) { return resolve_ap(c, c.in.ops[k].ap, c.opnd_name(k)); }

bool rowwise_safe(const AccessPattern& dst, std::initializer_list<const AccessPattern*> srcs) {
  for (const AccessPattern* s : srcs) {
    if (s->space != dst.space) continue;
    if (dst.space == MemSpace::Hbm) {
      if (s->tensor != dst.tensor) continue;
      return false;
    }
    if (s->start_partition == dst.start_partition) continue;
    const int d0 = dst.start_partition, d1 = d0 + dst.num_partitions;
    const int s0 = s->start_partition, s1 = s0 + s->num_partitions;
    if (d1 <= s0 || s1 <= d0) continue;
    return false;
  }
  return true;
}

void check_same_shape(const Ctx& c, const Tile& a, const char* an, const Tile& b, const char* bn) {
  if (a.np != b.np || a.nfree != b.nfree)
    c.fault(std::string(an) + " has " + std::to_string(a.np) + "x" + std::to_string(a.nfree) +
            " elements but " + bn + " has " + std::to_string(b.np) + "x" +
            std::to_string(b.nfree));
}

std::vector<float> scalar_values(const Ctx& c, int k, int np) {
  const isa::Operand& o = c.in.ops[k];
  if (!o.ap.present()) return std::vector<float>(static_cast<size_t>(np), o.f);
  Tile t = resolve(c, k);
  if (t.np != np || t.nfree < 1)
    c.fault(std::string(c.opnd_name(k)) + " must be a per-partition [" + std::to_string(np) +
            ",1] access pattern, got " + std::to_string(t.np) + "x" + std::to_string(t.nfree));
  std::vector<float> v(static_cast<size_t>(np));
  for (int p = 0; p < np; ++p) v[p] = isa::load_as_float(t.dt, t.row(p) + t.offs[0]);
  return v;
}

bool scalar_is_int(const Ctx& c, int k) {
  const isa::Operand& o = c.in.ops[k];
  if (o.ap.present()) return !isa::dtype_is_float(o.ap.dtype);
  // Range first: casting NaN or a huge float to int64 is undefined.
  return o.f >= -9.2e18f && o.f <= 9.2e18f && o.f == std::trunc(o.f);
}

}  // namespace detail

void execute(const isa::Instr& in, ExecState& st, const InstrRef& ref) {
  using isa::Opcode;
  const detail::Ctx c{in, st, ref};
  switch (in.op) {
    case Opcode::Matmul: detail::exec_matmul(c); return;
    case Opcode::Transpose: detail::exec_transpose(c); return;
    case Opcode::Act: detail::exec_act(c); return;
    case Opcode::TensorTensor: detail::exec_tt(c); return;
    case Opcode::TensorScalar: detail::exec_ts(c); return;
    case Opcode::Reduce: detail::exec_reduce(c); return;
    case Opcode::Copy: detail::exec_copy(c); return;
    case Opcode::Memset: detail::exec_memset(c); return;
    case Opcode::Select: detail::exec_select(c); return;
    case Opcode::Scan: detail::exec_scan(c); return;
    case Opcode::BnStats: detail::exec_bn_stats(c); return;
    case Opcode::BnAggr: detail::exec_bn_aggr(c); return;
    case Opcode::Iota: detail::exec_iota(c); return;
    case Opcode::PartitionReduce: detail::exec_preduce(c); return;
    case Opcode::Gather: detail::exec_gather(c); return;
    case Opcode::Dma: detail::exec_dma(c); return;
    case Opcode::DmaGather: detail::exec_dma_gather(c); return;
    default: return;  // control instructions: no data work
  }
}

int64_t load_register_value(const isa::Instr& in, ExecState& st, const InstrRef& ref) {
  const detail::Ctx c{in, st, ref};
  const detail::Tile t = detail::resolve(c, 1);
  if (t.np != 1 || t.nfree != 1)
    c.fault("src must be one element, found " + std::to_string(t.np) + "x" +
            std::to_string(t.nfree));
  const uint8_t* p = t.row(0) + t.offs[0];
  if (!isa::dtype_is_float(t.dt)) return isa::load_as_int(t.dt, p);
  const double v = std::trunc(static_cast<double>(isa::load_as_float(t.dt, p)));
  if (std::isnan(v)) return 0;
  if (v >= 9.2233720368547758e18) return INT64_MAX;
  if (v <= -9.2233720368547758e18) return INT64_MIN;
  return static_cast<int64_t>(v);
}

void check_bounds(const isa::Instr& in, ExecState& st, const InstrRef& ref) {
  const detail::Ctx c{in, st, ref};
  const isa::OpcodeInfo& info = in.info();
  for (int k = 0; k < info.num_operands; ++k) {
    const OperandKind kind = info.operands[k].kind;
    const AccessPattern& ap = in.ops[k].ap;
    if (!(isa::operand_is_ap(kind) || kind == OperandKind::Scalar) || !ap.present()) continue;
    // A dma_gather table is checked per gathered row at execution (rows depend on data).
    if (in.op == isa::Opcode::DmaGather && k == 2) continue;
    detail::check_ap(c, ap, c.opnd_name(k));
  }
}

void accesses(const isa::Instr& in, const int64_t* regs, std::vector<Access>& out) {
  const isa::OpcodeInfo& info = in.info();
  for (int k = 0; k < info.num_operands; ++k) {
    const OperandKind kind = info.operands[k].kind;
    const AccessPattern& ap = in.ops[k].ap;
    if (!(isa::operand_is_ap(kind) || kind == OperandKind::Scalar) || !ap.present()) continue;
    const int64_t es = isa::dtype_size(ap.dtype);
    const int64_t off = detail::effective_offset(ap, regs);
    int64_t lo_e, hi_e;
    detail::free_hull(ap, lo_e, hi_e);
    Access a;
    a.space = ap.space;
    if (ap.space == MemSpace::Hbm) {
      const int64_t ps = ap.partition_stride * es;
      const int64_t row0 = ap.start_partition * ps;
      const int64_t rowN = (ap.start_partition + std::max<int>(ap.num_partitions, 1) - 1) * ps;
      a.tensor = ap.tensor;
      a.p0 = 0;
      a.np = 1;
      a.lo = off + std::min(row0, rowN) + lo_e * es;
      a.hi = off + std::max(row0, rowN) + hi_e * es + es;
    } else {
      a.p0 = ap.start_partition;
      a.np = ap.num_partitions;
      a.lo = off + lo_e * es;
      a.hi = off + hi_e * es + es;
    }
    if (ap.free_elements() == 0 || ap.num_partitions == 0) a.hi = a.lo;
    // A dma_gather table is an ordinary access pattern: its partitions are every row that idx
    // may name (exec_dma_gather faults on any other), so its extent bounds the gathered rows.
    if (kind == OperandKind::PsumAcc) {
      // The acc flag is the opcode's AccFlag operand.
      bool acc = false;
      for (int j = 0; j < info.num_operands; ++j)
        if (info.operands[j].kind == OperandKind::AccFlag)
          acc = in.ops[j].i == static_cast<int64_t>(isa::AccFlag::Acc);
      if (acc) {
        a.write = false;
        out.push_back(a);
      }
    }
    a.write = isa::operand_writes(kind);
    out.push_back(a);
  }
}

}  // namespace trnsim::model
