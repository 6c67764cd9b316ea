// Functional executor: elementwise, reduction, copy and batch-norm statistics instructions.
#include <cstring>
#include <string>

#include "models/exec/exec_internal.h"

namespace trnsim::model::detail {

using isa::AluOp;

namespace {

AluOp alu_operand(const Ctx& c, int k) {
  const int64_t v = c.op(k).i;
  if (v < 0 || v >= isa::kNumAluOps) c.fault("bad ALU op " + std::to_string(v));
  return static_cast<AluOp>(v);
}

std::vector<int64_t> scalar_ints(const Ctx& c, int k, int np) {
  const isa::Operand& o = c.op(k);
  std::vector<int64_t> v(static_cast<size_t>(np));
  if (!o.ap.present()) {
    for (auto& x : v) x = static_cast<int64_t>(o.f);
    return v;
  }
  Tile t = resolve(c, k);
  if (t.np != np || t.nfree < 1)
    c.fault(std::string(c.opnd_name(k)) + " must be a per-partition [" + std::to_string(np) +
            ",1] access pattern");
  for (int p = 0; p < np; ++p) v[p] = isa::load_as_int(t.dt, t.row(p) + t.offs[0]);
  return v;
}

}  // namespace

void exec_tt(const Ctx& c) {
  Tile dst = resolve(c, 0);
  Tile a = resolve(c, 1);
  Tile b = resolve(c, 2);
  const AluOp op = alu_operand(c, 3);
  check_same_shape(c, dst, "dst", a, "a");
  check_same_shape(c, dst, "dst", b, "b");
  const bool rw = rowwise_safe(c.op(0).ap, {&c.op(1).ap, &c.op(2).ap});
  const Tile* const ins[2] = {&a, &b};
  const int64_t F = dst.nfree;
  if (a.is_int() && b.is_int()) {  // exact integer arithmetic
    map_rows<int64_t>(dst, ins, rw, [&](int, int64_t* const* r) {
      for (int64_t i = 0; i < F; ++i) r[0][i] = alu_i64(op, r[0][i], r[1][i]);
    });
    return;
  }
  map_rows<float>(dst, ins, rw, [&](int, float* const* r) {
    float* x = r[0];
    const float* y = r[1];
    switch (op) {  // the common ops get a loop the compiler can vectorise
      case AluOp::Add:
        for (int64_t i = 0; i < F; ++i) x[i] = x[i] + y[i];
        break;
      case AluOp::Sub:
        for (int64_t i = 0; i < F; ++i) x[i] = x[i] - y[i];
        break;
      case AluOp::Mul:
        for (int64_t i = 0; i < F; ++i) x[i] = x[i] * y[i];
        break;
      default:
        for (int64_t i = 0; i < F; ++i) x[i] = alu_f32(op, x[i], y[i]);
    }
  });
}

void exec_ts(const Ctx& c) {
  Tile dst = resolve(c, 0);
  Tile src = resolve(c, 1);
  check_same_shape(c, dst, "dst", src, "src");
  const AluOp op0 = alu_operand(c, 2), op1 = alu_operand(c, 4);
  const bool use1 = op1 != AluOp::Bypass;
  const bool ints = src.is_int() && scalar_is_int(c, 3) && (!use1 || scalar_is_int(c, 5));
  const int64_t F = src.nfree;
  const bool rw = rowwise_safe(c.op(0).ap, {&c.op(1).ap});
  const Tile* const ins[1] = {&src};
  if (ints) {
    std::vector<int64_t> s0 = scalar_ints(c, 3, src.np), s1;
    if (use1) s1 = scalar_ints(c, 5, src.np);
    map_rows<int64_t>(dst, ins, rw, [&](int p, int64_t* const* r) {
      for (int64_t i = 0; i < F; ++i) {
        int64_t x = alu_i64(op0, r[0][i], s0[p]);
        r[0][i] = use1 ? alu_i64(op1, x, s1[p]) : x;
      }
    });
    return;
  }
  std::vector<float> s0 = scalar_values(c, 3, src.np), s1;
  if (use1) s1 = scalar_values(c, 5, src.np);
  map_rows<float>(dst, ins, rw, [&](int p, float* const* r) {
    float* x = r[0];
    const float a = s0[p];
    if (op0 == AluOp::Mul) {
      for (int64_t i = 0; i < F; ++i) x[i] = x[i] * a;
    } else if (op0 == AluOp::Add) {
      for (int64_t i = 0; i < F; ++i) x[i] = x[i] + a;
    } else {
      for (int64_t i = 0; i < F; ++i) x[i] = alu_f32(op0, x[i], a);
    }
    if (use1) {
      const float b = s1[p];
      for (int64_t i = 0; i < F; ++i) x[i] = alu_f32(op1, x[i], b);
    }
  });
}

// tensor_tensor_scan: a recurrence along each partition's free pattern, exact on integers.
void exec_scan(const Ctx& c) {
  Tile dst = resolve(c, 0);
  Tile a = resolve(c, 1);
  Tile b = resolve(c, 2);
  check_same_shape(c, dst, "dst", a, "a");
  check_same_shape(c, dst, "dst", b, "b");
  const AluOp op0 = alu_operand(c, 3), op1 = alu_operand(c, 4);
  const int64_t F = dst.nfree;
  const Tile* const ins[2] = {&a, &b};
  // Whole rows are read before the first write: dst may alias a or b.
  if (a.is_int() && b.is_int() && scalar_is_int(c, 5)) {
    const std::vector<int64_t> init = scalar_ints(c, 5, dst.np);
    map_rows<int64_t>(dst, ins, false, [&](int p, int64_t* const* r) {
      int64_t s = init[p];
      for (int64_t i = 0; i < F; ++i) r[0][i] = s = alu_i64(op1, alu_i64(op0, r[0][i], s), r[1][i]);
    });
    return;
  }
  const std::vector<float> init = scalar_values(c, 5, dst.np);
  map_rows<float>(dst, ins, false, [&](int p, float* const* r) {
    float s = init[p];
    for (int64_t i = 0; i < F; ++i) r[0][i] = s = alu_f32(op1, alu_f32(op0, r[0][i], s), r[1][i]);
  });
}

void exec_reduce(const Ctx& c) {
  Tile dst = resolve(c, 0);
  Tile src = resolve(c, 1);
  const AluOp op = alu_operand(c, 2);
  const isa::AccessPattern& sap = c.op(1).ap;
  const int64_t axes = c.op(3).i;
  if (axes < 1 || axes > sap.ndims)
    c.fault("axes " + std::to_string(axes) + " out of range [1, " + std::to_string(sap.ndims) +
            "] for src with " + std::to_string(sap.ndims) + " free dims");
  switch (op) {
    case AluOp::Add: case AluOp::Max: case AluOp::Min: case AluOp::Mul:
    case AluOp::And: case AluOp::Or: case AluOp::Xor: break;
    default: c.fault(std::string("reduce op ") + std::string(isa::alu_op_name(op)) +
                     " is not supported");
  }
  int64_t inner = 1;
  for (int d = sap.ndims - static_cast<int>(axes); d < sap.ndims; ++d) inner *= sap.dims[d].count;
  if (inner == 0) c.fault("reduction over zero elements");
  const int64_t outer = src.nfree / inner;
  if (dst.np != src.np || dst.nfree != outer)
    c.fault("dst is " + std::to_string(dst.np) + "x" + std::to_string(dst.nfree) +
            " but the reduction of src is " + std::to_string(src.np) + "x" + std::to_string(outer));
  if (src.is_int() || isa::alu_op_int_only(op)) {
    std::vector<int64_t> v = load_all_i64(src), out(static_cast<size_t>(dst.total()));
    for (int64_t g = 0; g < static_cast<int64_t>(out.size()); ++g) {
      const int64_t* r = v.data() + g * inner;
      int64_t acc = r[0];
      for (int64_t i = 1; i < inner; ++i) acc = alu_i64(op, acc, r[i]);
      out[g] = acc;
    }
    store_all_i64(dst, out);
    return;
  }
  std::vector<float> v = load_all_f32(src), out(static_cast<size_t>(dst.total()));
  for (int64_t g = 0; g < static_cast<int64_t>(out.size()); ++g) {
    const float* r = v.data() + g * inner;
    float acc = r[0];
    if (op == AluOp::Add) {
      for (int64_t i = 1; i < inner; ++i) acc += r[i];
    } else {
      for (int64_t i = 1; i < inner; ++i) acc = alu_f32(op, acc, r[i]);
    }
    out[g] = acc;
  }
  store_all_f32(dst, out);
}

void exec_copy(const Ctx& c) {
  Tile dst = resolve(c, 0);
  Tile src = resolve(c, 1);
  check_same_shape(c, dst, "dst", src, "src");
  if (dst.dt == src.dt) {
    std::vector<uint8_t> buf;
    gather_bytes(src, buf);
    scatter_bytes(dst, buf);
    return;
  }
  const bool rw = rowwise_safe(c.op(0).ap, {&c.op(1).ap});
  const Tile* const ins[1] = {&src};
  if (dst.is_int() && src.is_int()) {
    map_rows<int64_t>(dst, ins, rw, [](int, int64_t* const*) {});
  } else {
    map_rows<float>(dst, ins, rw, [](int, float* const*) {});
  }
}

void exec_memset(const Ctx& c) {
  Tile dst = resolve(c, 0);
  uint8_t bytes[8];
  isa::store_from_float(dst.dt, c.op(1).f, bytes);
  const size_t es = static_cast<size_t>(dst.esize);
  for (int p = 0; p < dst.np; ++p) {
    uint8_t* r = dst.row(p);
    for (int64_t i = 0; i < dst.nfree; ++i) std::memcpy(r + dst.offs[i], bytes, es);
  }
}

void exec_select(const Ctx& c) {
  Tile dst = resolve(c, 0);
  Tile pred = resolve(c, 1);
  Tile t = resolve(c, 2);
  Tile f = resolve(c, 3);
  check_same_shape(c, dst, "dst", pred, "pred");
  check_same_shape(c, dst, "dst", t, "on_true");
  check_same_shape(c, dst, "dst", f, "on_false");
  const bool rw = rowwise_safe(c.op(0).ap, {&c.op(1).ap, &c.op(2).ap, &c.op(3).ap});
  const int64_t F = dst.nfree;
  // The predicate is read in its own domain so that int 1 and fp32 0.25 both count as true.
  std::vector<char> take(static_cast<size_t>(pred.total()));
  if (pred.is_int()) {
    std::vector<int64_t> pv = load_all_i64(pred);
    for (size_t i = 0; i < pv.size(); ++i) take[i] = pv[i] != 0;
  } else {
    std::vector<float> pv = load_all_f32(pred);
    for (size_t i = 0; i < pv.size(); ++i) take[i] = pv[i] != 0.0f;
  }
  const Tile* const ins[2] = {&t, &f};
  if (dst.is_int() && t.is_int() && f.is_int()) {
    map_rows<int64_t>(dst, ins, rw, [&](int p, int64_t* const* r) {
      for (int64_t i = 0; i < F; ++i) if (!take[p * F + i]) r[0][i] = r[1][i];
    });
    return;
  }
  map_rows<float>(dst, ins, rw, [&](int p, float* const* r) {
    for (int64_t i = 0; i < F; ++i) if (!take[p * F + i]) r[0][i] = r[1][i];
  });
}

void exec_bn_stats(const Ctx& c) {
  Tile dst = resolve(c, 0);
  Tile src = resolve(c, 1);
  if (dst.np != src.np || dst.nfree != 6)
    c.fault("dst must be [" + std::to_string(src.np) + ",6], got " + std::to_string(dst.np) +
            "x" + std::to_string(dst.nfree));
  const int64_t F = src.nfree;
  std::vector<float> v = load_all_f32(src), out(static_cast<size_t>(src.np) * 6);
  for (int p = 0; p < src.np; ++p) {
    const float* r = v.data() + p * F;
    for (int par = 0; par < 2; ++par) {
      float sum = 0.0f;
      int64_t n = 0;
      for (int64_t i = par; i < F; i += 2, ++n) sum += r[i];
      const float mean = n ? sum / static_cast<float>(n) : 0.0f;
      float m2 = 0.0f;
      for (int64_t i = par; i < F; i += 2) m2 += (r[i] - mean) * (r[i] - mean);
      float* o = out.data() + p * 6 + par * 3;
      o[0] = static_cast<float>(n);
      o[1] = mean;
      o[2] = m2;
    }
  }
  store_all_f32(dst, out);
}

void exec_bn_aggr(const Ctx& c) {
  Tile dst = resolve(c, 0);
  Tile src = resolve(c, 1);
  if (src.nfree == 0 || src.nfree % 6 != 0)
    c.fault("src must hold groups of 6 bn_stats values, got " + std::to_string(src.nfree) +
            " elements per partition");
  if (dst.np != src.np || dst.nfree != 2)
    c.fault("dst must be [" + std::to_string(src.np) + ",2], got " + std::to_string(dst.np) +
            "x" + std::to_string(dst.nfree));
  const int64_t F = src.nfree;
  std::vector<float> v = load_all_f32(src), out(static_cast<size_t>(src.np) * 2);
  for (int p = 0; p < src.np; ++p) {
    const float* r = v.data() + p * F;
    float n = 0.0f, wsum = 0.0f;
    for (int64_t g = 0; g < F; g += 3) {
      n += r[g];
      wsum += r[g] * r[g + 1];
    }
    const float mean = n > 0.0f ? wsum / n : 0.0f;
    float m2 = 0.0f;
    for (int64_t g = 0; g < F; g += 3) {
      const float d = r[g + 1] - mean;
      m2 += r[g + 2] + r[g] * d * d;
    }
    out[p * 2] = mean;
    out[p * 2 + 1] = n > 0.0f ? m2 / n : 0.0f;
  }
  store_all_f32(dst, out);
}

}  // namespace trnsim::model::detail
