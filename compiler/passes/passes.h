// The compiler's passes, one per file, run in order by compiler/pipeline.cpp.
#pragma once

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

// Graph -> linear instruction list (placement in HBM, tiling, SBUF/PSUM ring allocation, DMA).
void lower_graph(const Graph& g, LowerCtx& ctx);
// Adds semaphore waits/increments for every read-after-write, write-after-read and
// write-after-write overlap between instructions of different engines/queues.
void insert_sync(Lowered& l, const isa::Target& t);
// Distributes the linear list into per-engine streams of core 0.
isa::Program emit_program(Lowered&& l);

// Text listing of a lowered program (for --dump-after of the later passes).
std::string dump_lowered(const Lowered& l);

}  // namespace trnsim::compiler
