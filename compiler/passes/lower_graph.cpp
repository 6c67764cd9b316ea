// Pass lower: every node goes through its op table lowering (HBM placement, tiling, SBUF/PSUM
// ring allocation and DMA), in graph order, into one program-order instruction list.
#include <fmt/format.h>

#include "compiler/ops/op_table.h"
#include "compiler/passes/passes.h"
#include "support/error.h"

namespace trnsim::compiler {

namespace {
// Graph outputs that no node computes (constants) are copied HBM to HBM, byte for byte.
void copy_boundary_output(const Graph& g, LowerCtx& ctx, int id) {
  const Tensor& t = g.t(id);
  if (!t.is_const())
    throw InputError(fmt::format("{}: output '{}' is a graph input; not supported", g.source, t.name));
  const HbmView src = ctx.view(id);
  const HbmView dst = ctx.output_view(id);
  Node n;
  n.name = t.name;
  ctx.begin_node(n);
  const int64_t total = num_elements(t.shape);
  const int64_t P = ctx.target().partitions;
  // As many equal rows as fit in P partitions, then the remainder as one row.
  const int64_t np = std::min(P, total), nf = np ? total / np : 0;
  if (nf > 0) ctx.dma(ctx.hbm(dst, 0, np, nf, {{1, nf}}), ctx.hbm(src, 0, np, nf, {{1, nf}}));
  const int64_t rest = total - np * nf;
  if (rest > 0)
    ctx.dma(ctx.hbm(dst, np * nf, 1, rest, {{1, rest}}), ctx.hbm(src, np * nf, 1, rest, {{1, rest}}));
}
}  // namespace

namespace {
void lower_nodes(const Graph& g, LowerCtx& ctx, const std::vector<Node>& nodes) {
  for (const Node& n : nodes) {
    if (n.op == "If") {
      try {
        lower_if(ctx, n, [&](const std::vector<Node>& b) { lower_nodes(g, ctx, b); });
      } catch (const InputError& e) {
        std::string msg = e.what();
        if (msg.rfind(g.source, 0) == 0) throw;
        throw InputError(fmt::format("{}: {}", g.where(n), msg));
      }
      continue;
    }
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
}
}  // namespace

void lower_graph(const Graph& g, LowerCtx& ctx) {
  lower_nodes(g, ctx, g.nodes);
  std::vector<char> produced(g.tensors.size(), 0);
  for (const Node& n : g.nodes)
    for (int id : n.outputs)
      if (id >= 0) produced[id] = 1;
  for (int id : g.outputs)
    if (!produced[id]) copy_boundary_output(g, ctx, id);
}

}  // namespace trnsim::compiler
