// allocate_sbuf: live-range placement never overlaps live buffers, store-to-load forwarding keeps
// a chain's intermediates out of HBM, and with a tiny SBUF the tensors spill to HBM and the
// program still computes what the reference interpreter does.
#include <onnx/onnx_pb.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <string>

#include "compiler/compile.h"
#include "compiler/frontend/onnx_loader.h"
#include "compiler/interp/interpreter.h"
#include "compiler/passes/passes.h"
#include "compiler/pipeline.h"
#include "config/chip_config.h"
#include "models/check/check.h"
#include "models/exec/exec.h"
#include "support/error.h"

using namespace trnsim;
using namespace trnsim::compiler;

namespace {

struct Builder {
  onnx::ModelProto m;
  onnx::GraphProto* g;
  Builder() {
    m.set_ir_version(8);
    auto* op = m.add_opset_import();
    op->set_domain("");
    op->set_version(17);
    g = m.mutable_graph();
    g->set_name("test");
  }
  static void shape(onnx::ValueInfoProto* v, const std::string& name, const Shape& dims) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
    for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
  Builder& input(const std::string& n, const Shape& d) {
    shape(g->add_input(), n, d);
    return *this;
  }
  Builder& output(const std::string& n, const Shape& d) {
    shape(g->add_output(), n, d);
    return *this;
  }
  Builder& scalar(const std::string& n, float v) {
    auto* t = g->add_initializer();
    t->set_name(n);
    t->set_data_type(onnx::TensorProto_DataType_FLOAT);
    t->add_dims(1);
    t->add_float_data(v);
    return *this;
  }
  Builder& init(const std::string& n, const Shape& dims, const std::vector<float>& v) {
    auto* t = g->add_initializer();
    t->set_name(n);
    t->set_data_type(onnx::TensorProto_DataType_FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    for (float f : v) t->add_float_data(f);
    return *this;
  }
  Builder& node(const std::string& op, const std::vector<std::string>& in, const std::string& out) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(out);
    for (const auto& s : in) n->add_input(s);
    n->add_output(out);
    return *this;
  }
  Graph graph() const { return load_onnx_bytes(m.SerializeAsString(), "m.onnx"); }
};

// BERT's GELU: y = x * 0.5 * (1 + erf(x / sqrt(2))), five elementwise nodes.
Builder gelu(const Shape& s) {
  Builder b;
  b.input("x", s).output("y", s);
  b.scalar("c_sqrt2", 1.4142135f).scalar("c_one", 1.0f).scalar("c_half", 0.5f);
  b.node("Div", {"x", "c_sqrt2"}, "d").node("Erf", {"d"}, "e").node("Add", {"e", "c_one"}, "a");
  b.node("Mul", {"x", "a"}, "m").node("Mul", {"m", "c_half"}, "y");
  return b;
}

// A residual block whose first activation stays live across a chain: a = sigmoid(x),
// y = a + exp(tanh(neg(a))).
Builder residual(const Shape& s) {
  Builder b;
  b.input("x", s).output("y", s);
  b.node("Sigmoid", {"x"}, "a").node("Neg", {"a"}, "n").node("Tanh", {"n"}, "t");
  b.node("Exp", {"t"}, "e").node("Add", {"a", "e"}, "y");
  return b;
}

// An FFN block: y = gelu(x W1 + b1) W2 + b2, x [128, 256], hidden 512 (or `hidden`).
Builder ffn(int64_t hidden = 512) {
  Builder b;
  b.input("x", {128, 256}).output("y", {128, 256});
  auto vals = [](int64_t n, int seed) {
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>((i * seed % 97) - 48) / 400.0f;
    return v;
  };
  b.init("w1", {256, hidden}, vals(256 * hidden, 31)).init("b1", {hidden}, vals(hidden, 7));
  b.init("w2", {hidden, 256}, vals(hidden * 256, 53)).init("b2", {256}, vals(256, 11));
  b.scalar("c_sqrt2", 1.4142135f).scalar("c_one", 1.0f).scalar("c_half", 0.5f);
  b.node("MatMul", {"x", "w1"}, "f0").node("Add", {"f0", "b1"}, "f1");
  b.node("Div", {"f1", "c_sqrt2"}, "d").node("Erf", {"d"}, "e").node("Add", {"e", "c_one"}, "a");
  b.node("Mul", {"f1", "a"}, "m").node("Mul", {"m", "c_half"}, "g");
  b.node("MatMul", {"g", "w2"}, "f2").node("Add", {"f2", "b2"}, "y");
  return b;
}

// The graph passes and lowering of run_pipeline, stopping before allocate_sbuf.
Lowered lower(Graph& g, const isa::Target& t, bool layout = true) {
  fold_constants(g);
  remove_identity(g);
  fold_batchnorm(g);
  prune_dead(g);
  fuse_epilogue(g);
  if (layout) choose_layout(g);
  Lowered low;
  LowerCtx ctx(g, t, DType::Fp32, low);
  lower_graph(g, ctx);
  return low;
}

bool is_dma(const LInstr& li) { return li.in.op == isa::Opcode::Dma; }

// HBM bytes moved by the DMAs, and how many DMAs touch a scratch tensor.
struct HbmUse {
  int64_t bytes = 0;
  int scratch_dmas = 0;
};
HbmUse hbm_use(const Lowered& l) {
  HbmUse u;
  for (const LInstr& li : l.code) {
    if (!is_dma(li)) continue;
    for (int k = 1; k <= 2; ++k) {
      const isa::AccessPattern& ap = li.in.ops[k].ap;
      if (ap.space != isa::MemSpace::Hbm) continue;
      u.bytes += ap.total_elements() * isa::dtype_size(ap.dtype);
      if (l.prog.tensors[ap.tensor].role == isa::TensorRole::Scratch) ++u.scratch_dmas;
    }
  }
  return u;
}

// Runs the lowered code one instruction at a time in program order (the order the semaphores
// preserve) on real bytes and returns the fp32 output `name`.
std::vector<float> run_in_order(const Lowered& l, const isa::Target& t, const std::string& in_name,
                                const std::vector<float>& in, const std::string& name) {
  model::CoreMem mem;
  mem.init(t.partitions, t.sbuf_bytes_per_partition, t.psum_bytes_per_partition(), 0xFF);
  model::HbmStore hbm;
  int out = -1;
  for (size_t i = 0; i < l.prog.tensors.size(); ++i) {
    const isa::TensorDecl& d = l.prog.tensors[i];
    int64_t n = 1;
    for (int64_t s : d.shape) n *= s;
    std::vector<uint8_t> bytes = d.data;
    bytes.resize(static_cast<size_t>(n * isa::dtype_size(d.dtype)));
    if (d.name == in_name) {
      REQUIRE(bytes.size() == in.size() * 4);
      std::memcpy(bytes.data(), in.data(), bytes.size());
    }
    if (d.name == name) out = static_cast<int>(i);
    hbm.tensors.push_back(std::move(bytes));
  }
  REQUIRE(out >= 0);
  model::ExecState st;
  st.prog = &l.prog;
  st.mem = &mem;
  st.hbm = &hbm;
  int64_t regs[64] = {};
  st.regs = regs;
  for (size_t i = 0; i < l.code.size(); ++i)
    model::execute(l.code[i].in, st, model::InstrRef{0, l.code[i].engine, i});
  std::vector<float> r(hbm.tensors[out].size() / 4);
  std::memcpy(r.data(), hbm.tensors[out].data(), r.size() * 4);
  return r;
}

std::vector<float> reference(const Builder& b, const Shape& s, const std::vector<float>& x) {
  Graph g = b.graph();
  Value v(DType::Fp32, s);
  v.data.assign(x.begin(), x.end());
  auto outs = interpret(g, {{"x", v}});
  const Value& y = outs.at("y");
  return std::vector<float>(y.data.begin(), y.data.end());
}

std::vector<float> ramp(int64_t n) {
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>((i * 37 % 401) - 200) / 80.0f;
  return x;
}

void require_close(const std::vector<float>& got, const std::vector<float>& want,
                   double tol = 1e-5) {
  REQUIRE(got.size() == want.size());
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::fabs(static_cast<double>(got[i]) - want[i]));
  CHECK(worst < tol);
}

// Compiles the rest of the way (insert_sync, emit) and checks for races and uninitialised reads.
void require_race_free(Lowered l, const isa::Target& t) {
  insert_sync(l, t);
  isa::Program p = emit_program(std::move(l));
  const model::CheckReport rep = model::check_program(p, t);
  INFO(rep.text());
  CHECK(rep.clean());
}

// For every virtual buffer: its physical offset (one per buffer) and live range in the placed
// code; buffers live at the same time never share a byte. `pre` is the code before
// allocate_sbuf without forwarding, so instructions correspond one to one.
void require_disjoint(const Lowered& pre, const Lowered& post) {
  REQUIRE(pre.code.size() == post.code.size());
  const size_t nb = pre.sbuf_buffers.size();
  std::vector<int64_t> phys(nb, -1), first(nb, -1), last(nb, -1);
  for (size_t i = 0; i < pre.code.size(); ++i) {
    for (int k = 0; k < isa::kMaxOperands; ++k) {
      const isa::AccessPattern& a = pre.code[i].in.ops[k].ap;
      if (a.space != isa::MemSpace::Sbuf) continue;
      const auto b = static_cast<size_t>((a.offset - kSbufVirtBase) / kSbufVirtStride);
      REQUIRE(b < nb);
      const int64_t p = post.code[i].in.ops[k].ap.offset - (a.offset - pre.sbuf_buffers[b].vbase);
      if (phys[b] < 0) phys[b] = p;
      REQUIRE(phys[b] == p);
      REQUIRE(p >= 0);
      if (first[b] < 0) first[b] = static_cast<int64_t>(i);
      last[b] = static_cast<int64_t>(i);
    }
  }
  int pairs = 0;
  for (size_t a = 0; a < nb; ++a)
    for (size_t b = a + 1; b < nb; ++b) {
      if (first[a] < 0 || first[b] < 0 || last[a] < first[b] || last[b] < first[a]) continue;
      ++pairs;
      const bool disjoint = phys[a] + pre.sbuf_buffers[a].bytes <= phys[b] ||
                            phys[b] + pre.sbuf_buffers[b].bytes <= phys[a];
      INFO("buffers " << a << " and " << b << " at " << phys[a] << " and " << phys[b]);
      REQUIRE(disjoint);
    }
  CHECK(pairs > 0);
}

}  // namespace

TEST_CASE("allocate_sbuf: a GELU chain's intermediates never go to HBM", "[compiler]") {
  const Shape s{128, 768};
  const isa::Target t = config::load_chip("trn1").target();
  Graph g = gelu(s).graph();
  const Lowered pre = lower(g, t);
  Lowered off = pre, on = pre;
  const SbufAllocStats st_off = allocate_sbuf(off, t, false);
  const SbufAllocStats st = allocate_sbuf(on, t, true);
  CHECK(st_off.forwarded_loads == 0);
  // Without forwarding d, e, a, m each go out and come back: 8 scratch DMAs.
  CHECK(hbm_use(off).scratch_dmas == 8);
  CHECK(hbm_use(on).scratch_dmas == 0);
  CHECK(st.forwarded_loads == 4);
  CHECK(st.dropped_stores == 4);
  // x is read twice (by Div and by Mul, both from HBM) and y written once: 3 x 384 KiB.
  CHECK(hbm_use(on).bytes == 3 * 128 * 768 * 4);
  CHECK(hbm_use(off).bytes - hbm_use(on).bytes == st.hbm_bytes_saved);
  const auto x = ramp(128 * 768);
  const auto want = reference(gelu(s), s, x);
  require_close(run_in_order(on, t, "x", x, "y"), want);
  require_close(run_in_order(off, t, "x", x, "y"), want);
  require_race_free(on, t);
}

TEST_CASE("allocate_sbuf: with a small SBUF tensors spill to HBM and results still match",
          "[compiler]") {
  // tiny with 16 KiB per partition: a = sigmoid(x) is 32 KiB per partition and stays live
  // until the final Add, so not every forward fits (budget 3/4 of 16 KiB).
  const Shape s{32, 8192};
  const isa::Target t =
      config::load_chip("tiny", {"sbuf.bytes_per_partition=16384"}).target();
  Graph g = residual(s).graph();
  Lowered l = lower(g, t);
  const HbmUse before = hbm_use(l);
  const SbufAllocStats st = allocate_sbuf(l, t, true);
  INFO(st.summary());
  CHECK_FALSE(st.ring_fallback);
  CHECK(st.forwarded_loads > 0);
  CHECK(hbm_use(l).scratch_dmas > 0);  // the spill: some scratch tensors go through HBM
  CHECK(hbm_use(l).bytes < before.bytes);
  CHECK(st.peak_bytes <= t.sbuf_bytes_per_partition);
  const auto x = ramp(32 * 8192);
  require_close(run_in_order(l, t, "x", x, "y"), reference(residual(s), s, x));
  require_race_free(l, t);
  // The same model on the full tiny SBUF (64 KiB): everything stays on chip.
  const isa::Target big = config::load_chip("tiny").target();
  Graph g2 = residual(s).graph();
  Lowered l2 = lower(g2, big);
  allocate_sbuf(l2, big, true);
  CHECK(hbm_use(l2).scratch_dmas < hbm_use(l).scratch_dmas);
  require_close(run_in_order(l2, big, "x", x, "y"), reference(residual(s), s, x));
}

TEST_CASE("allocate_sbuf: buffers live at the same time never share space", "[compiler]") {
  // trn1, tiny, and tiny with 16 KiB per partition (the ring wraps every few tiles).
  for (const char* set : {"", "tiny", "sbuf.bytes_per_partition=16384"}) {
    const std::string chip = *set ? "tiny" : "trn1";
    const isa::Target t =
        config::load_chip(chip, *set == 's' ? std::vector<std::string>{set}
                                            : std::vector<std::string>{}).target();
    for (const Builder& b : {gelu({4, 128, 768}), residual({64, 4096})}) {
      INFO(chip << " " << set);
      Graph g = b.graph();
      const Lowered pre = lower(g, t);
      Lowered post = pre;
      const SbufAllocStats st = allocate_sbuf(post, t, false);
      CHECK_FALSE(st.ring_fallback);
      CHECK(st.peak_bytes <= t.sbuf_bytes_per_partition);
      require_disjoint(pre, post);
    }
  }
}

TEST_CASE("choose_layout: matmul -> GELU -> matmul keeps every intermediate in SBUF",
          "[compiler]") {
  const isa::Target t = config::load_chip("trn1").target();
  Graph g = ffn().graph();
  Lowered l = lower(g, t);
  // The GELU nodes follow the fused matmul's store tiles (rows on partitions).
  int follows = 0;
  for (const Node& n : g.nodes) follows += n.attr_string("_layout", "").rfind("follow:", 0) == 0;
  CHECK(follows == 5);
  const SbufAllocStats st = allocate_sbuf(l, t, true);
  INFO(st.summary());
  CHECK(hbm_use(l).scratch_dmas == 0);  // f1, d, e, a, m, g never touch HBM
  // Without the layouts the default row tiles happen to line up with the fused matmul's
  // [128, 512] row stores (blocked orientation), so they do no worse.
  Graph g0 = ffn().graph();
  Lowered l0 = lower(g0, t, false);
  allocate_sbuf(l0, t, true);
  CHECK(hbm_use(l).bytes <= hbm_use(l0).bytes);
  const auto x = ramp(128 * 256);
  const auto want = reference(ffn(), {128, 256}, x);
  require_close(run_in_order(l, t, "x", x, "y"), want, 1e-4);
  require_race_free(l, t);
}

TEST_CASE("allocate_sbuf: column tiles of a row-major tensor are forwarded one by one",
          "[compiler]") {
  // Hidden 2048: the fused matmul stores f1 [128, 2048] as 4 column tiles of [128, 512]. Their
  // HBM hulls all overlap (each spans every row), so finding "the latest store that overlaps the
  // load" by hull picked the last tile's store for every load and only that tile was forwarded;
  // by exact bytes each load finds its own tile's store.
  const isa::Target t = config::load_chip("trn1").target();
  Graph g = ffn(2048).graph();
  Lowered l = lower(g, t);
  const SbufAllocStats st = allocate_sbuf(l, t, true);
  INFO(st.summary());
  CHECK(hbm_use(l).scratch_dmas == 0);  // f1, d, e, a, m, g never touch HBM
  // 6 tensors (f1, d, e, a, m, g) x 4 tiles, f1 read twice (Div, Mul): 28 forwarded loads
  // (or copies), 24 stores dropped.
  CHECK(st.forwarded_loads + st.converted_loads == 28);
  CHECK(st.dropped_stores == 24);
  const auto x = ramp(128 * 256);
  require_close(run_in_order(l, t, "x", x, "y"), reference(ffn(2048), {128, 256}, x), 1e-4);
  require_race_free(l, t);
}

TEST_CASE("choose_layout: bf16 matmul inputs come from an act copy instead of a load",
          "[compiler]") {
  // With --dtype bf16 the second matmul loads g converted to bf16; the load becomes an act
  // copy (the same rounding) from the SBUF tiles of the GELU chain.
  const isa::Target t = config::load_chip("trn1").target();
  Graph g = ffn().graph();
  fold_constants(g);
  remove_identity(g);
  fold_batchnorm(g);
  prune_dead(g);
  fuse_epilogue(g);
  choose_layout(g);
  Lowered l;
  LowerCtx ctx(g, t, DType::Bf16, l);
  lower_graph(g, ctx);
  Lowered off = l;
  const SbufAllocStats st = allocate_sbuf(l, t, true);
  allocate_sbuf(off, t, false);
  INFO(st.summary());
  CHECK(st.converted_loads > 0);
  CHECK(hbm_use(l).scratch_dmas == 0);
  CHECK(hbm_use(off).scratch_dmas > 0);
  // Bit for bit what the program computes when every tensor goes through HBM.
  const auto x = ramp(128 * 256);
  const auto got = run_in_order(l, t, "x", x, "y");
  CHECK(got == run_in_order(off, t, "x", x, "y"));
  const auto want = reference(ffn(), {128, 256}, x);
  double peak = 0;
  for (float v : want) peak = std::max(peak, std::fabs(static_cast<double>(v)));
  require_close(got, want, 3e-2 * peak);  // the e2e tests' bf16 tolerance
  require_race_free(l, t);
}

TEST_CASE("prefetch_weights: weight loads move two nodes up and change no result",
          "[compiler]") {
  // FFN in bf16: the second matmul's weight loads (its .rhs constant) are issued at the start
  // of the node two before it (after the loads moved there), ahead of that node's activation
  // loads; allocate_sbuf places the longer-lived buffers, and the program computes bit for bit
  // what it did without the move, race-free.
  const isa::Target t = config::load_chip("trn1").target();
  auto lower_bf16 = [&]() {
    Graph g = ffn(2048).graph();
    fold_constants(g);
    remove_identity(g);
    fold_batchnorm(g);
    prune_dead(g);
    fuse_epilogue(g);
    choose_layout(g);
    Lowered l;
    LowerCtx ctx(g, t, DType::Bf16, l);
    lower_graph(g, ctx);
    return l;
  };
  Lowered off = lower_bf16(), on = lower_bf16();
  const PrefetchStats st = prefetch_weights(on, t);
  REQUIRE(on.code.size() == off.code.size());
  CHECK(st.moved_loads > 0);
  CHECK(st.moved_bytes <= t.sbuf_bytes_per_partition / 4);
  // Node order in the code, and where the first load of each constant tensor sits.
  std::vector<std::string> nodes;
  for (const LInstr& li : off.code) {
    const std::string tag = off.prog.str(li.in.tag);
    if (nodes.empty() || nodes.back() != tag) nodes.push_back(tag);
  }
  auto first_load = [](const Lowered& l, const std::string& tensor) {
    for (size_t i = 0; i < l.code.size(); ++i) {
      const isa::Instr& in = l.code[i].in;
      if (is_dma(l.code[i]) && in.ops[2].ap.space == isa::MemSpace::Hbm &&
          l.prog.tensors[in.ops[2].ap.tensor].name == tensor)
        return std::make_pair(i, l.prog.str(in.tag));
    }
    return std::make_pair(l.code.size(), std::string());
  };
  // The first instruction of a node that is not a load of a constant (those may have moved).
  auto first_own = [](const Lowered& l, const std::string& tag) {
    for (size_t i = 0; i < l.code.size(); ++i) {
      const isa::Instr& in = l.code[i].in;
      const bool const_load = is_dma(l.code[i]) && in.ops[2].ap.space == isa::MemSpace::Hbm &&
                              l.prog.tensors[in.ops[2].ap.tensor].role == isa::TensorRole::Const;
      if (!const_load && l.prog.str(in.tag) == tag) return i;
    }
    return l.code.size();
  };
  const auto [i_off, mm2] = first_load(off, "f2.rhs");
  const auto [i_on, tag_on] = first_load(on, "f2.rhs");
  REQUIRE(!mm2.empty());
  CHECK(tag_on == mm2);  // still tagged with its own node
  const auto at = std::find(nodes.begin(), nodes.end(), mm2) - nodes.begin();
  REQUIRE(at >= 2);
  // Before the own code of the node two back, after that of the node three back; without the
  // pass, inside its own node.
  CHECK(i_on < first_own(on, nodes[at - 2]));
  CHECK(i_on > first_own(on, nodes[at - 3]));
  CHECK(i_off > first_own(off, mm2));
  const SbufAllocStats s_on = allocate_sbuf(on, t, true);
  allocate_sbuf(off, t, true);
  INFO(s_on.summary());
  CHECK_FALSE(s_on.ring_fallback);
  const auto x = ramp(128 * 256);
  CHECK(run_in_order(on, t, "x", x, "y") == run_in_order(off, t, "x", x, "y"));
  require_race_free(on, t);
}

TEST_CASE("prefetch_weights: where the moved buffers do not fit, the unmoved code is placed",
          "[compiler]") {
  // Three nodes on trn1 (192 KiB): n0 and n1 each use a 160 KiB tile, n2 loads a 40 KiB
  // constant. In place they fit one after another; moved two nodes up, n2's tile is live
  // beside n0's (200 KiB), placement fails and the ring would overlap them: the unmoved code
  // is placed instead.
  const isa::Target t = config::load_chip("trn1", {}).target();
  Lowered l;
  const int64_t sizes[3] = {160 * 1024, 160 * 1024, 40 * 1024};
  for (int b = 0; b < 3; ++b)
    l.sbuf_buffers.push_back({kSbufVirtBase + b * kSbufVirtStride, sizes[b], 0, false});
  auto tile = [&](int b) {
    isa::AccessPattern a;
    a.space = isa::MemSpace::Sbuf;
    a.dtype = DType::Fp32;
    a.num_partitions = 1;
    a.offset = kSbufVirtBase + b * kSbufVirtStride;
    a.ndims = 1;
    a.dims[0] = {1, sizes[b] / 4};
    return a;
  };
  isa::TensorDecl w;
  w.name = "w";
  w.dtype = DType::Fp32;
  w.shape = {1, sizes[2] / 4};
  w.role = isa::TensorRole::Const;
  l.prog.tensors.push_back(w);
  auto push = [&](isa::Engine e, isa::Instr in, const char* node) {
    in.tag = l.prog.intern(node);
    l.code.push_back({e, in});
  };
  auto use = [&](int b, const char* node) {  // write then read the tile
    isa::Instr ms = make_instr(isa::Opcode::Memset);
    ms.ops[0] = ap_operand(tile(b));
    ms.ops[1] = imm(1.0f);
    if (b < 2) push(isa::Engine::Pool, ms, node);
    isa::Instr cp = make_instr(isa::Opcode::Copy);
    cp.ops[0] = ap_operand(tile(b));
    cp.ops[1] = ap_operand(tile(b));
    push(isa::Engine::Dve, cp, node);
  };
  use(0, "n0");
  use(1, "n1");
  isa::AccessPattern src;
  src.space = isa::MemSpace::Hbm;
  src.dtype = DType::Fp32;
  src.tensor = 0;
  src.num_partitions = 1;
  src.partition_stride = sizes[2] / 4;
  src.ndims = 1;
  src.dims[0] = {1, sizes[2] / 4};
  isa::Instr ld = make_instr(isa::Opcode::Dma);
  ld.ops[0] = int_operand(0);
  ld.ops[1] = ap_operand(tile(2));
  ld.ops[2] = ap_operand(src);
  push(isa::Engine::Sp, ld, "n2");
  use(2, "n2");
  const std::vector<LInstr> unmoved = l.code;
  REQUIRE(prefetch_weights(l, t).moved_loads == 1);
  CHECK(l.code[0].in.op == isa::Opcode::Dma);  // moved to the start of n0
  Lowered moved = l;
  CHECK_THROWS(allocate_sbuf(moved, t, true));
  const SbufAllocStats st = allocate_sbuf_prefetched(l, unmoved, t, true);
  CHECK_FALSE(st.ring_fallback);
  REQUIRE(l.code.size() == unmoved.size());
  CHECK(l.code[4].in.op == isa::Opcode::Dma);  // back in n2
}

TEST_CASE("allocate_sbuf: a ring fallback whose live tiles share bytes is refused and not run",
          "[compiler]") {
  // Two 120 KiB tiles live at once cannot both fit trn1's 192 KiB: placement fails and the ring
  // offsets (both 0, as the lowering's ring wrapped) would make the second overwrite the first
  // before its read. That was a silent wrong answer (difftest seed 811648); now it is a refusal.
  const isa::Target t = config::load_chip("trn1", {}).target();
  const int64_t bytes = 120 * 1024;
  auto tile = [&](int b) {
    isa::AccessPattern a;
    a.space = isa::MemSpace::Sbuf;
    a.dtype = DType::Fp32;
    a.num_partitions = 1;
    a.offset = kSbufVirtBase + b * kSbufVirtStride;
    a.ndims = 1;
    a.dims[0] = {1, bytes / 4};
    return a;
  };
  auto program = [&](bool overlap) {
    Lowered l;
    for (int b = 0; b < 3; ++b)
      l.sbuf_buffers.push_back({kSbufVirtBase + b * kSbufVirtStride, bytes, 0, false});
    auto memset = [&](int b) {
      isa::Instr in = make_instr(isa::Opcode::Memset);
      in.ops[0] = ap_operand(tile(b));
      in.ops[1] = imm(1.0f);
      l.code.push_back({isa::Engine::Pool, in});
    };
    auto copy = [&](int dst, int src) {
      isa::Instr in = make_instr(isa::Opcode::Copy);
      in.ops[0] = ap_operand(tile(dst));
      in.ops[1] = ap_operand(tile(src));
      l.code.push_back({isa::Engine::Dve, in});
    };
    memset(0);
    if (overlap) memset(1);  // tile 1 written while tile 0 still waits for its read
    copy(2, 0);
    if (!overlap) memset(1);
    return l;
  };
  Lowered bad = program(true);
  CHECK_THROWS_WITH(allocate_sbuf(bad, t, true),
                    Catch::Contains("need more than its 196608 bytes per partition"));
  Lowered good = program(false);
  CHECK_NOTHROW(allocate_sbuf(good, t, true));
}
