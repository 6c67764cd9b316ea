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
// A large fp32 constant from a model file is instead held packed: its raw little-endian fp32
// words, shared by every copy of the Value (a 100M-weight model is not widened to 8 bytes per
// weight). Reading an element through a const Elems converts on the fly; anything that needs
// doubles in memory (data(), iteration, the vector itself) and any access through a non-const
// Elems (it may write) unpacks it once, in place. Unpacking changes only the representation, so
// const reads may do it; the compiler is single-threaded. Read large constants through const.
//
// Elems may also be deferred: only the count is known, and the elements are computed on the
// first access of any kind (a timing-only compile leaves weights in the model file, and what is
// derived from them is computed from them only if something reads it). Copies share the
// computation. has_data() tells whether reading would compute; code that only moves values
// along (packing weights for the engines) checks it and stays deferred.
class Elems {
 public:
  Elems() = default;
  Elems(size_t n, double v) : d_(n, v) {}
  Elems(std::vector<double> v) : d_(std::move(v)) {}  // NOLINT: `v.data = doubles`
  Elems(std::initializer_list<double> l) : d_(l) {}
  // Takes `fp32` (n x 4 bytes, little-endian fp32) as the packed elements.
  static Elems packed_fp32(std::shared_ptr<const std::string> fp32);
  // `n` elements that `compute` returns (exactly n of them) when first needed.
  static Elems deferred(size_t n, std::function<Elems()> compute);

  // False while deferred and not yet computed.
  bool has_data() const { return !deferred_; }
  // The raw fp32 words while packed, else nullptr (fast paths that convert whole tensors).
  const std::string* packed_fp32_bytes() const {
    ensure();
    return packed_.get();
  }

  size_t size() const;
  bool empty() const { return size() == 0; }
  double operator[](size_t i) const {
    ensure();
    return packed_ ? packed_at(i) : d_[i];
  }
  double at(size_t i) const;
  const double* data() const { return vec().data(); }
  const double* begin() const { return data(); }
  const double* end() const { return data() + size(); }
  const std::vector<double>& vec() const {
    ensure();
    if (packed_) unpack();
    return d_;
  }
  operator const std::vector<double>&() const { return vec(); }  // NOLINT

  std::vector<double>& vec() {
    ensure();
    if (packed_) unpack();
    return d_;
  }
  double& operator[](size_t i) { return vec()[i]; }
  double& at(size_t i) { return vec().at(i); }
  double* data() { return vec().data(); }
  double* begin() { return data(); }
  double* end() { return data() + size(); }
  void resize(size_t n, double v = 0.0) { vec().resize(n, v); }
  void push_back(double v) { vec().push_back(v); }
  template <typename It>
  void assign(It first, It last) {
    packed_.reset();
    deferred_.reset();
    d_.assign(first, last);
  }
  void assign(size_t n, double v) {
    packed_.reset();
    deferred_.reset();
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
  void unpack() const;
  void ensure() const {
    if (deferred_) compute();
  }
  void compute() const;

  mutable std::vector<double> d_;
  mutable std::shared_ptr<const std::string> packed_;  // set: the elements are these words
  mutable std::shared_ptr<Deferred> deferred_;         // set: not computed yet
};

// A tensor value, row-major. Elements are held as double so that int64 indices (up to 2^53)
// and fp32 values are both exact; float dtypes are rounded to fp32 by whoever writes them.
struct Value {
  DType dtype = DType::Fp32;
  Shape shape;
  Elems data;

  Value() = default;
  Value(DType t, Shape s) : dtype(t), shape(std::move(s)), data(num_elements(shape), 0.0) {}
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
  bool is_const() const { return value.has_value(); }
};

struct Node {
  std::string name;  // ONNX node name (made unique and non-empty by the frontend)
  std::string op;    // ONNX op type
  std::vector<int> inputs;   // tensor ids; -1 = optional input left out
  std::vector<int> outputs;  // tensor ids; -1 = optional output not produced
  std::map<std::string, Attr> attrs;

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

// Structural checks between passes: topological order, single producer, known shapes of
// every produced tensor, valid ids. Throws std::logic_error (a compiler bug) naming the pass.
void verify(const Graph& g, const std::string& after_pass);

// Human-readable listing for --dump-after.
std::string dump(const Graph& g);

}  // namespace trnsim::compiler
