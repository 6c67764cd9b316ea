// The compiler pipeline: a straight list of named passes with the IR verifier between them and
// --dump-after=PASS.
#include <fmt/format.h>

#include <functional>
#include <vector>

#include "compiler/compile.h"
#include "compiler/pipeline.h"
#include "compiler/passes/passes.h"
#include "support/error.h"

namespace trnsim::compiler {

namespace {
struct GraphPass {
  const char* name;
  void (*run)(Graph&);
};
constexpr GraphPass kGraphPasses[] = {
    {"fold_constants", fold_constants},
    {"remove_identity", remove_identity},
    {"fold_batchnorm", fold_batchnorm},
    {"prune_dead", prune_dead},
    {"fuse_epilogue", fuse_epilogue},
    {"choose_layout", choose_layout},
};
// Instruction-level passes after the graph passes.
const char* const kLatePasses[] = {"lower", "prefetch_weights", "allocate_sbuf", "insert_sync",
                                   "emit"};
}  // namespace

std::vector<std::string> pass_names() {
  std::vector<std::string> names{"frontend"};
  for (const auto& p : kGraphPasses) names.push_back(p.name);
  for (const char* p : kLatePasses) names.push_back(p);
  return names;
}

isa::Program run_pipeline(Graph g, const isa::Target& target, DType mm,
                          const CompileOptions& opts) {
  auto dump_if = [&](const char* pass, const std::function<std::string()>& text) {
    if (opts.dump_after == pass && opts.dump_sink) opts.dump_sink(text());
  };
  dump_if("frontend", [&] { return dump(g); });
  for (const auto& p : kGraphPasses) {
    p.run(g);
    verify(g, p.name);
    dump_if(p.name, [&] { return dump(g); });
  }
  // A tensor larger than the chip's HBM cannot exist at run time; refuse it here rather than
  // lowering billions of tiles (absurd but well-formed shapes).
  for (const Tensor& t : g.tensors) {
    if (!t.shape_known) continue;
    const int64_t elems = num_elements(t.shape);  // throws on int64 overflow
    const int64_t size = isa::dtype_size(t.dtype);
    if (elems > target.hbm_bytes / size)
      throw InputError(fmt::format("{}: tensor '{}' [{}] is too large: {} elements of {} bytes, "
                                   "more than the chip's HBM ({} bytes)",
                                   g.source, t.name, fmt::join(t.shape, ", "), elems, size,
                                   target.hbm_bytes));
  }
  Lowered low;
  low.prog.header_comment = low.prog.intern(fmt::format(
      "compiled from {} by trnsim compile (--dtype {})", g.source, isa::dtype_name(mm)));
  LowerCtx ctx(g, target, mm, low);
  lower_graph(g, ctx);
  dump_if("lower", [&] { return dump_lowered(low); });
  // The code before the prefetch, kept in case the longer-lived buffers do not fit.
  std::vector<LInstr> unmoved;
  if (opts.prefetch_weights) unmoved = low.code;
  const PrefetchStats pf =
      opts.prefetch_weights ? prefetch_weights(low, target) : PrefetchStats{};
  dump_if("prefetch_weights", [&] {
    return fmt::format("# prefetch_weights: {} loads of {} nodes moved ({} bytes per partition)\n",
                       pf.moved_loads, pf.nodes, pf.moved_bytes) +
           dump_lowered(low);
  });
  const SbufAllocStats sbuf_stats = [&] {
    try {
      if (pf.moved_loads > 0)
        return allocate_sbuf_prefetched(low, std::move(unmoved), target, opts.sbuf_forwarding);
      return allocate_sbuf(low, target, opts.sbuf_forwarding);
    } catch (const InputError& e) {  // a refusal names the model file like the other passes'
      throw InputError(fmt::format("{}: {}", g.source, e.what()));
    }
  }();
  dump_if("allocate_sbuf", [&] { return sbuf_stats.summary() + dump_lowered(low); });
  insert_sync(low, target);
  dump_if("insert_sync", [&] { return dump_lowered(low); });
  isa::Program prog = emit_program(std::move(low));
  prog.source_name = g.source;
  dump_if("emit", [&] {
    Lowered view;
    view.prog = prog;
    for (int e = 0; e < isa::kNumEngines; ++e)
      for (const auto& in : prog.cores[0].streams[e])
        view.code.push_back({static_cast<isa::Engine>(e), in});
    return dump_lowered(view);
  });
  return prog;
}

}  // namespace trnsim::compiler
