// Graph IR of the compiler: tensors (shape, dtype, optional constant data) and ONNX-style nodes.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "isa/dtype.h"

namespace trnsim::compiler {

using isa::DType;
using Shape = std::vector<int64_t>;

int64_t num_elements(const Shape& s);
std::string shape_str(const Shape& s);  // "[2,3,4]"

// The elements of a Value, read and written as doubles like a std::vector<double>.
// Two other representations hide behind that interface:
// - packed fp32: a large fp32 constant from a model file is held as its raw little-endian fp32
//   words, shared by every copy of the Value (a 100M-weight model is not widened to 8 bytes per
//   weight). Reading an element through a const Elems converts on the fly; anything that needs
//   doubles in memory (data(), iteration, the vector itself) and any access through a non-const
//   Elems unpacks it once, in place.
// - int64: an int64 Value holds exact 64-bit integers (a double is exact only below 2^53).
//   Element access goes through proxies: reading converts to double, `int64_t(e)` is exact, and
//   copying one element into another (`out[i] = in[j]`) keeps the integer. Only code that needs
//   doubles in memory (data(), iteration, vec() of a non-const Elems) turns it into doubles.
// Changing representation changes no element value below 2^53, so const reads may do it; the
// compiler is single-threaded.
//
// Elems may also be deferred: only the count is known, and the elements are computed on the
// first access of any kind (a timing-only compile leaves weights in the model file, and what is
// derived from them is computed from them only if something reads it). Copies share the
// computation. has_data() tells whether reading would compute; code that only moves values
// along (packing weights for the engines) checks it and stays deferred.
class Elems {
 public:
  class CRef;
  // A writable element: assign a double (an int64 Elems truncates it) or another element.
  class Ref {
   public:
    Ref(Elems& e, size_t i) : e_(e), i_(i) {}
    Ref(const Ref&) = default;
    operator double() const { return static_cast<const Elems&>(e_).get(i_); }  // NOLINT
    explicit operator int64_t() const { return e_.int_at(i_); }
    Ref& operator=(double v) {
      e_.set(i_, v);
      return *this;
    }
    Ref& operator=(const CRef& o);
    Ref& operator=(const Ref& o);
    Ref& operator+=(double v) { return *this = static_cast<double>(*this) + v; }
    Ref& operator-=(double v) { return *this = static_cast<double>(*this) - v; }
    Ref& operator*=(double v) { return *this = static_cast<double>(*this) * v; }
    Ref& operator/=(double v) { return *this = static_cast<double>(*this) / v; }

   private:
    Elems& e_;
    size_t i_;
  };
  // A read-only element: converts to double; `int64_t(e)` is exact for int64 elements.
  class CRef {
   public:
    CRef(const Elems& e, size_t i) : e_(e), i_(i) {}
    operator double() const { return e_.get(i_); }  // NOLINT
    explicit operator int64_t() const { return e_.int_at(i_); }
    const Elems& elems() const { return e_; }
    size_t index() const { return i_; }

   private:
    const Elems& e_;
    size_t i_;
  };

  Elems() = default;
  Elems(size_t n, double v) : d_(n, v) {}
  Elems(std::vector<double> v) : d_(std::move(v)) {}  // NOLINT: `v.data = doubles`
  Elems(std::initializer_list<double> l) : d_(l) {}
  // Takes `fp32` (n x 4 bytes, little-endian fp32) as the packed elements.
  static Elems packed_fp32(std::shared_ptr<const std::string> fp32);
  // n exact int64 elements.
  static Elems int64s(std::vector<int64_t> v);
  // `n` elements that `compute` returns (exactly n of them) when first needed.
  static Elems deferred(size_t n, std::function<Elems()> compute);

  // False while deferred and not yet computed.
  bool has_data() const { return !deferred_; }
  // The raw fp32 words while packed, else nullptr (fast paths that convert whole tensors).
  const std::string* packed_fp32_bytes() const {
    ensure();
    return packed_.get();
  }
  // True while the elements are exact int64s (ints() and set_int() keep them so).
  bool is_int() const {
    ensure();
    return int_mode_;
  }

  size_t size() const;
  bool empty() const { return size() == 0; }
  CRef operator[](size_t i) const { return CRef(*this, i); }
  Ref operator[](size_t i) { return Ref(*this, i); }
  double get(size_t i) const {
    ensure();
    return packed_ ? packed_at(i) : int_mode_ ? static_cast<double>(i_[i]) : d_[i];
  }
  double at(size_t i) const;
  // Exact for int64 elements; a double element is truncated and saturated to the int64 range.
  int64_t int_at(size_t i) const;
  void set(size_t i, double v);
  void set_int(size_t i, int64_t v);  // exact when int64, else stored as a double
  const double* data() const { return vec().data(); }
  const double* begin() const { return data(); }
  const double* end() const { return data() + size(); }
  const std::vector<double>& vec() const {
    ensure();
    if (packed_ || int_mode_) to_doubles();
    return d_;
  }
  operator const std::vector<double>&() const { return vec(); }  // NOLINT

  std::vector<double>& vec() {
    ensure();
    if (packed_ || int_mode_) to_doubles();
    return d_;
  }
  double* data() { return vec().data(); }
  double* begin() { return data(); }
  double* end() { return data() + size(); }
  void resize(size_t n, double v = 0.0) { vec().resize(n, v); }
  void push_back(double v) { vec().push_back(v); }
  template <typename It>
  void assign(It first, It last) {
    packed_.reset();
    deferred_.reset();
    int_mode_ = false;
    i_.clear();
    d_.assign(first, last);
  }
  void assign(size_t n, double v) {
    packed_.reset();
    deferred_.reset();
    int_mode_ = false;
    i_.clear();
    d_.assign(n, v);
  }

  friend bool operator==(const Elems& a, const Elems& b);
  friend bool operator!=(const Elems& a, const Elems& b) { return !(a == b); }

 private:
  struct Deferred;
  double packed_at(size_t i) const {
    float f;
    std::memcpy(&f, packed_->data() + 4 * i, 4);
    return f;
  }
  void to_doubles() const;
  void ensure() const {
    if (deferred_) compute();
  }
  void compute() const;

  mutable std::vector<double> d_;
  mutable std::shared_ptr<const std::string> packed_;  // set: the elements are these words
  mutable std::vector<int64_t> i_;                     // the elements while int_mode_
  mutable bool int_mode_ = false;
  mutable std::shared_ptr<Deferred> deferred_;         // set: not computed yet
};

// Saturating, truncating double -> int64 (NaN -> 0).
int64_t double_to_int64(double v);

// A tensor value, row-major. Float elements are held as doubles (fp32 values are exact; float
// dtypes are rounded to fp32 by whoever writes them); int64 elements as exact int64s.
struct Value {
  DType dtype = DType::Fp32;
  Shape shape;
  Elems data;

  Value() = default;
  Value(DType t, Shape s)
      : dtype(t),
        shape(std::move(s)),
        data(t == DType::Int64
                 ? Elems::int64s(std::vector<int64_t>(static_cast<size_t>(num_elements(shape)), 0))
                 : Elems(num_elements(shape), 0.0)) {}
  // A value whose elements `compute` returns when first read (Elems::deferred).
  static Value deferred(DType t, Shape s, std::function<Elems()> compute);
  int64_t numel() const { return static_cast<int64_t>(data.size()); }
};

struct Attr {
  enum class Kind { Int, Float, String, Ints, Floats, Tensor };
  Kind kind = Kind::Int;
  int64_t i = 0;
  float f = 0.0f;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  Value t;
};

struct Tensor {
  std::string name;
  DType dtype = DType::Fp32;
  Shape shape;
  bool shape_known = false;
  std::optional<Value> value;  // constant data (initializers, Constant nodes, folded results)
  bool is_input = false;       // graph input (runtime data)
  bool is_output = false;      // graph output
  bool is_branch_output = false;  // produced in an If branch and yielded as the If's output
  // Tensor parallelism (compiler/tensor_parallel.h): a graph input or output of which this rank
  // holds a slice along `shard_axis` of the program's tensor `shard_global` (the slices of the
  // program's cores side by side); the rank's view has the global strides, core k's slice
  // starts k slices in. -1: the tensor is whole.
  int shard_axis = -1;
  Shape shard_global;
  bool is_const() const { return value.has_value(); }
  // Read beyond the node list that produces it (a graph or branch output): passes must keep it
  // and its producer (no forwarding, fusing or aliasing it away).
  bool escapes() const { return is_output || is_branch_output; }
};

struct Node;

// One branch of an `If` node: its nodes, in order, and the tensors it yields as the If's
// outputs (one per output). Branches share the graph's tensor table; their nodes may read
// tensors of the enclosing node lists (which the If lists among its inputs, see Node).
struct Branch {
  std::vector<Node> nodes;
  std::vector<int> outputs;
};

struct Node {
  std::string name;  // ONNX node name (made unique and non-empty by the frontend)
  std::string op;    // ONNX op type
  // Tensor ids; -1 = optional input left out. An `If` reads its condition (input 0) and, as
  // inputs 1.., every tensor of the enclosing lists that its branches read (captured_tensors),
  // so passes see those uses like any other.
  std::vector<int> inputs;
  std::vector<int> outputs;  // tensor ids; -1 = optional output not produced
  std::map<std::string, Attr> attrs;
  std::vector<Branch> branches;  // If: then, else

  bool has_attr(const std::string& k) const { return attrs.count(k) != 0; }
  int64_t attr_int(const std::string& k, int64_t def) const;
  float attr_float(const std::string& k, float def) const;
  std::string attr_string(const std::string& k, const std::string& def) const;
  std::vector<int64_t> attr_ints(const std::string& k, const std::vector<int64_t>& def = {}) const;
  int num_inputs() const { return static_cast<int>(inputs.size()); }
  bool has_input(int i) const { return i < num_inputs() && inputs[i] >= 0; }
};

struct Graph {
  std::string source;  // model file, for messages
  int opset = 0;
  std::vector<Tensor> tensors;
  std::vector<Node> nodes;  // topological order
  std::vector<int> inputs;   // runtime graph inputs (no initializers)
  std::vector<int> outputs;

  int add_tensor(Tensor t);
  Tensor& t(int id) { return tensors.at(id); }
  const Tensor& t(int id) const { return tensors.at(id); }
  std::optional<int> find_tensor(const std::string& name) const;
  // "MODEL.onnx: node 'foo' (op LSTM)" for messages.
  std::string where(const Node& n) const;
};

// The tensors of enclosing node lists that an If's branches read (node inputs, nested Ifs'
// captures, outputs passed through), in first-use order, without the condition.
std::vector<int> captured_tensors(const Node& if_node);
// Sets an If's inputs to its condition and captured_tensors().
void update_captures(Node& if_node);

// Runs a graph pass on every node list: each If branch first (innermost first), presented as
// the graph (g.nodes = its nodes, g.outputs = its outputs, whose tensors are marked
// is_branch_output), then the enclosing list; an If's captures are updated after its branches.
void for_each_node_list(Graph& g, const std::function<void(Graph&)>& pass);

// Replaces tensor ids by map[id] (where map[id] != id) in the inputs of `nodes`, recursively in
// their branches (nodes and outputs).
void rename_inputs(std::vector<Node>& nodes, const std::vector<int>& map);

// Structural checks between passes: topological order (a branch sees the tensors defined
// before its If, and its own), single producer, known shapes of every produced tensor, valid
// ids, branch outputs defined. Throws std::logic_error (a compiler bug) naming the pass.
void verify(const Graph& g, const std::string& after_pass);

// Human-readable listing for --dump-after.
std::string dump(const Graph& g);

}  // namespace trnsim::compiler
