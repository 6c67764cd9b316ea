#include "compiler/interp/interpreter.h"

#include <fmt/format.h>

#include "compiler/ops/op_table.h"
#include "support/error.h"

namespace trnsim::compiler {

std::vector<Value> eval_node(const Graph& g, const Node& n, const std::vector<const Value*>& in) {
  const OpInfo* info = find_op(n.op);
  if (!info || !info->eval)
    throw InputError(fmt::format("{}: not supported; supported ops: {}", g.where(n),
                                 supported_ops()));
  try {
    return info->eval(n, in);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", g.where(n), e.what()));
  }
}

namespace {
// Evaluates `nodes` in order; an If evaluates the branch its condition selects.
void run_nodes(const Graph& g, const std::vector<Node>& nodes, std::vector<std::optional<Value>>& vals) {
  for (const Node& n : nodes) {
    if (n.op == "If") {
      const auto& c = vals.at(n.inputs.at(0));
      if (!c || c->numel() != 1)
        throw InputError(fmt::format("{}: the condition is not one value", g.where(n)));
      const Branch& b = n.branches.at(c->data.get(0) != 0 ? 0 : 1);
      run_nodes(g, b.nodes, vals);
      for (size_t k = 0; k < n.outputs.size(); ++k)
        if (n.outputs[k] >= 0) vals[n.outputs[k]] = vals.at(b.outputs.at(k));
      continue;
    }
    std::vector<const Value*> in;
    for (int id : n.inputs) in.push_back(id >= 0 && vals[id] ? &*vals[id] : nullptr);
    auto out = eval_node(g, n, in);
    for (size_t k = 0; k < n.outputs.size() && k < out.size(); ++k)
      if (n.outputs[k] >= 0) vals[n.outputs[k]] = std::move(out[k]);
  }
}
}  // namespace

std::map<std::string, Value> interpret(const Graph& g, const std::map<std::string, Value>& inputs) {
  std::vector<std::optional<Value>> vals(g.tensors.size());
  for (size_t i = 0; i < g.tensors.size(); ++i)
    if (g.tensors[i].is_const()) vals[i] = *g.tensors[i].value;
  for (int id : g.inputs) {
    const Tensor& t = g.t(id);
    auto it = inputs.find(t.name);
    if (it == inputs.end()) throw InputError(fmt::format("{}: no value for input '{}'", g.source, t.name));
    if (it->second.shape != t.shape)
      throw InputError(fmt::format("{}: input '{}' has shape {}, expected {}", g.source, t.name,
                                   shape_str(it->second.shape), shape_str(t.shape)));
    vals[id] = it->second;
  }
  run_nodes(g, g.nodes, vals);
  std::map<std::string, Value> result;
  for (int id : g.outputs) {
    if (!vals[id]) throw InputError(fmt::format("{}: output '{}' not computed", g.source, g.t(id).name));
    result[g.t(id).name] = *vals[id];
  }
  return result;
}

}  // namespace trnsim::compiler
