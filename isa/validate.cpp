#include "isa/validate.h"

#include <fmt/format.h>

#include "isa/asm.h"
#include "support/error.h"

namespace trnsim::isa {
namespace {

using i128 = __int128;

// Byte span [lo, hi) that an access pattern touches inside one partition (SBUF/PSUM) or inside
// its tensor (HBM, where the row dimension is folded in).
struct Span {
  i128 lo = 0;
  i128 hi = 0;
};

Span byte_span(const AccessPattern& ap, bool include_offset) {
  i128 size = dtype_size(ap.dtype);
  i128 lo = 0, hi = 0;  // in elements
  auto add = [&](int64_t stride, int64_t count) {
    const i128 cap = i128{1} << 100;  // keeps sums of 5 extents times 8 bytes inside i128
    i128 ext = static_cast<i128>(stride) * (count - 1);
    ext = ext > cap ? cap : ext < -cap ? -cap : ext;
    (ext < 0 ? lo : hi) += ext;
  };
  for (int d = 0; d < ap.ndims && d < 4; ++d) add(ap.dims[d].stride, ap.dims[d].count);
  if (ap.space == MemSpace::Hbm) add(ap.partition_stride, ap.num_partitions);
  i128 off = include_offset ? ap.offset : 0;
  return {off + lo * size, off + (hi + 1) * size};
}

// Element counts that saturate instead of overflowing (decoded programs may hold any count).
int64_t saturate(i128 v) { return v > INT64_MAX ? INT64_MAX : static_cast<int64_t>(v); }
int64_t free_elems(const AccessPattern& ap) {
  i128 n = 1;
  for (int d = 0; d < ap.ndims && d < 4; ++d) n = saturate(n * ap.dims[d].count);
  return saturate(n);
}
int64_t total_elems(const AccessPattern& ap) { return saturate(i128{free_elems(ap)} * ap.num_partitions); }

std::string num(i128 v) {
  if (v >= INT64_MIN && v <= INT64_MAX) return std::to_string(static_cast<int64_t>(v));
  return v < 0 ? "-huge" : "huge";
}

class Checker {
 public:
  Checker(const Program& p, const Target& t) : prog_(p), t_(t) {
    file_ = p.source_name.empty() ? "program" : p.source_name;
  }

  std::vector<std::string> run() {
    if (static_cast<int64_t>(prog_.cores.size()) > t_.num_cores)
      out_.push_back(fmt::format("{}: program uses {} cores, the target has {}", file_,
                                 prog_.cores.size(), t_.num_cores));
    for (size_t c = 0; c < prog_.cores.size(); ++c)
      for (int e = 0; e < kNumEngines; ++e) {
        const auto& s = prog_.cores[c].streams[e];
        for (size_t k = 0; k < s.size(); ++k) {
          core_ = c;
          engine_ = static_cast<Engine>(e);
          index_ = k;
          stream_ = &s;
          instr(s[k]);
        }
      }
    return std::move(out_);
  }

 private:
  void problem(const Instr& in, const std::string& msg) {
    std::string where = in.line ? fmt::format("{}:{}", file_, in.line) : file_;
    std::string what = in.info().mnemonic;
    if (in.tag) what += " @" + prog_.str(in.tag);
    out_.push_back(fmt::format("{}: core {} {} #{} ({}): {}", where, core_, engine_name(engine_),
                               index_, what, msg));
  }

  void instr(const Instr& in) {
    if (static_cast<int>(in.op) >= kNumOpcodes) {
      out_.push_back(fmt::format("{}: core {} {} #{}: bad opcode", file_, core_,
                                 engine_name(engine_), index_));
      return;
    }
    const OpcodeInfo& info = in.info();
    if (!(info.engines & engine_bit(engine_)))
      problem(in, fmt::format("not allowed on engine {}", engine_name(engine_)));
    bool dma = false, int_alu = false;
    for (int k = 0; k < info.num_operands; ++k) {
      OperandKind kind = info.operands[k].kind;
      dma = dma || kind == OperandKind::MemIn || kind == OperandKind::MemOut;
      if (kind == OperandKind::Alu && in.ops[k].i >= 0 && in.ops[k].i < kNumAluOps &&
          alu_op_int_only(static_cast<AluOp>(in.ops[k].i)))
        int_alu = true;
    }
    for (int k = 0; k < info.num_operands; ++k) operand(in, k, dma, int_alu);
    shapes(in);
    for (int w = 0; w < in.num_waits && w < kMaxWaits; ++w) {
      if (in.waits[w].sem >= t_.num_semaphores)
        problem(in, fmt::format("wait semaphore s{} >= {} semaphores", in.waits[w].sem, t_.num_semaphores));
      if (in.waits[w].reg >= kNumRegisters) problem(in, fmt::format("register r{} > r15", in.waits[w].reg));
    }
    for (int w = 0; w < in.num_incs && w < kMaxIncs; ++w) {
      const SemInc& c = in.incs[w];
      if (c.sem >= t_.num_semaphores)
        problem(in, fmt::format("increment semaphore s{} >= {} semaphores", c.sem, t_.num_semaphores));
      if (c.core >= t_.num_cores)
        problem(in, fmt::format("increment on core {} but the target has {} cores", c.core, t_.num_cores));
    }
    if (in.num_waits > kMaxWaits || in.num_incs > kMaxIncs) problem(in, "more than 2 waits or increments");
  }

  void operand(const Instr& in, int k, bool dma, bool int_alu) {
    const OperandSpec& spec = in.info().operands[k];
    const Operand& o = in.ops[k];
    const char* name = spec.name;
    switch (spec.kind) {
      case OperandKind::Reg:
        if (o.i < 0 || o.i >= kNumRegisters) problem(in, fmt::format("{}: register r{} > r15", name, o.i));
        return;
      case OperandKind::Queue:
        if (o.i < 0 || o.i >= t_.num_dma_queues)
          problem(in, fmt::format("{}: queue q{} >= {} queues", name, o.i, t_.num_dma_queues));
        return;
      case OperandKind::Target:
        if (o.i < 0 || static_cast<size_t>(o.i) >= stream_->size())
          problem(in, fmt::format("{}: branch target #{} outside the stream (0..{})", name, o.i,
                                  stream_->size() - 1));
        return;
      case OperandKind::ActFn:
        if (o.i < 0 || o.i >= kNumActFns) problem(in, fmt::format("{}: bad activation function", name));
        return;
      case OperandKind::Alu:
        if (o.i < 0 || o.i >= kNumAluOps) problem(in, fmt::format("{}: bad ALU op", name));
        return;
      case OperandKind::Engines:
        if (o.i <= 0 || (o.i & ~int64_t{E_ALL})) problem(in, fmt::format("{}: bad engine set", name));
        return;
      default: break;
    }
    if (!o.ap.present()) {
      if (operand_is_ap(spec.kind) && spec.kind != OperandKind::OutOpt)
        problem(in, fmt::format("{}: missing access pattern", name));
      return;
    }
    const AccessPattern& ap = o.ap;
    if (!operand_allows_space(spec.kind, ap.space))
      problem(in, fmt::format("{}: {} not allowed here", name, mem_space_name(ap.space)));
    if (!dtype_is_engine_legal(ap.dtype) && !(dma && (spec.kind == OperandKind::MemIn ||
                                                      spec.kind == OperandKind::MemOut)))
      problem(in, fmt::format("{}: dtype {} is only allowed in dma", name, dtype_name(ap.dtype)));
    if (int_alu && dtype_is_float(ap.dtype))
      problem(in, fmt::format("{}: integer-only ALU op needs an integer dtype, found {}", name,
                              dtype_name(ap.dtype)));
    if (ap.ndims > 4) problem(in, fmt::format("{}: more than 4 free dimensions", name));
    for (int d = 0; d < ap.ndims && d < 4; ++d)
      if (ap.dims[d].count <= 0) problem(in, fmt::format("{}: count {} <= 0", name, ap.dims[d].count));
    if (ap.num_partitions == 0) problem(in, fmt::format("{}: 0 partitions", name));
    bool reg = ap.offset_reg >= 0;
    if (reg && ap.offset_reg >= kNumRegisters)
      problem(in, fmt::format("{}: register r{} > r15", name, ap.offset_reg));
    Span s = byte_span(ap, true);
    if (ap.space == MemSpace::Hbm) {
      if (ap.tensor >= prog_.tensors.size()) {
        problem(in, fmt::format("{}: tensor #{} not declared", name, ap.tensor));
        return;
      }
      const TensorDecl& t = prog_.tensors[ap.tensor];
      range(in, name, ap, s, t.num_bytes(), fmt::format("tensor '{}' of {} bytes", t.name, t.num_bytes()));
      return;
    }
    if (ap.start_partition + ap.num_partitions > t_.partitions)
      problem(in, fmt::format("{}: partitions {}:{} exceed {}", name, ap.start_partition,
                              ap.start_partition + ap.num_partitions, t_.partitions));
    int64_t limit = ap.space == MemSpace::Sbuf ? t_.sbuf_bytes_per_partition : t_.psum_bytes_per_partition();
    range(in, name, ap, s, limit, fmt::format("{} of {} bytes per partition", mem_space_name(ap.space), limit));
  }

  // [s.lo, s.hi) must lie in [0, limit); for register-addressed patterns only the extent is known.
  void range(const Instr& in, const char* name, const AccessPattern& ap, Span s, int64_t limit,
             const std::string& what) {
    if (ap.offset_reg >= 0) {
      if (s.hi - s.lo > limit)
        problem(in, fmt::format("{}: spans {} bytes, more than the {}", name, num(s.hi - s.lo), what));
      return;
    }
    if (s.lo < 0 || s.hi > limit)
      problem(in, fmt::format("{}: bytes {}..{} outside the {}", name, num(s.lo), num(s.hi), what));
  }

  const AccessPattern& ap(const Instr& in, int k) { return in.ops[k].ap; }

  void same_shape(const Instr& in, int a, int b) {
    const AccessPattern &x = ap(in, a), &y = ap(in, b);
    if (!x.present() || !y.present()) return;
    const auto& ops = in.info().operands;
    if (x.num_partitions != y.num_partitions)
      problem(in, fmt::format("{} has {} partitions but {} has {}", ops[a].name, x.num_partitions,
                              ops[b].name, y.num_partitions));
    else if (free_elems(x) != free_elems(y))
      problem(in, fmt::format("{} has {} elements per partition but {} has {}", ops[a].name,
                              free_elems(x), ops[b].name, free_elems(y)));
  }

  // A per-partition scalar operand: [P,1] with P = partitions of operand `ref`.
  void per_partition(const Instr& in, int k, int ref) {
    const AccessPattern& s = ap(in, k);
    if (!s.present()) return;
    const auto& ops = in.info().operands;
    if (s.num_partitions != ap(in, ref).num_partitions || free_elems(s) != 1)
      problem(in, fmt::format("{} must be [{},1] (one element per partition of {}), found [{},{}]",
                              ops[k].name, ap(in, ref).num_partitions, ops[ref].name,
                              s.num_partitions, free_elems(s)));
  }

  void fp32_dst(const Instr& in) {
    if (ap(in, 0).dtype != DType::Fp32)
      problem(in, fmt::format("dst dtype must be fp32, found {}", dtype_name(ap(in, 0).dtype)));
  }

  // Shape rules that tie operands of one instruction together.
  void shapes(const Instr& in) {
    switch (in.op) {
      case Opcode::Matmul: {
        const AccessPattern &dst = ap(in, 0), &st = ap(in, 1), &mv = ap(in, 2);
        int64_t k = st.num_partitions, m = free_elems(st), n = free_elems(mv);
        if (k != mv.num_partitions)
          problem(in, fmt::format("stationary has {} partitions but moving has {} (both are K)", k,
                                  mv.num_partitions));
        if (k > t_.pe_rows) problem(in, fmt::format("contraction K {} exceeds {}", k, t_.pe_rows));
        if (m > t_.pe_cols) problem(in, fmt::format("stationary free size {} exceeds {}", m, t_.pe_cols));
        if (n > t_.max_moving_free)
          problem(in, fmt::format("moving free size {} exceeds {}", n, t_.max_moving_free));
        if (dst.num_partitions != m)
          problem(in, fmt::format("dst has {} partitions, expected M = {}", dst.num_partitions, m));
        if (free_elems(dst) != n)
          problem(in, fmt::format("dst has {} elements per partition, expected N = {}",
                                  free_elems(dst), n));
        fp32_dst(in);
        for (int i : {1, 2})
          if (!dtype_is_float(ap(in, i).dtype))
            problem(in, fmt::format("{} dtype must be a float type, found {}",
                                    in.info().operands[i].name, dtype_name(ap(in, i).dtype)));
        one_bank(in);
        return;
      }
      case Opcode::Transpose: {
        const AccessPattern &dst = ap(in, 0), &src = ap(in, 1);
        int64_t p = src.num_partitions, f = free_elems(src);
        if (p > t_.pe_rows) problem(in, fmt::format("src partitions {} exceed {}", p, t_.pe_rows));
        if (f > t_.pe_cols) problem(in, fmt::format("src free size {} exceeds {}", f, t_.pe_cols));
        if (dst.num_partitions != f || free_elems(dst) != p)
          problem(in, fmt::format("dst is [{},{}], expected [{},{}] (src transposed)",
                                  dst.num_partitions, free_elems(dst), f, p));
        fp32_dst(in);
        one_bank(in);
        return;
      }
      case Opcode::Act:
        same_shape(in, 0, 1);
        per_partition(in, 3, 0);
        per_partition(in, 4, 0);
        per_partition(in, 5, 0);
        return;
      case Opcode::TensorTensor:
        same_shape(in, 0, 1);
        same_shape(in, 0, 2);
        return;
      case Opcode::TensorScalar:
        same_shape(in, 0, 1);
        per_partition(in, 3, 0);
        per_partition(in, 5, 0);
        return;
      case Opcode::Copy:
      case Opcode::PartitionReduce:
        if (in.op == Opcode::Copy) same_shape(in, 0, 1);
        else if (free_elems(ap(in, 0)) != free_elems(ap(in, 1)))
          problem(in, "dst and src must have the same elements per partition");
        return;
      case Opcode::Scan:
        same_shape(in, 0, 1);
        same_shape(in, 0, 2);
        per_partition(in, 5, 0);
        return;
      case Opcode::Select:
        same_shape(in, 0, 1);
        same_shape(in, 0, 2);
        same_shape(in, 0, 3);
        return;
      case Opcode::Gather:
        same_shape(in, 0, 2);
        int32_index(in, 2);
        return;
      case Opcode::Reduce: {
        const AccessPattern &dst = ap(in, 0), &src = ap(in, 1);
        int64_t axes = in.ops[3].i;
        if (axes < 1 || axes > src.ndims) {
          problem(in, fmt::format("axes {} must be 1..{} (src free dimensions)", axes, src.ndims));
          return;
        }
        int64_t kept = 1;
        for (int d = 0; d < src.ndims - axes; ++d) kept = saturate(i128{kept} * src.dims[d].count);
        if (dst.num_partitions != src.num_partitions || free_elems(dst) != kept)
          problem(in, fmt::format("dst is [{},{}], expected [{},{}]", dst.num_partitions,
                                  free_elems(dst), src.num_partitions, kept));
        return;
      }
      case Opcode::BnStats:
        if (free_elems(ap(in, 0)) != 6) problem(in, "dst must hold 6 elements per partition");
        if (free_elems(ap(in, 1)) > 512) problem(in, "src free size exceeds 512");
        return;
      case Opcode::BnAggr:
        if (free_elems(ap(in, 0)) != 2) problem(in, "dst must hold 2 elements per partition");
        if (free_elems(ap(in, 1)) % 6 != 0) problem(in, "src free size must be a multiple of 6");
        return;
      case Opcode::Dma:
        dma_psum(in);
        if (total_elems(ap(in, 1)) != total_elems(ap(in, 2)))
          problem(in, fmt::format("dst has {} elements but src has {}", total_elems(ap(in, 1)),
                                  total_elems(ap(in, 2))));
        return;
      case Opcode::Ldr:
        if (ap(in, 1).present() && total_elems(ap(in, 1)) != 1)
          problem(in, fmt::format("src must be one element, found [{},{}]",
                                  ap(in, 1).num_partitions, free_elems(ap(in, 1))));
        return;
      case Opcode::DmaGather:
        dma_psum(in);
        int32_index(in, 3);
        per_partition(in, 3, 1);
        return;
      case Opcode::AllReduce:
      case Opcode::AllGather:
      case Opcode::ReduceScatter:
      case Opcode::AllToAll:
      case Opcode::Permute:
        collective(in);
        return;
      case Opcode::Send:
      case Opcode::Recv:
        p2p(in);
        return;
      default: return;
    }
  }

  // Collectives: src and dst in HBM or SBUF, one dtype (fp32 or bf16), sizes tied by the group
  // size (all_gather dst = gsize x src, reduce_scatter src = gsize x dst, else equal; the
  // chunked ops split evenly). gsize 0 (every rank) is checked when the system is known.
  void collective(const Instr& in) {
    const AccessPattern &dst = ap(in, 1), &src = ap(in, 2);
    const bool reduces = in.op == Opcode::AllReduce || in.op == Opcode::ReduceScatter;
    const int64_t gsize = in.ops[reduces ? 4 : 3].i, gstride = in.ops[reduces ? 5 : 4].i;
    for (int k : {1, 2})
      if (ap(in, k).space == MemSpace::Psum) {
        problem(in, fmt::format("{}: a collective reads and writes HBM or SBUF, not PSUM",
                                in.info().operands[k].name));
        return;
      }
    if (src.dtype != dst.dtype) {
      problem(in, fmt::format("dst dtype {} differs from src dtype {}", dtype_name(dst.dtype),
                              dtype_name(src.dtype)));
      return;
    }
    if (src.dtype != DType::Fp32 && src.dtype != DType::Bf16) {
      problem(in, fmt::format("dtype must be fp32 or bf16, found {}", dtype_name(src.dtype)));
      return;
    }
    if (reduces) {
      const AluOp op = static_cast<AluOp>(in.ops[3].i);
      if (op != AluOp::Add && op != AluOp::Max)
        problem(in, fmt::format("op must be add (sum) or max, found {}", alu_op_name(op)));
    }
    if (gsize < 0 || gstride < 1) {
      problem(in, fmt::format("gsize {} must be >= 0 and gstride {} >= 1", gsize, gstride));
      return;
    }
    const int64_t d = total_elems(dst), s = total_elems(src);
    const int64_t g = gsize;
    switch (in.op) {
      case Opcode::AllGather:
        if (g > 0 && d != saturate(i128{g} * s))
          problem(in, fmt::format("dst has {} elements, expected gsize x src = {} x {}", d, g, s));
        return;
      case Opcode::ReduceScatter:
        if (g > 0 && s != saturate(i128{g} * d))
          problem(in, fmt::format("src has {} elements, expected gsize x dst = {} x {}", s, g, d));
        return;
      default:
        if (d != s) problem(in, fmt::format("dst has {} elements but src has {}", d, s));
        else if (in.op == Opcode::AllToAll && g > 0 && s % g != 0)
          problem(in, fmt::format("src has {} elements, not a multiple of gsize {}", s, g));
        return;
    }
  }

  // send/recv: one buffer in HBM or SBUF, fp32 or bf16 (as the collectives); a group and a
  // non-zero shift (the pairing sizes and dtypes are checked when the pair meets).
  void p2p(const Instr& in) {
    const AccessPattern& a = ap(in, 1);
    const char* what = in.info().operands[1].name;
    if (a.space == MemSpace::Psum) {
      problem(in, fmt::format("{}: send and recv read and write HBM or SBUF, not PSUM", what));
      return;
    }
    if (a.dtype != DType::Fp32 && a.dtype != DType::Bf16) {
      problem(in, fmt::format("dtype must be fp32 or bf16, found {}", dtype_name(a.dtype)));
      return;
    }
    const int64_t gsize = in.ops[2].i, gstride = in.ops[3].i, shift = in.ops[4].i;
    if (gsize < 0 || gstride < 1)
      problem(in, fmt::format("gsize {} must be >= 0 and gstride {} >= 1", gsize, gstride));
    else if (shift == 0)
      problem(in, "shift must not be 0 (a rank does not send to itself)");
  }

  // NC-v2/v3 move PSUM <-> SBUF only through compute-engine instructions [G1].
  void dma_psum(const Instr& in) {
    if (t_.dma_psum_access) return;
    for (int k : {1, 2})
      if (ap(in, k).space == MemSpace::Psum) {
        problem(in, fmt::format("a DMA cannot {} PSUM on this chip (dma.psum_access = 0); copy "
                                "through SBUF with act/dve",
                                k == 1 ? "write" : "read"));
        return;
      }
  }

  void int32_index(const Instr& in, int k) {
    if (ap(in, k).present() && ap(in, k).dtype != DType::Int32)
      problem(in, fmt::format("{} dtype must be int32, found {}", in.info().operands[k].name,
                              dtype_name(ap(in, k).dtype)));
  }

  void one_bank(const Instr& in) {
    const AccessPattern& dst = ap(in, 0);
    if (dst.offset_reg >= 0 || t_.psum_bank_bytes <= 0) return;
    Span s = byte_span(dst, true);
    if (s.lo < 0 || s.hi <= s.lo) return;
    if (s.lo / t_.psum_bank_bytes != (s.hi - 1) / t_.psum_bank_bytes)
      problem(in, fmt::format("dst bytes {}..{} cross a PSUM bank boundary (banks of {} bytes)",
                              num(s.lo), num(s.hi), t_.psum_bank_bytes));
  }

  const Program& prog_;
  const Target& t_;
  std::string file_;
  std::vector<std::string> out_;
  size_t core_ = 0;
  Engine engine_ = Engine::Pe;
  size_t index_ = 0;
  const std::vector<Instr>* stream_ = nullptr;
};

}  // namespace

std::vector<std::string> validation_problems(const Program& prog, const Target& target) {
  return Checker(prog, target).run();
}

void validate(const Program& prog, const Target& target) {
  auto problems = validation_problems(prog, target);
  if (!problems.empty()) throw InputError(problems.front());
}

}  // namespace trnsim::isa
