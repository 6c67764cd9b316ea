// Pass choose_layout: picks, per elementwise node, how its tensor is tiled onto the 128
// partitions, so that its loads are exactly the stores of its producer and its stores exactly
// the loads of its consumer; allocate_sbuf then keeps those tiles in SBUF (store-to-load
// forwarding). Recorded as node attribute `_layout` (shown by --dump-after choose_layout),
// applied by the elementwise lowering (lower/layout.h):
// - "rows" when the node feeds or is fed by a row-wise op (LayerNormalization, Softmax): all
//   axes but the last on partitions, the last along the free dim, the tiles those ops use;
// - "follow:K" when input K (same shape as the output) comes from a MatMul/Gemm/Conv or another
//   elementwise node: the tiles of the stores that produced it (e.g. a fused matmul's
//   features-on-partitions output, then every op of a GELU chain after it);
// - nothing otherwise (LowerCtx::for_each_tile's tiling).
// A layout only changes tiling, never results; when it does not apply at lowering time (the
// producer's stores do not cover the tensor exactly once) the default tiling is used.
#include <fmt/format.h>

#include <set>
#include <string>
#include <vector>

#include "compiler/ops/op_table.h"
#include "compiler/passes/passes.h"

namespace trnsim::compiler {

namespace {

bool elementwise(const Node& n) {
  const OpInfo* info = find_op(n.op);
  return info && (info->unary || info->binary);
}

bool rowwise(const Node& n) { return n.op == "LayerNormalization" || n.op == "Softmax"; }

bool alias_op(const Node& n) {
  static const std::set<std::string> kAlias{"Reshape", "Flatten", "Squeeze", "Unsqueeze",
                                            "Identity"};
  return kAlias.count(n.op) != 0;
}

}  // namespace

namespace {
void choose_in_list(Graph& g) {
  std::vector<int> producer(g.tensors.size(), -1);
  std::vector<std::vector<int>> consumers(g.tensors.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (int id : g.nodes[i].outputs)
      if (id >= 0) producer[id] = static_cast<int>(i);
    for (int id : g.nodes[i].inputs)
      if (id >= 0) consumers[id].push_back(static_cast<int>(i));
  }
  // The node that wrote a tensor's HBM bytes, looking through reshape-like aliases.
  auto writer = [&](int id) -> const Node* {
    for (int hops = 0; id >= 0 && hops < 16; ++hops) {
      const int p = producer[id];
      if (p < 0) return nullptr;
      const Node& n = g.nodes[p];
      if (!alias_op(n) || n.inputs.empty()) return &n;
      id = n.inputs[0];
    }
    return nullptr;
  };
  for (Node& n : g.nodes) {
    if (!elementwise(n) || n.outputs.empty() || n.outputs[0] < 0) continue;
    const Tensor& out = g.t(n.outputs[0]);
    if (!out.shape_known) continue;
    bool rows = false;
    for (int c : consumers[n.outputs[0]]) rows = rows || rowwise(g.nodes[c]);
    int follow = -1;
    for (int k = 0; k < n.num_inputs(); ++k) {
      if (!n.has_input(k) || g.t(n.inputs[k]).shape != out.shape) continue;
      const Node* w = writer(n.inputs[k]);
      if (!w) continue;
      if (rowwise(*w) || w->attr_string("_layout", "") == "rows") rows = true;
      const bool tiled_store = w->op == "MatMul" || w->op == "Gemm" || w->op == "Conv" ||
                               w->op == "ConvTranspose" || elementwise(*w);
      if (follow < 0 && tiled_store) follow = k;
    }
    Attr a;
    a.kind = Attr::Kind::String;
    if (rows && out.shape.size() >= 2) a.s = "rows";
    else if (follow >= 0) a.s = fmt::format("follow:{}", follow);
    else continue;
    n.attrs["_layout"] = a;
  }
}

}  // namespace

void choose_layout(Graph& g) { for_each_node_list(g, choose_in_list); }

}  // namespace trnsim::compiler
