#include "compiler/tensor_parallel.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <tuple>

#include "compiler/ops/op_table.h"
#include "support/error.h"

namespace trnsim::compiler {

namespace {

enum class Kind { Free, R, S, P };  // Free: a graph input no consumer has placed yet
// How the split axis is cut: in `g` equal groups, rank r holding block r of each (a fused QKV
// projection split afterwards into q, k, v: each rank gets its columns of every part, as
// Megatron shards a fused weight). Open (g = 1, not frozen) from a column-parallel MatMul
// until a Split along the axis sets g or another use fixes the layout.
struct Group {
  int g = 1;
  bool frozen = false;
};
struct Lay {
  Kind k = Kind::Free;
  int axis = -1;
  std::shared_ptr<Group> grp;
};

std::shared_ptr<Group> fixed_group() {
  auto p = std::make_shared<Group>();
  p->frozen = true;
  return p;
}
int groups(const Lay& l) { return l.grp ? l.grp->g : 1; }
void freeze(const Lay& l) {
  if (l.grp) l.grp->frozen = true;
}

// Rank `rank`'s slice of `v` along `axis` (tp equal slices); stays deferred while `v` is (a
// timing-only compile never reads the weights).
Value shard_value(const Value& v, int axis, int tp, int rank, int groups) {
  Shape s = v.shape;
  const int64_t d = s[axis] / tp, blk = d / groups, part = v.shape[axis] / groups;
  s[axis] = d;
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= v.shape[i];
  for (size_t i = axis + 1; i < v.shape.size(); ++i) inner *= v.shape[i];
  auto compute = [v, s, outer, inner, d, blk, part, rank, full = v.shape[axis]]() {
    Value o(v.dtype, s);
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t j = 0; j < d; ++j) {
        const int64_t src = (j / blk) * part + rank * blk + j % blk;
        for (int64_t i = 0; i < inner; ++i)
          o.data[(a * d + j) * inner + i] = v.data[(a * full + src) * inner + i];
      }
    return o;
  };
  if (!v.data.has_data())
    return Value::deferred(v.dtype, s, [compute]() { return compute().data; });
  return compute();
}

int rank_of(const Graph& g, int id) { return static_cast<int>(g.t(id).shape.size()); }

class Splitter {
 public:
  Splitter(Graph& g, int tp, int rank, int cores) : g_(g), tp_(tp), rank_(rank), cores_(cores) {}

  TpStats run() {
    for (const Tensor& t : g_.tensors) gshape_.push_back(t.shape);
    lay_.resize(g_.tensors.size());
    std::vector<Node> nodes = std::move(g_.nodes);
    g_.nodes.clear();
    for (Node& n : nodes) place(n);
    finish_outputs();
    for (const Pending& p : pending_)
      if (p.grp->g > 1)
        g_.t(p.id).value = shard_value(*g_.t(p.whole).value, p.axis, tp_, rank_, p.grp->g);
    contiguous_boundaries();
    g_.nodes = std::move(out_);
    if (st_.column + st_.row + st_.batched == 0)
      throw InputError(fmt::format("{}: --tp {}: no MatMul or Gemm could be split across the "
                                   "ranks (tensor parallelism splits matmuls by constant "
                                   "weights, Megatron style)",
                                   g_.source, tp_));
    return st_;
  }

 private:
  Graph& g_;
  const int tp_, rank_, cores_;
  std::vector<Lay> lay_;
  std::vector<Shape> gshape_;  // every tensor's shape in the whole (unsplit) model
  std::vector<Node> out_;
  std::map<int, int> whole_of_;               // tensor -> its R version (gathered/reduced)
  std::map<std::tuple<int, int, const Group*>, int> split_;  // (tensor, axis, group) -> S version
  struct Pending {  // a sharded constant, resliced at the end if its group count grew
    int id, whole, axis;
    std::shared_ptr<Group> grp;
  };
  std::vector<Pending> pending_;
  std::map<int, int> const_src_;              // sharded constant -> the whole constant
  TpStats st_;
  int uid_ = 0;

  Lay& lay(int id) {
    if (id >= static_cast<int>(lay_.size())) lay_.resize(id + 1);
    return lay_[id];
  }
  Lay layout(int id) {
    if (id < 0) return {Kind::R, -1, nullptr};
    if (g_.t(id).is_const()) {
      Lay l = lay(id);
      return l.k == Kind::S ? l : Lay{Kind::R, -1, nullptr};
    }
    return lay(id);
  }
  bool is_s(int id, int axis) {
    Lay l = layout(id);
    return l.k == Kind::S && l.axis == axis;
  }

  int add(const std::string& base, DType dt, const Shape& local, const Shape& global) {
    Tensor t;
    t.name = fmt::format("{}.tp{}", base, uid_++);
    t.dtype = dt;
    t.shape = local;
    t.shape_known = true;
    const int id = g_.add_tensor(std::move(t));
    gshape_.resize(id + 1);
    gshape_[id] = global;
    return id;
  }
  int add_const(const std::string& base, Value v, const Shape& global) {
    const int id = add(base, v.dtype, v.shape, global);
    g_.t(id).value = std::move(v);
    return id;
  }
  int ints(const std::string& base, const std::vector<int64_t>& v) {
    Value c(DType::Int64, {static_cast<int64_t>(v.size())});
    for (size_t i = 0; i < v.size(); ++i) c.data.set_int(i, v[i]);
    return add_const(base, c, c.shape);
  }

  // Infers the outputs of `n` from its (rewritten) inputs and appends it, outputs laid out `l`.
  void emit(Node n, Lay l) {
    if (l.k == Kind::S && !l.grp) l.grp = fixed_group();
    const OpInfo* info = find_op(n.op);
    std::vector<const Tensor*> in;
    for (int id : n.inputs) in.push_back(id >= 0 ? &g_.t(id) : nullptr);
    std::vector<TypeShape> types;
    try {
      types = info->infer(n, in);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{}: --tp {}: {}", g_.where(n), tp_, e.what()));
    }
    for (size_t k = 0; k < n.outputs.size() && k < types.size(); ++k) {
      if (n.outputs[k] < 0) continue;
      Tensor& t = g_.t(n.outputs[k]);
      t.dtype = types[k].dtype;
      t.shape = types[k].shape;
      t.shape_known = true;
      lay(n.outputs[k]) = l;
    }
    out_.push_back(std::move(n));
  }
  Node node(const std::string& op, const std::string& name, std::vector<int> in, int out) {
    Node n;
    n.op = op;
    n.name = fmt::format("{}.tp{}", name, uid_++);
    n.inputs = std::move(in);
    n.outputs = {out};
    return n;
  }

  // The R version of a split or partial tensor: an all-reduce (P), or an all-gather of the
  // ranks' slices stacked [tp, ...local] moved into place (S).
  int whole(int id) {
    auto it = whole_of_.find(id);
    if (it != whole_of_.end()) return it->second;
    const Tensor& t = g_.t(id);
    const Lay l = layout(id);
    freeze(l);
    if (groups(l) > 1)
      throw InputError(fmt::format("{}: --tp {}: '{}' (split in {} groups) cannot be gathered",
                                   g_.source, tp_, t.name, groups(l)));
    const Shape global = gshape_[id];
    const std::string base = t.name;
    int r;
    if (l.k == Kind::P) {
      r = add(base + ".allreduce", t.dtype, t.shape, global);
      Node n = node("TrnAllReduce", base + ".allreduce", {id}, r);
      n.attrs["group_size"].i = tp_;
      emit(std::move(n), {Kind::R, -1, nullptr});
      ++st_.all_reduce;
    } else {
      Shape stacked = t.shape;
      stacked.insert(stacked.begin(), tp_);
      int s = add(base + ".allgather", t.dtype, stacked, stacked);
      Node n = node("TrnAllGather", base + ".allgather", {id}, s);
      n.attrs["group_size"].i = tp_;
      emit(std::move(n), {Kind::R, -1, nullptr});
      ++st_.all_gather;
      if (l.axis > 0) {  // [tp, l0, .., la, ..] -> [l0, .., tp, la, ..]
        std::vector<int64_t> perm;
        for (int i = 1; i <= l.axis; ++i) perm.push_back(i);
        perm.push_back(0);
        for (int i = l.axis + 1; i <= rank_of(g_, id); ++i) perm.push_back(i);
        Shape moved;
        for (int64_t p : perm) moved.push_back(stacked[p]);
        const int m = add(base + ".gathered", t.dtype, moved, moved);
        Node tr = node("Transpose", base + ".gathered", {s}, m);
        tr.attrs["perm"].kind = Attr::Kind::Ints;
        tr.attrs["perm"].ints = perm;
        emit(std::move(tr), {Kind::R, -1, nullptr});
        s = m;
      }
      r = add(base + ".whole", t.dtype, global, global);
      emit(node("Reshape", base + ".whole", {s, ints(base + ".shape", global)}, r),
           {Kind::R, -1, nullptr});
    }
    whole_of_[id] = r;
    return r;
  }

  // Makes input k of `n` replicated. A split tensor needed whole in the middle of the graph
  // means the model does not follow the pattern: refused, naming the node.
  void to_r(Node& n, int k, const char* why) {
    const int id = n.inputs[k];
    if (id < 0) return;
    auto src = const_src_.find(id);
    if (src != const_src_.end()) {
      n.inputs[k] = src->second;
      return;
    }
    if (g_.t(id).is_const()) return;
    const Lay l = lay(id);
    if (l.k == Kind::Free) {
      lay(id) = {Kind::R, -1, nullptr};
      return;
    }
    if (l.k == Kind::R) return;
    if (l.k == Kind::S)
      throw InputError(fmt::format(
          "{}: --tp {}: input '{}' is split across the ranks along axis {} but {}; the graph "
          "does not follow the tensor-parallel pattern here",
          g_.where(n), tp_, g_.t(id).name, l.axis, why));
    n.inputs[k] = whole(id);
  }

  // Makes input k of `n` split along its axis `axis`; false when that dimension does not divide.
  bool to_s(Node& n, int k, int axis, std::shared_ptr<Group> grp = nullptr) {
    const int id = n.inputs[k];
    if (id < 0) return false;
    if (is_s(id, axis)) return true;
    if (!grp) grp = fixed_group();
    Tensor& t = g_.t(id);
    const Shape& gs = gshape_[id];
    if (axis < 0 || axis >= static_cast<int>(gs.size()) || gs[axis] % tp_ != 0) return false;
    auto key = std::make_tuple(id, axis, grp.get());
    auto it = split_.find(key);
    if (it != split_.end()) {
      n.inputs[k] = it->second;
      return true;
    }
    int s;
    if (t.is_const()) {
      auto src = const_src_.find(id);
      const int whole_id = src != const_src_.end() ? src->second : id;
      s = add_const(g_.t(whole_id).name + ".shard",
                    shard_value(*g_.t(whole_id).value, axis, tp_, rank_, 1), gshape_[whole_id]);
      const_src_[s] = whole_id;
      pending_.push_back({s, whole_id, axis, grp});
    } else if (lay(id).k == Kind::Free) {  // a graph input: the rank reads its slice
      t.shape[axis] /= tp_;
      t.shard_axis = axis;
      t.shard_global = t.shape;
      t.shard_global[axis] *= cores_;
      lay(id) = {Kind::S, axis, fixed_group()};
      return true;
    } else {
      const int w = layout(id).k == Kind::P ? whole(id) : id;
      if (layout(w).k == Kind::S) return false;  // split along another axis
      const int64_t d = gs[axis] / tp_;
      Shape local = g_.t(w).shape;
      local[axis] = d;
      s = add(t.name + ".slice", t.dtype, local, gs);
      emit(node("Slice", t.name + ".slice",
                {w, ints("starts", {rank_ * d}), ints("ends", {(rank_ + 1) * d}),
                 ints("axes", {axis})},
                s),
           {Kind::S, axis, fixed_group()});
      ++st_.slices;
    }
    if (g_.t(s).is_const()) lay(s) = {Kind::S, axis, grp};
    split_[key] = s;
    n.inputs[k] = s;
    return true;
  }

  // A constant added by rank 0 only (the others add zeros), so a partial sum stays partial.
  void rank0_only(Node& n, int k) {
    if (rank_ == 0) return;
    const Tensor& c = g_.t(n.inputs[k]);
    n.inputs[k] = add_const(c.name + ".zero", Value(c.dtype, c.shape), c.shape);
  }

  static bool is_elementwise(const Node& n) {
    const OpInfo* info = find_op(n.op);
    return (info && (info->unary || info->binary)) || n.op == "Where" || n.op == "Cast" ||
           n.op == "Clip";
  }

  void place(Node& n) {
    const std::string& op = n.op;
    // Only these keep a split open to regrouping (a fused projection until its Split).
    if (op != "MatMul" && op != "Gemm" && !is_elementwise(n) && op != "Reshape" && op != "Split")
      for (int id : n.inputs)
        if (id >= 0) freeze(layout(id));
    if (op == "MatMul") return matmul(n);
    if (op == "Gemm") return gemm(n);
    if (is_elementwise(n)) return elementwise(n);
    if (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" ||
        op == "Identity" || op == "Dropout")
      return reshape_like(n);
    if (op == "Transpose") return transpose(n);
    if (op == "Softmax" || op == "LogSoftmax") return softmax(n);
    if (op == "LayerNormalization") return layernorm(n);
    if (op.rfind("Reduce", 0) == 0) return reduce(n);
    if (op == "Concat") return concat(n);
    if (op == "Split" || op == "Slice") return slice(n);
    if (op == "Gather") return gather(n);
    if (op == "Expand") return expand(n);
    generic(n, "this operator is not split by tensor parallelism");
  }

  void generic(Node& n, const char* why) {
    for (size_t k = 0; k < n.inputs.size(); ++k) to_r(n, static_cast<int>(k), why);
    emit(std::move(n), {Kind::R, -1, nullptr});
  }

  // Input 0's split carries to the outputs; the other inputs (scales, bounds) are whole.
  void keep_split(Node& n, const Lay& l) {
    for (size_t k = 1; k < n.inputs.size(); ++k) to_r(n, static_cast<int>(k), "");
    emit(std::move(n), l);
  }

  void partial_to_r(Node& n, const char* why) {
    for (size_t k = 0; k < n.inputs.size(); ++k)
      if (n.inputs[k] >= 0 && layout(n.inputs[k]).k == Kind::P) to_r(n, static_cast<int>(k), why);
  }

  void matmul(Node& n) {
    partial_to_r(n, "is an operand of a MatMul");
    const int a = n.inputs[0], b = n.inputs[1];
    const int ra = rank_of(g_, a), rb = rank_of(g_, b);
    const bool ca = g_.t(a).is_const(), cb = g_.t(b).is_const();
    if (cb && !ca && rb == 2 && ra >= 2) {
      const Lay la = layout(a);
      if (la.k == Kind::S && la.axis == ra - 1 && to_s(n, 1, 0, la.grp)) {  // row-parallel
        freeze(la);
        ++st_.row;
        return emit(std::move(n), {Kind::P, -1, nullptr});
      }
      if (la.k == Kind::S && la.axis < ra - 1) {  // rows or a batch axis split: B whole
        freeze(la);
        to_r(n, 1, "");
        return emit(std::move(n), la);
      }
      to_r(n, 0, "is the activation of a MatMul whose other split does not apply");
      auto grp = std::make_shared<Group>();
      if (to_s(n, 1, 1, grp)) {  // column-parallel
        ++st_.column;
        return emit(std::move(n), {Kind::S, ra - 1, grp});
      }
      return emit(std::move(n), {Kind::R, -1, nullptr});
    }
    if (ca || cb || ra < 2 || rb < 2) return generic(n, "is an operand of a MatMul not split");
    const int ro = std::max(ra, rb);
    const Lay la = layout(a), lb = layout(b);
    freeze(la);
    freeze(lb);
    if (groups(la) > 1 || groups(lb) > 1) return generic(n, "is split in groups");
    auto batch_axis = [&](Lay l, int r) {
      return l.k == Kind::S && l.axis < r - 2 ? l.axis + (ro - r) : -1;
    };
    const int oa = batch_axis(la, ra), ob = batch_axis(lb, rb);
    if ((oa >= 0 || ob >= 0) && !(oa >= 0 && ob >= 0 && oa != ob)) {  // per head
      const int o = oa >= 0 ? oa : ob;
      for (int k = 0; k < 2; ++k) {
        const int r = k == 0 ? ra : rb, ia = o - (ro - r);
        if (ia >= 0 && is_s(n.inputs[k], ia)) continue;
        if (ia < 0 || g_.t(n.inputs[k]).shape[ia] == 1) {
          to_r(n, k, "is the other operand of a MatMul split per head");
          continue;
        }
        if (!to_s(n, k, ia)) to_r(n, k, "cannot be split like the other MatMul operand");
      }
      ++st_.batched;
      return emit(std::move(n), {Kind::S, o, fixed_group()});
    }
    if (la.k == Kind::S && la.axis == ra - 1 && lb.k == Kind::S && lb.axis == rb - 2)
      return emit(std::move(n), {Kind::P, -1, nullptr});
    if (la.k == Kind::S && la.axis == ra - 2 && lb.k != Kind::S) {
      to_r(n, 1, "");
      return emit(std::move(n), {Kind::S, ro - 2, fixed_group()});
    }
    if (lb.k == Kind::S && lb.axis == rb - 1 && la.k != Kind::S) {
      to_r(n, 0, "");
      return emit(std::move(n), {Kind::S, ro - 1, fixed_group()});
    }
    generic(n, "is an operand of a MatMul whose split operands do not line up");
  }

  void gemm(Node& n) {
    partial_to_r(n, "is an operand of a Gemm");
    const int a = n.inputs[0], b = n.inputs[1];
    if (!g_.t(b).is_const() || g_.t(a).is_const()) return generic(n, "is an operand of a Gemm");
    const bool ta = n.attr_int("transA", 0) != 0, tb = n.attr_int("transB", 0) != 0;
    const int bk = tb ? 1 : 0, bn = tb ? 0 : 1;
    const bool has_c = n.has_input(2);
    const Lay la = layout(a);
    if (is_s(a, ta ? 0 : 1) && (!has_c || g_.t(n.inputs[2]).is_const()) &&
        to_s(n, 1, bk, la.grp)) {
      freeze(la);
      if (has_c) rank0_only(n, 2);
      ++st_.row;
      return emit(std::move(n), {Kind::P, -1, nullptr});
    }
    to_r(n, 0, "is the activation of a Gemm");
    auto grp = std::make_shared<Group>();
    if (!to_s(n, 1, bn, grp)) {
      if (has_c) to_r(n, 2, "");
      return emit(std::move(n), {Kind::R, -1, nullptr});
    }
    if (has_c) {
      const Shape& cs = g_.t(n.inputs[2]).shape;
      const int64_t N = gshape_[b][bn];
      if (!cs.empty() && cs.back() == N && N > 1) {
        if (!to_s(n, 2, static_cast<int>(cs.size()) - 1, grp)) to_r(n, 2, "is a Gemm bias");
      } else {
        to_r(n, 2, "is a Gemm bias");
      }
    }
    ++st_.column;
    emit(std::move(n), {Kind::S, 1, grp});
  }

  void elementwise(Node& n) {
    const std::string& op = n.op;
    bool any_p = false;
    for (int id : n.inputs) any_p = any_p || (id >= 0 && layout(id).k == Kind::P);
    if (any_p) {
      int np = 0, nconst = 0, nin = 0;
      for (int id : n.inputs) {
        if (id < 0) continue;
        ++nin;
        np += layout(id).k == Kind::P;
        nconst += g_.t(id).is_const() && layout(id).k != Kind::S;
      }
      const bool sums = (op == "Add" || op == "Sub") && np + nconst == nin;
      const bool scales = ((op == "Mul" && np == 1) || (op == "Div" && layout(n.inputs[0]).k ==
                                                                             Kind::P && np == 1)) &&
                          np + nconst == nin;
      if (sums) {
        for (size_t k = 0; k < n.inputs.size(); ++k)
          if (n.inputs[k] >= 0 && layout(n.inputs[k]).k != Kind::P) rank0_only(n, static_cast<int>(k));
        return emit(std::move(n), {Kind::P, -1, nullptr});
      }
      if (scales || op == "Neg") return emit(std::move(n), {Kind::P, -1, nullptr});
      partial_to_r(n, "");
    }
    int ro = 0;
    for (int id : n.inputs)
      if (id >= 0) ro = std::max(ro, rank_of(g_, id));
    int oa = -1;
    bool conflict = false;
    std::shared_ptr<Group> grp;
    for (int id : n.inputs) {
      if (id < 0) continue;
      const Lay l = layout(id);
      if (l.k != Kind::S) continue;
      const int o = l.axis + ro - rank_of(g_, id);
      if (oa >= 0 && o != oa) conflict = true;
      if (grp && l.grp && l.grp != grp) {  // two layouts meet: both are final, and must agree
        freeze(l);
        grp->frozen = true;
        conflict = conflict || l.grp->g != grp->g;
      }
      grp = l.grp;
      oa = o;
    }
    if (oa < 0) return generic(n, "");
    for (size_t k = 0; k < n.inputs.size() && !conflict; ++k) {
      const int id = n.inputs[k];
      if (id < 0) continue;
      const int ia = oa - (ro - rank_of(g_, id));
      if (ia >= 0 && is_s(id, ia)) continue;
      if (ia < 0 || g_.t(id).shape[ia] == 1) {
        to_r(n, static_cast<int>(k), "");
        continue;
      }
      if (!to_s(n, static_cast<int>(k), ia, grp)) conflict = true;
    }
    if (conflict) return generic(n, "meets tensors split along different axes");
    emit(std::move(n), {Kind::S, oa, grp});
  }

  void reshape_like(Node& n) {
    const int x = n.inputs[0];
    const Lay l = layout(x);
    if (l.k == Kind::P) return emit(std::move(n), l);
    if (l.k != Kind::S) return generic(n, "");
    const Shape& gin = gshape_[x];
    const Shape& gout = gshape_[n.outputs[0]];
    int64_t pre = 1;
    for (int i = 0; i < l.axis; ++i) pre *= gin[i];
    int b = -1;
    int64_t p = 1;
    for (size_t j = 0; j < gout.size(); ++j) {
      if (p == pre && gout[j] > 1 && gout[j] % tp_ == 0) {
        b = static_cast<int>(j);
        break;
      }
      p *= gout[j];
      if (p > pre) break;
    }
    if (b < 0)
      throw InputError(fmt::format(
          "{}: --tp {}: the split axis {} (size {}) of '{}' cannot stay split through this "
          "reshape to [{}] (no output dimension divisible by {} starts there: the head count "
          "must be divisible by --tp)",
          g_.where(n), tp_, l.axis, gin[l.axis], g_.t(x).name, fmt::join(gout, ","), tp_));
    Lay o{Kind::S, b, l.grp};
    if (gout[b] != gin[l.axis]) {  // the axis is cut or merged: its blocks must be plain
      freeze(l);
      if (groups(l) > 1)
        throw InputError(fmt::format("{}: --tp {}: '{}' is split in {} groups and cannot be "
                                     "reshaped across its split axis",
                                     g_.where(n), tp_, g_.t(x).name, groups(l)));
      o.grp = fixed_group();
    }
    if (n.op == "Reshape") {
      Shape local = gout;
      local[b] /= tp_;
      n.inputs[1] = ints(n.name + ".shape", local);
    }
    emit(std::move(n), o);
  }

  void transpose(Node& n) {
    const int x = n.inputs[0];
    const Lay l = layout(x);
    if (l.k == Kind::P) return emit(std::move(n), l);
    if (l.k != Kind::S) return generic(n, "");
    std::vector<int64_t> perm = n.attr_ints("perm");
    const int r = rank_of(g_, x);
    if (perm.empty())
      for (int i = r - 1; i >= 0; --i) perm.push_back(i);
    const int j = static_cast<int>(std::find(perm.begin(), perm.end(), l.axis) - perm.begin());
    emit(std::move(n), {Kind::S, j, nullptr});
  }

  void softmax(Node& n) {
    partial_to_r(n, "is the input of a softmax");
    const int x = n.inputs[0];
    const Lay l = layout(x);
    const int r = rank_of(g_, x);
    const bool legacy = n.has_attr("_legacy") || g_.opset < 13;
    const int axis = static_cast<int>(normalize_axis(n.attr_int("axis", legacy ? 1 : -1), r));
    if (l.k == Kind::S && (legacy ? l.axis < axis : l.axis != axis))
      return emit(std::move(n), l);
    generic(n, "is normalised along its split axis");
  }

  void layernorm(Node& n) {
    partial_to_r(n, "is the input of a LayerNormalization");
    const int x = n.inputs[0];
    const Lay l = layout(x);
    const int axis = static_cast<int>(normalize_axis(n.attr_int("axis", -1), rank_of(g_, x)));
    if (l.k == Kind::S && l.axis < axis) return keep_split(n, l);
    generic(n, "is normalised along its split axis");
  }

  void reduce(Node& n) {
    const int x = n.inputs[0];
    const Lay l = layout(x);
    const int r = rank_of(g_, x);
    std::vector<int64_t> axes = n.attr_ints("axes");
    if (n.has_input(1) && g_.t(n.inputs[1]).is_const())
      for (size_t i = 0; i < g_.t(n.inputs[1]).value->data.size(); ++i)
        axes.push_back(g_.t(n.inputs[1]).value->data.int_at(i));
    for (auto& a : axes) a = normalize_axis(a, r);
    const bool keep = n.attr_int("keepdims", 1) != 0;
    if (l.k == Kind::P && (n.op == "ReduceSum" || n.op == "ReduceMean"))
      return emit(std::move(n), l);
    partial_to_r(n, "is the input of a reduction");
    if (l.k == Kind::S && !axes.empty() &&
        std::find(axes.begin(), axes.end(), l.axis) == axes.end()) {
      int o = l.axis;
      if (!keep)
        for (int64_t a : axes) o -= a < l.axis;
      return emit(std::move(n), {Kind::S, o, nullptr});
    }
    generic(n, "is reduced along its split axis");
  }

  void concat(Node& n) {
    const int r = rank_of(g_, n.inputs[0]);
    const int c = static_cast<int>(normalize_axis(n.attr_int("axis", 0), r));
    bool all_p = true;
    for (int id : n.inputs) all_p = all_p && id >= 0 && layout(id).k == Kind::P;
    if (all_p) return emit(std::move(n), {Kind::P, -1, nullptr});
    partial_to_r(n, "is concatenated with tensors that are not partial sums");
    int a = -1;
    for (int id : n.inputs)
      if (id >= 0 && layout(id).k == Kind::S) a = layout(id).axis;
    if (a < 0 || a == c) return generic(n, "is concatenated along its split axis");
    for (size_t k = 0; k < n.inputs.size(); ++k)
      if (n.inputs[k] >= 0 && !to_s(n, static_cast<int>(k), a))
        return generic(n, "cannot be split like the other inputs of the Concat");
    emit(std::move(n), {Kind::S, a, nullptr});
  }

  void slice(Node& n) {
    const int x = n.inputs[0];
    const Lay l = layout(x);
    const int r = rank_of(g_, x);
    std::vector<int64_t> axes;
    if (n.op == "Split") {
      axes = {normalize_axis(n.attr_int("axis", 0), r)};
    } else {
      axes = n.attr_ints("axes");
      if (n.has_input(3) && g_.t(n.inputs[3]).is_const()) {
        axes.clear();
        for (size_t i = 0; i < g_.t(n.inputs[3]).value->data.size(); ++i)
          axes.push_back(normalize_axis(g_.t(n.inputs[3]).value->data.int_at(i), r));
      } else if (axes.empty()) {
        const int64_t len = n.has_input(1) ? num_elements(g_.t(n.inputs[1]).shape)
                                           : static_cast<int64_t>(n.attr_ints("starts").size());
        for (int64_t i = 0; i < len; ++i) axes.push_back(i);
      }
      for (auto& a : axes) a = normalize_axis(a, r);
    }
    if (l.k == Kind::P) return emit(std::move(n), l);
    if (n.op == "Split" && l.k == Kind::S && axes[0] == l.axis && l.grp && !l.grp->frozen) {
      // A fused projection split into equal parts: each rank's columns of every part.
      const int64_t N = gshape_[x][l.axis];
      const int64_t k = static_cast<int64_t>(n.outputs.size());
      std::vector<int64_t> sizes = n.attr_ints("split");
      if (n.has_input(1) && g_.t(n.inputs[1]).is_const()) {
        sizes.clear();
        for (size_t i = 0; i < g_.t(n.inputs[1]).value->data.size(); ++i)
          sizes.push_back(g_.t(n.inputs[1]).value->data.int_at(i));
      }
      if (sizes.empty()) sizes.assign(k, N % k == 0 ? N / k : -1);
      const bool equal = static_cast<int64_t>(sizes.size()) == k &&
                         std::all_of(sizes.begin(), sizes.end(), [&](int64_t v) {
                           return v == sizes[0] && v > 0 && v % tp_ == 0;
                         });
      if (equal) {
        l.grp->g = static_cast<int>(k);
        l.grp->frozen = true;
        std::vector<int64_t> local(k, sizes[0] / tp_);
        if (n.has_input(1)) {
          n.inputs[1] = ints(n.name + ".split", local);
        } else if (n.has_attr("split")) {
          n.attrs["split"].ints = local;
        }
        return emit(std::move(n), {Kind::S, l.axis, fixed_group()});
      }
    }
    freeze(l);
    if (l.k == Kind::S && std::find(axes.begin(), axes.end(), l.axis) == axes.end())
      return keep_split(n, l);
    generic(n, "is sliced along its split axis");
  }

  void gather(Node& n) {
    const int x = n.inputs[0];
    const Lay l = layout(x);
    const int r = rank_of(g_, x);
    const int ga = static_cast<int>(normalize_axis(n.attr_int("axis", 0), r));
    to_r(n, 1, "is the indices of a Gather");
    if (l.k == Kind::S && l.axis != ga) {
      const int ri = rank_of(g_, n.inputs[1]);
      return emit(std::move(n), {Kind::S, l.axis < ga ? l.axis : l.axis + ri - 1, nullptr});
    }
    generic(n, "is gathered along its split axis");
  }

  void expand(Node& n) {
    const int x = n.inputs[0];
    const Lay l = layout(x);
    if (l.k != Kind::S) return generic(n, "is expanded");
    const Shape& gout = gshape_[n.outputs[0]];
    const int oa = l.axis + static_cast<int>(gout.size()) - rank_of(g_, x);
    Shape local = gout;
    local[oa] /= tp_;
    n.inputs[1] = ints(n.name + ".shape", local);
    emit(std::move(n), {Kind::S, oa, nullptr});
  }

  // Graph outputs: gathered or reduced to R under their own name, except the KV cache.
  void finish_outputs() {
    for (size_t i = 0; i < g_.outputs.size(); ++i) {
      const int id = g_.outputs[i];
      Tensor& t = g_.t(id);
      if (t.is_const()) continue;
      const Lay l = layout(id);
      if (l.k == Kind::S && t.name.rfind("present", 0) == 0) {
        t.shard_axis = l.axis;
        t.shard_global = t.shape;
        t.shard_global[l.axis] *= cores_;
        continue;
      }
      if (l.k != Kind::S && l.k != Kind::P) continue;
      const std::string name = t.name;
      t.name = name + ".tp_local";
      t.is_output = false;
      const int w = whole(id);
      g_.t(w).name = name;
      g_.t(w).is_output = true;
      g_.outputs[i] = w;
    }
    for (int id : g_.inputs)
      if (lay(id).k == Kind::Free) lay(id) = {Kind::R, -1, nullptr};
  }

  // Split graph inputs and outputs are strided views of their program tensors: only Concat and
  // Slice address both sides through strides, so other readers get a contiguous copy (a full
  // Slice) and other producers write a scratch copied out by one.
  void contiguous_boundaries() {
    std::vector<Node> front;
    for (int id : g_.inputs) {
      if (g_.t(id).shard_axis < 0) continue;
      int copy = -1;
      for (Node& c : out_) {
        if (c.op == "Concat" || c.op == "Slice") continue;
        for (int& in : c.inputs) {
          if (in != id) continue;
          if (copy < 0) {
            const Tensor& t = g_.t(id);
            copy = add(t.name + ".local", t.dtype, t.shape, gshape_[id]);
            Node s = node("Slice", t.name + ".local",
                          {id, ints("starts", {0}), ints("ends", {t.shape[0]}), ints("axes", {0})},
                          copy);
            g_.t(copy).shape = t.shape;
            front.push_back(std::move(s));
          }
          in = copy;
        }
      }
    }
    for (size_t i = 0; i < g_.outputs.size(); ++i) {
      const int id = g_.outputs[i];
      if (g_.t(id).shard_axis < 0) continue;
      for (size_t j = 0; j < out_.size(); ++j) {
        Node& p = out_[j];
        auto it = std::find(p.outputs.begin(), p.outputs.end(), id);
        if (it == p.outputs.end() || p.op == "Concat" || p.op == "Slice") continue;
        const Tensor& t = g_.t(id);
        const int tmp = add(t.name + ".local", t.dtype, t.shape, gshape_[id]);
        *it = tmp;
        Node s = node("Slice", t.name + ".out",
                      {tmp, ints("starts", {0}), ints("ends", {t.shape[0]}), ints("axes", {0})},
                      id);
        out_.insert(out_.begin() + static_cast<std::ptrdiff_t>(j) + 1, std::move(s));
        break;
      }
    }
    out_.insert(out_.begin(), std::make_move_iterator(front.begin()),
                std::make_move_iterator(front.end()));
  }
};

}  // namespace

TpStats tensor_parallel(Graph& g, int tp, int rank, int cores) {
  return Splitter(g, tp, rank, cores).run();
}

isa::Program stitch_ranks(const std::vector<isa::Program>& ranks, int cores,
                          const std::map<std::string, int>& split_axes) {
  isa::Program prog = ranks.at(0);
  prog.cores.resize(cores);
  for (int c = 1; c < cores; ++c) {
    const isa::Program& pc = ranks.size() > 1 ? ranks.at(c) : ranks[0];
    std::vector<int> map(pc.tensors.size());
    std::vector<int64_t> shift(pc.tensors.size(), 0);
    for (size_t t = 0; t < pc.tensors.size(); ++t) {
      const isa::TensorDecl& d = pc.tensors[t];
      const auto base = prog.find_tensor(d.name);
      const bool boundary = d.role == isa::TensorRole::Input || d.role == isa::TensorRole::Output;
      if (boundary) {
        if (!base) throw std::logic_error("tensor parallel: rank programs differ in " + d.name);
        map[t] = *base;
        auto ax = split_axes.find(d.name);
        if (ax != split_axes.end()) {
          int64_t stride = 1;
          for (size_t i = ax->second + 1; i < d.shape.size(); ++i) stride *= d.shape[i];
          shift[t] = c * (d.shape[ax->second] / cores) * stride * isa::dtype_size(d.dtype);
        }
        continue;
      }
      if (d.role == isa::TensorRole::Const && base && prog.tensors[*base] == d) {
        map[t] = *base;
        continue;
      }
      isa::TensorDecl copy = d;
      copy.name = fmt::format("{}_core{}", d.name, c);
      copy.comment = copy.comment ? prog.intern(pc.str(copy.comment)) : 0;
      map[t] = static_cast<int>(prog.tensors.size());
      prog.tensors.push_back(std::move(copy));
    }
    if (prog.tensors.size() > 65535)
      throw InputError(fmt::format("{}: --tp: too many tensors for one program", pc.source_name));
    prog.cores[c] = pc.cores.at(0);
    for (auto& stream : prog.cores[c].streams)
      for (isa::Instr& in : stream) {
        if (&pc != &prog) {
          in.tag = in.tag ? prog.intern(pc.str(in.tag)) : 0;
          in.label = in.label ? prog.intern(pc.str(in.label)) : 0;
          in.comment = in.comment ? prog.intern(pc.str(in.comment)) : 0;
        }
        for (auto& o : in.ops) {
          if (o.ap.space != isa::MemSpace::Hbm) continue;
          const int t = o.ap.tensor;
          o.ap.offset += shift[t];
          o.ap.tensor = static_cast<uint16_t>(map[t]);
        }
      }
  }
  return prog;
}

}  // namespace trnsim::compiler
