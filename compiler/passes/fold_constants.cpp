// Pass fold_constants: walks the graph in order, inferring every output's shape and dtype and
// evaluating (with the reference interpreter) each node whose inputs are all constant, or
// whose result depends only on input shapes (Shape, Size).
#include <fmt/format.h>

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
}  // namespace

void fold_constants(Graph& g) {
  std::vector<Node> kept;
  for (Node& n : g.nodes) {
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
      }
    }
    kept.push_back(std::move(n));
  }
  g.nodes = std::move(kept);
}

}  // namespace trnsim::compiler
