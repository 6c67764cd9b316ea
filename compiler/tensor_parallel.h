// Tensor parallelism (--tp N, Megatron-LM style): one rank's share of a model.
//
// The pass walks the graph in order and gives every tensor a layout across the N ranks of the
// group: replicated (R: every rank holds all of it), split (S(a): rank r holds the r-th of N
// equal slices along axis a) or partial (P: the ranks' tensors sum to the value). A MatMul of a
// replicated activation by a constant [K, N] weight is column-parallel (the weight split on N,
// the output S(last)); a MatMul of an S(last) activation by a constant weight is row-parallel
// (the weight split on K, the output P). S flows through elementwise ops (constant operands
// split along with it: biases), reshapes that keep the split axis outermost of its group
// ([B,S,H*D] <-> [B,S,H,D]: attention heads), transposes, softmax and reductions over other
// axes, concats along other axes (the KV cache) and batched MatMuls over the split axis (Q K^T,
// scores V per head); P flows through linear ops (a constant added by rank 0 only). Where a
// layout cannot continue, the pass converts: P -> R by an all-reduce (TrnAllReduce), S -> R by
// an all-gather (TrnAllGather, then a transpose and reshape into place), R -> S by the rank's
// slice. So the Megatron pattern (column-parallel QKV and FFN-in, per-head attention,
// row-parallel output projection and FFN-out, one all-reduce each) comes out of the rules, and
// any other graph is still computed correctly, replicated where it cannot be split. Graph
// outputs are gathered (R) except the KV cache (`present*`), which stays split: each rank keeps
// its heads, in a program tensor that holds the slices of all of the program's cores.
#pragma once

#include <string>

#include "compiler/ir/graph.h"
#include "isa/program.h"

namespace trnsim::compiler {

struct TpStats {
  int column = 0, row = 0, batched = 0;  // MatMul/Gemm split column-, row-wise, per head
  int all_reduce = 0, all_gather = 0, slices = 0;
};

// Rewrites `g` (shapes known, constants folded) into rank `rank`'s graph of a group of `tp`
// ranks. `cores` ranks share a program (one per NeuronCore of a chip): split graph inputs and
// outputs are program tensors of `cores` slices (Tensor::shard_axis). Throws InputError when
// no MatMul/Gemm could be split (nothing to parallelise), naming the model.
TpStats tensor_parallel(Graph& g, int tp, int rank, int cores);

// The program of `cores` ranks side by side, one NeuronCore each: core c runs ranks[c]'s code
// (ranks[0]'s when only one is given: a timing-only program, whose ranks differ only in data).
// Inputs and outputs are shared by name, split ones (`split_axes`: name -> axis) addressed at
// core c's slice; constants are shared where equal, scratch tensors are per core.
isa::Program stitch_ranks(const std::vector<isa::Program>& ranks, int cores,
                          const std::map<std::string, int>& split_axes);

}  // namespace trnsim::compiler
