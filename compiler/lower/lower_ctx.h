// State shared by the op lowerings: HBM placement of IR tensors, SBUF/PSUM ring allocation,
// tiling of an iteration space, and instruction emission into a linear (program-order) list.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"
#include "isa/program.h"
#include "isa/target.h"

namespace trnsim::compiler {

// One instruction in program order, before semaphores are inserted (passes/insert_sync.cpp),
// or a marker of an If's parts (lower/control.cpp): IfBegin (then-part follows), IfElse,
// IfEnd. Markers hold no instruction (a plain nop); the passes treat the parts as alternative
// paths, and emit turns the markers into branches on the engines in `engines` (those with
// code in either part; each has loaded the condition with `ldr` just before IfBegin).
struct LInstr {
  enum class Mark : uint8_t { None, IfBegin, IfElse, IfEnd };
  isa::Engine engine = isa::Engine::Sp;
  isa::Instr in;
  Mark mark = Mark::None;
  int if_id = -1;
  isa::EngineMask engines = 0;  // IfBegin: the engines that branch
};

// One SBUF allocation of the lowerings. Lowerings see a virtual offset (`vbase`, unique per
// allocation, in a range far above any SBUF) and address within [vbase, vbase + bytes); the
// allocate_sbuf pass gives it a physical offset from its live range. `ring_offset` is where the
// old ring/pin allocator would have put it (the allocator's fallback).
struct SbufBuffer {
  int64_t vbase = 0;
  int64_t bytes = 0;  // per partition, 64-byte aligned
  int64_t ring_offset = 0;
  bool pinned = false;  // sbuf_pin: long-lived, placed from the top of SBUF
};
constexpr int64_t kSbufVirtBase = int64_t{1} << 40;
constexpr int64_t kSbufVirtStride = int64_t{1} << 24;  // > any SBUF partition

// The output of lowering: the program's tensors and strings, plus the linear instruction list.
struct Lowered {
  isa::Program prog;
  std::vector<LInstr> code;
  std::vector<SbufBuffer> sbuf_buffers;  // buffer i has vbase kSbufVirtBase + i * stride
};

// An HBM tensor region seen as a strided N-d array (element offset and strides).
struct HbmView {
  int tensor = -1;  // program tensor index
  DType dtype = DType::Fp32;
  int64_t offset = 0;  // elements
  Shape shape;
  std::vector<int64_t> strides;  // elements
};

// A tile of an iteration space: `np` partitions x `nf` free elements; operand k's first element
// is at offsets[k], consecutive partitions are pstride[k] apart, free elements fstride[k] apart.
struct TileSpec {
  int64_t np = 0, nf = 0;
  std::vector<int64_t> offsets, pstride, fstride;
};

class LowerCtx {
 public:
  LowerCtx(const Graph& g, const isa::Target& t, DType mm_dtype, Lowered& out);

  const Graph& graph() const { return g_; }
  const isa::Target& target() const { return t_; }
  DType mm_dtype() const { return mm_dtype_; }
  isa::Program& prog() { return out_.prog; }

  void begin_node(const Node& n);
  // The node being lowered (its `_layout` attribute comes from the choose_layout pass).
  const Node* node() const { return node_; }
  // Every SBUF -> HBM dma emitted so far into program tensor `tensor`, in program order (the
  // tiles a consumer can follow so that its loads match these stores; see allocate_sbuf).
  struct Store {
    isa::AccessPattern hbm, sbuf;
  };
  const std::vector<Store>& stores(int tensor) const;
  // Row-major view of IR tensor `id` in HBM (declared on first use).
  HbmView view(int id);
  // The graph output tensor of `id`: view(id) except for a constant that is also a graph
  // output, whose consumers read a separate constant (view) while this tensor receives a copy.
  HbmView output_view(int id);
  // Makes IR tensor `dst` share the HBM bytes of `src` (reshape-like ops); a strided view of
  // `src` is reshaped in place where its dims allow (try_alias: false where they do not;
  // alias: a logic error).
  bool try_alias(int dst, int src);
  void alias(int dst, int src);
  // Makes IR tensor `dst` the (strided) view `v` of bytes placed earlier: a folded Transpose
  // (lower/movement.cpp), whose consumers all address HbmView strides.
  void alias_view(int dst, const HbmView& v);
  // Declares an extra constant HBM tensor (e.g. folded BatchNorm scales).
  HbmView add_const(const std::string& name, const Value& v);
  // The same, stored in dtype `as` (e.g. bf16 weights for the Tensor Engine) without a copy.
  HbmView add_const(const std::string& name, const Value& v, DType as);
  // Dtype used in SBUF for a tensor of dtype t: fp32 for floats, int64 for integers and bools
  // (exact integer arithmetic).
  static DType sbuf_dtype(DType t);

  // SBUF allocation: returns a virtual byte offset (unique per allocation; the allocate_sbuf
  // pass assigns physical space from live ranges) / a PSUM bank's byte offset. Reuse of space is
  // made safe by the semaphore pass (it sees the address overlap). The capacity bookkeeping is
  // still that of a ring beside the pinned space (what the lowerings size their tiles by).
  int64_t sbuf_alloc(int64_t bytes_per_partition);
  int64_t psum_alloc();
  // Pinned SBUF space (virtual, like sbuf_alloc; placed at the top of SBUF) for tiles that live
  // across many ring allocations (a matmul operand reused over output tiles). Returns -1 when
  // pinning `bytes` would pin more than `max_share` of SBUF (default: leave the ring at least
  // half); unpin_all() gives everything back.
  int64_t sbuf_pin(int64_t bytes_per_partition, double max_share = 0.5);
  void unpin_all() { pinned_ = 0; }
  int64_t pinned_bytes() const { return pinned_; }
  // Largest free size (elements of 4 bytes) for elementwise tiles with `buffers` live buffers.
  int64_t max_free(int buffers) const;

  // Appends an instruction, tagged with the current node's name.
  void emit(isa::Engine e, isa::Instr in);
  // The instruction list so far (lower/control.cpp places If markers and trims its loads).
  std::vector<LInstr>& code() { return out_.code; }
  int new_if_id() { return next_if_++; }
  // DMA between an SBUF tile and an HBM view, issued by `e` (sp, act or pool); the queue rotates
  // (each issuing engine over queues of its own).
  void dma(const isa::AccessPattern& dst, const isa::AccessPattern& src,
           isa::Engine e = isa::Engine::Sp);
  int next_queue();

  isa::AccessPattern sbuf(int64_t offset, int64_t np, int64_t nf, DType dt) const;
  isa::AccessPattern psum(int64_t offset, int64_t np, int64_t nf) const;
  isa::AccessPattern hbm(const HbmView& v, int64_t offset, int64_t np, int64_t pstride,
                         std::vector<isa::Dim> dims) const;

  // Tiles an iteration space `shape`, where operand k has element strides strides[k]
  // (0 = broadcast), into [partitions x free] tiles; calls f for each tile.
  void for_each_tile(const Shape& shape, const std::vector<std::vector<int64_t>>& strides,
                     int64_t max_f, const std::function<void(const TileSpec&)>& f) const;

 private:
  int declare(int id);
  int64_t new_buffer(int64_t bytes, int64_t ring_offset, bool pinned);
  const Graph& g_;
  isa::Target t_;
  DType mm_dtype_;
  Lowered& out_;
  std::map<int, HbmView> hbm_;  // IR tensor id -> its HBM placement (row-major)
  std::map<int, HbmView> const_outputs_;  // constant graph outputs: the output tensor
  isa::StrId tag_ = 0;
  const Node* node_ = nullptr;
  std::map<int, std::vector<Store>> stores_;  // program tensor -> its stores
  int64_t sbuf_next_ = 0;
  int64_t pinned_ = 0;
  int psum_next_ = 0;
  int queue_next_ = 0;
  int pool_queue_next_ = 0;  // pool- and act-issued DMAs rotate over their own queues
  int act_queue_next_ = 0;
  int num_queues_ = 1;
  int next_if_ = 0;
};

// Copies the HBM view src to dst (same shape, each with its own strides) through SBUF tiles
// (lower/movement.cpp).
void copy_hbm(LowerCtx& ctx, const HbmView& dst, const HbmView& src);

// Lowers an If (lower/control.cpp): the condition is loaded into a register of every engine
// with code in a branch, and both branches are lowered (lower_list) between markers; each
// branch's yields end up in the If's output tensors.
void lower_if(LowerCtx& ctx, const Node& n,
              const std::function<void(const std::vector<Node>&)>& lower_list);

// Instructions builders (fill operands; waits/incs come later).
// `v` viewed as [rows, cols], transposed to [cols, rows] (fp32): a compile-time weight table. A
// deferred value (a weight a timing-only compile left in the model file) stays deferred.
Value transposed_const(const Value& v, int64_t rows, int64_t cols);

// The element strides of view `v` broadcast to `out` (numpy rules: leading dims added, unit dims
// of `v` 0): the view's own strides, so a strided view (a split tensor's slice, a folded
// transpose) is read where it lies.
std::vector<int64_t> broadcast_strides(const HbmView& v, const Shape& out);
isa::Instr make_instr(isa::Opcode op);
isa::Operand ap_operand(const isa::AccessPattern& ap);
isa::Operand imm(float f);
isa::Operand int_operand(int64_t i);

}  // namespace trnsim::compiler
