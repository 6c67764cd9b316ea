#include "compiler/frontend/einsum.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <vector>

#include "support/error.h"

namespace trnsim::compiler {

namespace {

// One output layout slot: a letter of the equation, or 0 = an inserted unit dimension.
using Layout = std::vector<char>;

struct Rewriter {
  onnx::GraphProto& g;
  std::vector<onnx::NodeProto>& out;
  int opset;
  std::string base;  // unique prefix of the new tensors and nodes
  int count = 0;

  std::string fresh(const char* what) { return fmt::format("{}/{}{}", base, what, count++); }

  onnx::NodeProto& node(const char* op, const std::vector<std::string>& ins,
                        const std::string& o) {
    out.emplace_back();
    onnx::NodeProto& n = out.back();
    n.set_op_type(op);
    n.set_name(fresh(op));
    for (const auto& i : ins) n.add_input(i);
    n.add_output(o);
    return n;
  }

  void ints_attr(onnx::NodeProto& n, const char* name, const std::vector<int64_t>& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }

  // Squeeze/Unsqueeze with `axes` as attribute (opset < 13) or as an int64 initializer.
  std::string axes_op(const char* op, const std::string& in, const std::vector<int64_t>& axes,
                      const std::string& result) {
    if (axes.empty()) return in;
    const std::string o = result.empty() ? fresh("t") : result;
    if (opset < 13) {
      ints_attr(node(op, {in}, o), "axes", axes);
      return o;
    }
    onnx::TensorProto* t = g.add_initializer();
    t->set_name(fresh("axes"));
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(axes.size()));
    for (int64_t a : axes) t->add_int64_data(a);
    node(op, {in, t->name()}, o);
    return o;
  }

  // Transposes `in` (letters `from`) to the order of `to` (the same letters).
  std::string transpose(const std::string& in, const std::string& from, const std::string& to,
                        const std::string& result) {
    std::vector<int64_t> perm;
    bool identity = true;
    for (size_t i = 0; i < to.size(); ++i) {
      perm.push_back(static_cast<int64_t>(from.find(to[i])));
      identity = identity && perm.back() == static_cast<int64_t>(i);
    }
    if (identity && result.empty()) return in;
    const std::string o = result.empty() ? fresh("t") : result;
    if (identity) {
      node("Identity", {in}, o);
      return o;
    }
    ints_attr(node("Transpose", {in}, o), "perm", perm);
    return o;
  }

  // Brings an input with letters `term` to `layout` (letters and unit dims).
  std::string arrange(const std::string& in, const std::string& term, const Layout& layout) {
    std::string order;
    std::vector<int64_t> ones;
    for (size_t i = 0; i < layout.size(); ++i) {
      if (layout[i]) order += layout[i];
      else ones.push_back(static_cast<int64_t>(i));
    }
    return axes_op("Unsqueeze", transpose(in, term, order, ""), ones, "");
  }
};

bool has(const std::string& s, char c) { return s.find(c) != std::string::npos; }

// Ranks of the graph's named values (inputs, initializers, inferred value_info), for "...".
std::map<std::string, int> ranks_of(const onnx::GraphProto& g) {
  std::map<std::string, int> r;
  auto add = [&](const onnx::ValueInfoProto& v) {
    if (v.type().has_tensor_type() && v.type().tensor_type().has_shape())
      r[v.name()] = v.type().tensor_type().shape().dim_size();
  };
  for (const auto& v : g.input()) add(v);
  for (const auto& v : g.value_info()) add(v);
  for (const auto& v : g.output()) add(v);
  for (const auto& t : g.initializer()) r[t.name()] = t.dims_size();
  return r;
}

}  // namespace

void rewrite_einsums(onnx::GraphProto& g, const std::string& src, int opset) {
  bool any = false;
  for (const auto& nd : g.node()) any = any || nd.op_type() == "Einsum";
  if (!any) return;
  const std::map<std::string, int> ranks = ranks_of(g);
  std::vector<onnx::NodeProto> out;
  int index = 0;
  for (const auto& nd : g.node()) {
    ++index;
    if (nd.op_type() != "Einsum" || !(nd.domain().empty() || nd.domain() == "ai.onnx")) {
      out.push_back(nd);
      continue;
    }
    std::string eq;
    for (const auto& a : nd.attribute())
      if (a.name() == "equation") eq = a.s();
    const std::string name = nd.name().empty() ? fmt::format("Einsum_{}", index - 1) : nd.name();
    auto fail = [&](const std::string& why) {
      return InputError(fmt::format("{}: node '{}' (op Einsum): equation '{}' is not supported: {}",
                                    src, name, eq, why));
    };
    std::string e;
    for (char c : eq)
      if (!std::isspace(static_cast<unsigned char>(c))) e += c;
    const size_t arrow = e.find("->");
    std::string lhs = e.substr(0, arrow), res;
    std::vector<std::string> terms;
    for (size_t p = 0;;) {
      const size_t q = lhs.find(',', p);
      terms.push_back(lhs.substr(p, q == std::string::npos ? q : q - p));
      if (q == std::string::npos) break;
      p = q + 1;
    }
    if (static_cast<int>(terms.size()) != nd.input_size()) throw fail("terms and inputs differ");
    // "..." stands for the leading dims an input has beyond its letters: they become upper-case
    // letters (numpy broadcasting aligns them from the right), and the output keeps them first.
    std::string ell;  // the letters of the widest ellipsis
    for (size_t i = 0; i < terms.size(); ++i) {
      const size_t dots = terms[i].find("...");
      if (dots == std::string::npos) continue;
      auto it = ranks.find(nd.input(static_cast<int>(i)));
      if (it == ranks.end()) throw fail("an ellipsis over an input of unknown rank");
      const int n = it->second - static_cast<int>(terms[i].size() - 3);
      if (n < 0 || n > 26) throw fail("an ellipsis longer than the input's rank");
      std::string letters;
      for (int k = 0; k < n; ++k) letters += static_cast<char>('Z' - (n - 1 - k));
      if (letters.size() > ell.size()) ell = letters;
      terms[i].replace(dots, 3, letters);
    }
    for (const auto& t : terms)
      for (char c : t) {
        if (!std::isalpha(static_cast<unsigned char>(c))) throw fail("bad term");
        if (std::count(t.begin(), t.end(), c) != 1)
          throw fail("a letter repeated within a term (diagonal)");
      }
    if (arrow != std::string::npos) {
      res = e.substr(arrow + 2);
      const size_t dots = res.find("...");
      if (dots != std::string::npos) res.replace(dots, 3, ell);
    } else {  // implicit output: the ellipsis, then the letters seen once, alphabetically
      std::string all;
      for (const auto& t : terms) all += t;
      std::string once;
      for (char c : all)
        if (std::islower(static_cast<unsigned char>(c)) && std::count(all.begin(), all.end(), c) == 1)
          once += c;
      std::sort(once.begin(), once.end());
      res = ell + once;
    }
    for (char c : res) {
      if (!std::isalpha(static_cast<unsigned char>(c))) throw fail("bad output term");
      if (std::count(res.begin(), res.end(), c) != 1) throw fail("a letter repeated in the output");
      bool found = false;
      for (const auto& t : terms) found = found || has(t, c);
      if (!found) throw fail("an output letter is in no input");
    }
    Rewriter rw{g, out, opset, nd.output(0) + "/einsum"};
    // Letters still needed after input i: the output's and those of the inputs after i.
    auto needed_after = [&](size_t i) {
      std::string need = res;
      for (size_t j = i + 1; j < terms.size(); ++j) need += terms[j];
      return need;
    };
    // Sums an input over its letters that nothing later needs (ReduceSum, keepdims 0).
    auto reduce = [&](const std::string& in, std::string& term, const std::string& keep) {
      std::vector<int64_t> axes;
      std::string kept;
      for (size_t a = 0; a < term.size(); ++a) {
        if (has(keep, term[a])) kept += term[a];
        else axes.push_back(static_cast<int64_t>(a));
      }
      if (axes.empty()) return in;
      const std::string o = rw.fresh("t");
      onnx::NodeProto* n;
      if (opset < 13) {
        n = &rw.node("ReduceSum", {in}, o);
        rw.ints_attr(*n, "axes", axes);
      } else {
        onnx::TensorProto* t = g.add_initializer();
        t->set_name(rw.fresh("axes"));
        t->set_data_type(onnx::TensorProto::INT64);
        t->add_dims(static_cast<int64_t>(axes.size()));
        for (int64_t a : axes) t->add_int64_data(a);
        n = &rw.node("ReduceSum", {in, t->name()}, o);
      }
      auto* kd = n->add_attribute();
      kd->set_name("keepdims");
      kd->set_type(onnx::AttributeProto::INT);
      kd->set_i(0);
      term = kept;
      return o;
    };
    std::string cur_term = terms[0];
    std::string cur = reduce(nd.input(0), cur_term, needed_after(0) + (terms.size() > 1 ? "" : ""));
    for (size_t i = 1; i < terms.size(); ++i) {
      std::string B = terms[i];
      const std::string b_in = reduce(nd.input(static_cast<int>(i)), B, needed_after(i) + cur_term);
      const std::string& A = cur_term;
      const std::string need = needed_after(i);
      // Result letters: batch (both, kept), left (A only), right (B only); contracted: both, not
      // needed. The MatMul layout is [batch, left[:-1], right[:-1], m, n] with one k.
      std::string batch, left, right, con;
      for (char c : A) {
        if (has(B, c)) (has(need, c) ? batch : con) += c;
        else left += c;
      }
      for (char c : B)
        if (!has(A, c)) right += c;
      const std::string lb = left.empty() ? "" : left.substr(0, left.size() - 1);
      const std::string rb = right.empty() ? "" : right.substr(0, right.size() - 1);
      const char m = left.empty() ? 0 : left.back(), nn = right.empty() ? 0 : right.back();
      // Several contracted letters merge into one: each side puts them last (B: before n is
      // taken care of by a final transpose) and a Reshape folds them.
      Layout la(batch.begin(), batch.end()), lbl(batch.begin(), batch.end());
      for (char c : lb) la.push_back(c), lbl.push_back(0);
      for (char c : rb) la.push_back(0), lbl.push_back(c);
      la.push_back(m);
      lbl.push_back(nn);
      if (con.empty()) {
        la.push_back(0);
        lbl.push_back(0);
      }
      for (char c : con) la.push_back(c), lbl.push_back(c);
      std::string a = rw.arrange(cur, A, la);
      std::string b = rw.arrange(b_in, B, lbl);  // [.., n, k...]
      const int64_t lead = static_cast<int64_t>(la.size()) - std::max<int64_t>(1, con.size());
      auto fold = [&](const std::string& x) {  // [.., k1..kc] -> [.., K]
        if (con.size() <= 1) return x;
        onnx::TensorProto* t = g.add_initializer();
        t->set_name(rw.fresh("shape"));
        t->set_data_type(onnx::TensorProto::INT64);
        t->add_dims(lead + 1);
        for (int64_t d = 0; d < lead; ++d) t->add_int64_data(0);
        t->add_int64_data(-1);
        const std::string o = rw.fresh("t");
        rw.node("Reshape", {x, t->name()}, o);
        return o;
      };
      a = fold(a);
      b = fold(b);
      {  // B as [.., K, n]
        const std::string o = rw.fresh("t");
        std::vector<int64_t> perm;
        for (int64_t d = 0; d < lead - 1; ++d) perm.push_back(d);
        perm.push_back(lead);
        perm.push_back(lead - 1);
        rw.ints_attr(rw.node("Transpose", {b}, o), "perm", perm);
        b = o;
      }
      std::string mm_order = batch + lb + rb;
      std::vector<int64_t> squeeze;
      const int64_t r = static_cast<int64_t>(mm_order.size());
      if (m) mm_order += m;
      else squeeze.push_back(r);
      if (nn) mm_order += nn;
      else squeeze.push_back(r + 1);
      const std::string p = rw.fresh("t");
      rw.node("MatMul", {a, b}, p);
      cur = rw.axes_op("Squeeze", p, squeeze, "");
      cur_term = mm_order;
    }
    std::string final_term = cur_term;
    cur = reduce(cur, final_term, res);
    rw.transpose(cur, final_term, res, nd.output(0));
  }
  g.clear_node();
  for (auto& nd : out) *g.add_node() = std::move(nd);
}

}  // namespace trnsim::compiler
