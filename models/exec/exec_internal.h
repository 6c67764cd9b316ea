// Internal helpers shared by the functional executor's per-family files (not a public header).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "models/exec/exec.h"

namespace trnsim::model::detail {

// The instruction being executed and where it lives, for operand access and messages.
struct Ctx {
  const isa::Instr& in;
  ExecState& st;
  const InstrRef& ref;

  // Throws SimFault "<describe_instr>: msg".
  [[noreturn]] void fault(const std::string& msg) const;
  const char* opnd_name(int k) const { return in.info().operands[k].name; }
  const isa::Operand& op(int k) const { return in.ops[k]; }
};

// A resolved, bounds-checked access pattern: element (p, i) lives at base + p*pstride + offs[i].
// For HBM, "partitions" are the rows of the pattern (partition_stride elements apart).
struct Tile {
  uint8_t* base = nullptr;
  int64_t pstride = 0;  // bytes between consecutive partitions / rows
  int np = 0;
  int64_t nfree = 0;
  isa::DType dt = isa::DType::Fp32;
  int esize = 4;
  bool contiguous = true;     // offs[i] == i * esize
  std::vector<int64_t> offs;  // byte offset of each free element, row-major (outermost first)

  uint8_t* at(int p, int64_t i) const { return base + p * pstride + offs[i]; }
  uint8_t* row(int p) const { return base + p * pstride; }
  int64_t total() const { return static_cast<int64_t>(np) * nfree; }
  bool is_int() const { return !isa::dtype_is_float(dt); }
};

// Byte offset of an AP including its register offset (regs may be null: offset 0).
int64_t effective_offset(const isa::AccessPattern& ap, const int64_t* regs);

// Resolves operand k (an AP) and checks it against the memories; throws SimFault naming the
// instruction, operand and offending range.
Tile resolve(const Ctx& c, int k);
// Only the checks of resolve_ap (no data needed: works on a CoreMem without bytes, and on HBM
// sizes from the program's declarations when st.hbm is null).
void check_ap(const Ctx& c, const isa::AccessPattern& ap, const char* what);
Tile resolve_ap(const Ctx& c, const isa::AccessPattern& ap, const char* what);
// Byte offsets of the free pattern of `ap` (row-major), and whether they are contiguous.
void free_offsets(const isa::AccessPattern& ap, std::vector<int64_t>& offs, bool& contiguous);

// Row loads/stores in fp32 or exact int64, with dtype fast paths.
void load_row_f32(const Tile& t, int p, float* out);
void store_row_f32(const Tile& t, int p, const float* in);
void load_row_i64(const Tile& t, int p, int64_t* out);
void store_row_i64(const Tile& t, int p, const int64_t* in);
std::vector<float> load_all_f32(const Tile& t);
void store_all_f32(const Tile& t, const std::vector<float>& v);
std::vector<int64_t> load_all_i64(const Tile& t);
void store_all_i64(const Tile& t, const std::vector<int64_t>& v);
// Copies t's elements (row-major) into a contiguous byte buffer (appending), or back.
void gather_bytes(const Tile& t, std::vector<uint8_t>& buf);
void scatter_bytes(const Tile& t, const std::vector<uint8_t>& buf);
// Converts a contiguous buffer of n `from` elements to `to` (exact for int <-> int).
std::vector<uint8_t> convert_bytes(const std::vector<uint8_t>& in, isa::DType from, isa::DType to);

inline void load_row(const Tile& t, int p, float* out) { load_row_f32(t, p, out); }
inline void load_row(const Tile& t, int p, int64_t* out) { load_row_i64(t, p, out); }
inline void store_row(const Tile& t, int p, const float* in) { store_row_f32(t, p, in); }
inline void store_row(const Tile& t, int p, const int64_t* in) { store_row_i64(t, p, in); }

// True when writing dst's row p right after reading row p of every source cannot change a
// later source row: different memories, the same start partition, or disjoint partitions.
bool rowwise_safe(const isa::AccessPattern& dst, std::initializer_list<const isa::AccessPattern*> srcs);

// Elementwise driver: kernel(p, rows) computes dst row p in place into rows[0], reading
// rows[0..n) (row p of each input, as T). Streams one row at a time when that is safe, else
// reads every input fully before the first write.
template <typename T, size_t N, typename Kernel>
void map_rows(const Tile& dst, const Tile* const (&ins)[N], bool rowwise, Kernel kernel) {
  const int64_t F = dst.nfree;
  const int64_t rows = rowwise ? 1 : dst.np;
  std::vector<T> buf[N];
  for (size_t j = 0; j < N; ++j) {
    buf[j].resize(static_cast<size_t>(rows * F));
    if (!rowwise)
      for (int p = 0; p < dst.np; ++p) load_row(*ins[j], p, buf[j].data() + p * F);
  }
  T* r[N];
  for (int p = 0; p < dst.np; ++p) {
    for (size_t j = 0; j < N; ++j) {
      r[j] = buf[j].data() + (rowwise ? 0 : p * F);
      if (rowwise) load_row(*ins[j], p, r[j]);
    }
    kernel(p, r);
    if (rowwise) store_row(dst, p, r[0]);
  }
  if (!rowwise)
    for (int p = 0; p < dst.np; ++p) store_row(dst, p, buf[0].data() + p * F);
}

// Faults unless a and b have the same partition count and elements per partition.
void check_same_shape(const Ctx& c, const Tile& a, const char* an, const Tile& b, const char* bn);

// Per-partition values of a Scalar operand: the immediate, or element 0 of each partition of a
// [P,1] AP (which must have np partitions).
std::vector<float> scalar_values(const Ctx& c, int k, int np);
// True when a Scalar operand is an integer: an int-dtype AP, or an immediate with integral value.
bool scalar_is_int(const Ctx& c, int k);

// ALU semantics (isa.def TRNSIM_ALU).
float alu_f32(isa::AluOp op, float a, float b);
int64_t alu_i64(isa::AluOp op, int64_t a, int64_t b);

// Per-family executors.
void exec_matmul(const Ctx& c);
void exec_transpose(const Ctx& c);
void exec_act(const Ctx& c);
float act_fn(isa::ActFn f, float x);
void exec_tt(const Ctx& c);
void exec_ts(const Ctx& c);
void exec_reduce(const Ctx& c);
void exec_copy(const Ctx& c);
void exec_memset(const Ctx& c);
void exec_select(const Ctx& c);
void exec_scan(const Ctx& c);
void exec_bn_stats(const Ctx& c);
void exec_bn_aggr(const Ctx& c);
void exec_iota(const Ctx& c);
void exec_preduce(const Ctx& c);
void exec_gather(const Ctx& c);
void exec_dma(const Ctx& c);
void exec_dma_gather(const Ctx& c);

}  // namespace trnsim::model::detail
