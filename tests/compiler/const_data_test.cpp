// Large-constant handling (issue #4): packed fp32 elements in the graph IR, the loader keeping
// initializers packed, and the .tbin check that skips the tensor data.
#include <onnx/onnx_pb.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "compiler/frontend/onnx_loader.h"
#include "compiler/interp/interpreter.h"
#include "isa/asm.h"
#include "isa/binary.h"
#include "support/error.h"

using namespace trnsim;
using namespace trnsim::compiler;

namespace {

std::shared_ptr<const std::string> fp32_bytes(const std::vector<float>& v) {
  auto s = std::make_shared<std::string>(v.size() * 4, '\0');
  std::memcpy(s->data(), v.data(), s->size());
  return s;
}

// [2,3] fp32 initializer "w" in raw_data, y = MatMul(x [1,2], w).
std::string matmul_model(const std::vector<float>& w) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* op = m.add_opset_import();
  op->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("t");
  auto shape = [](onnx::ValueInfoProto* v, const std::string& name, std::vector<int64_t> dims) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
    for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  };
  shape(g->add_input(), "x", {1, 2});
  shape(g->add_output(), "y", {1, 3});
  auto* t = g->add_initializer();
  t->set_name("w");
  t->set_data_type(onnx::TensorProto_DataType_FLOAT);
  t->add_dims(2);
  t->add_dims(3);
  t->set_raw_data(*fp32_bytes(w));
  auto* n = g->add_node();
  n->set_op_type("MatMul");
  n->set_name("mm");
  n->add_input("x");
  n->add_input("w");
  n->add_output("y");
  return m.SerializeAsString();
}

}  // namespace

TEST_CASE("packed fp32 elements read as doubles, share storage, unpack only when written",
          "[compiler]") {
  const std::vector<float> f{1.5f, -0.1f, 3e-39f, INFINITY};  // 3e-39: an fp32 denormal
  Elems e = Elems::packed_fp32(fp32_bytes(f));
  const Elems& ce = e;
  REQUIRE(e.packed_fp32_bytes() != nullptr);
  REQUIRE(e.size() == 4);
  for (size_t i = 0; i < f.size(); ++i) CHECK(ce[i] == static_cast<double>(f[i]));
  CHECK(ce.at(3) == INFINITY);
  CHECK_THROWS_AS(ce.at(4), std::out_of_range);
  CHECK(e.packed_fp32_bytes() != nullptr);  // const reads did not unpack

  Elems copy = e;  // shares the packed words
  CHECK(copy.packed_fp32_bytes() == e.packed_fp32_bytes());
  copy[1] = 7.0;   // a write unpacks the copy only
  CHECK(copy.packed_fp32_bytes() == nullptr);
  CHECK(copy[1] == 7.0);
  CHECK(copy[0] == 1.5);
  CHECK(ce[1] == static_cast<double>(-0.1f));
  CHECK(e.packed_fp32_bytes() != nullptr);
  CHECK(copy != e);
  copy[1] = ce[1];
  CHECK(copy == e);  // equal elements compare equal whatever the representation

  // Reading through a non-const Elems does not unpack (elements are proxies); a write does.
  Elems writable = e;
  CHECK(writable[2] == static_cast<double>(3e-39f));
  CHECK(writable.packed_fp32_bytes() != nullptr);
  writable[2] = 1.0;
  CHECK(writable.packed_fp32_bytes() == nullptr);
  CHECK(e.packed_fp32_bytes() != nullptr);

  // Asking for the elements' memory unpacks in place; the values stay the same.
  const std::vector<double>& v = ce.vec();
  CHECK(e.packed_fp32_bytes() == nullptr);
  CHECK(v == std::vector<double>{1.5, static_cast<double>(-0.1f), static_cast<double>(3e-39f),
                                 INFINITY});
  double sum = 0;
  for (double d : ce) sum += d;
  CHECK(std::isinf(sum));

  CHECK_THROWS_AS(Elems::packed_fp32(std::make_shared<const std::string>("abc")),
                  std::logic_error);
}

TEST_CASE("loader keeps fp32 raw initializers packed; the interpreter reads them exactly",
          "[compiler]") {
  const std::vector<float> w{0.1f, 0.2f, 0.3f, -1.0f, 2.5f, 1e-3f};
  Graph g = load_onnx_bytes(matmul_model(w), "m.onnx");
  auto id = g.find_tensor("w");
  REQUIRE(id);
  const Value& wv = *g.t(*id).value;
  REQUIRE(wv.data.packed_fp32_bytes() != nullptr);
  CHECK(wv.shape == Shape{2, 3});
  CHECK(wv.numel() == 6);
  for (size_t i = 0; i < w.size(); ++i) CHECK(wv.data[i] == static_cast<double>(w[i]));

  Value x(DType::Fp32, {1, 2});
  x.data = {2.0, -1.0};
  auto out = interpret(g, {{"x", x}});
  const Value& y = out.at("y");
  for (int j = 0; j < 3; ++j)  // y[j] = 2 w[0][j] - w[1][j], rounded to fp32
    CHECK(y.data[j] == static_cast<double>(static_cast<float>(
                           2.0 * static_cast<double>(w[j]) - static_cast<double>(w[3 + j]))));
  CHECK(g.t(*id).value->data.packed_fp32_bytes() != nullptr);  // the graph's copy untouched
}

TEST_CASE("check_encoding reports exactly what decode_program reports", "[isa]") {
  const std::string text =
      ".tensor w const fp32 [2] = base64:AACAPwAAAEA=\n"
      ".tensor out output fp32 [2]\n"
      ".core 0\n"
      ".engine sp\n"
      "  dma q0, sbuf[0:1]+0:fp32[1,2], hbm.w+0:fp32{2,1}[1,2]\n";
  std::vector<uint8_t> bin = isa::encode_program(isa::assemble(text, "p.tasm"));
  CHECK_NOTHROW(isa::check_encoding(bin.data(), bin.size(), "p.tbin"));
  CHECK(isa::decode_program(bin, "p.tbin").tensors.at(0).data.size() == 8);
  for (size_t len : {size_t{0}, size_t{3}, bin.size() / 2, bin.size() - 1}) {
    std::string want, got;
    try {
      isa::decode_program(bin.data(), len, "p.tbin");
    } catch (const InputError& e) {
      want = e.what();
    }
    try {
      isa::check_encoding(bin.data(), len, "p.tbin");
    } catch (const InputError& e) {
      got = e.what();
    }
    INFO("length " << len);
    CHECK(!want.empty());
    CHECK(got == want);
  }
}
