// CNN ops in the compiler: reference kernels against hand-computed values, and the lowerings'
// instruction shapes (Tensor Engine conv with window access patterns, vector-engine depthwise
// and pooling, gathers for Pad/Resize, BatchNorm folding, Conv+Relu fusion).
#include <onnx/onnx_pb.h>

#include <catch2/catch.hpp>
#include <string>

#include "compiler/compile.h"
#include "compiler/frontend/onnx_loader.h"
#include "compiler/interp/interpreter.h"
#include "compiler/pipeline.h"
#include "config/chip_config.h"
#include "isa/asm.h"
#include "support/error.h"

using namespace trnsim;
using namespace trnsim::compiler;

namespace {

Value val(Shape s, std::vector<double> d) {
  Value v(DType::Fp32, std::move(s));
  v.data = std::move(d);
  return v;
}

void ints(Node& n, const std::string& k, std::vector<int64_t> v) {
  n.attrs[k].kind = Attr::Kind::Ints;
  n.attrs[k].ints = std::move(v);
}
void one_int(Node& n, const std::string& k, int64_t v) {
  n.attrs[k].kind = Attr::Kind::Int;
  n.attrs[k].i = v;
}
void str(Node& n, const std::string& k, const std::string& v) {
  n.attrs[k].kind = Attr::Kind::String;
  n.attrs[k].s = v;
}

std::vector<double> run(const Node& n, const std::vector<const Value*>& in) {
  Graph g;
  g.source = "t";
  return eval_node(g, n, in)[0].data;
}

// A one-node model x -> y with float initializers, built in memory.
struct Model {
  onnx::ModelProto m;
  onnx::GraphProto* g;
  Model() {
    m.set_ir_version(8);
    auto* op = m.add_opset_import();
    op->set_domain("");
    op->set_version(17);
    g = m.mutable_graph();
    g->set_name("cnn");
  }
  void io(onnx::ValueInfoProto* v, const std::string& name, const std::vector<int64_t>& dims) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
    for (auto d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
  void init(const std::string& name, const std::vector<int64_t>& dims, float v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto_DataType_FLOAT);
    int64_t n = 1;
    for (auto d : dims) t->add_dims(d), n *= d;
    for (int64_t i = 0; i < n; ++i) t->add_float_data(v + 0.01f * static_cast<float>(i % 7));
  }
  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& in,
                        const std::string& out, const std::string& name) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& s : in) n->add_input(s);
    n->add_output(out);
    return n;
  }
  static void attr(onnx::NodeProto* n, const std::string& k, std::vector<int64_t> v) {
    auto* a = n->add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto_AttributeType_INTS);
    for (auto x : v) a->add_ints(x);
  }
  static void attr(onnx::NodeProto* n, const std::string& k, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto_AttributeType_INT);
    a->set_i(v);
  }
  std::string compile(const std::string& dtype = "fp32") {
    Graph gr = load_onnx_bytes(m.SerializeAsString(), "m.onnx");
    CompileOptions o;
    o.dtype = dtype;
    isa::Program p = run_pipeline(std::move(gr), config::load_chip("trn1").target(),
                                  dtype == "bf16" ? DType::Bf16 : DType::Fp32, o);
    return isa::disassemble(p);
  }
};

bool has(const std::string& text, const std::string& s) { return text.find(s) != std::string::npos; }

}  // namespace

TEST_CASE("interpreter: Conv with pads/strides and groups against hand-computed values",
          "[compiler][cnn]") {
  // x = 1..9 as 3x3, w = ones 2x2: each output is the sum of a 2x2 window.
  Value x = val({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}), w = val({1, 1, 2, 2}, {1, 1, 1, 1});
  Node c;
  c.op = "Conv";
  CHECK(run(c, {&x, &w}) == std::vector<double>{12, 16, 24, 28});
  // pads 1, stride 2: windows at (-1,-1), (-1,1), (1,-1), (1,1); bias 0.5.
  ints(c, "pads", {1, 1, 1, 1});
  ints(c, "strides", {2, 2});
  Value b = val({1}, {0.5});
  CHECK(run(c, {&x, &w, &b}) == std::vector<double>{1.5, 5.5, 11.5, 28.5});
  // Depthwise (group 2): each channel with its own 1x1 weight.
  Node d;
  d.op = "Conv";
  one_int(d, "group", 2);
  Value x2 = val({1, 2, 1, 2}, {1, 2, 3, 4}), w2 = val({2, 1, 1, 1}, {10, -1});
  CHECK(run(d, {&x2, &w2}) == std::vector<double>{10, 20, -3, -4});
}

TEST_CASE("interpreter: ConvTranspose stride 2 spreads each input over a 2x2 block",
          "[compiler][cnn]") {
  Node n;
  n.op = "ConvTranspose";
  ints(n, "strides", {2, 2});
  Value x = val({1, 1, 2, 2}, {1, 2, 3, 4}), w = val({1, 1, 2, 2}, {1, 1, 1, 1});
  CHECK(run(n, {&x, &w}) ==
        std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  // output_padding adds a row and a column of bias only; pads crop.
  ints(n, "output_padding", {1, 1});
  ints(n, "pads", {1, 1, 1, 1});
  CHECK(run(n, {&x, &w}) == std::vector<double>{1, 2, 2, 3, 4, 4, 3, 4, 4});
}

TEST_CASE("interpreter: pooling with padding and count_include_pad", "[compiler][cnn]") {
  Value x = val({1, 1, 2, 2}, {1, 2, 3, 4});
  Node mp;
  mp.op = "MaxPool";
  ints(mp, "kernel_shape", {2, 2});
  ints(mp, "pads", {1, 1, 1, 1});
  CHECK(run(mp, {&x}) == std::vector<double>{1, 2, 2, 3, 4, 4, 3, 4, 4});
  Node ap = mp;
  ap.op = "AveragePool";
  auto excl = run(ap, {&x});
  CHECK(excl[0] == Approx(1.0));   // only x[0,0] is inside
  CHECK(excl[4] == Approx(2.5));   // the full window
  one_int(ap, "count_include_pad", 1);
  auto incl = run(ap, {&x});
  CHECK(incl[0] == Approx(0.25));  // 1 / 4 padded cells
  CHECK(incl[1] == Approx(0.75));
  Node gap;
  gap.op = "GlobalAveragePool";
  CHECK(run(gap, {&x}) == std::vector<double>{2.5});
}

TEST_CASE("interpreter: Pad modes and Resize coordinate modes", "[compiler][cnn]") {
  Value x = val({1, 3}, {1, 2, 3});
  Value pads = val({4}, {0, 2, 0, 1});
  pads.dtype = DType::Int64;
  Node p;
  p.op = "Pad";
  str(p, "mode", "reflect");
  CHECK(run(p, {&x, &pads}) == std::vector<double>{3, 2, 1, 2, 3, 2});
  str(p, "mode", "edge");
  CHECK(run(p, {&x, &pads}) == std::vector<double>{1, 1, 1, 2, 3, 3});
  str(p, "mode", "constant");
  Value cv = val({}, {7});
  CHECK(run(p, {&x, &pads, &cv}) == std::vector<double>{7, 7, 1, 2, 3, 7});

  Node r;
  r.op = "Resize";
  str(r, "mode", "nearest");
  str(r, "coordinate_transformation_mode", "asymmetric");
  str(r, "nearest_mode", "floor");
  Value y = val({1, 2}, {1, 2}), sc = val({2}, {1, 2});
  CHECK(run(r, {&y, nullptr, &sc}) == std::vector<double>{1, 1, 2, 2});
  str(r, "mode", "linear");
  str(r, "coordinate_transformation_mode", "align_corners");
  Value z = val({1, 2}, {0, 3}), sz = val({2}, {1, 4});
  sz.dtype = DType::Int64;
  auto lin = run(r, {&z, nullptr, nullptr, &sz});
  REQUIRE(lin.size() == 4);
  CHECK(lin[1] == Approx(1.0));
  CHECK(lin[2] == Approx(2.0));
  // half_pixel, 2x: output 1 maps to 0.25 -> 0.75*0 + 0.25*3.
  str(r, "coordinate_transformation_mode", "half_pixel");
  auto hp = run(r, {&z, nullptr, &sc});
  CHECK(hp == std::vector<double>{0, 0.75, 2.25, 3});
}

TEST_CASE("lowering: Conv is matmuls over taps with strided windows, bias+relu on evacuation",
          "[compiler][cnn]") {
  Model m;
  m.io(m.g->add_input(), "x", {1, 40, 10, 12});
  m.io(m.g->add_output(), "y", {1, 8, 10, 12});
  m.init("w", {8, 40, 3, 3}, 0.1f);
  m.init("b", {8}, 0.5f);
  auto* c = m.node("Conv", {"x", "w", "b"}, "c", "conv1");
  Model::attr(c, "pads", std::vector<int64_t>{1, 1, 1, 1});
  m.node("Relu", {"c"}, "y", "relu1");
  std::string t = m.compile("bf16");
  // 40 input channels on partitions (K), 8 output channels on PSUM partitions, 120 pixels = N.
  // The moving operand is a window of the padded 12x14 band: row stride 14, 10 x 12 pixels.
  CHECK(has(t, "matmul psum[0:8]+0:fp32[1,120], sbuf[0:40]"));
  CHECK(has(t, ":bf16[14,10][1,12], zero"));
  CHECK(has(t, ":bf16[14,10][1,12], acc"));
  CHECK(has(t, "memset sbuf[0:40]"));  // zero padding of the band
  CHECK(has(t, "relu, 1, sbuf[0:8]"));  // fused Relu with the per-partition bias
  CHECK(!has(t, "@relu1"));
  CHECK(has(t, "wait("));
}

TEST_CASE("lowering: Conv with few input channels folds its taps into the contraction",
          "[compiler][cnn]") {
  Model m;
  m.io(m.g->add_input(), "x", {1, 3, 10, 12});
  m.io(m.g->add_output(), "y", {1, 8, 10, 12});
  m.init("w", {8, 3, 3, 3}, 0.1f);
  m.init("b", {8}, 0.5f);
  auto* c = m.node("Conv", {"x", "w", "b"}, "c", "conv1");
  Model::attr(c, "pads", std::vector<int64_t>{1, 1, 1, 1});
  m.node("Relu", {"c"}, "y", "relu1");
  std::string t = m.compile("bf16");
  // im2col: (channel, kh, kw) = 3 x 3 x 3 = 27 on partitions, so one matmul per output block
  // instead of one per tap, reading the padded copy's window (row stride 12).
  CHECK(has(t, "matmul psum[0:8]+0:fp32[1,120], sbuf[0:27]"));
  CHECK(has(t, ":bf16[12,10][1,12], zero"));
  CHECK(!has(t, ", acc "));
  CHECK(has(t, "relu, 1, sbuf[0:8]"));
}

TEST_CASE("lowering: BatchNormalization folds into Conv; depthwise runs on the vector engine",
          "[compiler][cnn]") {
  Model m;
  m.io(m.g->add_input(), "x", {1, 4, 6, 6});
  m.io(m.g->add_output(), "y", {1, 4, 6, 6});
  m.init("w", {4, 1, 3, 3}, 0.1f);
  for (const char* k : {"s", "bb", "mu", "var"}) m.init(k, {4}, 1.0f);
  auto* c = m.node("Conv", {"x", "w"}, "c", "dw");
  Model::attr(c, "group", int64_t{4});
  Model::attr(c, "pads", std::vector<int64_t>{1, 1, 1, 1});
  m.node("BatchNormalization", {"c", "s", "bb", "mu", "var"}, "y", "bn");
  std::string t = m.compile();
  CHECK(!has(t, "@bn"));
  CHECK(!has(t, "matmul"));
  // Per-partition scalar weight times the tap's window, then accumulate.
  CHECK(has(t, "ts sbuf[0:4]"));
  CHECK(has(t, "[8,6][1,6], mul, sbuf[0:4]"));
  CHECK(has(t, "tt sbuf[0:4]"));
}

TEST_CASE("lowering: MaxPool is one reduce over a 4-D window, Pad a gather", "[compiler][cnn]") {
  Model m;
  m.io(m.g->add_input(), "x", {1, 4, 11, 11});
  m.io(m.g->add_output(), "y", {1, 4, 6, 6});
  auto* p = m.node("MaxPool", {"x"}, "y", "pool");
  Model::attr(p, "kernel_shape", std::vector<int64_t>{3, 3});
  Model::attr(p, "strides", std::vector<int64_t>{2, 2});
  Model::attr(p, "pads", std::vector<int64_t>{1, 1, 1, 1});
  std::string t = m.compile();
  // 4 planes x 6 output rows = 24 partitions (each a segment of one output row's window rows),
  // one reduce over the [row stride 26 x 1][col stride 2 x 6][3 x 3 window] pattern; only the
  // padding border is set to -max.
  CHECK(has(t, "reduce sbuf[0:24]+192:fp32[1,6], sbuf[0:24]+0:fp32[26,1][2,6][13,3][1,3], max, 2"));
  CHECK(has(t, "memset sbuf[0:4]+0:fp32[13,1][1,13], -3.4028235e+38"));

  Model q;
  q.io(q.g->add_input(), "x", {2, 3, 5});
  q.io(q.g->add_output(), "y", {2, 3, 8});
  auto* t2 = q.g->add_initializer();
  t2->set_name("p");
  t2->set_data_type(onnx::TensorProto_DataType_INT64);
  t2->add_dims(6);
  for (int64_t v : {0, 0, 1, 0, 0, 2}) t2->add_int64_data(v);
  auto* pn = q.node("Pad", {"x", "p"}, "y", "pad");
  auto* a = pn->add_attribute();
  a->set_name("mode");
  a->set_type(onnx::AttributeProto_AttributeType_STRING);
  a->set_s("reflect");
  std::string tp = q.compile();
  // 6 rows on partitions, 5 (+1 constant slot) in, 8 out.
  CHECK(has(tp, "gather sbuf[0:6]"));
  CHECK(has(tp, ":fp32[1,6], sbuf[0:6]"));
  CHECK(has(tp, ":int32[1,8]"));
}

TEST_CASE("lowering: runtime Conv weights are a one-line input error", "[compiler][cnn]") {
  Model m;
  m.io(m.g->add_input(), "x", {1, 2, 4, 4});
  m.io(m.g->add_input(), "w", {3, 2, 1, 1});
  m.io(m.g->add_output(), "y", {1, 3, 4, 4});
  m.node("Conv", {"x", "w"}, "y", "conv");
  try {
    m.compile();
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    std::string msg = e.what();
    CHECK(has(msg, "node 'conv'"));
    CHECK(has(msg, "constant"));
    CHECK(msg.find('\n') == std::string::npos);
  }
}

TEST_CASE("lowering: a Gemm's constant transB weight is stored as [K, N] in the matmul dtype",
          "[compiler][cnn]") {
  // A classifier head (torchvision's Linear exports Gemm transB=1 with W [N, K]) at batch 1:
  // the weight-stationary path loads k tiles of W^T. From W itself that is element-strided
  // (4-byte runs, one per weight); from the [K, N] copy each partition reads a run of N.
  Model m;
  m.io(m.g->add_input(), "x", {1, 256});
  m.io(m.g->add_output(), "y", {1, 96});
  m.init("w", {96, 256}, 0.1f);
  m.init("b", {96}, 0.5f);
  auto* gm = m.node("Gemm", {"x", "w", "b"}, "y", "fc");
  Model::attr(gm, "transB", int64_t{1});
  for (const std::string dt : {"bf16", "fp32"}) {
    const std::string t = m.compile(dt);
    INFO(t);
    CHECK(has(t, ".tensor fc.rhs const " + dt + " [256, 96]"));
    CHECK(has(t, "hbm.fc.rhs+0:" + dt + "{96,128}"));  // rows of 96 on 128 partitions
    CHECK(!has(t, "hbm.w+"));                           // W itself is never read
  }
}

TEST_CASE("lowering: a strided im2col Conv loads each output row's whole input span",
          "[compiler][cnn]") {
  // A 7x7/2 stem on 3 channels: partitions (c, kh, kw) = 3 x 6 x 7 = 126 (+ 21 for kh = 6).
  // Loading only the columns the stride-2 window reads makes every element its own 2-byte run;
  // the tile holds the 15-column span of each output row instead (2 x 8 - 1), one run per
  // row, and the matmul's moving pattern steps over it by 2.
  Model m;
  m.io(m.g->add_input(), "x", {1, 3, 16, 16});
  m.io(m.g->add_output(), "y", {1, 8, 8, 8});
  m.init("w", {8, 3, 7, 7}, 0.1f);
  auto* c = m.node("Conv", {"x", "w"}, "y", "stem");
  Model::attr(c, "pads", std::vector<int64_t>{3, 3, 3, 3});
  Model::attr(c, "strides", std::vector<int64_t>{2, 2});
  const std::string t = m.compile("bf16");
  INFO(t);
  // Padded plane 22 x 22: rows 2 x 22 apart, 15 contiguous columns.
  CHECK(has(t, "[44,8][1,15]"));
  CHECK(!has(t, "[44,8][2,8]"));
  CHECK(has(t, "matmul psum[0:8]+0:fp32[1,64], sbuf[0:126]"));
  CHECK(has(t, ":bf16[15,8][2,8], zero"));
  // fp32 (8-byte steps) spans too.
  CHECK(has(m.compile("fp32"), ":fp32[15,8][2,8], zero"));
}
