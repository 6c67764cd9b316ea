// compile_onnx(): options -> frontend -> pass pipeline.
#include "compiler/compile.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>

#include "compiler/data_parallel.h"
#include "compiler/frontend/external_data.h"
#include "compiler/frontend/onnx_loader.h"
#include "compiler/passes/passes.h"
#include "compiler/pipeline.h"
#include "compiler/tensor_parallel.h"
#include "isa/asm.h"
#include "support/error.h"
#include "support/file_util.h"

namespace trnsim::compiler {

namespace {
// Program tensor names must be identifiers (.tasm/.tbin); ONNX names often are not ("input.1"
// is, "onnx::Add_5", "13" and "/encoder/out 0" are not). Renames them, keeping names unique;
// inputs and outputs keep the model's name as their external name (for --input, --output-dir).
void name_tensors_as_identifiers(isa::Program& prog) {
  std::set<std::string> used;
  for (const auto& t : prog.tensors)
    if (isa::is_identifier(t.name)) used.insert(t.name);
  for (auto& t : prog.tensors) {
    if (isa::is_identifier(t.name)) continue;
    const std::string base = isa::to_identifier(t.name);
    std::string name = base;
    for (int k = 2; used.count(name); ++k) name = fmt::format("{}_{}", base, k);
    used.insert(name);
    if (t.role == isa::TensorRole::Input || t.role == isa::TensorRole::Output)
      t.external_name = t.name;
    t.name = name;
  }
}

isa::Program compile_graph(const std::string& path, const isa::Target& target,
                           const CompileOptions& opts);
}  // namespace

isa::Program compile_onnx(const std::string& path, const isa::Target& target,
                          const CompileOptions& opts) {
  isa::Program prog = compile_graph(path, target, opts);
  name_tensors_as_identifiers(prog);
  return prog;
}

std::vector<std::string> model_files(const std::string& path) {
  // The model without its weights' bytes (a mapped scan) is enough to find the side files.
  WeightRefs refs;
  std::optional<std::string> bytes = strip_weights(path, &refs);
  if (!bytes) bytes = read_text_file(path);
  onnx::ModelProto model;
  if (!model.ParseFromString(*bytes))
    throw InputError(path + ": not a valid ONNX model (truncated or invalid protobuf)");
  std::vector<std::string> files = {path};
  for (auto& f : external_data_files(model, model_dir_of(path))) files.push_back(std::move(f));
  return files;
}

namespace {
isa::Program compile_tensor_parallel(const std::string& path, const isa::Target& target, DType mm,
                                     const CompileOptions& opts, const LoadOptions& load) {
  const int tp = opts.tp;
  if (tp < 1 || tp > 4096)
    throw InputError(fmt::format("{}: --tp {}: expected 1 to 4096 ranks", path, tp));
  if (opts.cores != 1)
    throw InputError(fmt::format("{}: --tp {} with --cores {}: combine tensor and data "
                                 "parallelism with a system (--system), not yet within a chip",
                                 path, tp, opts.cores));
  const int cores = std::min(tp, target.num_cores);
  if (tp % cores != 0)
    throw InputError(fmt::format("{}: --tp {}: not a multiple of the chip's {} cores", path, tp,
                                 cores));
  if (tp > cores && !opts.timing_only)
    throw InputError(fmt::format(
        "{}: --tp {} spans {} chips of {} cores: every chip runs the same program, so ranks on "
        "different chips cannot hold different weight slices yet; use --timing-only, or --tp {} "
        "or less",
        path, tp, tp / cores, cores, cores));
  Graph whole = load_onnx(path, load);
  fold_constants(whole);
  // Timing-only: the ranks differ only in data, so one rank is compiled and its code replicated.
  const int compiled = opts.timing_only ? 1 : cores;
  std::vector<isa::Program> ranks;
  std::map<std::string, int> split_axes;
  for (int r = 0; r < compiled; ++r) {
    Graph g = whole;
    tensor_parallel(g, tp, r, cores);
    for (const Tensor& t : g.tensors)
      if (t.shard_axis >= 0) split_axes[t.name] = t.shard_axis;
    ranks.push_back(run_pipeline(std::move(g), target, mm, opts));
  }
  return stitch_ranks(ranks, cores, split_axes);
}

isa::Program compile_graph(const std::string& path, const isa::Target& target,
                          const CompileOptions& opts) {
  if (!opts.dump_after.empty()) {
    auto names = pass_names();
    if (std::find(names.begin(), names.end(), opts.dump_after) == names.end())
      throw InputError(fmt::format("--dump-after={}: no such pass; passes: {}", opts.dump_after,
                                   fmt::join(names, ", ")));
  }
  DType mm;
  if (opts.dtype == "bf16") mm = DType::Bf16;
  else if (opts.dtype == "fp32") mm = DType::Fp32;
  else throw InputError(fmt::format("--dtype {}: expected bf16 or fp32", opts.dtype));
  LoadOptions load;
  load.shapes = {opts.shapes.begin(), opts.shapes.end()};
  load.data_shapes = opts.data_shapes;
  load.defer_weights = opts.timing_only;
  load.weight_bytes_read = opts.weight_bytes_read;
  if (opts.cores < 1 || opts.cores > target.num_cores)
    throw InputError(fmt::format("{}: --cores {}: expected 1 to {} (the chip's cores)", path,
                                 opts.cores, target.num_cores));
  if (opts.tp != 1) return compile_tensor_parallel(path, target, mm, opts, load);
  if (opts.cores == 1) return run_pipeline(load_onnx(path, load), target, mm, opts);
  // Data parallelism: load at the full batch (for the boundary shapes and the checks), then
  // again with the batch dimension of every input made symbolic and pinned to B / cores.
  // Timing-only: the model without its weights' bytes, which stay in the file (weights.h).
  WeightRefs refs;
  std::optional<std::string> stripped;
  if (opts.timing_only) stripped = strip_weights(path, &refs);
  if (stripped) load.weights = &refs;
  std::string bytes;
  if (stripped) {
    bytes = std::move(*stripped);
  } else {
    auto file = read_binary_file(path);
    bytes.assign(file.begin(), file.end());
  }
  Graph full = load_onnx_bytes(bytes, path, load);
  const int64_t part_batch = batch_of(full, opts.cores) / opts.cores;
  std::map<std::string, Shape> part_shapes;
  for (int id : full.inputs) {
    Shape s = full.t(id).shape;
    s[0] = part_batch;
    part_shapes[full.t(id).name] = s;
  }
  LoadOptions part_load;
  part_load.shapes = part_shapes;
  part_load.defer_weights = load.defer_weights;
  part_load.weights = load.weights;
  part_load.weight_bytes_read = load.weight_bytes_read;
  Graph part = load_onnx_bytes(with_symbolic_batch(bytes, path), path, part_load);
  // Shapes computed from shapes (Shape -> Reshape) are known only after folding.
  fold_constants(full);
  fold_constants(part);
  check_batch_separable(full, part, opts.cores);
  isa::Program slice = run_pipeline(std::move(part), target, mm, opts);
  return replicate_on_cores(slice, full, opts.cores);
}

}  // namespace

}  // namespace trnsim::compiler
