// ONNX If in the compiler: conditions known at compile time inline the taken branch; runtime
// conditions compile both branches, each branching engine loads the condition (ldr) and
// branches, and semaphore counts agree after the If on both paths (checked by the checker).
#include <onnx/onnx_pb.h>

#include <catch2/catch.hpp>
#include <string>

#include "compiler/compile.h"
#include "compiler/frontend/onnx_loader.h"
#include "compiler/interp/interpreter.h"
#include "compiler/passes/passes.h"
#include "compiler/pipeline.h"
#include "config/chip_config.h"
#include "isa/asm.h"
#include "models/check/check.h"
#include "support/error.h"

using namespace trnsim;
using namespace trnsim::compiler;

namespace {

constexpr int kF = onnx::TensorProto_DataType_FLOAT;
constexpr int kB = onnx::TensorProto_DataType_BOOL;
constexpr int kI = onnx::TensorProto_DataType_INT64;

void set_vi(onnx::ValueInfoProto* v, const std::string& name, const std::vector<int64_t>& dims,
            int type) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(type);
  auto* sh = tt->mutable_shape();
  for (auto d : dims) sh->add_dim()->set_dim_value(d);
}

onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op,
                          const std::vector<std::string>& in, const std::vector<std::string>& out,
                          const std::string& name) {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& s : in) n->add_input(s);
  for (const auto& s : out) n->add_output(s);
  return n;
}

// An If node `name` on `cond` with output `out`: then = op_then(x), else = op_else(x). Branch
// outputs declare no shape (ONNX shape inference and ours derive them).
onnx::NodeProto* add_if(onnx::GraphProto* g, const std::string& cond, const std::string& out,
                        const std::string& name, const std::string& op_then,
                        const std::string& op_else) {
  auto* n = add_node(g, "If", {cond}, {out}, name);
  for (int k = 0; k < 2; ++k) {
    auto* a = n->add_attribute();
    a->set_name(k == 0 ? "then_branch" : "else_branch");
    a->set_type(onnx::AttributeProto_AttributeType_GRAPH);
    auto* b = a->mutable_g();
    b->set_name(name + (k == 0 ? "_then" : "_else"));
    const std::string o = name + (k == 0 ? "_t" : "_e");
    add_node(b, k == 0 ? op_then : op_else, {"x"}, {o}, name + (k == 0 ? "_top" : "_eop"));
    auto* vo = b->add_output();
    vo->set_name(o);
    vo->mutable_type()->mutable_tensor_type()->set_elem_type(kF);
  }
  return n;
}

struct IfModel {
  onnx::ModelProto m;
  onnx::GraphProto* g;
  IfModel() {
    m.set_ir_version(8);
    auto* op = m.add_opset_import();
    op->set_version(17);
    g = m.mutable_graph();
    g->set_name("ifs");
    set_vi(g->add_input(), "x", {2, 64}, kF);
  }
  Graph load() const { return load_onnx_bytes(m.SerializeAsString(), "m.onnx", LoadOptions{}); }
  isa::Program compile() const {
    CompileOptions o;
    return run_pipeline(load(), config::load_chip("trn1").target(), DType::Fp32, o);
  }
};

// c (bool input) -> If: then Relu(x), else Neg(x) -> y = If * x.
IfModel runtime_if() {
  IfModel m;
  set_vi(m.g->add_input(), "c", {}, kB);
  add_if(m.g, "c", "r", "branchy", "Relu", "Neg");
  add_node(m.g, "Mul", {"r", "x"}, {"y"}, "mul");
  set_vi(m.g->add_output(), "y", {2, 64}, kF);
  return m;
}

bool has(const std::string& text, const std::string& s) { return text.find(s) != std::string::npos; }

Value val(DType t, Shape s, std::vector<double> d) {
  Value v(t, std::move(s));
  v.data = std::move(d);
  return v;
}

}  // namespace

TEST_CASE("interpreter: If evaluates the branch its condition selects", "[compiler][if]") {
  Graph g = runtime_if().load();
  fold_constants(g);
  Value x = val(DType::Fp32, {2, 64}, std::vector<double>(128, -2.0));
  x.data.set(0, 3.0);
  auto then_out = interpret(g, {{"c", val(DType::Bool, {}, {1})}, {"x", x}});
  auto else_out = interpret(g, {{"c", val(DType::Bool, {}, {0})}, {"x", x}});
  // then: relu(x) * x = 9 for 3, 0 for -2; else: -x * x = -9, -4.
  CHECK(then_out.at("y").data.get(0) == 9.0);
  CHECK(then_out.at("y").data.get(1) == 0.0);
  CHECK(else_out.at("y").data.get(0) == -9.0);
  CHECK(else_out.at("y").data.get(1) == -4.0);
}

TEST_CASE("fold_constants: an If on a shape test is inlined; nothing branches",
          "[compiler][if]") {
  // c = (shape(x)[1] == 64): known once shapes are, so only Relu (then) is compiled.
  IfModel m;
  auto* t = m.g->add_initializer();
  t->set_name("one");
  t->set_data_type(kI);
  t->add_int64_data(1);
  auto* w = m.g->add_initializer();
  w->set_name("sixty_four");
  w->set_data_type(kI);
  w->add_int64_data(64);
  add_node(m.g, "Shape", {"x"}, {"s"}, "shape");
  auto* ga = add_node(m.g, "Gather", {"s", "one"}, {"d"}, "dim1");
  auto* ax = ga->add_attribute();
  ax->set_name("axis");
  ax->set_type(onnx::AttributeProto_AttributeType_INT);
  ax->set_i(0);
  add_node(m.g, "Equal", {"d", "sixty_four"}, {"c"}, "is64");
  add_if(m.g, "c", "y", "shapey", "Relu", "Neg");
  set_vi(m.g->add_output(), "y", {2, 64}, kF);
  Graph g = m.load();
  fold_constants(g);
  REQUIRE(g.nodes.size() == 1);
  CHECK(g.nodes[0].op == "Relu");
  CHECK(g.nodes[0].name == "shapey_top");
  const std::string text = isa::disassemble(m.compile());
  CHECK(!has(text, "ldr"));
  CHECK(!has(text, "beq"));
  CHECK(has(text, "relu"));
}

TEST_CASE("lowering: runtime If loads the condition on each branching engine and branches",
          "[compiler][if]") {
  const isa::Program p = runtime_if().compile();
  const std::string text = isa::disassemble(p);
  INFO(text);
  // Both branches are compiled: relu (then) and the negation (else) on their engines.
  CHECK(has(text, "@branchy_top"));
  CHECK(has(text, "@branchy_eop"));
  // Every engine that branches loads the condition (int32 in SBUF) with ldr r0 first, then
  // beq jumps to the else-part (or the end) when it is 0.
  int ldrs = 0, beqs = 0;
  for (int e = 0; e < isa::kNumEngines; ++e) {
    const auto& s = p.cores.at(0).streams[e];
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i].op != isa::Opcode::Ldr) continue;
      ++ldrs;
      CHECK(s[i].ops[0].i == 0);
      CHECK(s[i].ops[1].ap.dtype == DType::Int32);
      REQUIRE(i + 1 < s.size());
      const isa::Instr& br = s[i + 1];
      CHECK((br.op == isa::Opcode::Beq || br.op == isa::Opcode::Bne));
      CHECK(br.ops[0].i == 0);
      CHECK(br.ops[1].i == 0);
      CHECK(br.ops[2].i > static_cast<int64_t>(i + 1));
      CHECK(br.ops[2].i <= static_cast<int64_t>(s.size()));
      beqs += br.op == isa::Opcode::Beq;
    }
  }
  CHECK(ldrs >= 2);  // sp (DMAs in both parts) and the compute engine(s)
  CHECK(beqs >= 1);
  CHECK(has(text, "if0_end:"));
  // Both paths are free of races, uninitialised reads and deadlocks.
  const model::CheckReport r = model::check_program(p, config::load_chip("trn1").target());
  INFO(r.text());
  CHECK(r.clean());
  CHECK(r.paths == 2);
  for (uint8_t v : {0, 1}) {
    model::CheckOptions o;
    o.ldr_choices = {v};
    const model::CheckReport one = model::check_program(p, config::load_chip("trn1").target(), o);
    CHECK(one.clean());
    CHECK(one.paths == 1);
  }
}

TEST_CASE("frontend: runtime If whose branches yield different shapes is a one-line error",
          "[compiler][if]") {
  IfModel m;
  set_vi(m.g->add_input(), "c", {}, kB);
  // Flatten at axis 0: [1, 128].
  auto* n = add_if(m.g, "c", "y", "shapes", "Relu", "Flatten");
  auto* ax = n->mutable_attribute(1)->mutable_g()->mutable_node(0)->add_attribute();
  ax->set_name("axis");
  ax->set_type(onnx::AttributeProto_AttributeType_INT);
  ax->set_i(0);
  set_vi(m.g->add_output(), "y", {2, 64}, kF);
  try {
    m.compile();
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    const std::string msg = e.what();
    CHECK(has(msg, "m.onnx: node 'shapes' (op If)"));
    CHECK(has(msg, "[2,64]"));
    CHECK(has(msg, "[1,128]"));
    CHECK(msg.find('\n') == std::string::npos);
  }
}

TEST_CASE("frontend: If whose condition is not one value is a one-line error", "[compiler][if]") {
  IfModel m;
  set_vi(m.g->add_input(), "c", {3}, kB);
  add_if(m.g, "c", "y", "many", "Relu", "Neg");
  set_vi(m.g->add_output(), "y", {2, 64}, kF);
  try {
    m.compile();
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    const std::string msg = e.what();
    CHECK(has(msg, "m.onnx: node 'many' (op If)"));
    CHECK(has(msg, "3 elements"));
    CHECK(msg.find('\n') == std::string::npos);
  }
}

namespace {
isa::AccessPattern tile(int64_t off) {
  isa::AccessPattern ap;
  ap.space = isa::MemSpace::Sbuf;
  ap.num_partitions = 4;
  ap.offset = off;
  ap.ndims = 1;
  ap.dims[0] = {1, 16};
  ap.dtype = DType::Fp32;
  return ap;
}
LInstr on(isa::Engine e, isa::Opcode op, const isa::AccessPattern& dst,
          const isa::AccessPattern& src) {
  LInstr li;
  li.engine = e;
  li.in.op = op;
  li.in.ops[0].ap = dst;
  li.in.ops[1].ap = src;
  return li;
}
LInstr mark(LInstr::Mark m, isa::EngineMask engines = 0) {
  LInstr li;
  li.mark = m;
  li.if_id = 0;
  li.engines = engines;
  li.in.op = isa::Opcode::Nop;
  return li;
}
}  // namespace

TEST_CASE("insert_sync: If parts are alternative paths; the shorter one is padded",
          "[compiler][if]") {
  // then: one dve copy; else: two dve copies; after the If pool reads what either wrote.
  Lowered l;
  l.code.push_back(mark(LInstr::Mark::IfBegin, isa::engine_bit(isa::Engine::Dve)));
  l.code.push_back(on(isa::Engine::Dve, isa::Opcode::Copy, tile(0), tile(256)));
  l.code.push_back(mark(LInstr::Mark::IfElse));
  l.code.push_back(on(isa::Engine::Dve, isa::Opcode::Copy, tile(512), tile(256)));
  l.code.push_back(on(isa::Engine::Dve, isa::Opcode::Copy, tile(0), tile(512)));
  l.code.push_back(mark(LInstr::Mark::IfEnd));
  l.code.push_back(on(isa::Engine::Pool, isa::Opcode::Copy, tile(1024), tile(0)));
  insert_sync(l, config::load_chip("trn1").target());
  REQUIRE(l.code.size() == 7);
  // dve's semaphore is s2. The then-part's only copy counts for both of the else-part's.
  const isa::Instr& then_copy = l.code[1].in;
  REQUIRE(then_copy.num_incs == 1);
  CHECK(then_copy.incs[0].sem == 2);
  CHECK(then_copy.incs[0].amount == 2);
  CHECK(l.code[3].in.incs[0].amount == 1);
  CHECK(l.code[4].in.incs[0].amount == 1);
  // The else-part's second copy does not wait for its first (same engine, in order).
  CHECK(l.code[4].in.num_waits == 0);
  // After the If, pool waits for the joined count: 2 on both paths.
  const isa::Instr& after = l.code[6].in;
  REQUIRE(after.num_waits == 1);
  CHECK(after.waits[0].sem == 2);
  CHECK(after.waits[0].value == 2);
}

TEST_CASE("insert_sync: a stream with no code in one part gets a padding nop there",
          "[compiler][if]") {
  // then: pool copies; else: nothing on pool. After the If dve reads pool's result: the
  // else-part gets a pool nop incrementing s3, so dve's wait(s3>=1) holds on both paths.
  Lowered l;
  l.code.push_back(mark(LInstr::Mark::IfBegin, isa::engine_bit(isa::Engine::Pool)));
  l.code.push_back(on(isa::Engine::Pool, isa::Opcode::Copy, tile(0), tile(256)));
  l.code.push_back(mark(LInstr::Mark::IfElse));
  l.code.push_back(mark(LInstr::Mark::IfEnd));
  l.code.push_back(on(isa::Engine::Dve, isa::Opcode::Copy, tile(1024), tile(0)));
  insert_sync(l, config::load_chip("trn1").target());
  REQUIRE(l.code.size() == 6);
  CHECK(l.code[2].mark == LInstr::Mark::IfElse);
  const LInstr& pad = l.code[3];
  CHECK(pad.engine == isa::Engine::Pool);
  CHECK(pad.in.op == isa::Opcode::Nop);
  REQUIRE(pad.in.num_incs == 1);
  CHECK(pad.in.incs[0].sem == 3);
  CHECK(pad.in.incs[0].amount == 1);
  CHECK(l.code[4].mark == LInstr::Mark::IfEnd);
  REQUIRE(l.code[5].in.num_waits == 1);
  CHECK(l.code[5].in.waits[0].sem == 3);
  CHECK(l.code[5].in.waits[0].value == 1);
}

TEST_CASE("frontend: a runtime If's branch that is invalid for the input shapes is named",
          "[compiler][if]") {
  // Both branches are compiled, so an exporter's branch for other shapes (Silero VAD's 8 kHz
  // branch at 512 samples) is an error, naming the node in the branch and the If.
  IfModel m;
  set_vi(m.g->add_input(), "c", {}, kB);
  auto* n = add_if(m.g, "c", "y", "rates", "Relu", "MatMul");
  auto* else_g = n->mutable_attribute(1)->mutable_g();
  else_g->mutable_node(0)->add_input("w");
  auto* w = else_g->add_initializer();
  w->set_name("w");
  w->set_data_type(kF);
  for (int64_t d : {3, 64}) w->add_dims(d);
  for (int i = 0; i < 3 * 64; ++i) w->add_float_data(1.0f);
  set_vi(m.g->add_output(), "y", {2, 64}, kF);
  try {
    m.compile();
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    const std::string msg = e.what();
    CHECK(has(msg, "m.onnx: node 'rates_eop' (op MatMul)"));
    CHECK(has(msg, "in the else branch of If 'rates', whose condition is known only at run time"));
    CHECK(msg.find('\n') == std::string::npos);
  }
}
