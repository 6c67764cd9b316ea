// Reference interpreter of the graph IR: plain-loop evaluation, the golden model for tests and
// the engine of constant folding.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"

namespace trnsim::compiler {

// Evaluates one node on the given input values (null = optional input left out). Throws
// InputError naming the node on unsupported ops or bad data.
std::vector<Value> eval_node(const Graph& g, const Node& n, const std::vector<const Value*>& in);

// Evaluates the whole graph. `inputs` maps graph input names to values (shapes must match).
// Returns graph output name -> value.
std::map<std::string, Value> interpret(const Graph& g, const std::map<std::string, Value>& inputs);

}  // namespace trnsim::compiler
