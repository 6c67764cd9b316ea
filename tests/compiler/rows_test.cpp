// Row-wise lowerings (lower/rows.h): the geometry of reductions over any set of axes, the
// chunks of rows longer than SBUF holds, blocked summation, and the instructions they become.
#include <onnx/onnx_pb.h>

#include <catch2/catch.hpp>
#include <string>

#include "compiler/frontend/onnx_loader.h"
#include "compiler/lower/rows.h"
#include "compiler/pipeline.h"
#include "config/chip_config.h"
#include "isa/asm.h"

using namespace trnsim;
using namespace trnsim::compiler;

namespace {

// A one-node model x -> y (float), built in memory.
std::string one_node(const std::string& op, const std::vector<int64_t>& xs,
                     const std::vector<int64_t>& ys,
                     const std::vector<std::pair<std::string, std::vector<int64_t>>>& attrs,
                     int out_type = onnx::TensorProto_DataType_FLOAT,
                     int in_type = onnx::TensorProto_DataType_FLOAT) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* os = m.add_opset_import();
  os->set_domain("");
  os->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("rows");
  auto io = [](onnx::ValueInfoProto* v, const std::string& name, const std::vector<int64_t>& d,
               int type) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    for (int64_t x : d) tt->mutable_shape()->add_dim()->set_dim_value(x);
  };
  io(g->add_input(), "x", xs, in_type);
  io(g->add_output(), "y", ys, out_type);
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name("op");
  n->add_input("x");
  n->add_output("y");
  for (const auto& [k, v] : attrs) {
    auto* a = n->add_attribute();
    a->set_name(k);
    if (k == "axes") {
      a->set_type(onnx::AttributeProto_AttributeType_INTS);
      for (int64_t i : v) a->add_ints(i);
    } else {
      a->set_type(onnx::AttributeProto_AttributeType_INT);
      a->set_i(v.at(0));
    }
  }
  return m.SerializeAsString();
}

std::string compile_text(const std::string& bytes) {
  Graph g = load_onnx_bytes(bytes, "m.onnx");
  CompileOptions o;
  o.dtype = "fp32";
  return isa::disassemble(
      run_pipeline(std::move(g), config::load_chip("trn1").target(), DType::Fp32, o));
}

int count(const std::string& text, const std::string& what) {
  int c = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++c;
  return c;
}

}  // namespace

TEST_CASE("rows: reduced axes in any order become groups of free dims", "[compiler]") {
  // [4, 5, 6, 7] over axes 0 and 2: rows are (5, 7), elements (4, 6).
  const RowGeom g = row_geom({4, 5, 6, 7}, {0, 2}, false);
  REQUIRE(g.kept.size() == 2);
  REQUIRE(g.reduced.size() == 2);
  CHECK(g.R == 24);
  CHECK(g.rows == 35);
  CHECK(g.kept[0].count == 5);
  CHECK(g.kept[0].xs == 42);
  CHECK(g.kept[0].ys == 7);  // y is [5, 7] row-major
  CHECK(g.reduced[0].xs == 210);
  CHECK(g.reduced[1].xs == 7);
  // Neighbouring axes of one kind merge; unit axes vanish.
  const RowGeom h = row_geom({2, 1, 3, 4}, {2, 3}, true);
  REQUIRE(h.reduced.size() == 1);
  CHECK(h.reduced[0].count == 12);
  REQUIRE(h.kept.size() == 1);
  CHECK(h.kept[0].ys == 12);  // same layout as x
  // All axes: one row; no axes (noop): rows of one element.
  CHECK(row_geom({3, 4}, {0, 1}, false).kept.empty());
  const std::vector<RowChunk> one = row_chunks(row_geom({3, 4}, {}, false), 100);
  REQUIRE(one.size() == 1);
  CHECK(one[0].len == 1);
}

TEST_CASE("rows: a long row is cut into chunks in row order, at most 4 dims each", "[compiler]") {
  // 30,000 contiguous elements, chunks of at most 12,288.
  auto c = row_chunks(row_geom({3, 30000}, {1}, false), 12288);
  REQUIRE(c.size() == 3);
  CHECK(c[1].start == 12288);
  CHECK(c[1].off == 12288);
  CHECK(c[2].len == 5424);
  CHECK(c[2].dims.back().count == 5424);
  // Axes 0 and 2 of [40, 3, 600]: 24,000 per row; blocks of 20 x 600 (stride 1,800, then 1).
  c = row_chunks(row_geom({40, 3, 600}, {0, 2}, false), 12288);
  REQUIRE(c.size() == 2);
  CHECK(c[0].len == 12000);
  REQUIRE(c[0].dims.size() == 2);
  CHECK(c[0].dims[0].stride == 1800);
  CHECK(c[0].dims[0].count == 20);
  CHECK(c[1].start == 12000);
  CHECK(c[1].off == 20 * 1800);
  // Five reduced groups (six kept between them): the outermost is looped, one chunk per index.
  c = row_chunks(row_geom({2, 2, 3, 2, 3, 2, 3, 2, 3}, {0, 2, 4, 6, 8}, false), 1 << 20);
  REQUIRE(c.size() == 2);
  CHECK(c[0].dims.size() == 4);
  CHECK(c[1].start == 81);
  for (const RowChunk& k : c) CHECK(k.len == 81);
}

TEST_CASE("lowering: a reduction over non-adjacent axes loads each row as a 2-D pattern",
          "[compiler]") {
  const std::string t = compile_text(one_node("ReduceMean", {4, 5, 6}, {1, 5, 1}, {{"axes", {0, 2}}}));
  // Rows: the 5 middle elements (6 apart); each row: 4 x 6 elements (30, then 1 apart).
  CHECK(t.find("hbm.x+0:fp32{6,5}[30,4][1,6]") != std::string::npos);
  CHECK(t.find(", mul, 0.0416") != std::string::npos);  // the mean: * 1/24
}

TEST_CASE("lowering: sums of more than 1024 elements are blocked by 512", "[compiler]") {
  const std::string t =
      compile_text(one_node("ReduceMean", {2, 3000}, {2, 1}, {{"axes", {1}}}));
  // Five partial sums of 512 in one reduce, the tail of 440 on its own, then the partials.
  CHECK(t.find(":fp32[512,5][1,512], add, 1") != std::string::npos);
  CHECK(t.find(":fp32[1,440], add, 1") != std::string::npos);
  CHECK(t.find(":fp32[1,6], add, 1") != std::string::npos);
}

TEST_CASE("lowering: a Softmax row longer than SBUF holds takes two passes over its chunks",
          "[compiler]") {
  const std::string t = compile_text(one_node("Softmax", {3, 30000}, {3, 30000}, {{"axis", {1}}}));
  // Each chunk of x is loaded twice (statistics, then the output) and y is stored once.
  CHECK(count(t, "hbm.x+0:fp32{30000,3}[1,12288]") == 2);
  CHECK(count(t, "hbm.x+98304:fp32{30000,3}[1,5424]") == 2);
  CHECK(count(t, "hbm.y+") == 3);
  // The chunks' maxima and exp-sums are combined: max over 3 partials, exp-sums weighted.
  CHECK(t.find(":fp32[1,3], max, 1") != std::string::npos);
}

TEST_CASE("lowering: ArgMax of a long row selects over the chunks' values and indices",
          "[compiler]") {
  const std::string t = compile_text(one_node("ArgMax", {2, 20000}, {2, 1}, {{"axis", {1}}},
                                               onnx::TensorProto_DataType_INT64));
  // Chunks of 6,144 (four tiles of the row live at once): 4 chunks, the later ones offset by
  // their start index.
  CHECK(count(t, "hbm.x+") == 4);
  CHECK(t.find("add, 6144") != std::string::npos);
  CHECK(t.find("add, 18432") != std::string::npos);
}

TEST_CASE("lowering: int64 reductions stay on int64 tiles, exact", "[compiler]") {
  const int I64 = onnx::TensorProto_DataType_INT64;
  const std::string t =
      compile_text(one_node("ReduceMean", {2, 30000}, {2, 1}, {{"axes", {1}}}, I64, I64));
  // Chunks of 6,144 int64 elements (half as many as fp32), each summed in one reduce (integer
  // sums are exact, no blocking) into int64 partials; the mean is an integer division.
  CHECK(t.find("hbm.x+0:int64{30000,2}[1,6144]") != std::string::npos);
  CHECK(t.find(":int64[1,6144], add, 1") != std::string::npos);
  CHECK(t.find(":int64[1,5], add, 1") != std::string::npos);
  CHECK(t.find("[512,") == std::string::npos);
  CHECK(t.find(", div, 30000") != std::string::npos);
  CHECK(t.find(":fp32") == std::string::npos);  // no fp32 tile or tensor anywhere
}

TEST_CASE("lowering: ArgMax of int64 compares the values as int64", "[compiler]") {
  const int I64 = onnx::TensorProto_DataType_INT64;
  const std::string t = compile_text(one_node("ArgMax", {2, 20000}, {2, 1}, {{"axis", {1}}}, I64, I64));
  CHECK(t.find("hbm.x+0:int64{20000,2}[1,3072]") != std::string::npos);
  CHECK(t.find(":int64[1,3072], max, 1") != std::string::npos);
  // The chunks' extrema (int64) are selected over as well.
  CHECK(t.find(":int64[1,7], max, 1") != std::string::npos);
}

TEST_CASE("lowering: ReduceL2/ReduceLogSumExp of integers are refused by name", "[compiler]") {
  const int I64 = onnx::TensorProto_DataType_INT64;
  for (const char* op : {"ReduceL2", "ReduceLogSumExp"}) {
    INFO(op);
    CHECK_THROWS_WITH(compile_text(one_node(op, {3, 4}, {3, 1}, {{"axes", {1}}}, I64, I64)),
                      Catch::Contains("node 'op'") && Catch::Contains(op) &&
                          Catch::Contains("integer tensor (int64) is not supported"));
  }
}
