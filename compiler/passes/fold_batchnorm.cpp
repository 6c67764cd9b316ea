// Pass fold_batchnorm: BatchNormalization(Conv(x, W, b)) with constant parameters becomes
// Conv(x, W*s, (b-mean)*s+beta), s = gamma/sqrt(var+eps), when the Conv output has no other user.
#include <cmath>
#include <utility>
#include <vector>

#include "compiler/passes/passes.h"

namespace trnsim::compiler {

namespace {
void fold_in_list(Graph& g) {
  std::vector<int> uses(g.tensors.size(), 0);
  for (const Node& n : g.nodes)
    for (int id : n.inputs)
      if (id >= 0) ++uses[id];
  std::vector<int> producer(g.tensors.size(), -1);
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (int id : g.nodes[i].outputs)
      if (id >= 0) producer[id] = static_cast<int>(i);
  std::vector<char> drop(g.nodes.size(), 0);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& bn = g.nodes[i];
    if (bn.op != "BatchNormalization" || bn.outputs.size() != 1) continue;
    int x = bn.inputs[0];
    if (producer[x] < 0 || uses[x] != 1 || g.t(x).escapes()) continue;
    Node& conv = g.nodes[producer[x]];
    if (conv.op != "Conv" || !g.t(conv.inputs[1]).is_const()) continue;
    bool consts = true;
    for (int k = 1; k < 5; ++k) consts = consts && g.t(bn.inputs[k]).is_const();
    if (!consts || (conv.has_input(2) && !g.t(conv.inputs[2]).is_const())) continue;
    const Value &gamma = *g.t(bn.inputs[1]).value, &beta = *g.t(bn.inputs[2]).value,
                &mean = *g.t(bn.inputs[3]).value, &var = *g.t(bn.inputs[4]).value;
    double eps = bn.attr_float("epsilon", 1e-5f);
    Value w = *g.t(conv.inputs[1]).value;
    int64_t cout = w.shape[0], per = w.numel() / cout;
    Value b(DType::Fp32, {cout});
    std::vector<double> scale(cout);
    for (int64_t c = 0; c < cout; ++c) {
      double s = scale[c] = gamma.data[c] / std::sqrt(var.data[c] + eps);
      double b0 = conv.has_input(2) ? g.t(conv.inputs[2]).value->data[c] : 0.0;
      b.data[c] = static_cast<float>((b0 - mean.data[c]) * s + beta.data[c]);
    }
    auto scaled = [scale, per](Value v) {
      for (size_t c = 0; c < scale.size(); ++c)
        for (int64_t j = 0; j < per; ++j)
          v.data[c * per + j] = static_cast<float>(v.data[c * per + j] * scale[c]);
      return std::move(v.data);
    };
    // Weights left in the file (timing-only) are scaled only if something reads them.
    if (w.data.has_data()) w.data = scaled(w);
    else w = Value::deferred(w.dtype, w.shape, [w, scaled] { return scaled(w); });
    Tensor wt = g.t(conv.inputs[1]);
    wt.name = conv.name + ".w_bn";
    wt.value = w;
    Tensor bt;
    bt.name = conv.name + ".b_bn";
    bt.dtype = DType::Fp32;
    bt.shape = b.shape;
    bt.shape_known = true;
    bt.value = b;
    int wid = g.add_tensor(wt), bid = g.add_tensor(bt);
    conv.inputs.resize(3);
    conv.inputs[1] = wid;
    conv.inputs[2] = bid;
    conv.outputs[0] = bn.outputs[0];
    drop[i] = 1;
  }
  std::vector<Node> kept;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!drop[i]) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
}
}  // namespace

void fold_batchnorm(Graph& g) { for_each_node_list(g, fold_in_list); }

}  // namespace trnsim::compiler
