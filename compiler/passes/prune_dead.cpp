// Pass prune_dead: removes nodes none of whose outputs reach a graph output (in an If branch:
// the branch's outputs).
#include "compiler/passes/passes.h"

namespace trnsim::compiler {

namespace {
void prune_list(Graph& g) {
  std::vector<char> live(g.tensors.size(), 0);
  for (int id : g.outputs) live[id] = 1;
  std::vector<char> keep(g.nodes.size(), 0);
  for (int i = static_cast<int>(g.nodes.size()) - 1; i >= 0; --i) {
    const Node& n = g.nodes[i];
    for (int id : n.outputs)
      if (id >= 0 && live[id]) keep[i] = 1;
    if (keep[i])
      for (int id : n.inputs)
        if (id >= 0) live[id] = 1;
  }
  std::vector<Node> kept;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (keep[i]) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
}
}  // namespace

void prune_dead(Graph& g) { for_each_node_list(g, prune_list); }

}  // namespace trnsim::compiler
