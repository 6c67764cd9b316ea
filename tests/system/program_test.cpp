// Collective instructions in programs run SPMD on every chip of tiny4 (models/system/
// system_sim.h): numerics of every collective against a plain reference (fp32 and bf16, the
// race checker run first), exact time against `trnsim collectives`, DMA sharing between
// communication and compute, and the one-line reports. Each TEST_CASE is its own process.
#include <catch2/catch.hpp>

#include "tests/common/run_trnsim.h"
#include <fmt/format.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "config/system_config.h"
#include "isa/asm.h"
#include "isa/dtype.h"
#include "isa/validate.h"
#include "models/check/check.h"
#include "models/system/hub.h"
#include "models/system/system_sim.h"
#include "support/error.h"

using namespace trnsim;
using namespace trnsim::model;

namespace {

// Rank r's input element k: small integers, so sums are exact in fp32 and in bf16.
float value(int rank, int64_t k) { return static_cast<float>((rank * 5 + k * 3) % 7) - 3.0f; }

std::vector<uint8_t> bytes_of(const std::vector<float>& v, isa::DType dt) {
  std::vector<uint8_t> b(v.size() * static_cast<size_t>(isa::dtype_size(dt)));
  for (size_t i = 0; i < v.size(); ++i)
    isa::store_from_float(dt, v[i], b.data() + i * static_cast<size_t>(isa::dtype_size(dt)));
  return b;
}

std::vector<float> floats_of(const std::vector<uint8_t>& b, isa::DType dt) {
  const size_t es = static_cast<size_t>(isa::dtype_size(dt));
  std::vector<float> v(b.size() / es);
  for (size_t i = 0; i < v.size(); ++i) v[i] = isa::load_as_float(dt, b.data() + i * es);
  return v;
}

struct Case {
  std::string op;      // mnemonic
  std::string red;     // "add" | "max" | "" (no reduction)
  std::string dtype;   // fp32 | bf16
  int gsize, gstride;  // 0 = every rank
};

// Both cores of every tiny4 chip (8 ranks) run `op`; core c's src is row c of x, its dst row c
// of y. Every rank's y row is compared with a plain loop over the ranks' inputs.
void check_collective(const Case& c) {
  config::SystemConfig sys = config::load_system("tiny4");
  const int cores = static_cast<int>(sys.chip_config.cores);
  const int ranks = static_cast<int>(sys.total_ranks());
  const int n = c.gsize == 0 ? ranks : c.gsize;
  const int64_t chunk = 8;
  int64_t src_n = chunk * n, dst_n = chunk * n;
  if (c.op == "all_gather") src_n = chunk;
  if (c.op == "reduce_scatter") dst_n = chunk;
  const isa::DType dt = c.dtype == "bf16" ? isa::DType::Bf16 : isa::DType::Fp32;
  std::string text = fmt::format(".tensor x input {0} [{1}, {2}]\n.tensor y output {0} [{1}, {3}]\n",
                                 c.dtype, cores, src_n, dst_n);
  for (int k = 0; k < cores; ++k)
    text += fmt::format(
        ".core {0}\n.engine sp\n  {1} q0, hbm.y+{2}:{3}{{{4},1}}[1,{4}], hbm.x+{5}:{3}{{{6},1}}[1,{6}], "
        "{7}{8}, {9}  inc(s0)\n  nop  wait(s0>=1)\n",
        k, c.op, k * dst_n * isa::dtype_size(dt), c.dtype, dst_n, k * src_n * isa::dtype_size(dt),
        src_n, c.red.empty() ? "" : c.red + ", ", c.gsize, c.gstride);
  isa::Program prog = isa::assemble(text, "cc.tasm");
  isa::validate(prog, sys.chip_config.target());
  // The race checker runs on the (per-chip) program without crashing, and finds nothing.
  CheckReport cr = check_program(prog, sys.chip_config.target());
  CHECK(cr.races.empty());
  CHECK(cr.uninit.empty());
  CHECK_FALSE(cr.deadlock);

  SystemSimOptions o;
  o.chip_inputs.resize(static_cast<size_t>(sys.total_chips()));
  std::vector<std::vector<float>> in(static_cast<size_t>(ranks));
  for (int r = 0; r < ranks; ++r)
    for (int64_t k = 0; k < src_n; ++k) in[static_cast<size_t>(r)].push_back(value(r, k));
  for (int chip = 0; chip < sys.total_chips(); ++chip) {
    std::vector<float> x;
    for (int k = 0; k < cores; ++k) {
      const auto& v = in[static_cast<size_t>(chip * cores + k)];
      x.insert(x.end(), v.begin(), v.end());
    }
    o.chip_inputs[static_cast<size_t>(chip)]["x"] = bytes_of(x, dt);
  }
  SystemResult res = simulate_system(prog, sys, o);
  CHECK(res.collectives == ranks / n);
  int64_t bad = 0, compared = 0;
  for (int r = 0; r < ranks; ++r) {
    const std::vector<int> g = replica_group(r, c.gsize, c.gstride, ranks);
    const int pos = static_cast<int>(std::find(g.begin(), g.end(), r) - g.begin());
    std::vector<float> want(static_cast<size_t>(dst_n));
    for (int64_t e = 0; e < dst_n; ++e) {
      float w = 0;
      if (c.op == "all_reduce" || c.op == "reduce_scatter") {
        const int64_t k = c.op == "all_reduce" ? e : pos * chunk + e;
        w = c.red == "max" ? -1e30f : 0.0f;
        for (int m : g) {
          const float v = in[static_cast<size_t>(m)][static_cast<size_t>(k)];
          w = c.red == "max" ? std::max(w, v) : w + v;
        }
      } else if (c.op == "all_gather") {
        w = in[static_cast<size_t>(g[static_cast<size_t>(e / chunk)])][static_cast<size_t>(e % chunk)];
      } else if (c.op == "all_to_all") {
        // dst chunk i = chunk pos of member i's src.
        w = in[static_cast<size_t>(g[static_cast<size_t>(e / chunk)])][static_cast<size_t>(pos * chunk + e % chunk)];
      } else {  // permute: the previous member's src
        w = in[static_cast<size_t>(g[static_cast<size_t>((pos + n - 1) % n)])][static_cast<size_t>(e)];
      }
      want[static_cast<size_t>(e)] = w;
    }
    const auto& out = res.chips[static_cast<size_t>(r / cores)].outputs;
    REQUIRE(out.size() == 1);
    const std::vector<float> y = floats_of(out[0].bytes, dt);
    for (int64_t e = 0; e < dst_n; ++e) {
      ++compared;
      if (y[static_cast<size_t>((r % cores) * dst_n + e)] != want[static_cast<size_t>(e)]) ++bad;
    }
  }
  CHECK(compared == ranks * dst_n);
  CHECK(bad == 0);
  CHECK(res.sim_time_ps > 0);
}

using trnsim::test::Run;
Run run_cli(const std::string& args) { return trnsim::test::run_trnsim(args); }

std::string tmp(const std::string& name) {
  return "/tmp/trnsim_cc_" + std::to_string(::getpid()) + "_" + name;
}

std::string write(const std::string& name, const std::string& text) {
  const std::string path = tmp(name);
  std::ofstream(path) << text;
  return path;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The value of `"key": {"value": V` after `after` in a stats document.
double stat_after(const std::string& doc, const std::string& after, const std::string& key) {
  const size_t at = doc.find(after);
  REQUIRE(at != std::string::npos);
  std::smatch m;
  const std::string rest = doc.substr(at);
  REQUIRE(std::regex_search(rest, m, std::regex("\"" + key + "\": \\{\"value\": ([0-9.e+-]+)")));
  return std::stod(m[1].str());
}

int lines(const std::string& s) {
  int k = 0;
  for (char ch : s) k += ch == '\n';
  return k;
}

}  // namespace

TEST_CASE("program all_reduce sum fp32 over every rank of tiny4", "[system][cc]") {
  check_collective({"all_reduce", "add", "fp32", 0, 1});
}
TEST_CASE("program all_reduce max bf16 in groups of 4 with stride 2", "[system][cc]") {
  check_collective({"all_reduce", "max", "bf16", 4, 2});
}
TEST_CASE("program all_reduce sum bf16 in pairs", "[system][cc]") {
  check_collective({"all_reduce", "add", "bf16", 2, 1});
}
TEST_CASE("program all_gather fp32 over every rank", "[system][cc]") {
  check_collective({"all_gather", "", "fp32", 0, 1});
}
TEST_CASE("program all_gather bf16 in groups of 4 with stride 2", "[system][cc]") {
  check_collective({"all_gather", "", "bf16", 4, 2});
}
TEST_CASE("program reduce_scatter sum fp32 over every rank", "[system][cc]") {
  check_collective({"reduce_scatter", "add", "fp32", 0, 1});
}
TEST_CASE("program reduce_scatter max bf16 in groups of 4", "[system][cc]") {
  check_collective({"reduce_scatter", "max", "bf16", 4, 1});
}
TEST_CASE("program all_to_all fp32 over every rank", "[system][cc]") {
  check_collective({"all_to_all", "", "fp32", 0, 1});
}
TEST_CASE("program all_to_all bf16 in groups of 4 with stride 2", "[system][cc]") {
  check_collective({"all_to_all", "", "bf16", 4, 2});
}
TEST_CASE("program permute fp32 over every rank", "[system][cc]") {
  check_collective({"permute", "", "fp32", 0, 1});
}
TEST_CASE("program permute bf16 in groups of 4", "[system][cc]") {
  check_collective({"permute", "", "bf16", 4, 1});
}

// The teaching configuration of collective_test.cpp (B = 64 GB/s, alpha = 100 ns, no launch or
// step cost, DMA engines and HBM far faster than a link, one core per chip) as --set flags.
const char* kTeaching =
    "--system tiny4 --set cores=1 --set dma.engines=16 --set dma.engine_gbps=1000 "
    "--set hbm.gbps=1000000 --set noc.gbps=1000000 --set cc.channels=1";

TEST_CASE("program all_gather takes trnsim collectives' time plus the DMA issue cost",
          "[system][cc][cli]") {
  // 64 KiB gathered over 4 ranks: each rank contributes 16 KiB = 4096 fp32.
  const std::string prog = write(
      "ag.tasm",
      ".tensor x input fp32 [4096]\n.tensor y output fp32 [16384]\n.core 0\n.engine sp\n"
      "  all_gather q0, hbm.y+0:fp32{16384,1}[1,16384], hbm.x+0:fp32{4096,1}[1,4096], 4, 1\n");
  const std::string stats = tmp("ag.json"), rows = tmp("rows.json");
  Run run = run_cli(fmt::format("run {} {} --timing-only --stats {}", prog, kTeaching, stats));
  INFO(run.out);
  REQUIRE(run.status == 0);
  Run coll = run_cli(fmt::format("collectives {} --op all_gather --bytes 64K --json {}", kTeaching, rows));
  INFO(coll.out);
  REQUIRE(coll.status == 0);
  std::smatch m;
  const std::string rj = slurp(rows);
  REQUIRE(std::regex_search(rj, m, std::regex("\"time_ns\": ([0-9.e+-]+)")));
  const double coll_ns = std::stod(m[1].str());
  const double run_ns = stat_after(slurp(stats), "\"system\"", "sim_time_ns");
  // dma_issue_cycles = 64 on the tiny chip's 1 GHz sync engine: 64 ns.
  CHECK(run_ns == Approx(coll_ns + 64.0).epsilon(0).margin(1e-6));
  // auto picks recursive doubling on 4 ranks at this size: log2(4) = 2 steps of 100 ns, the
  // 16 KiB and 32 KiB halves at 64 B/ns, 1 hop then 2 hops: 968 ns (collective_test.cpp).
  CHECK(coll_ns == Approx(968.0).margin(1e-6));
  std::remove(stats.c_str());
  std::remove(rows.c_str());
  std::remove(prog.c_str());
}

namespace {
// A 1 MiB HBM -> SBUF DMA on core 0 q0 and/or a 1 MiB all_reduce on q1 (HBM to HBM).
std::string sharing_program(bool dma, bool allreduce) {
  std::string t =
      ".tensor a input fp32 [32, 8192]\n.tensor x input fp32 [262144]\n"
      ".tensor y output fp32 [262144]\n.core 0\n.engine sp\n";
  if (dma) t += "  dma q0, sbuf[0:32]+0:fp32[1,8192], hbm.a+0:fp32{8192,32}[1,8192]\n";
  if (allreduce)
    t += "  all_reduce q1, hbm.y+0:fp32{262144,1}[1,262144], hbm.x+0:fp32{262144,1}[1,262144], "
         "add, 4, 2\n";
  return t;
}
}  // namespace

TEST_CASE("communication slows a compute DMA on the same core, and the DMA slows it",
          "[system][cc][cli]") {
  double q0[2], q1[2];
  const struct {
    bool dma, ar;
  } runs[3] = {{true, false}, {false, true}, {true, true}};
  double busy[3][2] = {};
  for (int i = 0; i < 3; ++i) {
    const std::string prog = write(fmt::format("share{}.tasm", i), sharing_program(runs[i].dma, runs[i].ar));
    const std::string stats = tmp(fmt::format("share{}.json", i));
    Run r = run_cli(fmt::format("run {} --system tiny4 --timing-only --stats {}", prog, stats));
    INFO(r.out);
    REQUIRE(r.status == 0);
    const std::string doc = slurp(stats);
    const size_t at = doc.find("\"chip0\"");
    const std::string chip0 = doc.substr(at);
    busy[i][0] = stat_after(chip0, "\"q0\"", "busy_ns");
    busy[i][1] = stat_after(chip0, "\"q1\"", "busy_ns");
    std::remove(stats.c_str());
    std::remove(prog.c_str());
  }
  q0[0] = busy[0][0];  // the DMA alone
  q0[1] = busy[2][0];  // with the all-reduce
  q1[0] = busy[1][1];  // the all-reduce alone
  q1[1] = busy[2][1];  // with the DMA
  INFO(fmt::format("dma {} -> {} ns, all_reduce {} -> {} ns", q0[0], q0[1], q1[0], q1[1]));
  CHECK(q0[0] > 0);
  CHECK(q1[0] > 0);
  CHECK(q0[1] > 1.1 * q0[0]);
  CHECK(q1[1] > 1.02 * q1[0]);
}

TEST_CASE("mismatched collective sizes across ranks: one line, exit 3", "[system][cc][cli]") {
  // Core 0 reduces 1024 elements, core 1 2048, in one group of every rank.
  const std::string prog = write(
      "mismatch.tasm",
      ".tensor x input fp32 [2048]\n.tensor y output fp32 [2048]\n"
      ".core 0\n.engine sp\n"
      "  all_reduce q0, hbm.y+0:fp32{1024,1}[1,1024], hbm.x+0:fp32{1024,1}[1,1024], add, 0, 1\n"
      ".core 1\n.engine sp\n"
      "  all_reduce q0, hbm.y+0:fp32{2048,1}[1,2048], hbm.x+0:fp32{2048,1}[1,2048], add, 0, 1\n");
  Run r = run_cli("run " + prog + " --system tiny4");
  INFO(r.out);
  CHECK(r.status == 3);
  CHECK(r.out.find("mismatched collective across ranks: rank 0 all_reduce of 1024 elements, "
                   "rank 1 all_reduce of 2048 elements") != std::string::npos);
  CHECK(lines(r.out) == 1);
  std::remove(prog.c_str());
}

TEST_CASE("a collective some ranks never reach: which posted, which never did, exit 3",
          "[system][cc][cli]") {
  // Core 1 never issues the all-reduce that names every rank.
  const std::string prog = write(
      "never.tasm",
      ".tensor x input fp32 [64]\n.tensor y output fp32 [64]\n"
      ".core 0\n.engine sp\n  nop\n"
      "  all_reduce q0, hbm.y+0:fp32{64,1}[1,64], hbm.x+0:fp32{64,1}[1,64], add, 0, 1\n"
      ".core 1\n.engine sp\n  nop\n");
  Run r = run_cli("run " + prog + " --system tiny4 --timing-only");
  INFO(r.out);
  CHECK(r.status == 3);
  CHECK(r.out.find("collective #0 all_reduce of group {0..7}: ranks 0,2,4,6 waiting, ranks "
                   "1,3,5,7 never reached it (core0 sp #1 (all_reduce))") != std::string::npos);
  CHECK(lines(r.out) == 1);
  std::remove(prog.c_str());
}

TEST_CASE("bad collective input: a group beyond the system, a wrong dst size: exit 2",
          "[system][cc][cli]") {
  // gsize 4 with stride 4 on 8 ranks: rank 0's group {0,4,8,12} names rank 8.
  const std::string beyond = write(
      "beyond.tasm",
      ".tensor x input fp32 [64]\n.tensor y output fp32 [64]\n.core 0\n.engine sp\n"
      "  all_reduce q0, hbm.y+0:fp32{64,1}[1,64], hbm.x+0:fp32{64,1}[1,64], add, 4, 4\n");
  Run r = run_cli("run " + beyond + " --system tiny4");
  INFO(r.out);
  CHECK(r.status == 2);
  CHECK(r.out.find("the replica group of rank 0 ({0,4,8,12} of size 4, stride 4) names rank 8, "
                   "but system tiny4 has ranks 0-7") != std::string::npos);
  CHECK(lines(r.out) == 1);
  // all_gather over every rank (8) into a dst of 4 x src.
  const std::string small = write(
      "small.tasm",
      ".tensor x input fp32 [64]\n.tensor y output fp32 [256]\n.core 0\n.engine sp\n"
      "  all_gather q0, hbm.y+0:fp32{256,1}[1,256], hbm.x+0:fp32{64,1}[1,64], 0, 1\n");
  r = run_cli("run " + small + " --system tiny4");
  INFO(r.out);
  CHECK(r.status == 2);
  CHECK(r.out.find("dst has 256 elements, expected ranks x src = 8 x 64") != std::string::npos);
  CHECK(lines(r.out) == 1);
  // Static: dst size wrong for the group size.
  const std::string wrong = write(
      "wrong.tasm",
      ".tensor x input fp32 [64]\n.tensor y output fp32 [128]\n.core 0\n.engine sp\n"
      "  all_gather q0, hbm.y+0:fp32{128,1}[1,128], hbm.x+0:fp32{64,1}[1,64], 4, 2\n");
  r = run_cli("run " + wrong + " --system tiny4");
  INFO(r.out);
  CHECK(r.status == 2);
  CHECK(r.out.find("dst has 128 elements, expected gsize x src = 4 x 64") != std::string::npos);
  CHECK(lines(r.out) == 1);
  // A collective without a system.
  r = run_cli("run " + beyond + " --chip tiny");
  CHECK(r.status == 2);
  CHECK(r.out.find("is a collective: run the program on a system") != std::string::npos);
  std::remove(beyond.c_str());
  std::remove(small.c_str());
  std::remove(wrong.c_str());
}

TEST_CASE("run --system writes outputs per chip, link stats and a timeline", "[system][cc][cli]") {
  const std::string prog = write(
      "out.tasm",
      ".tensor x input fp32 [64]\n.tensor y output fp32 [64]\n.core 0\n.engine sp\n"
      "  all_reduce q0, hbm.y+0:fp32{64,1}[1,64], hbm.x+0:fp32{64,1}[1,64], add, 4, 2\n");
  const std::string dir = tmp("outdir"), stats = tmp("st.json"), trace = tmp("tr.json");
  Run r = run_cli(fmt::format("run {} --system tiny4 --output-dir {} --stats {} --trace {}", prog,
                             dir, stats, trace));
  INFO(r.out);
  REQUIRE(r.status == 0);
  for (int c = 0; c < 4; ++c) CHECK(std::ifstream(fmt::format("{}/chip{}/y.npy", dir, c)).good());
  const std::string doc = slurp(stats);
  CHECK(doc.find("\"links\"") != std::string::npos);
  CHECK(stat_after(doc, "\"c0.x+\"", "bytes") > 0);
  CHECK(doc.find("\"chip3\"") != std::string::npos);
  CHECK(r.out.find("link c0.x+:") != std::string::npos);
  const std::string tr = slurp(trace);
  CHECK(tr.find("\"chip3 core0\"") != std::string::npos);
  CHECK(tr.find("\"cat\": \"collective\"") != std::string::npos);
  CHECK(tr.find("all_reduce #0 {0,2,4,6}") != std::string::npos);
  CHECK(tr.find("\"link c0.x+\"") != std::string::npos);
  // A timing-only run moves no data and takes exactly the same simulated time.
  Run t = run_cli(fmt::format("run {} --system tiny4 --timing-only", prog));
  REQUIRE(t.status == 0);
  std::smatch a, b;
  const std::regex line("system tiny4: 4 chips, simulated time ([0-9.]+) us");
  REQUIRE(std::regex_search(r.out, a, line));
  REQUIRE(std::regex_search(t.out, b, line));
  CHECK(a[1].str() == b[1].str());
  std::system(("rm -rf " + dir).c_str());
  std::remove(stats.c_str());
  std::remove(trace.c_str());
  std::remove(prog.c_str());
}

namespace {
void check_pipeline(const char* dtype) {
  // Core c of every chip is one pipeline (group gsize 4, gstride 2: ranks {c, c+2, c+4, c+6});
  // each stage sends x to the next stage and receives the previous stage's x into y. The last
  // stage's send and the first stage's recv have no peer and are skipped.
  config::SystemConfig sys = config::load_system("tiny4");
  const int cores = static_cast<int>(sys.chip_config.cores);
  const int ranks = static_cast<int>(sys.total_ranks());
  {
    const isa::DType dt = std::string(dtype) == "bf16" ? isa::DType::Bf16 : isa::DType::Fp32;
    const int64_t n = 96, es = isa::dtype_size(dt);
    std::string text = fmt::format(".tensor x input {0} [{1}, {2}]\n.tensor y output {0} [{1}, {2}]\n",
                                   dtype, cores, n);
    for (int k = 0; k < cores; ++k)
      text += fmt::format(
          ".core {0}\n.engine sp\n"
          "  send q0, hbm.x+{1}:{2}{{{3},1}}[1,{3}], 4, 2, 1  inc(s0)\n"
          "  recv q1, hbm.y+{1}:{2}{{{3},1}}[1,{3}], 4, 2, 1  inc(s1)\n"
          "  nop  wait(s0>=1) wait(s1>=1)\n",
          k, k * n * es, dtype, n);
    isa::Program prog = isa::assemble(text, "p2p.tasm");
    isa::validate(prog, sys.chip_config.target());
    CheckReport cr = check_program(prog, sys.chip_config.target());
    CHECK(cr.races.empty());
    CHECK_FALSE(cr.deadlock);
    SystemSimOptions o;
    o.chip_inputs.resize(static_cast<size_t>(sys.total_chips()));
    for (int chip = 0; chip < sys.total_chips(); ++chip) {
      std::vector<float> x;
      for (int k = 0; k < cores; ++k)
        for (int64_t e = 0; e < n; ++e) x.push_back(value(chip * cores + k, e));
      o.chip_inputs[static_cast<size_t>(chip)]["x"] = bytes_of(x, dt);
    }
    SystemResult res = simulate_system(prog, sys, o);
    CHECK(res.collectives == 0);
    CHECK(res.sends == 2 * 3);  // 3 hops in each of the 2 pipelines
    int64_t bad = 0;
    for (int r = 0; r < ranks; ++r) {
      const int stage = (r / cores) % 4;  // chip = stage (gstride 2 = the cores per chip)
      if (stage == 0) continue;        // receives nothing
      const std::vector<float> y = floats_of(res.chips[static_cast<size_t>(r / cores)].outputs[0].bytes, dt);
      for (int64_t e = 0; e < n; ++e)
        bad += y[static_cast<size_t>((r % cores) * n + e)] != value(r - cores, e);
    }
    CHECK(bad == 0);
  }
}
}  // namespace

TEST_CASE("program send/recv fp32: a pipeline of 4 stages passes each stage's x on, SPMD",
          "[system][cc]") {
  check_pipeline("fp32");
}
TEST_CASE("program send/recv bf16: a pipeline of 4 stages passes each stage's x on, SPMD",
          "[system][cc]") {
  check_pipeline("bf16");
}

TEST_CASE("send takes one transfer's time: a two-rank permute's plus the DMA issue cost",
          "[system][cc][cli]") {
  // 16 KiB from rank 0 to rank 1 (one core per chip). A permute over {0, 1} moves the same
  // bytes both ways on separate directional links, so it takes one transfer's time.
  const std::string prog = write(
      "send.tasm",
      ".tensor x input fp32 [4096]\n.tensor y output fp32 [4096]\n.core 0\n.engine sp\n"
      "  send q0, hbm.x+0:fp32{4096,1}[1,4096], 2, 1, 1\n"
      "  recv q1, hbm.y+0:fp32{4096,1}[1,4096], 2, 1, 1\n");
  const std::string stats = tmp("send.json"), rows = tmp("send_rows.json");
  Run run = run_cli(fmt::format("run {} {} --timing-only --stats {}", prog, kTeaching, stats));
  INFO(run.out);
  REQUIRE(run.status == 0);
  CHECK(run.out.find("0 collective(s), 2 send/recv") != std::string::npos);
  Run coll = run_cli(fmt::format("collectives {} --op permute --group 0,1 --bytes 16K --json {}",
                                 kTeaching, rows));
  INFO(coll.out);
  REQUIRE(coll.status == 0);
  std::smatch m;
  const std::string rj = slurp(rows);
  REQUIRE(std::regex_search(rj, m, std::regex("\"time_ns\": ([0-9.e+-]+)")));
  const double coll_ns = std::stod(m[1].str());
  // alpha 100 ns + 16384 B / 64 B/ns = 356 ns (one hop).
  CHECK(coll_ns == Approx(356.0).margin(1e-6));
  const double run_ns = stat_after(slurp(stats), "\"system\"", "sim_time_ns");
  // The recv is issued 64 ns after the send on the same engine (dma_issue_cycles = 64 at 1 GHz),
  // so pairs {0->1} and {2->3}... meet when the recv of the later rank is posted: 128 ns.
  CHECK(run_ns == Approx(coll_ns + 128.0).epsilon(0).margin(1e-6));
  std::remove(stats.c_str());
  std::remove(rows.c_str());
  std::remove(prog.c_str());
}

TEST_CASE("send/recv errors: no matching recv, mismatched sizes, shift 0", "[system][cc][cli]") {
  // Rank 0 sends to rank 1, which never posts its recv.
  const std::string lone = write(
      "lone.tasm",
      ".tensor x input fp32 [64]\n.core 0\n.engine sp\n"
      "  send q0, hbm.x+0:fp32{64,1}[1,64], 2, 1, 1\n");
  Run r = run_cli("run " + lone + " --system tiny4 --timing-only");
  INFO(r.out);
  CHECK(r.status == 3);
  CHECK(r.out.find("send #0 from rank 0 to rank 1: rank 0 waiting, rank 1 never reached its recv "
                   "(core0 sp #0 (send))") != std::string::npos);
  CHECK(lines(r.out) == 1);
  // Rank 1 receives 32 elements where rank 0 sends 64.
  const std::string sizes = write(
      "sizes.tasm",
      ".tensor x input fp32 [64]\n.tensor y output fp32 [64]\n"
      ".core 0\n.engine sp\n  send q0, hbm.x+0:fp32{64,1}[1,64], 2, 1, 1\n"
      ".core 1\n.engine sp\n  recv q0, hbm.y+0:fp32{32,1}[1,32], 2, 1, 1\n");
  r = run_cli("run " + sizes + " --system tiny4");
  INFO(r.out);
  CHECK(r.status == 3);
  // Four pairs mismatch at once (one per chip); the first to meet is reported.
  CHECK(std::regex_search(r.out, std::regex(
      "mismatched send/recv: rank ([0246]) sends 64 fp32 elements to rank [1357], which receives "
      "32 fp32 elements \\(core0 sp #0 \\(send\\); core1 sp #0 \\(recv\\)\\)")));
  CHECK(lines(r.out) == 1);
  const std::string zero = write(
      "zero.tasm",
      ".tensor x input fp32 [64]\n.core 0\n.engine sp\n"
      "  send q0, hbm.x+0:fp32{64,1}[1,64], 2, 1, 0\n");
  r = run_cli("run " + zero + " --system tiny4");
  INFO(r.out);
  CHECK(r.status == 2);
  CHECK(r.out.find("shift must not be 0") != std::string::npos);
  CHECK(lines(r.out) == 1);
  std::remove(lone.c_str());
  std::remove(sizes.c_str());
  std::remove(zero.c_str());
}
