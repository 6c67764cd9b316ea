// Compiler unit tests: frontend errors, the reference interpreter against hand-computed values,
// constant folding, and graph -> expected assembly lines (matched by substring).
#include <onnx/onnx_pb.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "compiler/compile.h"
#include "compiler/frontend/onnx_loader.h"
#include "compiler/interp/interpreter.h"
#include "compiler/passes/passes.h"
#include "compiler/pipeline.h"
#include "config/chip_config.h"
#include "isa/asm.h"
#include "support/error.h"

using namespace trnsim;
using namespace trnsim::compiler;

namespace {

// Builds small ONNX models in memory.
struct ModelBuilder {
  onnx::ModelProto m;
  onnx::GraphProto* g;
  explicit ModelBuilder(int opset = 17) {
    m.set_ir_version(8);
    auto* op = m.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
    g = m.mutable_graph();
    g->set_name("test");
  }
  static void set_shape(onnx::ValueInfoProto* v, const std::string& name,
                        const std::vector<std::string>& dims, int type) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    auto* sh = tt->mutable_shape();
    for (const auto& d : dims) {
      auto* dim = sh->add_dim();
      if (std::isdigit(static_cast<unsigned char>(d[0]))) dim->set_dim_value(std::stoll(d));
      else dim->set_dim_param(d);
    }
  }
  ModelBuilder& input(const std::string& name, const std::vector<std::string>& dims,
                      int type = onnx::TensorProto_DataType_FLOAT) {
    set_shape(g->add_input(), name, dims, type);
    return *this;
  }
  ModelBuilder& output(const std::string& name, const std::vector<std::string>& dims,
                       int type = onnx::TensorProto_DataType_FLOAT) {
    set_shape(g->add_output(), name, dims, type);
    return *this;
  }
  ModelBuilder& init(const std::string& name, const std::vector<int64_t>& dims,
                     const std::vector<float>& vals) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto_DataType_FLOAT);
    for (auto d : dims) t->add_dims(d);
    for (float v : vals) t->add_float_data(v);
    return *this;
  }
  ModelBuilder& init_i64(const std::string& name, const std::vector<int64_t>& dims,
                         const std::vector<int64_t>& vals) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto_DataType_INT64);
    for (auto d : dims) t->add_dims(d);
    for (auto v : vals) t->add_int64_data(v);
    return *this;
  }
  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& in,
                        const std::vector<std::string>& out, const std::string& name) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& s : in) n->add_input(s);
    for (const auto& s : out) n->add_output(s);
    return n;
  }
  std::string bytes() const { return m.SerializeAsString(); }
};

void add_int_attr(onnx::NodeProto* n, const std::string& k, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(k);
  a->set_type(onnx::AttributeProto_AttributeType_INT);
  a->set_i(v);
}

std::string error_of(const std::string& bytes, const std::map<std::string, Shape>& shapes = {}) {
  try {
    load_onnx_bytes(bytes, "m.onnx", shapes);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string compile_text(const std::string& bytes, const std::string& dtype = "fp32",
                         const std::string& chip = "trn1") {
  Graph g = load_onnx_bytes(bytes, "m.onnx");
  CompileOptions o;
  o.dtype = dtype;
  isa::Program p = run_pipeline(std::move(g), config::load_chip(chip).target(),
                                dtype == "bf16" ? DType::Bf16 : DType::Fp32, o);
  return isa::disassemble(p);
}

Value val(Shape s, std::vector<double> d) {
  Value v(DType::Fp32, std::move(s));
  v.data = std::move(d);
  return v;
}

}  // namespace

TEST_CASE("frontend: truncated protobuf is one line naming the file", "[compiler]") {
  ModelBuilder b;
  b.input("x", {"2"}).output("y", {"2"});
  b.node("Relu", {"x"}, {"y"}, "r");
  std::string bytes = b.bytes();
  std::string err = error_of(bytes.substr(0, bytes.size() / 2) + "\xff\xff\xff");
  CHECK(err == "m.onnx: not a valid ONNX model (truncated or invalid protobuf)");
  CHECK(error_of("") == "m.onnx: empty file, not an ONNX model");
}

TEST_CASE("frontend: opsets outside 7..17 are rejected", "[compiler]") {
  ModelBuilder b(18);
  b.input("x", {"2"}).output("y", {"2"});
  b.node("Relu", {"x"}, {"y"}, "r");
  CHECK(error_of(b.bytes()) == "m.onnx: opset 18 is not supported (supported: 7..17)");
  ModelBuilder c(6);
  c.input("x", {"2"}).output("y", {"2"});
  c.node("Relu", {"x"}, {"y"}, "r");
  CHECK(error_of(c.bytes()) == "m.onnx: opset 6 is not supported (supported: 7..17)");
}

TEST_CASE("frontend: unsupported op names node op and the supported list", "[compiler]") {
  ModelBuilder b;
  b.input("x", {"2", "3", "4"}).output("y", {"2", "3", "4"});
  b.node("Hardmax", {"x"}, {"y"}, "foo");
  std::string err = error_of(b.bytes());
  CHECK(err.rfind("m.onnx: node 'foo' (op Hardmax): not supported; supported ops: Abs, Add,", 0) == 0);
  CHECK(err.find("MatMul") != std::string::npos);
  CHECK(err.find('\n') == std::string::npos);
}

TEST_CASE("frontend: checker failures are reported", "[compiler]") {
  ModelBuilder b;
  b.input("x", {"2"}).output("y", {"2"});
  b.node("Relu", {"x", "x"}, {"y"}, "r");  // Relu takes one input
  std::string err = error_of(b.bytes());
  CHECK(err.rfind("m.onnx: ONNX checker: ", 0) == 0);
}

TEST_CASE("frontend: symbolic dims must be pinned by --shape fixed ones must agree", "[compiler]") {
  ModelBuilder b;
  b.input("x", {"batch", "4"}).output("y", {"batch", "4"});
  b.node("Relu", {"x"}, {"y"}, "r");
  CHECK(error_of(b.bytes()) ==
        "m.onnx: input 'x' dimension 0 ('batch') is symbolic; pin it with --shape x=... (or "
        "give its data: run --input x=FILE.npy)");
  CHECK(error_of(b.bytes(), {{"x", {3, 5}}}) ==
        "m.onnx: --shape x: dimension 1 is 4 in the model, not 5");
  CHECK(error_of(b.bytes(), {{"z", {3, 4}}}) ==
        "m.onnx: --shape names 'z', which is not an input of the model");
  Graph g = load_onnx_bytes(b.bytes(), "m.onnx", {{"x", {3, 4}}});
  CHECK(g.t(g.inputs[0]).shape == Shape{3, 4});
}

TEST_CASE("interpreter: MatMul Softmax LayerNorm against hand-computed values", "[compiler]") {
  Graph g;
  g.source = "t";
  Node mm;
  mm.op = "MatMul";
  Value a = val({2, 2}, {1, 2, 3, 4}), b = val({2, 2}, {5, 6, 7, 8});
  auto r = eval_node(g, mm, {&a, &b});
  CHECK(r[0].data == std::vector<double>{19, 22, 43, 50});

  Node sm;
  sm.op = "Softmax";
  Value x = val({1, 2}, {0, std::log(3.0)});
  r = eval_node(g, sm, {&x});
  CHECK(r[0].data[0] == Approx(0.25));
  CHECK(r[0].data[1] == Approx(0.75));

  Node ln;
  ln.op = "LayerNormalization";
  ln.attrs["epsilon"].kind = Attr::Kind::Float;
  ln.attrs["epsilon"].f = 0.0f;
  Value lx = val({1, 4}, {1, 2, 3, 4}), gm = val({4}, {1, 1, 1, 2}), bt = val({4}, {0, 0, 0, 1});
  r = eval_node(g, ln, {&lx, &gm, &bt});
  // mean 2.5, var 1.25: (x - 2.5) / sqrt(1.25)
  const double s = 1.0 / std::sqrt(1.25);
  CHECK(r[0].data[0] == Approx(-1.5 * s));
  CHECK(r[0].data[3] == Approx(1.5 * s * 2 + 1));
}

TEST_CASE("interpreter: broadcasting Gather with negative index Slice with steps", "[compiler]") {
  Graph g;
  g.source = "t";
  Node add;
  add.op = "Sub";
  Value a = val({2, 1}, {10, 20}), b = val({3}, {1, 2, 3});
  auto r = eval_node(g, add, {&a, &b});
  CHECK(r[0].shape == Shape{2, 3});
  CHECK(r[0].data == std::vector<double>{9, 8, 7, 19, 18, 17});

  Node ga;
  ga.op = "Gather";
  Value d = val({3, 2}, {1, 2, 3, 4, 5, 6});
  Value idx(DType::Int64, {2});
  idx.data = {-1, 0};
  r = eval_node(g, ga, {&d, &idx});
  CHECK(r[0].data == std::vector<double>{5, 6, 1, 2});

  Node sl;
  sl.op = "Slice";
  Value x = val({6}, {0, 1, 2, 3, 4, 5});
  Value st(DType::Int64, {1}), en(DType::Int64, {1}), ax(DType::Int64, {1}), sp(DType::Int64, {1});
  st.data = {-1};
  en.data = {-100};
  ax.data = {0};
  sp.data = {-2};
  r = eval_node(g, sl, {&x, &st, &en, &ax, &sp});
  CHECK(r[0].data == std::vector<double>{5, 3, 1});
}

TEST_CASE("fold_constants: Shape/Gather/Concat/Reshape chains fold to a constant shape", "[compiler]") {
  ModelBuilder b;
  b.input("x", {"2", "3", "4"}).output("y", {"6", "4"});
  b.init_i64("idx", {}, {2});
  b.init_i64("minus1", {1}, {-1});
  b.init_i64("zero", {1}, {0});
  b.node("Shape", {"x"}, {"s"}, "shape");
  b.node("Gather", {"s", "idx"}, {"last"}, "gather");
  b.node("Unsqueeze", {"last", "zero"}, {"last1"}, "unsq");
  b.node("Concat", {"minus1", "last1"}, {"target"}, "cat");
  add_int_attr(b.g->mutable_node(3), "axis", 0);
  b.node("Reshape", {"x", "target"}, {"y"}, "reshape");
  Graph g = load_onnx_bytes(b.bytes(), "m.onnx");
  fold_constants(g);
  verify(g, "fold_constants");
  REQUIRE(g.nodes.size() == 1);
  CHECK(g.nodes[0].op == "Reshape");
  CHECK(g.t(g.nodes[0].inputs[1]).value->data == std::vector<double>{-1, 4});
  CHECK(g.t(g.outputs[0]).shape == Shape{6, 4});
}

TEST_CASE("lowering: MLP layer emits tiled matmul with relu fused into PSUM evacuation", "[compiler]") {
  ModelBuilder b;
  b.input("x", {"4", "200"}).output("y", {"4", "3"});
  b.init("w", {200, 3}, std::vector<float>(600, 0.5f));
  b.node("MatMul", {"x", "w"}, {"h"}, "fc1");
  b.node("Relu", {"h"}, {"y"}, "relu1");
  std::string text = compile_text(b.bytes(), "bf16");
  // Relu is fused into the PSUM evacuation (fuse_epilogue). A has contiguous rows, so the fused
  // matmul takes the blocked orientation: rows of x (M = 4) on PSUM partitions, N = 3 free; A^T
  // comes from contiguous row loads transposed on the PE, not from an element-strided DMA.
  // K = 200 > 128 PE rows: two accumulation steps into one PSUM bank.
  CHECK(text.find("transpose psum[0:128]+0:fp32[1,4], sbuf[0:4]+0:bf16[1,128]") !=
        std::string::npos);
  CHECK(text.find("sbuf[0:72]") != std::string::npos);  // second K tile: 200 - 128
  CHECK(text.find(":bf16[1,4]") != std::string::npos);  // A^T tiles in bf16
  CHECK(text.find(", zero ") != std::string::npos);
  CHECK(text.find(", acc ") != std::string::npos);
  CHECK(text.find("fp32[1,3], relu, 1, 0, -") != std::string::npos);
  CHECK(text.find("@fc1") != std::string::npos);
  CHECK(text.find("@relu1") == std::string::npos);  // no separate Relu pass over HBM
  // x is loaded by rows (cast to bf16 by the DMA), never with a partition stride of 1 element.
  CHECK(text.find("hbm.x+0:fp32{200,4}[1,200]") != std::string::npos);
  CHECK(text.find("hbm.x+0:fp32{1,") == std::string::npos);
  CHECK(text.find("wait(") != std::string::npos);
  CHECK(text.find("inc(s0)") != std::string::npos);  // pe's semaphore
}

TEST_CASE("lowering: softmax uses exp with row sum", "[compiler]") {
  ModelBuilder b;
  b.input("x", {"4", "8"}).output("y", {"4", "8"});
  b.node("Softmax", {"x"}, {"y"}, "sm");
  std::string text = compile_text(b.bytes(), "fp32");
  CHECK(text.find("reduce sbuf[0:4]") != std::string::npos);
  CHECK(text.find(", max, 1") != std::string::npos);
  CHECK(text.find("exp, 1, sbuf[0:4]") != std::string::npos);
  CHECK(text.find(", div, sbuf[0:4]") != std::string::npos);
}

TEST_CASE("lowering: every instruction carries its node tag and Reshape aliases", "[compiler]") {
  ModelBuilder b;
  b.input("x", {"2", "6"}).output("y", {"3", "4"});
  b.init_i64("shape", {2}, {3, 4});
  b.node("Reshape", {"x", "shape"}, {"r"}, "rs");
  b.node("Neg", {"r"}, {"y"}, "neg");
  std::string text = compile_text(b.bytes());
  CHECK(text.find("@rs") == std::string::npos);  // an alias: no instructions
  CHECK(text.find("ts ") != std::string::npos);
  CHECK(text.find("mul, -1") != std::string::npos);
  size_t pos = 0, lines = 0, tagged = 0;
  while ((pos = text.find("\n  ", pos)) != std::string::npos) {
    size_t end = text.find('\n', pos + 1);
    std::string line = text.substr(pos + 1, end - pos - 1);
    ++lines;
    if (line.find("@neg") != std::string::npos) ++tagged;
    pos = end;
  }
  CHECK(lines > 0);
  CHECK(tagged == lines);
}

TEST_CASE("compile_onnx: bad --dtype and --dump-after names are input errors", "[compiler]") {
  CompileOptions o;
  o.dtype = "fp8";
  CHECK_THROWS_WITH(compile_onnx("/nonexistent.onnx", config::load_chip("trn1"), o),
                    "--dtype fp8: expected bf16 or fp32");
  o.dtype = "fp32";
  o.dump_after = "nope";
  CHECK_THROWS_WITH(compile_onnx("/nonexistent.onnx", config::load_chip("trn1"), o),
                    Catch::StartsWith("--dump-after=nope: no such pass; passes: frontend, fold_constants"));
}

TEST_CASE("lowering: bias Add is fused into PSUM through a ones x bias matmul", "[compiler]") {
  ModelBuilder b;
  b.input("x", {"4", "8"}).output("y", {"4", "3"});
  b.init("w", {8, 3}, std::vector<float>(24, 0.25f));
  b.init("bias", {3}, {1, 2, 3});
  b.node("MatMul", {"x", "w"}, {"h"}, "fc");
  b.node("Add", {"h", "bias"}, {"y"}, "fc_bias");
  std::string text = compile_text(b.bytes(), "fp32");
  // Blocked orientation (rows of x on PSUM partitions): the bias enters PSUM through the array,
  // ones[1, M]^T x bias[1, N] with the zero flag (fp32: one exact part), before the K tile
  // accumulates; the evacuation is a plain copy.
  CHECK(text.find("@fc_bias") == std::string::npos);
  CHECK(text.find("hbm.fc.bias_rows+0:fp32{7,1}[1,7]") != std::string::npos);  // 4 ones, 3 biases
  CHECK(text.find("fp32[1,3], sbuf[0:1]+") != std::string::npos);
  CHECK(text.find("matmul psum[0:4]") != std::string::npos);
  CHECK(text.find("sbuf[0:8]+64:fp32[1,3], acc") != std::string::npos);  // fp32 weights, K = 8
}

TEST_CASE("lowering: Gather over a short inner axis packs outer positions into the free axis",
          "[compiler]") {
  // Difftest seed 1306737: Gather(axis=3) of [2,300,300,1] made one index load, wrap,
  // dma_gather and store per outer position (900k instructions, compile > 60 s).
  ModelBuilder b;
  b.input("x", {"5000", "7", "1"}).input("i", {"2"}, onnx::TensorProto_DataType_INT64);
  b.output("y", {"5000", "2", "1"});
  add_int_attr(b.node("Gather", {"x", "i"}, {"y"}, "ga"), "axis", 1);
  const std::string text = compile_text(b.bytes(), "fp32");
  size_t gathers = 0;
  for (size_t p = text.find("dma_gather"); p != std::string::npos; p = text.find("dma_gather", p + 1))
    ++gathers;
  // 5,000 outer positions x 2 indices, 2,048 outer positions per dma_gather (table stride 7,
  // output stride 2); the index tile is loaded and wrapped once.
  CHECK(gathers == 3);
  CHECK(text.find("hbm.x+0:fp32{1,7}[7,2048][1,1]") != std::string::npos);
  CHECK(text.find("hbm.y+0:fp32{1,2}[2,2048][1,1]") != std::string::npos);
}

namespace {
size_t count_of(const std::string& text, const std::string& what) {
  size_t k = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++k;
  return k;
}
}  // namespace

TEST_CASE("lowering: tiles take the partition/free pair with the fewest tiles when the usual one "
          "is 4x worse", "[compiler]") {
  // Difftest seed 1309889: GatherElements over an axis of size 1 tiles its rows with one
  // element of free axis; [2, 10936] rows were [2 partitions x 1] x 10,936 tiles (86k
  // instructions), now [128 partitions of the long dim x 1] x 2 x 86.
  ModelBuilder b;
  b.input("x", {"2", "1", "12000"}).input("i", {"2", "1", "10936"}, onnx::TensorProto_DataType_INT64);
  b.output("y", {"2", "1", "10936"});
  add_int_attr(b.node("GatherElements", {"x", "i"}, {"y"}, "ge"), "axis", 1);
  const std::string text = compile_text(b.bytes(), "fp32");
  CHECK(count_of(text, "gather sbuf") == 2 * 86);
  CHECK(count_of(text, "gather sbuf[0:128]") == 2 * 85);
}

TEST_CASE("lowering: InstanceNormalization with few channels puts whole instances on partitions",
          "[compiler]") {
  // Difftest seed 1200241: [40000, 1, 1, 1] took one partition per instance (560k
  // instructions); now 128 instances per tile, scale and bias from a repeated constant table.
  ModelBuilder b;
  b.input("x", {"40000", "1", "3"}).output("y", {"40000", "1", "3"});
  b.init("s", {1}, {2.0f}).init("bias", {1}, {0.5f});
  b.node("InstanceNormalization", {"x", "s", "bias"}, {"y"}, "in");
  const std::string text = compile_text(b.bytes(), "fp32");
  CHECK(count_of(text, "bn_stats") == (40000 + 127) / 128);
  CHECK(count_of(text, "bn_stats sbuf[0:128]") == 40000 / 128);
  CHECK(text.find(".tensor in.scale_rep const fp32 [128]") != std::string::npos);
}

TEST_CASE("interpreter: whole graph run through interpret()", "[compiler]") {
  ModelBuilder b;
  b.input("x", {"2", "2"}).output("y", {"2", "2"});
  b.init("w", {2, 2}, {1, -1, 2, 0});
  b.node("MatMul", {"x", "w"}, {"h"}, "fc");
  b.node("Relu", {"h"}, {"y"}, "relu");
  Graph g = load_onnx_bytes(b.bytes(), "m.onnx");
  fold_constants(g);
  auto out = interpret(g, {{"x", val({2, 2}, {1, 1, -1, 3})}});
  // [1,1]x[[1,-1],[2,0]] = [3,-1] -> relu [3,0]; [-1,3] -> [5,1]
  CHECK(out.at("y").data == std::vector<double>{3, 0, 5, 1});
}

namespace {
isa::AccessPattern sb(int64_t off, int64_t np, int64_t nf) {
  isa::AccessPattern ap;
  ap.space = isa::MemSpace::Sbuf;
  ap.num_partitions = static_cast<uint16_t>(np);
  ap.offset = off;
  ap.ndims = 1;
  ap.dims[0] = {1, nf};
  return ap;
}
LInstr copy_on(isa::Engine e, const isa::AccessPattern& dst, const isa::AccessPattern& src) {
  LInstr li;
  li.engine = e;
  li.in.op = isa::Opcode::Copy;
  li.in.ops[0].ap = dst;
  li.in.ops[1].ap = src;
  return li;
}
}  // namespace

TEST_CASE("insert_sync: RAW and WAR across engines wait on the producer's semaphore", "[compiler]") {
  Lowered l;
  // dve writes A; act reads A (RAW on dve); pool overwrites A (WAR on act, WAW on dve).
  l.code.push_back(copy_on(isa::Engine::Dve, sb(0, 4, 16), sb(1024, 4, 16)));
  l.code.push_back(copy_on(isa::Engine::Act, sb(2048, 4, 16), sb(0, 4, 16)));
  l.code.push_back(copy_on(isa::Engine::Pool, sb(32, 4, 8), sb(4096, 4, 8)));
  // dve again: in order with its own earlier write; reads B written by act (RAW on act).
  l.code.push_back(copy_on(isa::Engine::Dve, sb(8192, 4, 16), sb(2048, 4, 16)));
  insert_sync(l, isa::Target{});
  REQUIRE(l.code.size() == 4);
  // Semaphores: pe 0, act 1, dve 2, pool 3; every instruction increments its engine's.
  CHECK(l.code[0].in.num_waits == 0);
  CHECK(l.code[0].in.incs[0].sem == 2);
  REQUIRE(l.code[1].in.num_waits == 1);
  CHECK(l.code[1].in.waits[0].sem == 2);
  CHECK(l.code[1].in.waits[0].value == 1);
  REQUIRE(l.code[2].in.num_waits == 2);  // act (WAR) and dve (WAW)
  CHECK(l.code[2].in.waits[0].sem == 1);
  CHECK(l.code[2].in.waits[1].sem == 2);
  REQUIRE(l.code[3].in.num_waits == 1);
  CHECK(l.code[3].in.waits[0].sem == 1);
}

TEST_CASE("insert_sync: more than two waits spill onto a nop on the same engine", "[compiler]") {
  Lowered l;
  l.code.push_back(copy_on(isa::Engine::Dve, sb(0, 4, 4), sb(4096, 4, 4)));
  l.code.push_back(copy_on(isa::Engine::Act, sb(64, 4, 4), sb(4096, 4, 4)));
  l.code.push_back(copy_on(isa::Engine::Pool, sb(128, 4, 4), sb(4096, 4, 4)));
  // Reads all three results: waits on dve, act and pool.
  LInstr tt;
  tt.engine = isa::Engine::Pe;
  tt.in.op = isa::Opcode::Transpose;
  isa::AccessPattern psum = sb(0, 4, 4);
  psum.space = isa::MemSpace::Psum;
  tt.in.ops[0].ap = psum;
  tt.in.ops[1].ap = sb(0, 4, 48);  // covers all three
  l.code.push_back(tt);
  insert_sync(l, isa::Target{});
  REQUIRE(l.code.size() == 5);
  CHECK(l.code[3].in.op == isa::Opcode::Nop);
  CHECK(l.code[3].engine == isa::Engine::Pe);
  CHECK(l.code[3].in.num_waits + l.code[4].in.num_waits == 3);
}

TEST_CASE("interpreter: int64 arithmetic and folding are exact over the whole int64 range",
          "[compiler]") {
  Graph g;
  g.source = "t";
  auto ints = [](Shape s, std::vector<int64_t> v) {
    Value x(DType::Int64, std::move(s));
    x.data = Elems::int64s(std::move(v));
    return x;
  };
  auto run = [&](const std::string& op, std::vector<const Value*> in,
                 std::map<std::string, int64_t> attrs = {}) {
    Node n;
    n.op = op;
    for (const auto& [k, v] : attrs) {
      Attr a;
      a.i = v;
      n.attrs[k] = a;
    }
    Value out = eval_node(g, n, in)[0];
    std::vector<int64_t> r;
    for (int64_t i = 0; i < out.numel(); ++i) r.push_back(out.data.int_at(i));
    return r;
  };
  const int64_t big = (int64_t{1} << 53) + 1;  // not a double
  const Value a = ints({4}, {16777217, big, INT64_MAX - 1, 123456789});
  const Value b = ints({4}, {1, 2, 1, 7});
  CHECK(run("Add", {&a, &b}) == std::vector<int64_t>{16777218, big + 2, INT64_MAX, 123456796});
  CHECK(run("Mul", {&a, &b})[1] == 2 * big);
  CHECK(run("Sub", {&a, &b})[2] == INT64_MAX - 2);
  CHECK(run("Div", {&a, &b})[3] == 123456789 / 7);
  CHECK(run("Mod", {&a, &b})[3] == 1);                   // 123456789 mod 7, not 8
  const Value n7 = ints({1}, {-7}), p2 = ints({1}, {2});
  CHECK(run("Mod", {&n7, &p2}) == std::vector<int64_t>{1});                 // divisor's sign
  CHECK(run("Mod", {&n7, &p2}, {{"fmod", 1}}) == std::vector<int64_t>{-1});  // dividend's sign
  CHECK(run("Neg", {&a})[2] == -(INT64_MAX - 1));
  CHECK(run("Equal", {&a, &a}) == std::vector<int64_t>{1, 1, 1, 1});
  // Movement keeps the integers: a Concat of INT64_MIN/MAX (Slice ends as exported).
  const Value lim = ints({2}, {INT64_MIN, INT64_MAX});
  Node cat;
  cat.op = "Concat";
  Attr ax;
  ax.i = 0;
  cat.attrs["axis"] = ax;
  Value c = eval_node(g, cat, {&lim, &a})[0];
  CHECK(c.data.int_at(0) == INT64_MIN);
  CHECK(c.data.int_at(1) == INT64_MAX);
  CHECK(c.data.int_at(3) == big);
  // CumSum and ReduceSum accumulate in int64.
  const Value axis0 = ints({}, {0});
  CHECK(run("CumSum", {&a, &axis0})[1] == 16777217 + big);
  const Value ax1 = ints({1}, {0});
  CHECK(run("ReduceSum", {&b, &ax1}) == std::vector<int64_t>{11});
  // Cast int64 -> float rounds once (to nearest), float -> int64 truncates.
  Node cast;
  cast.op = "Cast";
  Attr to;
  to.kind = Attr::Kind::String;
  to.s = "fp32";
  cast.attrs["to_dtype"] = to;
  const Value odd = ints({1}, {(int64_t{1} << 40) + (int64_t{1} << 16) + 1});
  CHECK(eval_node(g, cast, {&odd})[0].data[0] ==
        static_cast<double>(static_cast<float>((int64_t{1} << 40) + (int64_t{1} << 16) + 1)));
}
