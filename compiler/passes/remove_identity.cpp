// Pass remove_identity: Identity and inference-mode Dropout forward their input; consumers are
// rewired to it (in If branches too). A node whose output is a graph or branch output stays
// (it becomes a copy).
#include "compiler/passes/passes.h"

namespace trnsim::compiler {

namespace {
void remove_in_list(Graph& g) {
  std::vector<Node> kept;
  std::vector<int> replace(g.tensors.size());
  for (size_t i = 0; i < replace.size(); ++i) replace[i] = static_cast<int>(i);
  for (Node& n : g.nodes) {
    for (int& id : n.inputs)
      if (id >= 0) id = replace[id];
    for (Branch& b : n.branches) {
      rename_inputs(b.nodes, replace);
      for (int& id : b.outputs) id = replace[id];
    }
    bool forward = (n.op == "Identity" || n.op == "Dropout") && !g.t(n.outputs[0]).escapes();
    for (size_t k = 1; k < n.outputs.size(); ++k) forward = forward && n.outputs[k] < 0;
    if (forward) {
      replace[n.outputs[0]] = n.inputs[0];
      continue;
    }
    kept.push_back(std::move(n));
  }
  g.nodes = std::move(kept);
}
}  // namespace

void remove_identity(Graph& g) { for_each_node_list(g, remove_in_list); }

}  // namespace trnsim::compiler
