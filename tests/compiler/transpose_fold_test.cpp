// Unit tests of Transpose folding (lower/movement.cpp): a Transpose whose consumers are all
// MatMuls becomes a strided view of its input (no copy), counted in the compiled program's DMAs.
#include <onnx/onnx_pb.h>

#include <catch2/catch.hpp>
#include <string>

#include "compiler/compile.h"
#include "compiler/frontend/onnx_loader.h"
#include "compiler/pipeline.h"
#include "config/chip_config.h"

using namespace trnsim;
using namespace trnsim::compiler;

namespace {

// Attention-style graph: x [1, S, H, D] -> Transpose(perm) -> MatMul with y -> out, the
// Transpose's output optionally also a graph output.
std::string attention_model(const std::vector<int64_t>& perm, const std::vector<int64_t>& yshape,
                            const std::vector<int64_t>& oshape, bool t_is_output) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("test");
  auto value = [](onnx::ValueInfoProto* v, const std::string& name,
                  const std::vector<int64_t>& dims) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
    for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  };
  value(g->add_input(), "x", {1, 128, 4, 64});
  value(g->add_input(), "y", yshape);
  value(g->add_output(), "out", oshape);
  auto* t = g->add_node();
  t->set_op_type("Transpose");
  t->set_name("xt");
  t->add_input("x");
  t->add_output("t");
  auto* a = t->add_attribute();
  a->set_name("perm");
  a->set_type(onnx::AttributeProto_AttributeType_INTS);
  for (int64_t p : perm) a->add_ints(p);
  if (t_is_output) {
    std::vector<int64_t> ts;
    const std::vector<int64_t> xs{1, 128, 4, 64};
    for (int64_t p : perm) ts.push_back(xs[p]);
    value(g->add_output(), "t", ts);
  }
  auto* mm = g->add_node();
  mm->set_op_type("MatMul");
  mm->set_name("mm");
  mm->add_input("t");
  mm->add_input("y");
  mm->add_output("out");
  return m.SerializeAsString();
}

struct DmaCount {
  int transfers = 0;     // DMAs tagged with the Transpose node
  int64_t x_loaded = 0;  // elements read from tensor x, by any DMA
};

DmaCount count_dmas(const std::string& bytes) {
  Graph g = load_onnx_bytes(bytes, "m.onnx");
  CompileOptions o;
  o.dtype = "fp32";
  isa::Program p = run_pipeline(std::move(g), config::load_chip("trn1").target(), DType::Fp32, o);
  int x = -1;
  for (size_t i = 0; i < p.tensors.size(); ++i)
    if (p.tensors[i].name == "x") x = static_cast<int>(i);
  REQUIRE(x >= 0);
  DmaCount c;
  for (const auto& core : p.cores)
    for (const auto& stream : core.streams)
      for (const isa::Instr& in : stream) {
        if (in.op != isa::Opcode::Dma) continue;
        if (p.strings[in.tag] == "xt") ++c.transfers;
        const isa::AccessPattern& src = in.ops[2].ap;
        if (src.space == isa::MemSpace::Hbm && src.tensor == x) c.x_loaded += src.total_elements();
      }
  return c;
}

}  // namespace

TEST_CASE("transpose fold: [0,2,1,3] feeding a MatMul's A is read in place, no copy",
          "[compiler]") {
  // t = x^T [1, 4, 128, 64] (rows of 64 fp32 = 256 contiguous bytes); out = t @ y.
  DmaCount c = count_dmas(attention_model({0, 2, 1, 3}, {1, 4, 64, 32}, {1, 4, 128, 32}, false));
  CHECK(c.transfers == 0);
  // The matmul reads x itself, exactly once (A's rows are loaded once per row block).
  CHECK(c.x_loaded == 128 * 4 * 64);
}

TEST_CASE("transpose fold: [0,2,1,3] feeding a MatMul's B is read in place, no copy",
          "[compiler]") {
  // y [1, 4, 32, 128] @ t [1, 4, 128, 64]: B rows of 64 fp32 contiguous.
  std::string m;
  {
    onnx::ModelProto mp;
    mp.ParseFromString(attention_model({0, 2, 1, 3}, {1, 4, 32, 128}, {1, 4, 32, 64}, false));
    auto* n = mp.mutable_graph()->mutable_node(1);
    n->set_input(0, "y");
    n->set_input(1, "t");
    m = mp.SerializeAsString();
  }
  DmaCount c = count_dmas(m);
  CHECK(c.transfers == 0);
  CHECK(c.x_loaded == 128 * 4 * 64);
}

TEST_CASE("transpose fold: kept as a copy when it is a graph output or loads would be "
          "element-strided", "[compiler]") {
  // Graph output: needs its own bytes (store + load of the copy).
  DmaCount out = count_dmas(attention_model({0, 2, 1, 3}, {1, 4, 64, 32}, {1, 4, 128, 32}, true));
  CHECK(out.transfers > 0);
  // perm [0,2,3,1] (K^T): the last axis would have stride H*D, 4-byte runs: copied.
  DmaCount kt = count_dmas(attention_model({0, 2, 3, 1}, {1, 4, 128, 32}, {1, 4, 64, 32}, false));
  CHECK(kt.transfers > 0);
  // The copy reads x once; the matmul then reads the copy.
  CHECK(kt.x_loaded == 128 * 4 * 64);
}
