#include "compiler/frontend/einsum.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
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

}  // namespace

void rewrite_einsums(onnx::GraphProto& g, const std::string& src, int opset) {
  bool any = false;
  for (const auto& nd : g.node()) any = any || nd.op_type() == "Einsum";
  if (!any) return;
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
    if (e.find("...") != std::string::npos) throw fail("ellipsis");
    const size_t arrow = e.find("->");
    std::string lhs = e.substr(0, arrow), res;
    std::vector<std::string> terms;
    for (size_t p = 0;;) {
      const size_t q = lhs.find(',', p);
      terms.push_back(lhs.substr(p, q == std::string::npos ? q : q - p));
      if (q == std::string::npos) break;
      p = q + 1;
    }
    if (arrow != std::string::npos) {
      res = e.substr(arrow + 2);
    } else {  // implicit output: the letters seen once, in alphabetical order
      std::string all;
      for (const auto& t : terms) all += t;
      for (char c : all)
        if (std::count(all.begin(), all.end(), c) == 1) res += c;
      std::sort(res.begin(), res.end());
    }
    for (const auto& t : terms)
      for (char c : t) {
        if (!std::isalpha(static_cast<unsigned char>(c))) throw fail("bad term");
        if (std::count(t.begin(), t.end(), c) != 1) throw fail("a letter repeated within a term");
      }
    for (char c : res) {
      if (std::count(res.begin(), res.end(), c) != 1) throw fail("a letter repeated in the output");
      bool found = false;
      for (const auto& t : terms) found = found || has(t, c);
      if (!found) throw fail("an output letter is in no input");
    }
    if (static_cast<int>(terms.size()) != nd.input_size()) throw fail("terms and inputs differ");
    Rewriter rw{g, out, opset, nd.output(0) + "/einsum"};
    if (terms.size() == 1) {
      if (terms[0].size() != res.size()) throw fail("a one-input Einsum must be a permutation");
      rw.transpose(nd.input(0), terms[0], res, nd.output(0));
      continue;
    }
    if (terms.size() != 2) throw fail("more than two inputs");
    const std::string& A = terms[0];
    const std::string& B = terms[1];
    std::string batch, left, right, con;
    for (char c : res) {
      if (has(A, c) && has(B, c)) batch += c;
      else if (has(A, c)) left += c;
      else right += c;
    }
    for (char c : A) {
      if (has(res, c)) continue;
      if (!has(B, c)) throw fail(fmt::format("'{}' is summed over within one input", c));
      con += c;
    }
    for (char c : B)
      if (!has(res, c) && !has(A, c)) throw fail(fmt::format("'{}' is summed over within one input", c));
    if (con.size() > 1) throw fail("more than one contracted letter");
    // MatMul layout: [batch, left[:-1], right[:-1], m, n], contraction k; the extra left/right
    // letters are batch dims of one side, unit (broadcast) in the other.
    const std::string lb = left.empty() ? "" : left.substr(0, left.size() - 1);
    const std::string rb = right.empty() ? "" : right.substr(0, right.size() - 1);
    const char m = left.empty() ? 0 : left.back(), nn = right.empty() ? 0 : right.back();
    const char k = con.empty() ? 0 : con[0];
    Layout la(batch.begin(), batch.end()), lb_(batch.begin(), batch.end());
    for (char c : lb) la.push_back(c), lb_.push_back(0);
    for (char c : rb) la.push_back(0), lb_.push_back(c);
    la.push_back(m);
    la.push_back(k);
    lb_.push_back(k);
    lb_.push_back(nn);
    const std::string a = rw.arrange(nd.input(0), A, la);
    const std::string b = rw.arrange(nd.input(1), B, lb_);
    std::string mm_order = batch + lb + rb;
    std::vector<int64_t> squeeze;
    const int64_t r = static_cast<int64_t>(mm_order.size());
    if (m) mm_order += m;
    else squeeze.push_back(r);
    if (nn) mm_order += nn;
    else squeeze.push_back(r + 1);
    const bool last = mm_order == res;
    const std::string p = squeeze.empty() && last ? nd.output(0) : rw.fresh("t");
    rw.node("MatMul", {a, b}, p);
    if (last) {
      rw.axes_op("Squeeze", p, squeeze, nd.output(0));
      continue;
    }
    rw.transpose(rw.axes_op("Squeeze", p, squeeze, ""), mm_order, res, nd.output(0));
  }
  g.clear_node();
  for (auto& nd : out) *g.add_node() = std::move(nd);
}

}  // namespace trnsim::compiler
