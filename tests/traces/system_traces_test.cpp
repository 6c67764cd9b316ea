// The multi-chip traces (traces/20_*, 21_*, 22_*): each round-trips through asm/disasm byte for byte,
// validates on tiny, passes the race checker, and runs SPMD on tiny4 through `trnsim run
// --system` with per-chip inputs, its outputs matching a plain C++ reference on every chip.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "support/json.h"

#include "config/chip_config.h"
#include "isa/program_io.h"
#include "isa/validate.h"
#include "trace_test_util.h"

using namespace trnsim::test;

namespace {

void round_trip(const std::string& path) {
  const std::string d = scratch_dir("sys_rt");
  auto r = run_trnsim("asm " + path + " -o " + d + "/p.tbin", d);
  REQUIRE(r.code == 0);
  r = run_trnsim("disasm " + d + "/p.tbin -o " + d + "/p.tasm", d);
  REQUIRE(r.code == 0);
  CHECK(trnsim::read_text_file(d + "/p.tasm") == trnsim::read_text_file(path));
  trnsim::isa::Program prog = trnsim::isa::load_program(path);
  CHECK(trnsim::isa::validation_problems(prog, trnsim::config::load_chip("tiny", {}).target()) ==
        std::vector<std::string>{});
  std::filesystem::remove_all(d);
}

void check_close(const Tensor& got, const Tensor& want) {
  REQUIRE(got.shape == want.shape);
  size_t bad = 0;
  for (size_t i = 0; i < want.v.size(); ++i)
    if (std::abs(got.v[i] - want.v[i]) > 1e-5 + 1e-5 * std::abs(want.v[i])) ++bad;
  CHECK(bad == 0);
}

const std::string kRing = "20_ring_allreduce_tiny4/ring_allreduce.tasm";
const std::string kOverlap = "21_allgather_overlap/allgather_overlap.tasm";
const std::string kPipeline = "22_pipeline_send_recv/pipeline.tasm";

}  // namespace

TEST_CASE("traces: 20_ring_allreduce_tiny4 round-trips through asm/disasm and validates",
          "[traces]") {
  round_trip(traces_dir() + "/" + kRing);
}

TEST_CASE("traces: 21_allgather_overlap round-trips through asm/disasm and validates",
          "[traces]") {
  round_trip(traces_dir() + "/" + kOverlap);
}

TEST_CASE("traces: 20_ring_allreduce_tiny4 sums x over the chips, on every chip", "[traces]") {
  const std::string d = scratch_dir("ring");
  Rng rng(0x7e57 + 20);
  std::vector<Tensor> x;
  std::string args = "run " + traces_dir() + "/" + kRing +
                     " --system tiny4 --set cc.channels=1 --set cc.mesh_max_bytes=0 "
                     "--set cc.rdh_max_bytes=0 --check --output-dir " + d + "/out";
  for (int c = 0; c < 4; ++c) {
    x.push_back(random_tensor(rng, {32, 256}, false));
    write_tensor(fmt::format("{}/x{}.npy", d, c), x.back());
    args += fmt::format(" --input x@{}={}/x{}.npy", c, d, c);
  }
  auto r = run_trnsim(args, d);
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("check: 0 race(s)") != std::string::npos);
  // The ring adds in ring order starting at a different chip for each chunk: the reference adds
  // in double and the tolerance covers fp32 reordering.
  Tensor want = x[0];
  for (size_t i = 0; i < want.v.size(); ++i)
    want.v[i] = static_cast<float>(static_cast<double>(x[0].v[i]) + x[1].v[i] + x[2].v[i] + x[3].v[i]);
  for (int c = 0; c < 4; ++c) {
    INFO("chip " << c);
    check_close(read_tensor(fmt::format("{}/out/chip{}/y.npy", d, c)), want);
  }
  std::filesystem::remove_all(d);
}

TEST_CASE("traces: 21_allgather_overlap gathers the shards while the matmuls run", "[traces]") {
  const std::string d = scratch_dir("overlap");
  Rng rng(0x7e57 + 21);
  Tensor w = random_tensor(rng, {32, 32}, true), x = random_tensor(rng, {32, 512}, true);
  write_tensor(d + "/w.npy", w);
  write_tensor(d + "/x.npy", x);
  std::string args = "run " + traces_dir() + "/" + kOverlap +
                     " --system tiny4 --check --input w=" + d + "/w.npy --input x=" + d +
                     "/x.npy --output-dir " + d + "/out --trace " + d + "/t.json";
  std::vector<Tensor> s;
  for (int c = 0; c < 4; ++c) {
    s.push_back(random_tensor(rng, {32, 64}, false));
    write_tensor(fmt::format("{}/s{}.npy", d, c), s.back());
    args += fmt::format(" --input s@{}={}/s{}.npy", c, d, c);
  }
  auto r = run_trnsim(args, d);
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("check: 0 race(s)") != std::string::npos);
  Tensor g{{128, 64}, {}};
  for (int c = 0; c < 4; ++c) g.v.insert(g.v.end(), s[static_cast<size_t>(c)].v.begin(), s[static_cast<size_t>(c)].v.end());
  // y = 4 w^T x accumulated in PSUM as the chip does: ((p + p) + p) + p in fp32.
  Tensor p = matmul_ref(w, x, 0, 32), y = p;
  for (size_t i = 0; i < y.v.size(); ++i) y.v[i] = ((p.v[i] + p.v[i]) + p.v[i]) + p.v[i];
  for (int c = 0; c < 4; ++c) {
    INFO("chip " << c);
    check_close(read_tensor(fmt::format("{}/out/chip{}/g.npy", d, c)), g);
    check_close(read_tensor(fmt::format("{}/out/chip{}/y.npy", d, c)), y);
  }
  // The overlap, on chip 0's timeline (pid 0 = chip0 core0, tid 0 = pe): the gather starts
  // after the first matmul and ends before the last one does.
  const trnsim::json::Value t = trnsim::json::parse_file(d + "/t.json");
  double mm_first = 1e30, mm_end = 0, ag_start = -1, ag_end = -1;
  for (const auto& e : t["traceEvents"].as_array()) {
    if (e["ph"].as_string() != "X") continue;
    const double ts = e["ts"].as_number(), end = ts + e["dur"].as_number();
    if (e["name"].as_string() == "matmul" && e["pid"].as_number() == 0) {
      mm_first = std::min(mm_first, ts);
      mm_end = std::max(mm_end, end);
    }
    if (e["name"].as_string() == "all_gather #0 {0,2,4,6}") {
      ag_start = ts;
      ag_end = end;
    }
  }
  REQUIRE(ag_start >= 0);
  CHECK(ag_start >= mm_first);
  CHECK(ag_end < mm_end);
  std::filesystem::remove_all(d);
}

TEST_CASE("traces: 22_pipeline_send_recv round-trips through asm/disasm and validates",
          "[traces]") {
  round_trip(traces_dir() + "/" + kPipeline);
}

TEST_CASE("traces: 22_pipeline_send_recv passes two microbatches through four stages",
          "[traces]") {
  const std::string d = scratch_dir("pipeline");
  Rng rng(0x7e57 + 22);
  std::string args = "run " + traces_dir() + "/" + kPipeline +
                     " --system tiny4 --check --output-dir " + d + "/out --trace " + d + "/t.json";
  std::vector<Tensor> w;
  for (int c = 0; c < 4; ++c) {
    w.push_back(random_tensor(rng, {32, 32}, true));
    write_tensor(fmt::format("{}/w{}.npy", d, c), w.back());
    args += fmt::format(" --input w@{}={}/w{}.npy", c, d, c);
  }
  // Stage 0's a is the pipeline's input; the other stages' a is overwritten by their recvs.
  Tensor a = random_tensor(rng, {64, 64}, true);
  a.shape = {2, 32, 64};
  write_tensor(d + "/a.npy", a);
  args += " --input a=" + d + "/a.npy";
  auto r = run_trnsim(args, d);
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("check: 0 race(s)") != std::string::npos);
  CHECK(r.output.find("0 collective(s), 6 send/recv") != std::string::npos);
  // Each stage: relu(w^T x) accumulated in fp32, rounded to bf16 by the act engine's store.
  for (int mb = 0; mb < 2; ++mb) {
    Tensor x{{32, 64}, std::vector<float>(a.v.begin() + mb * 2048, a.v.begin() + (mb + 1) * 2048)};
    for (int c = 0; c < 4; ++c) {
      x = matmul_ref(w[static_cast<size_t>(c)], x, 0, 32);
      for (float& v : x.v) v = round_bf16(std::max(v, 0.0f));
    }
    const Tensor o = read_tensor(d + "/out/chip3/o.npy");
    REQUIRE(o.v.size() == 2 * 2048u);
    size_t bad = 0;
    for (size_t i = 0; i < x.v.size(); ++i)  // one bf16 step: fp32 summation order may differ
      bad += std::abs(o.v[static_cast<size_t>(mb) * 2048 + i] - x.v[i]) > 1e-6 + 8e-3 * std::abs(x.v[i]);
    INFO("microbatch " << mb);
    CHECK(bad == 0);
  }
  std::filesystem::remove_all(d);
}
