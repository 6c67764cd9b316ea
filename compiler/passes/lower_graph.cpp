// Pass lower: every node goes through its op table lowering (HBM placement, tiling, SBUF/PSUM
// ring allocation and DMA), in graph order, into one program-order instruction list.
#include <fmt/format.h>

#include "compiler/ops/op_table.h"
#include "compiler/passes/passes.h"
#include "support/error.h"

namespace trnsim::compiler {

namespace {
// Graph outputs that no node computes (constants, or inputs passed through) are copied.
void copy_boundary_output(const Graph& g, LowerCtx& ctx, int id) {
  const Tensor& t = g.t(id);
  HbmView src;
  if (t.is_const()) {
    src = ctx.add_const(t.name + ".const", *t.value);
  } else {
    throw InputError(fmt::format("{}: output '{}' is a graph input; not supported", g.source, t.name));
  }
  HbmView dst = ctx.view(id);
  Node n;
  n.name = t.name;
  ctx.begin_node(n);
  int64_t total = num_elements(t.shape);
  if (total == 0) return;
  int64_t P = ctx.target().partitions;
  int64_t np = std::min(P, total);
  while (total % np) --np;
  const int64_t nf = total / np;
  isa::AccessPattern tile = ctx.sbuf(ctx.sbuf_alloc(nf * 4), np, nf, DType::Fp32);
  ctx.dma(tile, ctx.hbm(src, 0, np, nf, {{1, nf}}));
  ctx.dma(ctx.hbm(dst, 0, np, nf, {{1, nf}}), tile);
}
}  // namespace

void lower_graph(const Graph& g, LowerCtx& ctx) {
  for (const Node& n : g.nodes) {
    const OpInfo* info = find_op(n.op);
    if (!info || !info->lower)
      throw InputError(fmt::format(
          "{}: needs compile-time constant inputs (it cannot run on the chip)", g.where(n)));
    ctx.begin_node(n);
    try {
      info->lower(ctx, n);
    } catch (const InputError& e) {
      std::string msg = e.what();
      if (msg.rfind(g.source, 0) == 0) throw;
      throw InputError(fmt::format("{}: {}", g.where(n), msg));
    }
  }
  std::vector<char> produced(g.tensors.size(), 0);
  for (const Node& n : g.nodes)
    for (int id : n.outputs)
      if (id >= 0) produced[id] = 1;
  for (int id : g.outputs)
    if (!produced[id]) copy_boundary_output(g, ctx, id);
}

}  // namespace trnsim::compiler
