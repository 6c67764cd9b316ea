// Regression tests of the example programs in traces/: each trace round-trips through
// asm/disasm byte for byte and validates on trn1 and tiny; each runs on both chips with fixed
// inputs and matches a plain C++ reference; its stats match the golden file
// tests/traces/golden/NAME.CHIP.json (regenerate: tools/regen_goldens.sh); and a timing-only
// run gives the same simulated time and counts.
//
// Tolerances (all outputs are fp32): the references round bf16 inputs exactly as the chip does
// and accumulate in fp32 in the same k order as the PE array, so matmul results agree to
// rounding noise (abs 1e-5 + rel 1e-5). Transcendentals (GELU, exp, reciprocal) are computed
// in double in the reference: abs 1e-5 + rel 1e-5. Layer norm: the chip combines even/odd
// bn_stats partial moments in fp32, the reference does two passes in double: abs 1e-4 + rel 1e-4.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "config/chip_config.h"
#include "isa/program_io.h"
#include "isa/validate.h"
#include "trace_test_util.h"

using namespace trnsim::test;

namespace {

struct TraceCase {
  std::string file;                       // NAME.tasm inside traces/DIR/
  std::map<std::string, Tensor> inputs;   // by tensor name
  std::map<std::string, Tensor> expected; // outputs by tensor name
  double atol = 1e-5, rtol = 1e-5;
};

const char* const kTraces[] = {"01_matmul",  "02_matmul_bias_gelu", "03_double_buffered_matmul",
                               "04_softmax", "05_layernorm",        "06_two_core"};

TraceCase make_case(const std::string& dir) {
  // A fixed seed per trace: the first two characters of the folder name (its number).
  Rng rng(0x7e57 + std::stoull(dir.substr(0, 2)));
  TraceCase c;
  if (dir == "01_matmul") {
    c.file = "matmul.tasm";
    Tensor w = random_tensor(rng, {32, 32}, true), x = random_tensor(rng, {32, 128}, true);
    c.inputs = {{"w", w}, {"x", x}};
    c.expected["out"] = matmul_ref(w, x, 0, 32);
  } else if (dir == "02_matmul_bias_gelu") {
    c.file = "matmul_bias_gelu.tasm";
    Tensor w = random_tensor(rng, {32, 32}, true), x = random_tensor(rng, {32, 512}, true);
    Tensor b = random_tensor(rng, {32, 1}, false);
    c.inputs = {{"w", w}, {"x", x}, {"b", b}};
    Tensor y = matmul_ref(w, x, 0, 32);
    for (int64_t m = 0; m < 32; ++m)
      for (int64_t n = 0; n < 512; ++n) {
        float& v = y.v[static_cast<size_t>(m * 512 + n)];
        const double h = static_cast<double>(v + b.v[static_cast<size_t>(m)]);
        v = static_cast<float>(0.5 * h * (1.0 + std::erf(h / std::sqrt(2.0))));
      }
    c.expected["y"] = y;
  } else if (dir == "03_double_buffered_matmul") {
    c.file = "double_buffered_matmul.tasm";
    Tensor w = random_tensor(rng, {32, 32}, true), x = random_tensor(rng, {32, 1024}, true);
    c.inputs = {{"w", w}, {"x", x}};
    c.expected["out"] = matmul_ref(w, x, 0, 32);
  } else if (dir == "04_softmax") {
    c.file = "softmax.tasm";
    Tensor x = random_tensor(rng, {64, 256}, false, -4.0f, 4.0f);
    c.inputs = {{"x", x}};
    Tensor y = x;
    for (int64_t r = 0; r < 64; ++r) {
      float* row = y.v.data() + r * 256;
      const float m = *std::max_element(row, row + 256);
      double s = 0;
      for (int i = 0; i < 256; ++i) s += std::exp(static_cast<double>(row[i]) - m);
      for (int i = 0; i < 256; ++i) row[i] = static_cast<float>(std::exp(static_cast<double>(row[i]) - m) / s);
    }
    c.expected["y"] = y;
  } else if (dir == "05_layernorm") {
    c.file = "layernorm.tasm";
    Tensor x = random_tensor(rng, {32, 256}, false, -1.5f, 2.5f);
    Tensor gamma = random_tensor(rng, {1, 256}, false, 0.5f, 1.5f);
    Tensor beta = random_tensor(rng, {1, 256}, false);
    c.inputs = {{"x", x}, {"gamma", gamma}, {"beta", beta}};
    Tensor y = x;
    for (int64_t r = 0; r < 32; ++r) {
      double mean = 0, var = 0;
      for (int i = 0; i < 256; ++i) mean += x.at(r, i);
      mean /= 256;
      for (int i = 0; i < 256; ++i) var += (x.at(r, i) - mean) * (x.at(r, i) - mean);
      var /= 256;
      const double rstd = 1.0 / std::sqrt(var + 1e-5);
      for (int i = 0; i < 256; ++i)
        y.v[static_cast<size_t>(r * 256 + i)] =
            static_cast<float>((x.at(r, i) - mean) * rstd * gamma.v[i] + beta.v[i]);
    }
    c.expected["y"] = y;
    c.atol = c.rtol = 1e-4;
  } else if (dir == "06_two_core") {
    c.file = "two_core.tasm";
    Tensor w = random_tensor(rng, {64, 32}, true), x = random_tensor(rng, {64, 128}, true);
    c.inputs = {{"w", w}, {"x", x}};
    // Core 1 adds its partial (k = 32..63, in PSUM) to core 0's (k = 0..31).
    Tensor p0 = matmul_ref(w, x, 0, 32), out = matmul_ref(w, x, 32, 64);
    for (size_t i = 0; i < out.v.size(); ++i) out.v[i] += p0.v[i];
    c.expected["out"] = out;
  } else {
    FAIL("no test case for trace " << dir);
  }
  return c;
}

std::string trace_path(const std::string& dir) {
  return traces_dir() + "/" + dir + "/" + make_case(dir).file;
}

void check_round_trip(const std::string& dir) {
  const std::string path = trace_path(dir);
  const std::string d = scratch_dir(dir + "_rt");
  auto r = run_trnsim("asm " + path + " -o " + d + "/p.tbin", d);
  REQUIRE(r.code == 0);
  r = run_trnsim("disasm " + d + "/p.tbin -o " + d + "/p.tasm", d);
  REQUIRE(r.code == 0);
  // Byte for byte: the committed text is exactly what disasm prints.
  CHECK(trnsim::read_text_file(d + "/p.tasm") == trnsim::read_text_file(path));
  trnsim::isa::Program prog = trnsim::isa::load_program(path);
  for (const char* chip : {"trn1", "tiny"}) {
    INFO("chip " << chip);
    auto problems = trnsim::isa::validation_problems(prog, trnsim::config::load_chip(chip, {}).target());
    CHECK(problems == std::vector<std::string>{});
  }
  std::filesystem::remove_all(d);
}

void check_close(const std::string& name, const Tensor& got, const Tensor& want, double atol,
                 double rtol) {
  REQUIRE(got.shape == want.shape);
  size_t bad = 0, first = 0;
  double worst = 0;
  for (size_t i = 0; i < want.v.size(); ++i) {
    const double g = got.v[i], w = want.v[i], err = std::fabs(g - w);
    if (!(err <= atol + rtol * std::fabs(w))) {
      if (bad++ == 0) first = i;
      worst = std::max(worst, std::isnan(err) ? INFINITY : err);
    }
  }
  INFO(name << ": " << bad << " of " << want.v.size() << " elements off; first at flat index "
            << first << ": got " << got.v[first] << ", want " << want.v[first] << "; worst error "
            << worst);
  CHECK(bad == 0);
}

void check_run(const std::string& dir, const std::string& chip) {
  const TraceCase c = make_case(dir);
  const std::string path = traces_dir() + "/" + dir + "/" + c.file;
  const std::string d = scratch_dir(dir + "_" + chip);
  std::string inputs;
  for (const auto& [name, t] : c.inputs) {
    write_tensor(d + "/in_" + name + ".npy", t);
    inputs += " --input " + name + "=" + d + "/in_" + name + ".npy";
  }
  auto r = run_trnsim("run " + path + " --chip " + chip + inputs + " --output-dir " + d +
                          "/out --stats " + d + "/stats.json",
                      d);
  INFO(r.output);
  REQUIRE(r.code == 0);
  // Every input came from the test, none from the seed.
  CHECK(r.output.find("generated from seed") == std::string::npos);
  for (const auto& [name, want] : c.expected)
    check_close(name, read_tensor(d + "/out/" + name + ".npy"), want, c.atol, c.rtol);

  // Golden counters.
  auto stats = golden_subset(trnsim::json::parse_file(d + "/stats.json"));
  const std::string golden = golden_path(dir, chip);
  if (std::getenv("TRNSIM_REGEN_GOLDENS")) {
    trnsim::write_file_atomic(golden, golden_json(stats));
    WARN("wrote " << golden);
  } else {
    INFO("golden " << golden << " (regenerate with tools/regen_goldens.sh)");
    REQUIRE(std::filesystem::exists(golden));
    CHECK(golden_json(stats) == golden_json(read_golden(golden)));
  }

  // Timing-only: the same simulated time (and the same counts).
  auto t = run_trnsim("run " + path + " --chip " + chip + " --timing-only --stats " + d +
                          "/timing.json",
                      d);
  INFO(t.output);
  REQUIRE(t.code == 0);
  auto timing = golden_subset(trnsim::json::parse_file(d + "/timing.json"));
  CHECK(timing.at("sim_time_ns") == stats.at("sim_time_ns"));
  CHECK(golden_json(timing) == golden_json(stats));
  std::filesystem::remove_all(d);
}

}  // namespace

TEST_CASE("traces: every folder in traces/ has tests", "[traces]") {
  std::set<std::string> dirs, tested(std::begin(kTraces), std::end(kTraces));
  for (const auto& e : std::filesystem::directory_iterator(traces_dir()))
    if (e.is_directory()) dirs.insert(e.path().filename().string());
  // 10_mm_* .. 13_mm_*: the matmul-tuning series (trn1 only), tested by tests/tuning.
  for (const char* t : {"10_mm_tiled", "11_mm_hoisted", "12_mm_blocked", "13_mm_blocked_dma"})
    dirs.erase(t);
  // 20_*, 21_*: programs for a system of chips, tested by system_traces_test.cpp.
  for (const char* t : {"20_ring_allreduce_tiny4", "21_allgather_overlap", "22_pipeline_send_recv"})
    dirs.erase(t);
  CHECK(dirs == tested);
  for (const char* t : kTraces) {
    INFO(t);
    CHECK(std::filesystem::exists(trace_path(t)));
    CHECK(std::filesystem::exists(traces_dir() + "/" + t + "/README.md"));
  }
}

#define TRACE_TESTS(DIR)                                                               \
  TEST_CASE("traces: " DIR " round-trips through asm/disasm and validates", "[traces]") { \
    check_round_trip(DIR);                                                             \
  }                                                                                    \
  TEST_CASE("traces: " DIR " on trn1", "[traces][golden]") { check_run(DIR, "trn1"); } \
  TEST_CASE("traces: " DIR " on tiny", "[traces][golden]") { check_run(DIR, "tiny"); }

TRACE_TESTS("01_matmul")
TRACE_TESTS("02_matmul_bias_gelu")
TRACE_TESTS("03_double_buffered_matmul")
TRACE_TESTS("04_softmax")
TRACE_TESTS("05_layernorm")
TRACE_TESTS("06_two_core")
