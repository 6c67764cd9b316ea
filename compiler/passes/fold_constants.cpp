// Pass fold_constants: walks the graph in order, inferring every output's shape and dtype and
// evaluating (with the reference interpreter) each node whose inputs are all constant, or
// whose result depends only on input shapes (Shape, Size). An `If` whose condition is constant
// by then (an initializer, a Constant, or anything folded before it, e.g. a test on a Shape)
// is replaced by the nodes of the branch it takes, which are then folded like the rest; the
// other branch is never looked at (it may not even be valid for the pinned shapes). Otherwise
// both branches are folded and the If's outputs get their types, which must agree.
#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <optional>

#include "compiler/interp/interpreter.h"
#include "compiler/ops/op_table.h"
#include "compiler/passes/passes.h"
#include "support/error.h"

namespace trnsim::compiler {

namespace {
// Evaluating large constants (e.g. a Transpose of a big weight) is fine; this bounds work on
// absurd inputs such as ConstantOfShape of a huge shape.
constexpr int64_t kMaxFoldElements = int64_t{64} << 20;

void fold_list(Graph& g, std::vector<Node>& nodes);

// The nodes of If `n`'s branch `k`, writing the If's outputs: a yielded tensor produced in the
// branch becomes the If's output (its producer writes it), anything else (a tensor of the
// enclosing list, a constant, one tensor yielded twice) gets an Identity.
std::vector<Node> inline_branch(Graph& g, Node& n, int k) {
  Branch& b = n.branches[k];
  std::vector<int> map(g.tensors.size());
  for (size_t i = 0; i < map.size(); ++i) map[i] = static_cast<int>(i);
  std::vector<char> produced(g.tensors.size(), 0);
  for (const Node& c : b.nodes)
    for (int id : c.outputs)
      if (id >= 0) produced[id] = 1;
  std::vector<Node> extra;
  for (size_t o = 0; o < n.outputs.size(); ++o) {
    const int t = b.outputs[o], out = n.outputs[o];
    if (out < 0) continue;
    if (produced[t] && map[t] == t) {
      map[t] = out;
      continue;
    }
    Node id;
    id.op = "Identity";
    id.name = fmt::format("{}.out{}.{}", n.name, o, k == 0 ? "then" : "else");
    id.inputs = {map[t]};
    id.outputs = {out};
    extra.push_back(std::move(id));
  }
  std::vector<Node> out = std::move(b.nodes);
  for (Node& c : out)
    for (int& id : c.outputs)
      if (id >= 0) id = map[id];
  rename_inputs(out, map);
  for (Node& e : extra) out.push_back(std::move(e));
  return out;
}

// Types of a runtime If's outputs: those of its branches' yields, which must agree.
void type_if_outputs(Graph& g, const Node& n) {
  for (size_t o = 0; o < n.outputs.size(); ++o) {
    if (n.outputs[o] < 0) continue;
    const Tensor& a = g.t(n.branches[0].outputs[o]);
    const Tensor& b = g.t(n.branches[1].outputs[o]);
    if (!a.shape_known || !b.shape_known)
      throw std::logic_error(g.where(n) + ": a branch output has no shape");
    if (a.dtype != b.dtype)
      throw InputError(fmt::format("{}: output {} is {} in the then branch and {} in the else "
                                   "branch", g.where(n), o, isa::dtype_name(a.dtype),
                                   isa::dtype_name(b.dtype)));
    if (a.shape != b.shape)
      throw InputError(fmt::format(
          "{}: output {} has shape {} in the then branch and {} in the else branch; branches "
          "with different output shapes are not supported", g.where(n), o, shape_str(a.shape),
          shape_str(b.shape)));
    Tensor& t = g.t(n.outputs[o]);
    t.dtype = a.dtype;
    t.shape = a.shape;
    t.shape_known = true;
  }
}

// An If: inlined when its condition is constant (the nodes returned, to be folded next), else
// its branches are folded and it is typed (nothing returned, the If is kept).
std::optional<std::vector<Node>> fold_if(Graph& g, Node& n) {
  const Tensor& c = g.t(n.inputs.at(0));
  if (c.shape_known && num_elements(c.shape) != 1)
    throw InputError(fmt::format("{}: the condition has {} elements, not 1", g.where(n),
                                 num_elements(c.shape)));
  if (c.is_const()) return inline_branch(g, n, c.value->data.get(0) != 0 ? 0 : 1);
  for (size_t k = 0; k < n.branches.size(); ++k) {
    try {
      fold_list(g, n.branches[k].nodes);
    } catch (const InputError& e) {
      // Both branches are compiled, so both must be valid for the pinned input shapes (an
      // exporter's branch for other shapes is not: ONNX Runtime fails when it takes it too).
      const std::string msg = e.what();
      if (msg.find("known only at run time") != std::string::npos) throw;
      throw InputError(fmt::format("{} (in the {} branch of If '{}', whose condition is known "
                                   "only at run time: both branches are compiled)",
                                   msg, k == 0 ? "then" : "else", n.name));
    }
  }
  update_captures(n);
  type_if_outputs(g, n);
  return std::nullopt;
}

void fold_list(Graph& g, std::vector<Node>& nodes) {
  // Work stack, next node at the back: an inlined branch's nodes are pushed to come next.
  std::vector<Node> work(std::make_move_iterator(nodes.rbegin()),
                         std::make_move_iterator(nodes.rend()));
  std::vector<Node> kept;
  while (!work.empty()) {
    Node n = std::move(work.back());
    work.pop_back();
    if (n.op == "If") {
      auto inlined = fold_if(g, n);
      if (!inlined) {
        kept.push_back(std::move(n));
        continue;
      }
      for (auto it = inlined->rbegin(); it != inlined->rend(); ++it) work.push_back(std::move(*it));
      continue;
    }
    const OpInfo* info = find_op(n.op);
    if (!info)
      throw InputError(fmt::format("{}: not supported; supported ops: {}", g.where(n), supported_ops()));
    std::vector<const Tensor*> in;
    bool all_const = true;
    for (int id : n.inputs) {
      if (id < 0) {
        in.push_back(nullptr);
        continue;
      }
      const Tensor& t = g.t(id);
      if (!t.shape_known)
        throw std::logic_error(fmt::format("{}: input '{}' has no shape", g.where(n), t.name));
      in.push_back(&t);
      all_const = all_const && t.is_const();
    }
    std::vector<TypeShape> types;
    try {
      types = info->infer(n, in);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{}: {}", g.where(n), e.what()));
    }
    int64_t total = 0;
    for (const auto& t : types) total += num_elements(t.shape);
    bool fold = (all_const || info->shape_only) && total <= kMaxFoldElements;
    bool deferred_input = false;  // a weight left in the file (timing-only compile)
    for (const Tensor* t : in) deferred_input = deferred_input || (t && t->is_const() &&
                                                                   !t->value->data.has_data());
    if (fold && deferred_input && !info->shape_only) {
      // Fold lazily: the shapes are known now, the values only if something reads them.
      auto args = std::make_shared<std::vector<std::optional<Value>>>();
      for (const Tensor* t : in) args->push_back(t ? t->value : std::nullopt);
      const std::string where = g.where(n);
      for (size_t k = 0; k < n.outputs.size(); ++k) {
        if (n.outputs[k] < 0) continue;
        Tensor& t = g.t(n.outputs[k]);
        t.dtype = types.at(k).dtype;
        t.shape = types[k].shape;
        t.shape_known = true;
        t.value = Value::deferred(t.dtype, t.shape, [node = n, args, k, where, info]() {
          std::vector<const Value*> vals;
          for (const auto& a : *args) vals.push_back(a ? &*a : nullptr);
          try {
            return info->eval(node, vals).at(k).data;
          } catch (const InputError& e) {
            throw InputError(fmt::format("{}: {}", where, e.what()));
          }
        });
      }
      continue;
    }
    if (fold) {
      std::vector<Value> shape_dummies(in.size());
      std::vector<const Value*> vals;
      for (size_t i = 0; i < in.size(); ++i) {
        if (!in[i]) {
          vals.push_back(nullptr);
        } else if (in[i]->is_const()) {
          vals.push_back(&*in[i]->value);
        } else {  // shape-only ops never read the data
          shape_dummies[i].dtype = in[i]->dtype;
          shape_dummies[i].shape = in[i]->shape;
          vals.push_back(&shape_dummies[i]);
        }
      }
      auto out = eval_node(g, n, vals);
      for (size_t k = 0; k < n.outputs.size(); ++k) {
        if (n.outputs[k] < 0) continue;
        Tensor& t = g.t(n.outputs[k]);
        t.value = out.at(k);
        t.dtype = types.at(k).dtype;
        t.value->dtype = t.dtype;
        t.shape = types[k].shape;
        t.value->shape = t.shape;
        t.shape_known = true;
      }
      continue;
    }
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      if (n.outputs[k] < 0) continue;
      if (k >= types.size())
        throw InputError(fmt::format("{}: output {} is not supported", g.where(n), k));
      Tensor& t = g.t(n.outputs[k]);
      t.dtype = types[k].dtype;
      t.shape = types[k].shape;
      t.shape_known = true;
    }
    // Dropout's inference-mode mask is all true whatever the data: a constant.
    if (n.op == "Dropout" && n.outputs.size() > 1 && n.outputs[1] >= 0) {
      Tensor& m = g.t(n.outputs[1]);
      if (num_elements(m.shape) <= kMaxFoldElements) {
        m.value = Value(DType::Bool, m.shape);
        for (int64_t i = 0; i < m.value->numel(); ++i) m.value->data[i] = 1.0;
        n.outputs.resize(1);  // the node no longer produces it (the constant does)
      }
    }
    kept.push_back(std::move(n));
  }
  nodes = std::move(kept);
}

}  // namespace

void fold_constants(Graph& g) { fold_list(g, g.nodes); }

}  // namespace trnsim::compiler
