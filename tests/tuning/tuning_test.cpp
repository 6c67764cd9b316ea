// Tests of the matmul-tuning series traces/10_mm_tiled .. 13_mm_blocked_dma (the Neuron matmul
// tutorial's four kernels [MMTUT]): every .tasm round-trips through asm/disasm byte for byte and
// validates on trn1; the small variants (C[2048,1024] = A[2048,2048] B[2048,1024]) match a plain
// C++ reference; the full-size kernels (C[4096,8192] = A[4096,8192] B[8192,8192]) run
// timing-only, move exactly the bytes their loop structure implies, get strictly faster from
// (a) to (d), and (d) keeps the PE busy >= 80% of the simulated time.
//
// Reference numerics: inputs are rounded to bf16 exactly as the chip rounds the fp32 .npy on
// load. Each matmul sums its 128 k products in fp32 in k order (as models/exec does), PSUM adds
// the partial sums of the K tiles in order, and the result is rounded to bf16 (the act/dve copy
// out of PSUM, round to nearest even). With the same operation order the results agree bit for
// bit; the check allows one bf16 ulp (relative 2^-7) in case a compiler contracts a*b+c into an
// FMA, and separately requires >= 99% of the elements to be bit-identical.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "config/chip_config.h"
#include "isa/program_io.h"
#include "isa/validate.h"
#include "../traces/trace_test_util.h"

using namespace trnsim::test;

namespace {

struct Kernel {
  const char* dir;   // traces/DIR
  const char* base;  // DIR/BASE.tasm (full size) and DIR/BASE_small.tasm
};
const Kernel kKernels[] = {{"10_mm_tiled", "mm_tiled"},
                           {"11_mm_hoisted", "mm_hoisted"},
                           {"12_mm_blocked", "mm_blocked"},
                           {"13_mm_blocked_dma", "mm_blocked_dma"}};

std::string tasm_path(const Kernel& k, bool small) {
  return traces_dir() + "/" + k.dir + "/" + k.base + (small ? "_small" : "") + ".tasm";
}

void check_round_trip(const Kernel& k, bool small) {
  const std::string path = tasm_path(k, small);
  const std::string d = scratch_dir(std::string("tuning_rt_") + k.base + (small ? "_s" : ""));
  auto r = run_trnsim("asm " + path + " -o " + d + "/p.tbin", d);
  INFO(r.output);
  REQUIRE(r.code == 0);
  r = run_trnsim("disasm " + d + "/p.tbin -o " + d + "/p.tasm", d);
  REQUIRE(r.code == 0);
  CHECK(trnsim::read_text_file(d + "/p.tasm") == trnsim::read_text_file(path));
  trnsim::isa::Program prog = trnsim::isa::load_program(path);
  auto problems =
      trnsim::isa::validation_problems(prog, trnsim::config::load_chip("trn1", {}).target());
  CHECK(problems == std::vector<std::string>{});
  std::filesystem::remove_all(d);
}

// c[m, n] = bf16( sum over K tiles kt of (sum over k in tile kt of at[k, m] * b[k, n]) ).
Tensor reference(const Tensor& at, const Tensor& b) {
  const int64_t K = at.shape[0], M = at.shape[1], N = b.shape[1];
  Tensor c{{M, N}, std::vector<float>(static_cast<size_t>(M * N), 0.0f)};
  std::vector<float> part(static_cast<size_t>(N));
  for (int64_t m = 0; m < M; ++m) {
    float* acc = c.v.data() + m * N;
    for (int64_t k0 = 0; k0 < K; k0 += 128) {
      std::fill(part.begin(), part.end(), 0.0f);
      for (int64_t k = k0; k < k0 + 128; ++k) {
        const float a = at.at(k, m);
        const float* brow = b.v.data() + k * N;
        for (int64_t n = 0; n < N; ++n) {
          const float p = a * brow[n];
          part[static_cast<size_t>(n)] = part[static_cast<size_t>(n)] + p;
        }
      }
      for (int64_t n = 0; n < N; ++n) acc[n] = k0 == 0 ? part[static_cast<size_t>(n)] : acc[n] + part[static_cast<size_t>(n)];
    }
    for (int64_t n = 0; n < N; ++n) acc[n] = round_bf16(acc[n]);
  }
  return c;
}

void check_small_numerics(const Kernel& k) {
  const std::string d = scratch_dir(std::string("tuning_num_") + k.base);
  Rng rng(0x7e57 + 10);  // the same inputs for all four kernels
  const Tensor at = random_tensor(rng, {2048, 2048}, true);
  const Tensor b = random_tensor(rng, {2048, 1024}, true);
  write_tensor(d + "/at.npy", at);
  write_tensor(d + "/b.npy", b);
  auto r = run_trnsim("run " + tasm_path(k, true) + " --chip trn1 --input at=" + d +
                          "/at.npy --input b=" + d + "/b.npy --output-dir " + d + "/out",
                      d);
  INFO(r.output);
  REQUIRE(r.code == 0);
  const Tensor want = reference(at, b);
  const Tensor got = read_tensor(d + "/out/c.npy");
  REQUIRE(got.shape == want.shape);
  size_t bad = 0, exact = 0, first = 0;
  for (size_t i = 0; i < want.v.size(); ++i) {
    const double g = got.v[i], w = want.v[i];
    if (g == w) ++exact;
    if (!(std::fabs(g - w) <= std::ldexp(std::fabs(w), -7) + 1e-6) && bad++ == 0) first = i;
  }
  INFO(bad << " of " << want.v.size() << " elements off by more than one bf16 ulp; first at "
            << first << ": got " << got.v[first] << ", want " << want.v[first] << "; "
            << exact << " bit-identical");
  CHECK(bad == 0);
  CHECK(static_cast<double>(exact) >= 0.99 * static_cast<double>(want.v.size()));
  std::filesystem::remove_all(d);
}

struct FullRun {
  double sim_ns = 0, pe_util = 0, pe_flops = 0, hbm_read = 0, hbm_write = 0;
};

FullRun run_full(const Kernel& k, const std::string& d) {
  const std::string stats = d + "/" + k.base + ".json";
  auto r = run_trnsim("run " + tasm_path(k, false) + " --chip trn1 --timing-only --stats " + stats, d);
  INFO(r.output);
  REQUIRE(r.code == 0);
  const trnsim::json::Value s = trnsim::json::parse_file(stats);
  auto num = [](const trnsim::json::Value& v) { return v.at("value").as_number(); };
  FullRun f;
  f.sim_ns = num(s.at("sim_time_ns"));
  f.pe_util = num(s.at("core0").at("pe").at("utilization"));
  f.pe_flops = num(s.at("pe").at("flops"));
  f.hbm_read = num(s.at("hbm").at("read_bytes"));
  f.hbm_write = num(s.at("hbm").at("write_bytes"));
  return f;
}

}  // namespace

TEST_CASE("tuning: every kernel round-trips through asm/disasm and validates on trn1", "[tuning]") {
  for (const Kernel& k : kKernels)
    for (bool small : {false, true}) {
      INFO(tasm_path(k, small));
      check_round_trip(k, small);
    }
}

#define SMALL_NUMERICS(I, NAME)                                                        \
  TEST_CASE("tuning: " NAME " small variant matches the C++ reference", "[tuning]") { \
    check_small_numerics(kKernels[I]);                                                 \
  }
SMALL_NUMERICS(0, "10_mm_tiled")
SMALL_NUMERICS(1, "11_mm_hoisted")
SMALL_NUMERICS(2, "12_mm_blocked")
SMALL_NUMERICS(3, "13_mm_blocked_dma")

TEST_CASE("tuning: full-size kernels get strictly faster and (d) keeps the PE >= 80% busy",
          "[tuning]") {
  const std::string d = scratch_dir("tuning_full");
  // M, K, N and tile counts of the tutorial's shape.
  const double M = 4096, K = 8192, N = 8192, MT = M / 128, KT = K / 128, NT = N / 512;
  const double lhs_tile = 128 * 128 * 2, rhs_tile = 128 * 512 * 2;
  // HBM bytes read, from each kernel's loop structure:
  //   (a) both tiles for every (m, n, k);
  //   (b) lhsT once per m (all of A once), rhs tiles for every (m, n, k);
  //   (c) all of A once, rhs tiles once per M block of 4 tiles and every (n, k);
  //   (d) all of A once, all of B once per M block of 8 tiles.
  const double a_bytes = K * M * 2, b_bytes = K * N * 2;
  const double want_read[4] = {MT * NT * KT * (lhs_tile + rhs_tile), a_bytes + MT * NT * KT * rhs_tile,
                               a_bytes + MT / 4 * NT * KT * rhs_tile, a_bytes + MT / 8 * b_bytes};
  FullRun runs[4];
  for (int i = 0; i < 4; ++i) {
    INFO(kKernels[i].dir);
    runs[i] = run_full(kKernels[i], d);
    CHECK(runs[i].hbm_read == want_read[i]);
    CHECK(runs[i].hbm_write == M * N * 2);  // C once, bf16
    CHECK(runs[i].pe_flops == 2 * M * K * N);
  }
  for (int i = 0; i + 1 < 4; ++i) {
    INFO(kKernels[i].dir << " " << runs[i].sim_ns << " ns vs " << kKernels[i + 1].dir << " "
                         << runs[i + 1].sim_ns << " ns");
    CHECK(runs[i].sim_ns > runs[i + 1].sim_ns);
  }
  // PE utilisation of (d), measured two ways: the stats' busy fraction (every pe instruction's
  // duration, including LoadStationary stalls and control instructions) and the pure
  // MultiplyMoving time: flops / (2 * 128 * 128 MACs per cycle * 2.8 GHz) over the run.
  const double mm_ns = runs[3].pe_flops / (2.0 * 128 * 128 * 2.8);
  INFO("13_mm_blocked_dma: " << runs[3].sim_ns << " ns, pe busy " << runs[3].pe_util
                             << ", MultiplyMoving " << mm_ns / runs[3].sim_ns);
  CHECK(runs[3].pe_util >= 0.8);
  CHECK(mm_ns / runs[3].sim_ns >= 0.8);
  std::filesystem::remove_all(d);
}
