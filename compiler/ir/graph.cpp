#include "compiler/ir/graph.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <stdexcept>

#include "support/error.h"

namespace trnsim::compiler {

int64_t num_elements(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s)
    if (__builtin_mul_overflow(n, d, &n))
      throw InputError(fmt::format("tensor shape {} has more than 2^63 elements", shape_str(s)));
  return n;
}

std::string shape_str(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ",")); }

Elems Elems::packed_fp32(std::shared_ptr<const std::string> fp32) {
  if (fp32->size() % 4 != 0) throw std::logic_error("packed fp32 elements: size not 4n");
  Elems e;
  e.packed_ = std::move(fp32);
  return e;
}

Elems Elems::int64s(std::vector<int64_t> v) {
  Elems e;
  e.i_ = std::move(v);
  e.int_mode_ = true;
  return e;
}

struct Elems::Deferred {
  size_t n = 0;
  std::function<Elems()> compute;
  std::optional<Elems> result;  // once computed, for every copy
};

Elems Elems::deferred(size_t n, std::function<Elems()> compute) {
  Elems e;
  e.deferred_ = std::make_shared<Deferred>();
  e.deferred_->n = n;
  e.deferred_->compute = std::move(compute);
  return e;
}

size_t Elems::size() const {
  if (deferred_) return deferred_->n;
  return packed_ ? packed_->size() / 4 : int_mode_ ? i_.size() : d_.size();
}

void Elems::compute() const {
  std::shared_ptr<Deferred> d = std::move(deferred_);
  if (!d->result) {
    Elems r = d->compute();
    if (r.size() != d->n)
      throw std::logic_error(fmt::format("deferred elements: {} computed, {} promised", r.size(),
                                         d->n));
    r.ensure();
    d->result = std::move(r);
    d->compute = nullptr;  // frees what it captured (the source values)
  }
  d_ = d->result->d_;
  packed_ = d->result->packed_;
  i_ = d->result->i_;
  int_mode_ = d->result->int_mode_;
}

Value Value::deferred(DType t, Shape s, std::function<Elems()> compute) {
  Value v;
  v.dtype = t;
  v.shape = std::move(s);
  v.data = Elems::deferred(static_cast<size_t>(num_elements(v.shape)), std::move(compute));
  return v;
}

int64_t double_to_int64(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9223372036854775807.0) return std::numeric_limits<int64_t>::max();
  if (v <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

double Elems::at(size_t i) const {
  if (i >= size())
    throw std::out_of_range(fmt::format("element {} of a tensor of {}", i, size()));
  return get(i);
}

int64_t Elems::int_at(size_t i) const {
  ensure();
  return int_mode_ ? i_[i] : double_to_int64(get(i));
}

void Elems::set(size_t i, double v) {
  ensure();
  if (packed_) to_doubles();
  if (int_mode_)
    i_[i] = double_to_int64(v);
  else
    d_[i] = v;
}

void Elems::set_int(size_t i, int64_t v) {
  ensure();
  if (packed_) to_doubles();
  if (int_mode_)
    i_[i] = v;
  else
    d_[i] = static_cast<double>(v);
}

Elems::Ref& Elems::Ref::operator=(const CRef& o) {
  if (o.elems().is_int())
    e_.set_int(i_, o.elems().int_at(o.index()));
  else
    e_.set(i_, o.elems().get(o.index()));
  return *this;
}

Elems::Ref& Elems::Ref::operator=(const Ref& o) {
  return *this = CRef(o.e_, o.i_);
}

void Elems::to_doubles() const {
  const size_t n = packed_ ? packed_->size() / 4 : int_mode_ ? i_.size() : d_.size();
  std::vector<double> d(n);
  for (size_t i = 0; i < n; ++i) d[i] = get(i);
  d_ = std::move(d);
  packed_.reset();
  i_.clear();
  int_mode_ = false;
}

bool operator==(const Elems& a, const Elems& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0, n = a.size(); i < n; ++i) {
    if (a.is_int() && b.is_int() ? a.int_at(i) != b.int_at(i) : a.get(i) != b.get(i)) return false;
  }
  return true;
}

int64_t Node::attr_int(const std::string& k, int64_t def) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? def : it->second.i;
}
float Node::attr_float(const std::string& k, float def) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? def : it->second.f;
}
std::string Node::attr_string(const std::string& k, const std::string& def) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? def : it->second.s;
}
std::vector<int64_t> Node::attr_ints(const std::string& k, const std::vector<int64_t>& def) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? def : it->second.ints;
}

int Graph::add_tensor(Tensor t) {
  tensors.push_back(std::move(t));
  return static_cast<int>(tensors.size()) - 1;
}

std::optional<int> Graph::find_tensor(const std::string& name) const {
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].name == name) return static_cast<int>(i);
  return std::nullopt;
}

std::string Graph::where(const Node& n) const {
  return fmt::format("{}: node '{}' (op {})", source, n.name, n.op);
}

namespace {

void collect_captures(const std::vector<Node>& nodes, std::set<int>& inner, std::set<int>& seen,
                      std::vector<int>& out) {
  auto use = [&](int id) {
    if (id >= 0 && !inner.count(id) && seen.insert(id).second) out.push_back(id);
  };
  for (const Node& n : nodes) {
    for (int id : n.inputs) use(id);
    for (const Branch& b : n.branches) {
      std::set<int> in2 = inner;
      collect_captures(b.nodes, in2, seen, out);
      for (int id : b.outputs)
        if (!in2.count(id)) use(id);
    }
    for (int id : n.outputs)
      if (id >= 0) inner.insert(id);
  }
}

}  // namespace

std::vector<int> captured_tensors(const Node& if_node) {
  std::vector<int> out;
  std::set<int> seen;
  if (!if_node.inputs.empty()) seen.insert(if_node.inputs[0]);  // the condition comes first
  for (const Branch& b : if_node.branches) {
    std::set<int> inner;
    collect_captures(b.nodes, inner, seen, out);
    for (int id : b.outputs)
      if (id >= 0 && !inner.count(id) && seen.insert(id).second) out.push_back(id);
  }
  return out;
}

void update_captures(Node& if_node) {
  std::vector<int> in{if_node.inputs.at(0)};
  for (int id : captured_tensors(if_node)) in.push_back(id);
  if_node.inputs = std::move(in);
}

void for_each_node_list(Graph& g, const std::function<void(Graph&)>& pass) {
  for (Node& n : g.nodes) {
    if (n.branches.empty()) continue;
    for (Branch& b : n.branches) {
      std::swap(g.nodes, b.nodes);
      std::swap(g.outputs, b.outputs);
      try {
        for_each_node_list(g, pass);
      } catch (...) {
        std::swap(g.nodes, b.nodes);
        std::swap(g.outputs, b.outputs);
        throw;
      }
      std::swap(g.nodes, b.nodes);
      std::swap(g.outputs, b.outputs);
    }
    update_captures(n);
  }
  pass(g);
}

void rename_inputs(std::vector<Node>& nodes, const std::vector<int>& map) {
  auto ren = [&](int& id) {
    if (id >= 0 && static_cast<size_t>(id) < map.size()) id = map[id];
  };
  for (Node& n : nodes) {
    for (int& id : n.inputs) ren(id);
    for (Branch& b : n.branches) {
      rename_inputs(b.nodes, map);
      for (int& id : b.outputs) ren(id);
    }
  }
}

namespace {

struct Verifier {
  const Graph& g;
  std::function<void(const std::string&)> fail;
  std::set<std::string> names;

  // `defined` holds what the list may read; it gains the list's own outputs.
  void list(const std::vector<Node>& nodes, std::vector<char>& defined) {
    const int nt = static_cast<int>(g.tensors.size());
    for (const Node& n : nodes) {
      if (!names.insert(n.name).second) fail("duplicate node name '" + n.name + "'");
      for (int in : n.inputs) {
        if (in < -1 || in >= nt) fail("node '" + n.name + "' has a bad input id");
        if (in >= 0 && !defined[in])
          fail("node '" + n.name + "' reads '" + g.tensors[in].name + "' before it is produced");
      }
      if (n.op == "If" && (n.branches.size() != 2 || n.inputs.empty()))
        fail("If node '" + n.name + "' needs a condition and two branches");
      for (const Branch& b : n.branches) {
        std::vector<char> inner = defined;
        list(b.nodes, inner);
        if (b.outputs.size() != n.outputs.size())
          fail("a branch of '" + n.name + "' yields " + std::to_string(b.outputs.size()) +
               " tensors for " + std::to_string(n.outputs.size()) + " outputs");
        for (int o : b.outputs)
          if (o < 0 || o >= nt || !inner[o])
            fail("a branch of '" + n.name + "' yields a tensor it does not define or see");
      }
      for (int out : n.outputs) {
        if (out < -1 || out >= nt) fail("node '" + n.name + "' has a bad output id");
        if (out < 0) continue;
        if (defined[out]) fail("tensor '" + g.tensors[out].name + "' is produced twice");
        if (!g.tensors[out].shape_known)
          fail("tensor '" + g.tensors[out].name + "' has no shape");
        defined[out] = 1;
      }
    }
  }
};

}  // namespace

void verify(const Graph& g, const std::string& after_pass) {
  auto fail = [&](const std::string& what) {
    throw std::logic_error(fmt::format("{}: IR verifier after pass '{}': {}", g.source,
                                       after_pass, what));
  };
  const int nt = static_cast<int>(g.tensors.size());
  std::vector<char> defined(nt, 0);
  for (int id = 0; id < nt; ++id)
    if (g.tensors[id].is_input || g.tensors[id].is_const()) defined[id] = 1;
  Verifier v{g, fail, {}};
  v.list(g.nodes, defined);
  for (int o : g.outputs) {
    if (o < 0 || o >= nt || !defined[o]) fail("graph output is never produced");
    if (!g.tensors[o].is_output) fail("graph output '" + g.tensors[o].name + "' is not marked");
  }
  for (int i : g.inputs)
    if (!g.tensors.at(i).shape_known) fail("graph input '" + g.tensors[i].name + "' has no shape");
}

namespace {
std::string tensor_ref(const Graph& g, int id) {
  if (id < 0) return "-";
  const Tensor& t = g.t(id);
  std::string s = fmt::format("%{}:{}{}", t.name, isa::dtype_name(t.dtype),
                              t.shape_known ? shape_str(t.shape) : "[?]");
  if (t.is_const()) s += "=const";
  return s;
}

std::string attr_str(const Attr& a) {
  switch (a.kind) {
    case Attr::Kind::Int: return std::to_string(a.i);
    case Attr::Kind::Float: return fmt::format("{}", a.f);
    case Attr::Kind::String: return "\"" + a.s + "\"";
    case Attr::Kind::Ints: return fmt::format("[{}]", fmt::join(a.ints, ","));
    case Attr::Kind::Floats: return fmt::format("[{}]", fmt::join(a.floats, ","));
    case Attr::Kind::Tensor: return "tensor" + shape_str(a.t.shape);
  }
  return "?";
}

void dump_nodes(const Graph& g, const std::vector<Node>& nodes, const std::string& indent,
                std::string& s) {
  for (const Node& n : nodes) {
    std::vector<std::string> outs, ins, attrs;
    for (int o : n.outputs) outs.push_back(tensor_ref(g, o));
    for (int i : n.inputs) ins.push_back(tensor_ref(g, i));
    for (const auto& [k, a] : n.attrs) attrs.push_back(k + "=" + attr_str(a));
    s += fmt::format("{}{} = {}({}){} @{}\n", indent, fmt::join(outs, ", "), n.op,
                     fmt::join(ins, ", "),
                     attrs.empty() ? "" : fmt::format(" {{{}}}", fmt::join(attrs, ", ")), n.name);
    for (size_t b = 0; b < n.branches.size(); ++b) {
      s += fmt::format("{}  {}:\n", indent, b == 0 ? "then" : "else");
      dump_nodes(g, n.branches[b].nodes, indent + "    ", s);
      std::vector<std::string> ys;
      for (int o : n.branches[b].outputs) ys.push_back(tensor_ref(g, o));
      s += fmt::format("{}    yield {}\n", indent, fmt::join(ys, ", "));
    }
  }
}
}  // namespace

std::string dump(const Graph& g) {
  std::string s = fmt::format("graph {} opset {}\n", g.source, g.opset);
  for (int i : g.inputs) s += "  input " + tensor_ref(g, i) + "\n";
  dump_nodes(g, g.nodes, "  ", s);
  for (int o : g.outputs) s += "  output " + tensor_ref(g, o) + "\n";
  return s;
}

}  // namespace trnsim::compiler
