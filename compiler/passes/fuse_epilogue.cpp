// Pass fuse_epilogue: MatMul/Gemm (and Conv, activation only) followed by a bias Add (a constant vector along the output's
// last axis) and/or an activation becomes one node, so the lowering applies bias and
// activation while evacuating PSUM with a single `act` instruction (weight-stationary
// orientation: output features on PSUM partitions, the bias a per-partition scalar).
// The fused node keeps its op; input 2 is the bias and attribute "_act" names the function.
#include "compiler/ops/op_table.h"
#include "compiler/passes/passes.h"

namespace trnsim::compiler {

namespace {
bool is_bias_for(const Graph& g, int id, int64_t n) {
  if (id < 0 || !g.t(id).is_const()) return false;
  const Shape& s = g.t(id).shape;
  if (num_elements(s) != n) return false;
  for (size_t i = 0; i + 1 < s.size(); ++i)
    if (s[i] != 1) return false;
  return true;
}
}  // namespace

namespace {
void fuse_in_list(Graph& g) {
  std::vector<int> uses(g.tensors.size(), 0);
  for (const Node& n : g.nodes)
    for (int id : n.inputs)
      if (id >= 0) ++uses[id];
  std::vector<int> consumer(g.tensors.size(), -1);
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (int id : g.nodes[i].inputs)
      if (id >= 0) consumer[id] = static_cast<int>(i);
  std::vector<char> drop(g.nodes.size(), 0);
  auto single_consumer = [&](int id) {
    return uses[id] == 1 && !g.t(id).escapes() ? consumer[id] : -1;
  };
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& mm = g.nodes[i];
    if (mm.op == "Conv" && !drop[i] && !mm.has_attr("_act")) {
      // Conv + activation: applied by the act instruction that evacuates PSUM (lower/conv.cpp).
      int next = single_consumer(mm.outputs[0]);
      const OpInfo* info = next >= 0 ? find_op(g.nodes[next].op) : nullptr;
      if (info && info->act && g.nodes[next].attrs.empty()) {
        Attr act;
        act.kind = Attr::Kind::String;
        act.s = g.nodes[next].op;
        mm.attrs["_act"] = act;
        mm.outputs[0] = g.nodes[next].outputs[0];
        drop[next] = 1;
      }
      continue;
    }
    if (drop[i] || (mm.op != "MatMul" && mm.op != "Gemm") || mm.has_attr("_act")) continue;
    const Shape& out = g.t(mm.outputs[0]).shape;
    if (out.size() < 2 || g.t(mm.inputs[1]).shape.size() != 2) continue;  // 2-D weights only
    const int64_t n = out.back();
    bool has_bias = mm.op == "Gemm" && mm.has_input(2);
    if (has_bias && !(is_bias_for(g, mm.inputs[2], n) || false)) continue;
    int next = single_consumer(mm.outputs[0]);
    if (!has_bias && next >= 0 && g.nodes[next].op == "Add") {
      Node& add = g.nodes[next];
      int other = add.inputs[0] == mm.outputs[0] ? add.inputs[1] : add.inputs[0];
      if (is_bias_for(g, other, n) && g.t(add.outputs[0]).shape == out) {
        mm.inputs.resize(3, -1);
        mm.inputs[2] = other;
        // The Add's constant becomes the Gemm's C, which the Gemm scales by beta: a Gemm
        // without C ignored its beta, so the fused node must add the bias unscaled.
        if (mm.op == "Gemm") {
          Attr one;
          one.kind = Attr::Kind::Float;
          one.f = 1.0f;
          mm.attrs["beta"] = one;
        }
        mm.outputs[0] = add.outputs[0];
        drop[next] = 1;
        has_bias = true;
        next = single_consumer(mm.outputs[0]);
      }
    }
    if (next >= 0) {
      const Node& a = g.nodes[next];
      const OpInfo* info = find_op(a.op);
      if (info && info->act && a.attrs.empty()) {
        Attr act;
        act.kind = Attr::Kind::String;
        act.s = a.op;
        mm.attrs["_act"] = act;
        mm.outputs[0] = a.outputs[0];
        drop[next] = 1;
        continue;
      }
    }
    if (has_bias) {
      Attr act;
      act.kind = Attr::Kind::String;
      act.s = "";
      mm.attrs["_act"] = act;
    }
  }
  std::vector<Node> kept;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!drop[i]) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
}
}  // namespace

void fuse_epilogue(Graph& g) { for_each_node_list(g, fuse_in_list); }

}  // namespace trnsim::compiler
