// The compiler's passes, one per file, run in order by compiler/pipeline.cpp.
#pragma once

#include <string>
#include <vector>

#include "compiler/ir/graph.h"
#include "compiler/lower/lower_ctx.h"
#include "isa/target.h"

namespace trnsim::compiler {

// Graph -> graph.
void fold_constants(Graph& g);   // infer shapes; evaluate nodes whose inputs are all constant
void remove_identity(Graph& g);  // drop Identity/Dropout (inference)
void fold_batchnorm(Graph& g);   // fold BatchNormalization into a preceding Conv
void prune_dead(Graph& g);       // drop nodes whose outputs nobody uses
void fuse_epilogue(Graph& g);    // MatMul/Gemm + bias Add + activation -> one node
void choose_layout(Graph& g);    // elementwise tiling that matches producers/consumers

// Graph -> linear instruction list (placement in HBM, tiling, SBUF/PSUM ring allocation, DMA).
void lower_graph(const Graph& g, LowerCtx& ctx);
// What prefetch_weights did.
struct PrefetchStats {
  int nodes = 0;            // nodes whose constant loads moved up
  int moved_loads = 0;      // loads moved
  int64_t moved_bytes = 0;  // SBUF bytes per partition of the buffers they fill
};
// Moves each node's sp-issued loads of constants (weights) up to the start of the node two
// before it, so they stream while those compute (runs before allocate_sbuf).
PrefetchStats prefetch_weights(Lowered& l, const isa::Target& t);
// What allocate_sbuf did (shown by --dump-after allocate_sbuf).
struct SbufAllocStats {
  int buffers = 0;             // SBUF buffers placed (after forwarding merged some)
  int64_t peak_bytes = 0;      // highest byte per partition used + 1
  int forwarded_loads = 0;     // loads replaced by the SBUF buffer an earlier store wrote from
  int converted_loads = 0;     // loads replaced by an act copy from it (SBUF to SBUF)
  int dropped_stores = 0;      // stores to scratch tensors nobody reads from HBM any more
  int64_t hbm_bytes_saved = 0;  // bytes those loads and stores would have moved
  bool ring_fallback = false;  // live-range placement failed; the old ring offsets were used
  std::string summary() const;
};
// Gives the lowerings' virtual SBUF buffers physical offsets from their live ranges, and
// forwards stores to later loads of the same HBM bytes when the buffer can stay in SBUF.
SbufAllocStats allocate_sbuf(Lowered& l, const isa::Target& t, bool forwarding = true);
// allocate_sbuf after prefetch_weights: when the moved loads' longer-lived buffers make the
// placement fail (the ring fallback or a refusal), places `unmoved`, the code before the move.
SbufAllocStats allocate_sbuf_prefetched(Lowered& l, std::vector<LInstr> unmoved,
                                        const isa::Target& t, bool forwarding);
// Adds semaphore waits/increments for every read-after-write, write-after-read and
// write-after-write overlap between instructions of different engines/queues.
void insert_sync(Lowered& l, const isa::Target& t);
// Distributes the linear list into per-engine streams of core 0.
isa::Program emit_program(Lowered&& l);

// Text listing of a lowered program (for --dump-after of the later passes).
std::string dump_lowered(const Lowered& l);

}  // namespace trnsim::compiler
