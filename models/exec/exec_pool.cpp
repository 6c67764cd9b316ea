// Functional executor: GpSimd instructions (iota, partition reduce, gather).
#include <string>

#include "models/exec/exec_internal.h"

namespace trnsim::model::detail {

using isa::AluOp;

void exec_iota(const Ctx& c) {
  Tile dst = resolve(c, 0);
  const int64_t base = c.op(1).i, pmul = c.op(2).i;
  std::vector<int64_t> row(static_cast<size_t>(dst.nfree));
  for (int p = 0; p < dst.np; ++p) {
    // p is the partition's index within dst (0 = dst's first partition).
    for (int64_t i = 0; i < dst.nfree; ++i) row[i] = base + pmul * p + i;
    store_row_i64(dst, p, row.data());
  }
}

void exec_preduce(const Ctx& c) {
  Tile dst = resolve(c, 0);
  Tile src = resolve(c, 1);
  const int64_t v = c.op(2).i;
  if (v < 0 || v >= isa::kNumAluOps) c.fault("bad ALU op " + std::to_string(v));
  const AluOp op = static_cast<AluOp>(v);
  switch (op) {
    case AluOp::Add: case AluOp::Max: case AluOp::Min: case AluOp::Mul:
    case AluOp::And: case AluOp::Or: case AluOp::Xor: break;
    default: c.fault(std::string("preduce op ") + std::string(isa::alu_op_name(op)) +
                     " is not supported");
  }
  if (dst.nfree != src.nfree)
    c.fault("dst has " + std::to_string(dst.nfree) + " elements per partition but src has " +
            std::to_string(src.nfree));
  if (src.np < 1) c.fault("src has no partitions");
  const int64_t F = src.nfree;
  if (src.is_int() || isa::alu_op_int_only(op)) {
    std::vector<int64_t> in = load_all_i64(src);
    std::vector<int64_t> acc(in.begin(), in.begin() + F);
    for (int p = 1; p < src.np; ++p)
      for (int64_t f = 0; f < F; ++f) acc[f] = alu_i64(op, acc[f], in[p * F + f]);
    for (int q = 0; q < dst.np; ++q) store_row_i64(dst, q, acc.data());
    return;
  }
  std::vector<float> in = load_all_f32(src);
  std::vector<float> acc(in.begin(), in.begin() + F);
  for (int p = 1; p < src.np; ++p)
    for (int64_t f = 0; f < F; ++f) acc[f] = alu_f32(op, acc[f], in[p * F + f]);
  for (int q = 0; q < dst.np; ++q) store_row_f32(dst, q, acc.data());
}

void exec_gather(const Ctx& c) {
  Tile dst = resolve(c, 0);
  Tile src = resolve(c, 1);
  Tile idx = resolve(c, 2);
  check_same_shape(c, dst, "dst", idx, "idx");
  if (src.np != dst.np)
    c.fault("src has " + std::to_string(src.np) + " partitions but dst has " +
            std::to_string(dst.np));
  if (!idx.is_int()) c.fault("idx must have an integer dtype");
  const int64_t F = dst.nfree, S = src.nfree;
  std::vector<int64_t> ix = load_all_i64(idx);
  for (int p = 0; p < dst.np; ++p)
    for (int64_t i = 0; i < F; ++i) {
      const int64_t k = ix[p * F + i];
      if (k < 0 || k >= S)
        c.fault("idx " + std::to_string(k) + " at partition " + std::to_string(p) + " element " +
                std::to_string(i) + " out of range [0, " + std::to_string(S) + ")");
    }
  if (dst.is_int() && src.is_int()) {
    std::vector<int64_t> in = load_all_i64(src), out(ix.size());
    for (int p = 0; p < dst.np; ++p)
      for (int64_t i = 0; i < F; ++i) out[p * F + i] = in[p * S + ix[p * F + i]];
    store_all_i64(dst, out);
    return;
  }
  std::vector<float> in = load_all_f32(src), out(ix.size());
  for (int p = 0; p < dst.np; ++p)
    for (int64_t i = 0; i < F; ++i) out[p * F + i] = in[p * S + ix[p * F + i]];
  store_all_f32(dst, out);
}

}  // namespace trnsim::model::detail
