// Graph IR of the compiler: tensors (shape, dtype, optional constant data) and ONNX-style nodes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "isa/dtype.h"

namespace trnsim::compiler {

using isa::DType;
using Shape = std::vector<int64_t>;

int64_t num_elements(const Shape& s);
std::string shape_str(const Shape& s);  // "[2,3,4]"

// A tensor value, row-major. Elements are held as double so that int64 indices (up to 2^53)
// and fp32 values are both exact; float dtypes are rounded to fp32 by whoever writes them.
struct Value {
  DType dtype = DType::Fp32;
  Shape shape;
  std::vector<double> data;

  Value() = default;
  Value(DType t, Shape s) : dtype(t), shape(std::move(s)), data(num_elements(shape), 0.0) {}
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
