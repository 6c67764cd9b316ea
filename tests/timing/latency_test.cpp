// Per-engine latency formulas (pure functions, no simulation), exact cycles with derivations.
// Parameters are the trn1 defaults of config/params.def unless a test overrides them:
// pe.min_ii 64, pe.fp32_factor 4, pe.ls_speedup 4, engine.min_ii 64, access_start 60,
// act.reduce_cycles 64, pool.start_cycles 150.
#include <catch2/catch.hpp>

#include "config/chip_config.h"
#include "isa/asm.h"
#include "models/act_engine/act_engine.h"
#include "models/core/instr_info.h"
#include "models/dma/dma.h"
#include "models/gpsimd_engine/gpsimd_engine.h"
#include "models/tensor_engine/tensor_engine.h"
#include "models/vector_engine/vector_engine.h"

using namespace trnsim;
using model::Cycles;

namespace {
// Assembles one instruction on `engine` (with one tensor `t` for HBM operands).
isa::Instr instr(const std::string& engine, const std::string& text) {
  auto p = isa::assemble(".tensor t input bf16 [128, 4096]\n.core 0\n.engine " + engine + "\n  " +
                             text + "\n",
                         "t.tasm");
  return p.cores[0].stream(*isa::parse_engine(engine)).at(0);
}
int64_t pe(const std::string& t, const config::ChipConfig& c = {}) {
  return model::TensorEngine::latency(instr("pe", t), c).count();
}
int64_t ls(const std::string& t, const config::ChipConfig& c = {}) {
  return model::TensorEngine::load_stationary(instr("pe", t), c).count();
}
int64_t act(const std::string& t) {
  return model::ActEngine::latency(instr("act", t), config::ChipConfig{}).count();
}
int64_t dve(const std::string& t) {
  return model::VectorEngine::latency(instr("dve", t), config::ChipConfig{}).count();
}
int64_t pool(const std::string& t) {
  return model::GpSimdEngine::latency(instr("pool", t), config::ChipConfig{}).count();
}
}  // namespace

TEST_CASE("matmul, weight-stationary: max(min(min_ii, M), N) x dtype factor", "[timing][pe]") {
  // bf16 K=128 M=128 N=512: max(min(64,128), 512) = 512.
  CHECK(pe("matmul psum[0:128]+0:fp32[1,512], sbuf[0:128]+0:bf16[1,128], sbuf[0:128]+0:bf16[1,512], zero") == 512);
  // N=32 < min_ii: max(min(64,128), 32) = 64.
  CHECK(pe("matmul psum[0:128]+0:fp32[1,32], sbuf[0:128]+0:bf16[1,128], sbuf[0:128]+0:bf16[1,32], zero") == 64);
  // Small stationary M=16, N=32: max(min(64,16), 32) = 32 [ISA226].
  CHECK(pe("matmul psum[0:16]+0:fp32[1,32], sbuf[0:128]+0:bf16[1,16], sbuf[0:128]+0:bf16[1,32], zero") == 32);
  // fp32: 4 x max(64, 512) = 2048.
  CHECK(pe("matmul psum[0:128]+0:fp32[1,512], sbuf[0:128]+0:fp32[1,128], sbuf[0:128]+0:fp32[1,512], zero") == 2048);
  // fp8 with pe.fp8_speedup 2 (trn2): 512 / 2 = 256.
  config::ChipConfig c;
  c.pe_fp8_factor = 2;
  CHECK(pe("matmul psum[0:128]+0:fp32[1,512], sbuf[0:128]+0:fp8e4m3[1,128], sbuf[0:128]+0:fp8e4m3[1,512], zero", c) == 256);
}

TEST_CASE("LoadStationary: ceil(M / ls_speedup), dtype-scaled; none for os/is", "[timing][pe]") {
  const char* mm = "matmul psum[0:128]+0:fp32[1,512], sbuf[0:128]+0:bf16[1,128], sbuf[0:128]+0:bf16[1,512], zero";
  CHECK(ls(mm) == 32);  // 128 / 4 [PERF Opt#7: LS_II ~ 32]
  CHECK(ls("matmul psum[0:30]+0:fp32[1,64], sbuf[0:128]+0:bf16[1,30], sbuf[0:128]+0:bf16[1,64], zero") == 8);  // ceil(30/4)
  CHECK(ls("matmul psum[0:128]+0:fp32[1,512], sbuf[0:128]+0:fp32[1,128], sbuf[0:128]+0:fp32[1,512], zero") == 128);  // 32 x 4
  config::ChipConfig c;
  c.pe_dataflow = "os";
  CHECK(ls(mm, c) == 0);
}

TEST_CASE("matmul, output- and input-stationary dataflows", "[timing][pe]") {
  config::ChipConfig c;
  c.pe_rows = 32;
  c.pe_cols = 32;
  const char* mm = "matmul psum[0:32]+0:fp32[1,128], sbuf[0:32]+0:bf16[1,32], sbuf[0:32]+0:bf16[1,128], zero";
  c.pe_dataflow = "os";
  // folds = ceil(M 32 / rows 32) * ceil(N 128 / cols 32) = 4; 4 * K 32 + 32 + 32 - 2 = 190.
  CHECK(pe(mm, c) == 190);
  c.pe_dataflow = "is";
  // folds = ceil(N 128 / cols 32) = 4; 4 * max(min_ii 64, M 32) = 256.
  CHECK(pe(mm, c) == 256);
  c.pe_dataflow = "ws";
  CHECK(pe(mm, c) == 128);  // max(min(64, 32), 128)
}

TEST_CASE("transpose: max(P, min(min_ii, F))", "[timing][pe]") {
  CHECK(pe("transpose psum[0:64]+0:fp32[1,128], sbuf[0:128]+0:bf16[1,64]") == 128);  // max(128, 64)
  CHECK(pe("transpose psum[0:32]+0:fp32[1,16], sbuf[0:16]+0:bf16[1,32]") == 32);     // max(16, 32)
}

TEST_CASE("act: max(min_ii, N) + access start (+ reduce readout)", "[timing][act]") {
  CHECK(act("act sbuf[0:128]+0:fp32[1,512], psum[0:128]+0:fp32[1,512], exp, 1.0, 0.0, -") == 512 + 60);
  CHECK(act("act sbuf[0:128]+0:fp32[1,16], psum[0:128]+0:fp32[1,16], exp, 1.0, 0.0, -") == 64 + 60);
  // + ActReadAccumulator 64: 512 + 60 + 64 = 636.
  CHECK(act("act sbuf[0:128]+0:fp32[1,512], psum[0:128]+0:fp32[1,512], exp, 1.0, 0.0, sbuf[0:128]+4096:fp32[1,1]") == 636);
  CHECK(act("copy sbuf[0:128]+0:bf16[1,300], psum[0:128]+0:fp32[1,300]") == 360);
}

TEST_CASE("dve: tensor_tensor 2N, or N with a PSUM input or all-bf16 add/mul/sub", "[timing][dve]") {
  // fp32 SBUF+SBUF: max(64, 2*256) + 60 = 572.
  CHECK(dve("tt sbuf[0:128]+0:fp32[1,256], sbuf[0:128]+2048:fp32[1,256], sbuf[0:128]+4096:fp32[1,256], add") == 572);
  // one PSUM input: max(64, 256) + 60 = 316.
  CHECK(dve("tt sbuf[0:128]+0:fp32[1,256], psum[0:128]+0:fp32[1,256], sbuf[0:128]+4096:fp32[1,256], add") == 316);
  // all bf16 contiguous mul: 316; the same with max is not on the fast path: 572.
  CHECK(dve("tt sbuf[0:128]+0:bf16[1,256], sbuf[0:128]+2048:bf16[1,256], sbuf[0:128]+4096:bf16[1,256], mul") == 316);
  CHECK(dve("tt sbuf[0:128]+0:bf16[1,256], sbuf[0:128]+2048:bf16[1,256], sbuf[0:128]+4096:bf16[1,256], max") == 572);
  // strided bf16 input: 2N.
  CHECK(dve("tt sbuf[0:128]+0:bf16[1,256], sbuf[0:128]+2048:bf16[2,256], sbuf[0:128]+4096:bf16[1,256], add") == 572);
}

TEST_CASE("dve: ts/copy/select/bn_stats N, memset, reduce, bn_aggr", "[timing][dve]") {
  CHECK(dve("ts sbuf[0:128]+0:fp32[1,1000], sbuf[0:128]+8192:fp32[1,1000], mul, 2.0, bypass, 0.0") == 1060);
  CHECK(dve("copy sbuf[0:128]+0:bf16[1,10], sbuf[0:128]+64:fp32[1,10]") == 124);  // max(64,10)+60
  CHECK(dve("bn_stats sbuf[0:128]+0:fp32[1,6], sbuf[0:128]+64:fp32[1,512]") == 572);
  // memset zero bf16: max(64, 512/2) + 60 = 316; non-zero: 572.
  CHECK(dve("memset sbuf[0:128]+0:bf16[1,512], 0.0") == 316);
  CHECK(dve("memset sbuf[0:128]+0:bf16[1,512], 1.0") == 572);
  // reduce bf16 add over 512: 256 + 60; fp32: 512 + 60.
  CHECK(dve("reduce sbuf[0:128]+0:bf16[1,1], sbuf[0:128]+64:bf16[1,512], add, 1") == 316);
  CHECK(dve("reduce sbuf[0:128]+0:fp32[1,1], sbuf[0:128]+64:fp32[1,512], add, 1") == 572);
  // bn_aggr over 12 values (2 groups of 6): max(64, ceil(13*12/3) = 52) + 60 = 124;
  // over 60: 13*60/3 = 260 + 60 = 320.
  CHECK(dve("bn_aggr sbuf[0:128]+0:fp32[1,2], sbuf[0:128]+64:fp32[1,12]") == 124);
  CHECK(dve("bn_aggr sbuf[0:128]+0:fp32[1,2], sbuf[0:128]+64:fp32[1,60]") == 320);
  // scan (tensor_tensor_scan) over 1000: max(64, 2*1000) + 60 = 2060; over 20: 64 + 60 = 124.
  CHECK(dve("scan sbuf[0:128]+0:fp32[1,1000], sbuf[0:128]+4096:fp32[1,1000], "
            "sbuf[0:128]+8192:fp32[1,1000], add, bypass, 0.0") == 2060);
  CHECK(dve("scan sbuf[0:128]+0:int64[1,20], sbuf[0:128]+4096:int64[1,20], "
            "sbuf[0:128]+8192:int64[1,20], add, bypass, sbuf[0:128]+12288:int64[1,1]") == 124);
}

TEST_CASE("pool: start + N; gather start + N/8", "[timing][pool]") {
  CHECK(pool("iota sbuf[0:128]+0:int32[1,100], 0, 1") == 250);
  // Two int32 inputs of 64 elements = 512 B per partition at 4 B/cycle [G1]: 150 + 128.
  CHECK(pool("tt sbuf[0:128]+0:int32[1,64], sbuf[0:128]+256:int32[1,64], sbuf[0:128]+512:int32[1,64], add") == 278);
  // Two bf16 inputs fit one 32-bit slot per element: 150 + max(64, 256 B / 4) = 214.
  CHECK(pool("tt sbuf[0:128]+0:bf16[1,64], sbuf[0:128]+256:bf16[1,64], sbuf[0:128]+512:bf16[1,64], add") == 214);
  // One fp32 input: 150 + max(64, 256 / 4) = 214, the documented start + N.
  CHECK(pool("ts sbuf[0:128]+0:fp32[1,64], sbuf[0:128]+256:fp32[1,64], mul, 2.0, bypass, 0.0") == 214);
  // local_gather with one element per index: C = ((28+4)/4) / min(4/4, 1) = 8: 150 + 64/8.
  CHECK(pool("gather sbuf[0:128]+0:fp32[1,64], sbuf[0:128]+256:fp32[1,64], sbuf[0:128]+512:int32[1,64]") == 158);
}

TEST_CASE("DMA shape and isolated transfer time", "[timing][dma]") {
  config::ChipConfig c;  // trn1: 16 engines x 17 GB/s, fixed 1300 ns, HBM 820 GB/s
  auto in = instr("sp", "dma q0, sbuf[0:128]+0:bf16[1,512], hbm.t+0:bf16{4096,128}[1,512]");
  auto s = model::dma_shape(in, c);
  CHECK(s.bytes == 128 * 1024);
  CHECK(s.descriptors == 128);  // one contiguous 1 KiB row per partition
  CHECK(s.touches_hbm);
  // 8 partitions per engine = 8 descriptors each: 8192 B / 17 B/ns = 481.882 ns + 8 x
  // dma.descriptor_ns 2 = 497.882 ns (HBM: 131072/820 = 159.8 ns, shorter). 1300 + 497.882.
  CHECK(model::DmaEngines::isolated_ps(s, c) == 1797882);
  // Without the per-descriptor cost: 1300 + 481.882 ns.
  c.dma_descriptor_ns = 0;
  CHECK(model::DmaEngines::isolated_ps(s, c) == 1781882);
  // Strided source: 512 single elements per row -> 512 descriptors per partition row.
  auto strided = instr("sp", "dma q0, sbuf[0:128]+0:bf16[1,512], hbm.t+0:bf16{4096,128}[2,512]");
  CHECK(model::dma_shape(strided, c).descriptors == 128 * 512);
  // Rows longer than dma.descriptor_bytes split: 2048 B rows with 1024 B descriptors -> 2 each.
  c.dma_descriptor_bytes = 1024;
  auto big = instr("sp", "dma q0, sbuf[0:128]+0:bf16[1,1024], hbm.t+0:bf16{4096,128}[1,1024]");
  CHECK(model::dma_shape(big, c).descriptors == 256);
  // Per-descriptor cost: 256 / 16 = 16 each: 16384 B / 17 + 16 * 10 ns = 963.765 + 160.
  c.dma_descriptor_ns = 10;
  CHECK(model::DmaEngines::isolated_ps(model::dma_shape(big, c), c) == 1300000 + 963765 + 160000);
}

namespace {
int64_t lat(const std::string& engine, const std::string& t, const config::ChipConfig& c) {
  auto in = instr(engine, t);
  if (engine == "pe") return model::TensorEngine::latency(in, c).count();
  if (engine == "act") return model::ActEngine::latency(in, c).count();
  if (engine == "dve") return model::VectorEngine::latency(in, c).count();
  return model::GpSimdEngine::latency(in, c).count();
}
}  // namespace

TEST_CASE("fp32 transpose pays pe.fp32_transpose_factor", "[timing][pe]") {
  config::ChipConfig c;  // trn1: 4 [G1: a transpose is a matmul with identity; ISA226 fp32 4x]
  const char* f32 = "transpose psum[0:128]+0:fp32[1,128], sbuf[0:128]+0:fp32[1,128]";
  const char* b16 = "transpose psum[0:128]+0:fp32[1,128], sbuf[0:128]+0:bf16[1,128]";
  CHECK(lat("pe", b16, c) == 128);      // max(P 128, min(64, F 128))
  CHECK(lat("pe", f32, c) == 128 * 4);  // x 4
  c.pe_fp32_transpose_factor = 2;       // trn2 transpose mode [G2]
  CHECK(lat("pe", f32, c) == 256);
  c.pe_fp32_transpose_factor = 1;       // off: the bf16 time
  CHECK(lat("pe", f32, c) == 128);
}

TEST_CASE("innermost stride > engine.wide_stride_bytes doubles the N term", "[timing]") {
  config::ChipConfig c;  // 16 B [G1]
  // act source [8,512] fp32: stride 8 x 4 B = 32 B > 16: max(64, 2 x 512) + 60 = 1084.
  CHECK(lat("act", "act sbuf[0:128]+0:fp32[1,512], sbuf[0:128]+4096:fp32[8,512], exp, 1, 0, -", c) == 1084);
  // [4,512] fp32 = 16 B, not above the limit: 512 + 60.
  CHECK(lat("act", "act sbuf[0:128]+0:fp32[1,512], sbuf[0:128]+4096:fp32[4,512], exp, 1, 0, -", c) == 572);
  // dve tensor_scalar with a strided source: 2 x 512 + 60.
  CHECK(lat("dve", "ts sbuf[0:128]+0:fp32[1,512], sbuf[0:128]+4096:fp32[8,512], mul, 2.0, bypass, 0.0", c) == 1084);
  // pe: a moving operand with a 32-B stride doubles N: max(64, 2 x 512) = 1024; a strided
  // stationary does not count.
  CHECK(lat("pe", "matmul psum[0:128]+0:fp32[1,512], sbuf[0:128]+0:bf16[1,128], sbuf[0:128]+0:bf16[16,512], zero", c) == 1024);
  CHECK(lat("pe", "matmul psum[0:128]+0:fp32[1,512], sbuf[0:128]+0:bf16[16,128], sbuf[0:128]+0:bf16[1,512], zero", c) == 512);
  // pool iota with a strided destination: 150 + 2 x 100.
  CHECK(lat("pool", "iota sbuf[0:128]+0:int32[8,100], 0, 1", c) == 350);
  c.wide_stride_bytes = 0;  // off
  CHECK(lat("act", "act sbuf[0:128]+0:fp32[1,512], sbuf[0:128]+4096:fp32[8,512], exp, 1, 0, -", c) == 572);
  CHECK(lat("pe", "matmul psum[0:128]+0:fp32[1,512], sbuf[0:128]+0:bf16[1,128], sbuf[0:128]+0:bf16[16,512], zero", c) == 512);
}

TEST_CASE("dve select: 2N with two or more streamed SBUF inputs", "[timing][dve]") {
  config::ChipConfig c;
  // pred, on_true, on_false all SBUF fp32 N=512: max(64, 2 x 512) + 60 = 1084 [ISA226
  // copy_predicated: 2N with src and predicate in SBUF].
  const char* all_sbuf = "select sbuf[0:128]+0:fp32[1,512], sbuf[0:128]+4096:fp32[1,512], "
                         "sbuf[0:128]+8192:fp32[1,512], sbuf[0:128]+12288:fp32[1,512]";
  CHECK(lat("dve", all_sbuf, c) == 1084);
  // Only one streamed SBUF input (the others in PSUM): 512 + 60.
  CHECK(lat("dve", "select sbuf[0:128]+0:fp32[1,512], psum[0:128]+0:fp32[1,512], "
                   "psum[0:128]+2048:fp32[1,512], sbuf[0:128]+12288:fp32[1,512]", c) == 572);
  c.dve_select_two_pass = 0;  // off
  CHECK(lat("dve", all_sbuf, c) == 572);
}

TEST_CASE("dve perf modes (NC-v3)", "[timing][dve]") {
  config::ChipConfig c;
  c.dve_perf_mode_copy = 4;  // trn2 [G2]
  c.dve_perf_mode = 2;
  // copy bf16 SBUF -> SBUF unit stride, N=2048: 2048 / 4 + 60 = 572.
  CHECK(lat("dve", "copy sbuf[0:128]+0:bf16[1,2048], sbuf[0:128]+8192:bf16[1,2048]", c) == 572);
  // fp32 source: not the 16-bit fast path: 2048 / 2 + 60 = 1084.
  CHECK(lat("dve", "copy sbuf[0:128]+0:bf16[1,2048], sbuf[0:128]+16384:fp32[1,2048]", c) == 1084);
  // tensor_tensor bf16 add (N, the bf16 fast path [ISA226]) / 2 + 60 = 1084.
  CHECK(lat("dve", "tt sbuf[0:128]+0:bf16[1,2048], sbuf[0:128]+4096:bf16[1,2048], "
                   "sbuf[0:128]+8192:bf16[1,2048], add", c) == 1084);
  // fp32 tensor_tensor: no perf mode: 2 x 2048 + 60.
  CHECK(lat("dve", "tt sbuf[0:128]+0:fp32[1,2048], sbuf[0:128]+8192:fp32[1,2048], "
                   "sbuf[0:128]+16384:fp32[1,2048], max", c) == 4156);
  // NC-v2 (1, 1): the copy is N + 60.
  CHECK(lat("dve", "copy sbuf[0:128]+0:bf16[1,2048], sbuf[0:128]+8192:bf16[1,2048]", config::ChipConfig{}) == 2108);
}

TEST_CASE("trn2 fp8 matmul takes the bf16 time (no K = 256 double-row packing)", "[timing][pe]") {
  config::ChipConfig c = config::load_chip("trn2");
  CHECK(lat("pe", "matmul psum[0:128]+0:fp32[1,512], sbuf[0:128]+0:fp8e4m3[1,128], sbuf[0:128]+1024:fp8e4m3[1,512], zero", c) == 512);
}

TEST_CASE("ldr: access start + one control cycle on every engine [assumed]", "[timing]") {
  // The register load's cost is not documented (trainium.md 3.2: register_load n/a); assumed
  // one SBUF access start (60 [G1]) plus the control cycle that writes the register (1).
  config::ChipConfig c;
  CHECK(model::instr_kind(isa::Opcode::Ldr) == model::InstrKind::RegLoad);
  CHECK(model::ldr_cycles(c) == 60 + 1);
  c.access_start_cycles = 10;
  c.control_cycles = 3;
  CHECK(model::ldr_cycles(c) == 13);
}
