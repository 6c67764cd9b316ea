// Compiler entry point: ONNX model file -> ISA program for a chip.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config/chip_config.h"
#include "isa/program.h"
#include "isa/target.h"

namespace trnsim::compiler {

// The shape of an input given as data (trnsim run --input NAME=FILE.npy); `source` names the
// file in messages.
struct DataShape {
  std::vector<int64_t> shape;
  std::string source;
};

struct CompileOptions {
  // --shape NAME=1x3x224x224: pins symbolic input dimensions (or checks fixed ones); NAME= is a
  // scalar (rank 0).
  std::map<std::string, std::vector<int64_t>> shapes;
  // Shapes of inputs given as data, keyed by the input's name or its identifier form: they
  // pin the inputs that `shapes` leaves out (data needs no --shape), and must agree with the
  // model's fixed dimensions.
  std::map<std::string, DataShape> data_shapes;
  // --cores N: data parallelism, the batch split over N NeuronCores (compiler/data_parallel.h).
  int cores = 1;
  // --tp N: tensor parallelism over N ranks (compiler/tensor_parallel.h). A program holds the
  // ranks of one chip (min(N, the chip's cores)); N above that spans chips, which run the same
  // program (SPMD), so their ranks differ only in data: timing-only for now.
  int tp = 1;
  // --dtype: compute dtype of matmul/conv on the Tensor Engine ("bf16" or "fp32").
  std::string dtype = "bf16";
  // --timing-only: the values of weights are never needed, so large float initializers are not
  // read from the model (or its side files), converted, packed or written: their const tensors
  // are `absent` in the program, which is otherwise identical (instructions, timing) to a
  // normal compile. Constants the compiler folds (shapes, axes, indices) are still read.
  bool timing_only = false;
  // Timing-only: counts the bytes of left-out weights that a pass read after all (tests check
  // that none are; the program stays correct either way, only slower to make).
  int64_t* weight_bytes_read = nullptr;
  // Store-to-load forwarding in SBUF (allocate_sbuf); off: every activation goes through HBM.
  bool sbuf_forwarding = true;
  // Issue each node's constant loads two nodes early (passes/prefetch_weights.cpp).
  bool prefetch_weights = true;
  // --dump-after=PASS: print the IR after that pass to stdout ("" = none).
  std::string dump_after;
  // Receives the --dump-after text (libraries do not print; the CLI writes it to stdout).
  std::function<void(const std::string&)> dump_sink;
};

// Names accepted by --dump-after, in pipeline order.
std::vector<std::string> pass_names();

// Loads, checks and lowers the model. Throws InputError naming the file and node on bad or
// unsupported input. The program's input/output tensors carry the graph's names and dtypes.
// The compiler sees the chip only through isa::Target, so chips with equal Targets (they may
// differ in clocks, bandwidths, latencies, energy) get the same program: the sweep compiles
// once per isa::target_key().
isa::Program compile_onnx(const std::string& path, const isa::Target& target,
                          const CompileOptions& opts);
inline isa::Program compile_onnx(const std::string& path, const config::ChipConfig& chip,
                                 const CompileOptions& opts) {
  return compile_onnx(path, chip.target(), opts);
}

// A model's graph inputs (initializers excluded) and outputs: name, ONNX element type
// (onnx::TensorProto::DataType) and dimensions, -1 where symbolic. Weights are not read.
struct ModelIo {
  std::string name;
  int elem_type = 0;
  std::vector<int64_t> dims;
};
struct ModelSignature {
  std::vector<ModelIo> inputs, outputs;
};
ModelSignature model_signature(const std::string& path);

// The files compile_onnx(path) reads: the model and the external-data side files it names
// (for cache keys: their sizes and modification times identify what was compiled). Throws
// InputError when the model cannot be read.
std::vector<std::string> model_files(const std::string& path);

}  // namespace trnsim::compiler
