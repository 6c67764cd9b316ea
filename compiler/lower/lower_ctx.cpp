#include "compiler/lower/lower_ctx.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

using isa::AccessPattern;
using isa::MemSpace;

namespace {
constexpr int kComputeStreams = 4;  // pe, act, dve, pool each own a semaphore
constexpr int kMaxQueues = 16;  // several queues so transfers' fixed costs overlap
// DMAs issued by pool or act get queues of their own: the semaphore pass counts a queue's
// completions in program order, which holds only when one engine issues all of its transfers.
constexpr int kPoolQueues = 4, kActQueues = 2;
constexpr int kSideQueues = kPoolQueues + kActQueues;
constexpr int64_t kAlign = 64;

// A constant's bytes in HBM. Weights are the bulk of a large model: fp32 -> fp32/bf16 take
// loops without per-element dtype dispatch, and packed fp32 (from the model file) is not unpacked.
// A deferred value (a weight a timing-only compile left in the model file) gets no bytes: the
// program's const tensor is `absent`.
std::vector<uint8_t> encode(const Value& v, DType t) {
  if (!v.data.has_data()) return {};
  const int es = isa::dtype_size(t);
  std::vector<uint8_t> bytes(static_cast<size_t>(v.numel() * es));
  const std::string* fp32 = v.data.packed_fp32_bytes();
  if (fp32 && t == DType::Fp32) {
    std::memcpy(bytes.data(), fp32->data(), fp32->size());
  } else if (t == DType::Bf16) {
    for (int64_t i = 0; i < v.numel(); ++i) {
      uint16_t h = isa::float_to_bf16(static_cast<float>(v.data[i]));
      std::memcpy(&bytes[i * 2], &h, 2);
    }
  } else if (t == DType::Fp32) {
    for (int64_t i = 0; i < v.numel(); ++i) {
      float f = static_cast<float>(v.data[i]);
      std::memcpy(&bytes[i * 4], &f, 4);
    }
  } else if (isa::dtype_is_float(t)) {
    for (int64_t i = 0; i < v.numel(); ++i)
      isa::store_from_float(t, static_cast<float>(v.data[i]), &bytes[i * es]);
  } else {
    for (int64_t i = 0; i < v.numel(); ++i) isa::store_from_int(t, v.data.int_at(i), &bytes[i * es]);
  }
  return bytes;
}
}  // namespace

Value transposed_const(const Value& v, int64_t rows, int64_t cols) {
  auto transpose = [rows, cols](const Value& v) {
    Value t(DType::Fp32, {cols, rows});
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) t.data[c * rows + r] = v.data[r * cols + c];
    return t;
  };
  if (v.data.has_data()) return transpose(v);
  return Value::deferred(DType::Fp32, {cols, rows}, [transpose, v] { return transpose(v).data; });
}

isa::Instr make_instr(isa::Opcode op) {
  isa::Instr in;
  in.op = op;
  return in;
}
isa::Operand ap_operand(const AccessPattern& ap) {
  isa::Operand o;
  o.ap = ap;
  return o;
}
isa::Operand imm(float f) {
  isa::Operand o;
  o.f = f;
  return o;
}
std::vector<int64_t> broadcast_strides(const HbmView& v, const Shape& out) {
  std::vector<int64_t> st(out.size(), 0);
  const size_t off = out.size() - v.shape.size();
  for (size_t i = 0; i < v.shape.size(); ++i) st[off + i] = v.shape[i] == 1 ? 0 : v.strides[i];
  return st;
}

isa::Operand int_operand(int64_t i) {
  isa::Operand o;
  o.i = i;
  return o;
}

LowerCtx::LowerCtx(const Graph& g, const isa::Target& t, DType mm_dtype, Lowered& out)
    : g_(g), t_(t), mm_dtype_(mm_dtype), out_(out) {
  num_queues_ = std::max(1, std::min({kMaxQueues, t.num_dma_queues,
                                      t.num_semaphores - kComputeStreams}));
  if (t.num_semaphores < kComputeStreams + 1)
    throw InputError(fmt::format("chip has {} semaphores per core; the compiler needs at least {}",
                                 t.num_semaphores, kComputeStreams + 1));
  // Graph inputs and outputs first, in graph order, so the program's boundary is stable.
  for (int id : g.inputs) declare(id);
  for (int id : g.outputs) declare(id);
  // A constant that is also a graph output: the output tensor is written last (lower_graph's
  // boundary copy), so consumers read the constant's own bytes instead.
  for (int id : g.outputs) {
    const Tensor& t = g.t(id);
    if (!t.is_const() || t.is_input || const_outputs_.count(id)) continue;
    const_outputs_[id] = hbm_.at(id);
    hbm_.erase(id);
    hbm_[id] = add_const(t.name + ".const", *t.value);
  }
}

HbmView LowerCtx::output_view(int id) {
  auto it = const_outputs_.find(id);
  return it != const_outputs_.end() ? it->second : view(id);
}

DType LowerCtx::sbuf_dtype(DType t) {
  if (isa::dtype_is_float(t)) return DType::Fp32;
  return DType::Int64;  // integers and bools: exact 64-bit integers
}

int LowerCtx::declare(int id) {
  auto it = hbm_.find(id);
  if (it != hbm_.end()) return it->second.tensor;
  const Tensor& t = g_.t(id);
  isa::TensorDecl d;
  d.name = t.name;
  d.dtype = t.dtype;
  d.shape = t.shard_axis >= 0 ? t.shard_global : t.shape;
  if (t.is_input) {
    d.role = isa::TensorRole::Input;
  } else if (t.is_output) {
    d.role = isa::TensorRole::Output;
  } else if (t.is_const()) {
    d.role = isa::TensorRole::Const;
    d.data = encode(*t.value, t.dtype);
  } else {
    d.role = isa::TensorRole::Scratch;
  }
  if (out_.prog.tensors.size() >= 65535)
    throw InputError(g_.source + ": too many tensors for one program");
  out_.prog.tensors.push_back(std::move(d));
  HbmView v;
  v.tensor = static_cast<int>(out_.prog.tensors.size()) - 1;
  v.dtype = t.dtype;
  v.shape = t.shape;
  v.strides = row_major_strides(t.shard_axis >= 0 ? t.shard_global : t.shape);
  hbm_[id] = v;
  return v.tensor;
}

HbmView LowerCtx::view(int id) {
  declare(id);
  return hbm_.at(id);
}

namespace {
// Strides that read the elements of view (shape, strides) in row-major order as `to`, without a
// copy (numpy's attempt_nocopy_reshape): each group of old dims that merges or splits into new
// ones must be contiguous within itself. nullopt when the view cannot be reshaped in place.
std::optional<std::vector<int64_t>> reshaped_strides(const Shape& shape,
                                                     const std::vector<int64_t>& strides,
                                                     const Shape& to) {
  if (strides == row_major_strides(shape) || num_elements(shape) == 0) return row_major_strides(to);
  Shape od;
  std::vector<int64_t> os;
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] != 1) {
      od.push_back(shape[i]);
      os.push_back(strides[i]);
    }
  std::vector<int64_t> ns(to.size(), 1);
  size_t oi = 0, oj = 1, ni = 0, nj = 1;
  const size_t nold = od.size(), nnew = to.size();
  while (ni < nnew && oi < nold) {
    int64_t np = to[ni], op = od[oi];
    while (np != op) {
      if (np < op) {
        if (nj >= nnew) return std::nullopt;
        np *= to[nj++];
      } else {
        if (oj >= nold) return std::nullopt;
        op *= od[oj++];
      }
    }
    for (size_t ok = oi; ok + 1 < oj; ++ok)
      if (os[ok] != od[ok + 1] * os[ok + 1]) return std::nullopt;
    ns[nj - 1] = os[oj - 1];
    for (size_t nk = nj - 1; nk > ni; --nk) ns[nk - 1] = ns[nk] * to[nk];
    ni = nj++;
    oi = oj++;
  }
  return ns;
}
}  // namespace

bool LowerCtx::try_alias(int dst, int src) {
  if (hbm_.count(dst)) throw std::logic_error("alias of an already placed tensor");
  HbmView v = view(src);
  auto st = reshaped_strides(v.shape, v.strides, g_.t(dst).shape);
  if (!st) return false;
  v.shape = g_.t(dst).shape;
  v.strides = *st;
  hbm_[dst] = v;
  return true;
}

void LowerCtx::alias(int dst, int src) {
  if (!try_alias(dst, src))
    throw std::logic_error("alias of a strided view that cannot be reshaped in place (" +
                           g_.t(src).name + ")");
}

void LowerCtx::alias_view(int dst, const HbmView& v) {
  if (hbm_.count(dst)) throw std::logic_error("alias of an already placed tensor");
  hbm_[dst] = v;
}

HbmView LowerCtx::add_const(const std::string& name, const Value& val) {
  return add_const(name, val, val.dtype);
}

HbmView LowerCtx::add_const(const std::string& name, const Value& val, DType as) {
  isa::TensorDecl d;
  d.name = name;
  d.dtype = as;
  d.shape = val.shape;
  d.role = isa::TensorRole::Const;
  d.data = encode(val, as);
  out_.prog.tensors.push_back(std::move(d));
  HbmView v;
  v.tensor = static_cast<int>(out_.prog.tensors.size()) - 1;
  v.dtype = as;
  v.shape = val.shape;
  v.strides = row_major_strides(val.shape);
  return v;
}

void LowerCtx::begin_node(const Node& n) {
  tag_ = out_.prog.intern(n.name);
  node_ = &n;
}

const std::vector<LowerCtx::Store>& LowerCtx::stores(int tensor) const {
  static const std::vector<Store> kNone;
  auto it = stores_.find(tensor);
  return it == stores_.end() ? kNone : it->second;
}

int64_t LowerCtx::sbuf_alloc(int64_t bytes) {
  bytes = (bytes + kAlign - 1) / kAlign * kAlign;
  if (bytes > t_.sbuf_bytes_per_partition)
    // Without the file name: lower_graph prefixes the node (file: node 'x' (op Y): ...).
    throw InputError(fmt::format("a tile needs {} bytes per partition; SBUF has {}", bytes,
                                 t_.sbuf_bytes_per_partition));
  if (bytes > t_.sbuf_bytes_per_partition - pinned_)
    throw std::logic_error("SBUF ring too small for a tile while operands are pinned");
  if (sbuf_next_ + bytes > t_.sbuf_bytes_per_partition - pinned_) sbuf_next_ = 0;
  int64_t off = sbuf_next_;
  sbuf_next_ += bytes;
  return new_buffer(bytes, off, false);
}

int64_t LowerCtx::new_buffer(int64_t bytes, int64_t ring_offset, bool pinned) {
  SbufBuffer b;
  b.vbase = kSbufVirtBase + static_cast<int64_t>(out_.sbuf_buffers.size()) * kSbufVirtStride;
  b.bytes = bytes;
  b.ring_offset = ring_offset;
  b.pinned = pinned;
  out_.sbuf_buffers.push_back(b);
  return b.vbase;
}

int64_t LowerCtx::sbuf_pin(int64_t bytes, double max_share) {
  bytes = (bytes + kAlign - 1) / kAlign * kAlign;
  const int64_t cap = t_.sbuf_bytes_per_partition;
  if (static_cast<double>(pinned_ + bytes) > max_share * static_cast<double>(cap)) return -1;
  pinned_ += bytes;
  // Ring slots inside the newly pinned range are done with (their users were all emitted); the
  // semaphore pass orders the new writes after their last readers.
  if (sbuf_next_ > cap - pinned_) sbuf_next_ = 0;
  return new_buffer(bytes, cap - pinned_, true);
}

int64_t LowerCtx::psum_alloc() {
  int64_t off = static_cast<int64_t>(psum_next_) * t_.psum_bank_bytes;
  psum_next_ = (psum_next_ + 1) % t_.psum_banks;
  return off;
}

int64_t LowerCtx::max_free(int buffers) const {
  // Keep at least 4 iterations' worth of buffers in the SBUF ring for overlap.
  int64_t f = t_.sbuf_bytes_per_partition / (4 * 4 * std::max(1, buffers));
  f = f / 16 * 16;
  return std::clamp<int64_t>(f, 1, 2048);
}

void LowerCtx::emit(isa::Engine e, isa::Instr in) {
  in.tag = tag_;
  out_.code.push_back({e, in});
}

void LowerCtx::dma(const AccessPattern& dst, const AccessPattern& src, isa::Engine e) {
  isa::Instr in = make_instr(isa::Opcode::Dma);
  int q = 0;
  if (e == isa::Engine::Sp || num_queues_ < 2 + kSideQueues) {
    e = isa::Engine::Sp;  // too few queues to give other issuers their own
    q = next_queue();
  } else {
    // pool: the queues after sp's, act: the last ones.
    const bool pool = e == isa::Engine::Pool;
    int& next = pool ? pool_queue_next_ : act_queue_next_;
    q = num_queues_ - (pool ? kSideQueues : kActQueues) + next;
    next = (next + 1) % (pool ? kPoolQueues : kActQueues);
  }
  in.ops[0] = int_operand(q);
  in.ops[1] = ap_operand(dst);
  in.ops[2] = ap_operand(src);
  if (dst.space == MemSpace::Hbm && src.space == MemSpace::Sbuf)
    stores_[dst.tensor].push_back({dst, src});
  emit(e, in);
}

int LowerCtx::next_queue() {
  const int sp_queues = num_queues_ >= 2 + kSideQueues ? num_queues_ - kSideQueues : num_queues_;
  int q = queue_next_;
  queue_next_ = (queue_next_ + 1) % sp_queues;
  return q;
}

AccessPattern LowerCtx::sbuf(int64_t offset, int64_t np, int64_t nf, DType dt) const {
  AccessPattern ap;
  ap.space = MemSpace::Sbuf;
  ap.dtype = dt;
  ap.start_partition = 0;
  ap.num_partitions = static_cast<int32_t>(np);
  ap.offset = offset;
  ap.ndims = 1;
  ap.dims[0] = {1, nf};
  return ap;
}

AccessPattern LowerCtx::psum(int64_t offset, int64_t np, int64_t nf) const {
  AccessPattern ap = sbuf(offset, np, nf, DType::Fp32);
  ap.space = MemSpace::Psum;
  return ap;
}

AccessPattern LowerCtx::hbm(const HbmView& v, int64_t offset, int64_t np, int64_t pstride,
                            std::vector<isa::Dim> dims) const {
  AccessPattern ap;
  ap.space = MemSpace::Hbm;
  ap.dtype = v.dtype;
  ap.tensor = static_cast<uint16_t>(v.tensor);
  if (np > isa::kMaxHbmRows)
    throw std::logic_error(fmt::format("hbm access of {} rows (the ISA allows at most {})", np,
                                       isa::kMaxHbmRows));
  ap.num_partitions = static_cast<int32_t>(np);
  ap.partition_stride = pstride;
  ap.offset = offset * isa::dtype_size(v.dtype);
  ap.ndims = static_cast<uint8_t>(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) ap.dims[i] = dims[i];
  return ap;
}

void LowerCtx::for_each_tile(const Shape& shape, const std::vector<std::vector<int64_t>>& strides,
                             int64_t max_f, const std::function<void(const TileSpec&)>& f) const {
  const size_t k = strides.size();
  // Drop unit dims and merge dims that are contiguous for every operand.
  Shape cnt;
  std::vector<std::vector<int64_t>> st(k);
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !cnt.empty();
    for (size_t j = 0; j < k && merge; ++j) merge = st[j].back() == strides[j][d] * shape[d];
    if (merge) {
      cnt.back() *= shape[d];
      for (size_t j = 0; j < k; ++j) st[j].back() = strides[j][d];
    } else {
      cnt.push_back(shape[d]);
      for (size_t j = 0; j < k; ++j) st[j].push_back(strides[j][d]);
    }
  }
  if (num_elements(shape) == 0) return;
  if (cnt.empty()) {
    cnt.push_back(1);
    for (auto& s : st) s.push_back(0);
  }
  if (cnt.size() == 1) {
    // One dimension: fold it into partitions x free.
    int64_t n = cnt[0], p = std::min<int64_t>(t_.partitions, n);
    while (n % p != 0) --p;
    if (2 * p < std::min<int64_t>(t_.partitions, n)) {
      // No divisor fills half the partitions (a prime length like 30,517 gave 1 partition, and
      // with a small max_f one tile per element): blocks of full partitions x F, then the rest.
      const int64_t P = t_.partitions;
      const int64_t F = std::max<int64_t>(1, std::min(max_f, (n + P - 1) / P));
      TileSpec ts;
      ts.offsets.resize(k);
      ts.pstride.resize(k);
      ts.fstride.resize(k);
      for (size_t j = 0; j < k; ++j) {
        ts.pstride[j] = F * st[j][0];
        ts.fstride[j] = st[j][0];
      }
      for (int64_t e0 = 0; e0 < n; e0 += ts.np * ts.nf) {
        const int64_t left = n - e0;
        ts.nf = std::min(F, left);
        ts.np = left >= F ? std::min(P, left / F) : 1;
        for (size_t j = 0; j < k; ++j) ts.offsets[j] = e0 * st[j][0];
        f(ts);
      }
      return;
    }
    cnt = {p, n / p};
    for (auto& s : st) s = {s[0] * (n / p), s[0]};
  }
  const int r = static_cast<int>(cnt.size());
  // Free axis: the innermost dim (contiguous runs), partitions: the largest other one. When
  // that makes 4x more tiles than some other (partition, free) pair, e.g. a long innermost dim
  // with max_f = 1 (GatherElements over an axis of size 1 tiled [2 partitions x 1] x 10,936,
  // difftest seed 1309889), take the pair with the fewest tiles.
  auto tiles = [&](int pd, int fd) {
    int64_t t = (cnt[pd] + t_.partitions - 1) / t_.partitions * ((cnt[fd] + max_f - 1) / max_f);
    for (int d = 0; d < r; ++d)
      if (d != pd && d != fd) t *= cnt[d];
    return t;
  };
  int fdim = r - 1;
  int pdim = 0;
  for (int d = 0; d < fdim; ++d)
    if (cnt[d] >= cnt[pdim]) pdim = d;
  int64_t best = tiles(pdim, fdim);
  const int64_t usual = best;
  int bp = pdim, bf = fdim;
  for (int pd = 0; pd < r; ++pd)
    for (int fd = 0; fd < r; ++fd)
      if (pd != fd && tiles(pd, fd) < best) {
        best = tiles(pd, fd);
        bp = pd;
        bf = fd;
      }
  if (best * 4 <= usual) {
    pdim = bp;
    fdim = bf;
  }
  std::vector<int> outer;
  for (int d = 0; d < r; ++d)
    if (d != pdim && d != fdim) outer.push_back(d);
  std::vector<int64_t> idx(outer.size(), 0);
  TileSpec ts;
  ts.offsets.resize(k);
  ts.pstride.resize(k);
  ts.fstride.resize(k);
  for (size_t j = 0; j < k; ++j) {
    ts.pstride[j] = st[j][pdim];
    ts.fstride[j] = st[j][fdim];
  }
  while (true) {
    for (int64_t p0 = 0; p0 < cnt[pdim]; p0 += t_.partitions) {
      for (int64_t f0 = 0; f0 < cnt[fdim]; f0 += max_f) {
        ts.np = std::min<int64_t>(t_.partitions, cnt[pdim] - p0);
        ts.nf = std::min<int64_t>(max_f, cnt[fdim] - f0);
        for (size_t j = 0; j < k; ++j) {
          int64_t o = p0 * st[j][pdim] + f0 * st[j][fdim];
          for (size_t q = 0; q < outer.size(); ++q) o += idx[q] * st[j][outer[q]];
          ts.offsets[j] = o;
        }
        f(ts);
      }
    }
    int q = static_cast<int>(outer.size()) - 1;
    for (; q >= 0; --q) {
      if (++idx[q] < cnt[outer[q]]) break;
      idx[q] = 0;
    }
    if (q < 0) break;
  }
}

}  // namespace trnsim::compiler
