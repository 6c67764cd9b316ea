#include "compiler/frontend/inline_if.h"

#include <fmt/format.h>

#include <map>
#include <optional>

#include "support/error.h"

namespace trnsim::compiler {

namespace {

// Value of a scalar bool/int tensor, if it has one.
std::optional<bool> scalar_bool(const onnx::TensorProto& t) {
  int64_t n = 1;
  for (auto d : t.dims()) n *= d;
  if (n != 1) return std::nullopt;
  if (t.int32_data_size() > 0) return t.int32_data(0) != 0;
  if (t.int64_data_size() > 0) return t.int64_data(0) != 0;
  if (t.float_data_size() > 0) return t.float_data(0) != 0.0f;
  if (!t.raw_data().empty()) {
    for (char c : t.raw_data())
      if (c != 0) return true;
    return false;
  }
  return std::nullopt;
}

std::optional<bool> condition(const onnx::GraphProto& g, const std::string& name) {
  for (const auto& t : g.initializer())
    if (t.name() == name) return scalar_bool(t);
  for (const auto& n : g.node()) {
    if (n.op_type() != "Constant") continue;
    for (const auto& o : n.output())
      if (o == name)
        for (const auto& a : n.attribute())
          if (a.name() == "value" && a.has_t()) return scalar_bool(a.t());
  }
  return std::nullopt;
}

}  // namespace

void inline_constant_ifs(onnx::GraphProto& g, const std::string& src) {
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto& nd = g.node(i);
    if (nd.op_type() != "If" || !(nd.domain().empty() || nd.domain() == "ai.onnx")) continue;
    const std::string where = fmt::format("{}: node '{}' (op If)", src, nd.name());
    auto cond = condition(g, nd.input(0));
    if (!cond)
      throw InputError(where + ": the condition must be a compile-time constant (initializer or "
                               "Constant)");
    const onnx::GraphProto* branch = nullptr;
    for (const auto& a : nd.attribute())
      if (a.name() == (*cond ? "then_branch" : "else_branch") && a.has_g()) branch = &a.g();
    if (!branch) throw InputError(where + ": missing branch");
    if (branch->output_size() != nd.output_size())
      throw InputError(where + ": the branch's outputs differ from the node's");
    // Branch outputs take the If's output names.
    std::map<std::string, std::string> rename;
    std::map<std::string, bool> produced;
    for (const auto& bn : branch->node())
      for (const auto& o : bn.output()) produced[o] = true;
    std::vector<onnx::NodeProto> nodes;
    for (int k = 0; k < branch->output_size(); ++k) {
      const std::string& bo = branch->output(k).name();
      if (produced.count(bo) && !rename.count(bo)) {
        rename[bo] = nd.output(k);
      } else {
        onnx::NodeProto id;
        id.set_op_type("Identity");
        id.set_name(fmt::format("{}.out{}", nd.name(), k));
        id.add_input(rename.count(bo) ? rename[bo] : bo);
        id.add_output(nd.output(k));
        nodes.push_back(id);
      }
    }
    std::vector<onnx::NodeProto> inlined;
    for (const auto& bn : branch->node()) {
      onnx::NodeProto c = bn;
      for (auto& s : *c.mutable_input())
        if (rename.count(s)) s = rename[s];
      for (auto& s : *c.mutable_output())
        if (rename.count(s)) s = rename[s];
      if (!c.name().empty()) c.set_name(nd.name() + "/" + c.name());
      inlined.push_back(c);
    }
    for (auto& c : nodes) inlined.push_back(c);
    for (const auto& t : branch->initializer()) *g.add_initializer() = t;
    for (const auto& vi : branch->value_info()) *g.add_value_info() = vi;
    // Replace node i by the inlined nodes (order kept: they read only earlier tensors).
    std::vector<onnx::NodeProto> all(g.node().begin(), g.node().end());
    all.erase(all.begin() + i);
    all.insert(all.begin() + i, inlined.begin(), inlined.end());
    g.clear_node();
    for (auto& n : all) *g.add_node() = std::move(n);
    --i;  // revisit: the branch may hold Ifs of its own
  }
}

}  // namespace trnsim::compiler
