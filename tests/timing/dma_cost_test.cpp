// DMA cost model as pure functions: per-run byte floor (dma.min_run_bytes), per-descriptor cost
// (dma.descriptor_ns), engines by partition group (dma.partitions_per_engine), HW-DGE fixed cost.
// trn1 defaults (config/params.def): 16 engines x 17 GB/s, fixed 1300 ns, descriptor 2 ns,
// min run 32 B, 8 partitions per engine, HBM 820 GB/s.
#include <catch2/catch.hpp>

#include "config/chip_config.h"
#include "isa/asm.h"
#include "isa/validate.h"
#include "models/core/instr_info.h"
#include "models/dma/dma.h"
#include "support/error.h"

using namespace trnsim;

namespace {
isa::Instr dma(const std::string& tensors, const std::string& text) {
  auto p = isa::assemble(tensors + ".core 0\n.engine sp\n  " + text + "\n", "t.tasm");
  return p.cores[0].stream(isa::Engine::Sp).at(0);
}
// The review's reproducers [timing-review 1]: the same 256 KiB as 128 runs of 2 KiB or as
// 65,536 runs of 4 B (an element-strided A^T load).
const char* kContig = "dma q0, sbuf[0:128]+0:fp32[1,512], hbm.x+0:fp32{512,128}[1,512]";
const char* kStrided =
    "dma q0, sbuf[0:128]+0:fp32[128,4][1,128], hbm.x+0:fp32{1,128}[128,4][768,128]";
const char* kX512 = ".tensor x input fp32 [512, 768]\n";
}  // namespace

TEST_CASE("dma shape: runs below dma.min_run_bytes are charged the floor", "[timing][dma]") {
  config::ChipConfig c;
  auto s = model::dma_shape(dma(kX512, kContig), c);
  CHECK(s.bytes == 262144);
  CHECK(s.engine_bytes == 262144);  // 2 KiB runs >= 32 B: no floor
  CHECK(s.hbm_read == 262144);
  CHECK(s.hbm_write == 0);
  CHECK(s.descriptors == 128);
  auto t = model::dma_shape(dma(kX512, kStrided), c);
  CHECK(t.bytes == 262144);
  CHECK(t.descriptors == 65536);  // 128 partitions x 4 x 128 single elements
  // Each 4-B run costs one 32-B burst: 65536 x 32.
  CHECK(t.engine_bytes == 65536 * 32);
  CHECK(t.hbm_read == 65536 * 32);
  // min_run_bytes = 0: the useful bytes, as before the floor.
  c.dma_min_run_bytes = 0;
  CHECK(model::dma_shape(dma(kX512, kStrided), c).engine_bytes == 262144);
  // A 64-B run is above the 32-B floor: bf16 [128, 32 per run].
  c.dma_min_run_bytes = 32;
  auto u = model::dma_shape(
      dma(".tensor y input bf16 [128, 4096]\n",
          "dma q0, sbuf[0:128]+0:bf16[1,128], hbm.y+0:bf16{4096,128}[64,4][1,32]"),
      c);
  CHECK(u.engine_bytes == 128 * 4 * 64);
}

TEST_CASE("isolated DMA time: floor and per-descriptor cost", "[timing][dma]") {
  config::ChipConfig c;
  // Contiguous: 8 partitions = 8 descriptors per engine: 16384 B / 17 B/ns = 963.765 ns + 8 x 2 ns
  // = 979.765 ns; HBM 262144 / 820 = 319.7 ns is shorter. 1300 + 979.765.
  CHECK(model::DmaEngines::isolated_ps(model::dma_shape(dma(kX512, kContig), c), c) ==
        1300000 + 979765);
  // Strided: per engine 4096 descriptors, 131072 charged bytes: 131072 / 17 = 7710.118 ns +
  // 4096 x 2 = 8192 ns -> 15902.118 ns (HBM 2097152 / 820 = 2557.5 ns is shorter).
  CHECK(model::DmaEngines::isolated_ps(model::dma_shape(dma(kX512, kStrided), c), c) ==
        1300000 + 15902118);
  // Both mechanisms off: 16384 / 17 = 963.765 ns, whatever the run size.
  c.dma_min_run_bytes = 0;
  c.dma_descriptor_ns = 0;
  CHECK(model::DmaEngines::isolated_ps(model::dma_shape(dma(kX512, kStrided), c), c) ==
        1300000 + 963765);
}

TEST_CASE("DMA engines by partition group", "[timing][dma]") {
  config::ChipConfig c = config::load_chip("trn2");  // 23 GB/s, HW-DGE 600 ns from sp
  // [DMAO] example 1: A[4,4096] bf16 HBM -> SBUF uses a single engine: 32768 B / 23 B/ns =
  // 1424.696 ns + 4 descriptors x 2 ns = 1432.696 ns, after the 600 ns HW-DGE cost.
  const std::string a = ".tensor a input bf16 [4, 4096]\n";
  auto ex1 = model::dma_shape(
      dma(a, "dma q0, sbuf[0:4]+0:bf16[1,4096], hbm.a+0:bf16{4096,4}[1,4096]"), c);
  CHECK(ex1.part_start == 0);
  CHECK(ex1.part_count == 4);
  model::DmaEngines e(c);
  auto sh = e.shares(ex1);
  REQUIRE(sh.size() == 1);
  CHECK(sh[0].first == 0);
  CHECK(sh[0].second == 1432696);
  CHECK(model::DmaEngines::isolated_ps(ex1, c) == 600000 + 1432696);
  // partitions_per_engine = 0: the 4 descriptors go to 4 engines: 8192 / 23 + 2 = 358.174 ns.
  c.dma_partitions_per_engine = 0;
  CHECK(model::DmaEngines::isolated_ps(ex1, c) == 600000 + 358174);
  // Partitions 60..67 straddle engines 7 (60-63) and 8 (64-67): half the bytes each.
  c.dma_partitions_per_engine = 8;
  auto mid = model::dma_shape(
      dma(".tensor b input bf16 [8, 4096]\n",
          "dma q0, sbuf[60:68]+0:bf16[1,4096], hbm.b+0:bf16{4096,8}[1,4096]"),
      c);
  model::DmaEngines e2(c);
  auto sh2 = e2.shares(mid);
  REQUIRE(sh2.size() == 2);
  CHECK(sh2[0].first == 7);
  CHECK(sh2[1].first == 8);
  CHECK(sh2[0].second == sh2[1].second);
  // HBM -> HBM has no on-chip side: descriptors round robin over all 16 engines.
  auto h2h = model::dma_shape(
      dma(".tensor p input bf16 [32, 512]\n.tensor q output bf16 [32, 512]\n",
          "dma q0, hbm.q+0:bf16{512,32}[1,512], hbm.p+0:bf16{512,32}[1,512]"),
      c);
  CHECK(h2h.part_count == 0);
  CHECK(e2.shares(h2h).size() == 16);
}

TEST_CASE("DMA fixed cost: HW-DGE from sp/act, dma.fixed_ns otherwise", "[timing][dma]") {
  config::ChipConfig c;
  CHECK(model::DmaEngines::fixed_ps(c, isa::Engine::Sp) == 1300000);  // trn1: no HW-DGE
  c.dma_hwdge_fixed_ns = 600;  // [G2, DGE]
  CHECK(model::DmaEngines::fixed_ps(c, isa::Engine::Sp) == 600000);
  CHECK(model::DmaEngines::fixed_ps(c, isa::Engine::Act) == 600000);
  CHECK(model::DmaEngines::fixed_ps(c, isa::Engine::Pool) == 1300000);  // SW-DGE
}

TEST_CASE("dma to or from PSUM is a validation error unless dma.psum_access", "[timing][dma]") {
  const std::string prog =
      ".tensor y output fp32 [128, 512]\n.core 0\n.engine sp\n"
      "  dma q0, hbm.y+0:fp32{512,128}[1,512], psum[0:128]+0:fp32[1,512]\n";
  auto p = isa::assemble(prog, "t.tasm");
  config::ChipConfig c = config::load_chip("trn1");
  auto problems = isa::validation_problems(p, c.target());
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("cannot read PSUM") != std::string::npos);
  c.dma_psum_access = 1;
  CHECK(isa::validation_problems(p, c.target()).empty());
}
