// Data parallelism over NeuronCores (--cores N): the model is compiled once for a batch slice of
// B/N and the program is replicated on N cores, core c reading and writing batch rows
// [c B/N, (c+1) B/N) of the full-batch input and output tensors (like torch-neuronx's
// DataParallel, but one program). A model is split only if it keeps batch elements independent.
#pragma once

#include <string>

#include "compiler/ir/graph.h"
#include "isa/program.h"

namespace trnsim::compiler {

// The batch B of `full` (the common leading dimension of every runtime input); throws
// InputError unless it exists and is divisible by `cores`.
int64_t batch_of(const Graph& full, int cores);

// Throws InputError naming the node or tensor when the model mixes batch elements (a reduction,
// softmax, concat, ... over axis 0, a transpose that moves axis 0, a recurrence over axis 0, an
// op not known to be batch-independent) or when a tensor's leading dimension does not scale with
// the batch. `part` is the same model loaded with the batch pinned to B / cores.
void check_batch_separable(const Graph& full, const Graph& part, int cores);

// The serialized model `bytes` with the leading dimension of every runtime input made symbolic,
// so that it can be pinned to the per-core batch.
std::string with_symbolic_batch(const std::string& bytes, const std::string& source);

// Replicates the single-core program `slice` (compiled at batch B / cores) on `cores` cores:
// constants are shared, scratch tensors are duplicated per core, inputs and outputs take their
// full-batch shape from `full` and core c addresses its slice of them.
isa::Program replicate_on_cores(const isa::Program& slice, const Graph& full, int cores);

}  // namespace trnsim::compiler
