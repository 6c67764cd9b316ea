// Checker: uninitialised reads, deadlock explanation, runaway loops, the example traces (clean,
// and every needed wait detected when removed), speed, and `trnsim run --check`.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "tools/npy.h"
#include <string>

#include "support/error.h"
#include "tests/check/check_util.h"

using trnsim::model::CheckReport;
using trnsim::test::check_tasm;
namespace fs = std::filesystem;

namespace {

const char* kTensors =
    ".tensor a input fp32 [4, 64]\n"
    ".tensor out output fp32 [4, 64]\n";

std::string prog(const std::string& body) { return std::string(kTensors) + body; }

// Every program file under `dir`'s subfolders with extension .tasm or .tbin.
std::vector<std::string> programs_under(const fs::path& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const auto ext = e.path().extension();
    if (e.is_regular_file() && (ext == ".tasm" || ext == ".tbin")) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The contract for any correct program (hand-written trace or compiled model): no report, and
// removing any wait that the analysis marks as needed gives at least one report. Returns the
// number of needed waits.
size_t require_clean_and_waits_needed(const std::string& path, const trnsim::isa::Target& t,
                                      size_t max_waits = 0) {
  INFO(path);
  trnsim::isa::Program p = trnsim::isa::load_program(path);
  CheckReport r = trnsim::model::check_program(p, t);
  INFO(r.text());
  REQUIRE(r.clean());
  size_t needed = 0;
  for (const auto& w : trnsim::model::analyse_waits(p, t, max_waits)) {
    INFO(w.site);
    if (w.needed) {
      ++needed;
      CHECK(w.reports >= 1);
    }
  }
  return needed;
}

int run_cli(const std::string& args, std::string* out = nullptr) {
  const std::string log = (fs::temp_directory_path() / "trnsim_check_cli.log").string();
  int rc = std::system((std::string(TRNSIM_BINARY) + " " + args + " > " + log + " 2>&1").c_str());
  if (out) {
    std::ifstream f(log);
    out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace

TEST_CASE("Uninitialised reads of SBUF, PSUM and HBM outputs, one report per instruction",
          "[check]") {
  CheckReport r = check_tasm(prog(R"(
.core 0
.engine act
  copy sbuf[0:4]+256:fp32[1,64], sbuf[0:4]+0:fp32[1,32] inc(s0) @fresh_sbuf
  copy sbuf[0:4]+256:fp32[1,64], psum[1:3]+2048:fp32[1,64] wait(s0>=1) @fresh_psum
  copy sbuf[0:4]+256:fp32[1,64], sbuf[0:4]+0:fp32[1,32] @again
.engine sp
  dma q0, sbuf[0:4]+512:fp32[1,64], hbm.out+0:fp32{64,4}[1,64] @read_output
  dma q1, sbuf[0:4]+768:fp32[1,64], hbm.a+0:fp32{64,4}[1,64] @read_input
)"));
  INFO(r.text());
  CHECK(r.races.empty());
  REQUIRE(r.uninit.size() == 4);
  CHECK(r.uninit[0].instr.name == "core0 act #0 (copy) @fresh_sbuf");
  CHECK(r.uninit[0].range.text() == "core0 sbuf partitions [0, 4) bytes [0, 128)");
  CHECK(r.uninit[1].instr.name == "core0 act #1 (copy) @fresh_psum");
  CHECK(r.uninit[1].range.text() == "core0 psum partitions [1, 3) bytes [2048, 2304)");
  CHECK(r.uninit[2].instr.name == "core0 act #2 (copy) @again");
  CHECK(r.uninit[3].instr.name == "core0 sp #0 (dma) @read_output [q0]");
  CHECK(r.uninit[3].range.text() == "hbm tensor 'out' bytes [0, 1024)");
  CHECK(r.text().find("uninitialised read: core0 act #0 (copy) @fresh_sbuf reads core0 sbuf "
                      "partitions [0, 4) bytes [0, 128)") != std::string::npos);
  // Accumulating into a fresh PSUM bank reads it.
  CheckReport acc = check_tasm(prog(R"(
.core 0
.engine pool
  memset sbuf[0:4]+0:fp32[1,64], 1 inc(s0)
.engine pe
  matmul psum[0:4]+0:fp32[1,64], sbuf[0:4]+0:fp32[1,4], sbuf[0:4]+0:fp32[1,64], acc wait(s0>=1) @acc
  matmul psum[0:4]+2048:fp32[1,64], sbuf[0:4]+0:fp32[1,4], sbuf[0:4]+0:fp32[1,64], zero wait(s0>=1) @zero
)"));
  INFO(acc.text());
  REQUIRE(acc.uninit.size() == 1);
  CHECK(acc.uninit[0].instr.name == "core0 pe #0 (matmul) @acc");
}

TEST_CASE("Deadlock explanation names waiters, values and the incrementers", "[check]") {
  const std::string p = prog(R"(
.core 0
.engine pe
  nop inc(s1) @first
  nop wait(s1>=2) @needs_two
.engine act
  nop wait(s4>=1) @stuck
  nop inc(s1) @late
.engine dve
  barrier dve|pool @meet
)");
  CheckReport r = check_tasm(p);
  REQUIRE(r.deadlock);
  const auto& w = r.deadlock->waiters;
  REQUIRE(w.size() == 3);
  CHECK(w[0].instr.name == "core0 pe #1 (nop) @needs_two");
  CHECK(w[0].sem == 1);
  CHECK(w[0].current == 1);
  CHECK(w[0].target == 2);
  REQUIRE(w[0].incrementers.size() == 2);
  CHECK(w[0].incrementers[0].instr.name == "core0 pe #0 (nop) @first");
  CHECK(w[0].incrementers[0].executed == 1);
  CHECK(w[0].incrementers[1].instr.name == "core0 act #1 (nop) @late");
  CHECK(w[0].incrementers[1].executed == 0);
  CHECK(w[0].incrementers[1].where ==
        "core0 act blocked at #0 (nop) waiting for s4 >= 1 (now 0)");
  CHECK(w[1].instr.name == "core0 act #0 (nop) @stuck");
  CHECK(w[1].incrementers.empty());
  CHECK(w[2].barrier);
  CHECK(w[2].barrier_arrived == trnsim::isa::E_DVE);
  const std::string text = trnsim::model::explain_deadlock(trnsim::isa::assemble(p, "t.tasm"));
  CHECK(text == r.deadlock->text());
  CHECK(text ==
        "deadlock: 3 engine(s) blocked\n"
        "  core0 pe #1 (nop) @needs_two waits for s1 >= 2 (now 1); core0 s1 is incremented by:\n"
        "    core0 pe #0 (nop) @first +1: fired 1 time(s); core0 pe blocked at #1 (nop) waiting "
        "for s1 >= 2 (now 1)\n"
        "    core0 act #1 (nop) @late +1: never fired; core0 act blocked at #0 (nop) waiting for "
        "s4 >= 1 (now 0)\n"
        "  core0 act #0 (nop) @stuck waits for s4 >= 1 (now 0); no instruction increments core0 "
        "s4\n"
        "  core0 dve #0 (barrier) @meet waits at a barrier of dve|pool (arrived: dve)\n");
  CHECK(trnsim::model::explain_deadlock(trnsim::isa::assemble(prog(R"(
.core 0
.engine pe
  nop inc(s1)
.engine act
  nop wait(s1>=1)
)"), "t.tasm")) == "");
}

TEST_CASE("A runaway loop stops with an error naming the engine", "[check]") {
  trnsim::model::CheckOptions o;
  o.max_instructions_per_engine = 1000;
  const std::string p = prog(R"(
.core 0
.engine pool
spin:
  jmp spin
)");
  try {
    check_tasm(p, o);
    FAIL("no error");
  } catch (const trnsim::SimFault& e) {
    CHECK(std::string(e.what()) ==
          "core0 pool: instruction budget of 1000 exceeded (infinite loop?) at #0 (jmp)");
  }
}

TEST_CASE("Every example trace is clean and every needed wait is caught when removed",
          "[check]") {
  const auto files = programs_under(fs::path(TRNSIM_TEST_DATA) / ".." / "traces");
  REQUIRE(files.size() >= 6);
  const trnsim::isa::Target tiny = trnsim::test::tiny_target();
  for (const auto& f : files) {
    const size_t needed = require_clean_and_waits_needed(f, tiny);
    INFO(f);
    CHECK(needed >= 1);
  }
}

TEST_CASE("A program of a million dynamic instructions is checked in seconds", "[check]") {
  // Producer/consumer ring of 4 slots: sp loads 128-partition tiles, dve consumes them, each
  // side waiting on register-valued semaphore targets. 125000 iterations x 8 instructions.
  const std::string p = R"(
.tensor a input fp32 [128, 64]
.core 0
.engine sp
  movi r0, 0
  movi r1, 0
  movi r2, -3
load:
  dma q0, sbuf[0:128]+0+r1:fp32[1,64], hbm.a+0:fp32{64,128}[1,64] wait(s1>=r2) inc(s0)
  addi r1, r1, 256
  blt r1, 1024, keep
  movi r1, 0
keep:
  addi r2, r2, 1
  addi r0, r0, 1
  blt r0, 125000, load
.engine dve
  movi r0, 1
  movi r1, 0
use:
  tt sbuf[0:128]+2048:fp32[1,64], sbuf[0:128]+0+r1:fp32[1,64], sbuf[0:128]+0+r1:fp32[1,64], add wait(s0>=r0) inc(s1)
  addi r1, r1, 256
  blt r1, 1024, next
  movi r1, 0
next:
  addi r0, r0, 1
  blt r0, 125001, use
)";
  const auto t0 = std::chrono::steady_clock::now();
  CheckReport r = check_tasm(p);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(r.text());
  CHECK(r.clean());
  CHECK(r.dynamic_instructions > 1000000);
  CHECK(s < 20.0);  // a few seconds on a loaded 2-core machine; far more means a complexity bug
  // Waiting one load too early races.
  std::string bad = p;
  bad.replace(bad.find("movi r0, 1\n  movi r1, 0\nuse"), 10, "movi r0, 0");
  CHECK(check_tasm(bad).races.size() >= 1);
}

TEST_CASE("trnsim run --check exits 3 on a race after writing stats, 0 when clean", "[check]") {
  const fs::path dir = fs::temp_directory_path() / "trnsim_check_cli";
  fs::create_directories(dir);
  auto write = [&](const char* name, const std::string& text) {
    std::ofstream((dir / name).string()) << text;
    return (dir / name).string();
  };
  const std::string racy = write("racy.tasm", prog(R"(
.core 0
.engine dve
  memset sbuf[0:4]+0:fp32[1,64], 1 @fill
.engine pool
  copy sbuf[0:4]+256:fp32[1,64], sbuf[0:4]+0:fp32[1,64] @use
)"));
  const std::string clean = write("clean.tasm", prog(R"(
.core 0
.engine dve
  memset sbuf[0:4]+0:fp32[1,64], 1 inc(s0) @fill
.engine pool
  copy sbuf[0:4]+256:fp32[1,64], sbuf[0:4]+0:fp32[1,64] wait(s0>=1) @use
)"));
  const std::string stats = (dir / "stats.json").string();
  fs::remove(stats);
  std::string out;
  CHECK(run_cli("run " + racy + " --chip tiny --timing-only --check --stats " + stats, &out) == 3);
  CHECK(out.find("RAW race on core0 sbuf partitions [0, 4) bytes [0, 256): core0 dve #0 "
                 "(memset) @fill writes, core0 pool #0 (copy) @use reads") != std::string::npos);
  CHECK(fs::exists(stats));
  CHECK(run_cli("run " + clean + " --chip tiny --timing-only --check", &out) == 0);
  CHECK(run_cli("run " + racy + " --chip tiny --timing-only", &out) == 0);
}

TEST_CASE("Compiled ONNX models are clean and their needed waits are caught", "[check]") {
  // Every e2e test model of the compiler (tests/models/make_models.py --list), compiled for trn1:
  // no race and no uninitialised read, and removing any wait the analysis marks as needed
  // produces a report.
  // A directory of this process's own: the test suites of several build trees may run at once.
  const fs::path dir =
      fs::temp_directory_path() / ("trnsim_check_onnx_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string script = std::string(TRNSIM_TEST_DATA) + "/models/make_models.py";
  const std::string list = (dir / "models.txt").string();
  REQUIRE(std::system(("/usr/bin/python3 " + script + " --list > " + list).c_str()) == 0);
  std::vector<std::string> names;
  {
    std::ifstream in(list);
    std::string name, dtypes;
    while (in >> name >> dtypes) names.push_back(name);
  }
  REQUIRE(names.size() >= 40);
  const std::string gen = "/usr/bin/python3 " + script + " " + dir.string() + " > " +
                          (dir / "gen.log").string() + " 2>&1";
  REQUIRE(std::system(gen.c_str()) == 0);
  const trnsim::isa::Target trn1 = trnsim::config::load_chip("trn1", {}).target();
  // Waits removed per model (each removal re-checks the whole program; 400 by default) and
  // every k-th model only (1 by default): tools/sanitize.sh sets TRNSIM_CHECK_WAITS and
  // TRNSIM_CHECK_MODEL_STRIDE, as under ASan compiling and checking every model takes longer
  // than the test's timeout.
  auto env_int = [](const char* name, int dflt) {
    const char* v = std::getenv(name);
    return v && std::atoi(v) > 0 ? std::atoi(v) : dflt;
  };
  const size_t max_waits = static_cast<size_t>(env_int("TRNSIM_CHECK_WAITS", 400));
  const size_t stride = static_cast<size_t>(env_int("TRNSIM_CHECK_MODEL_STRIDE", 1));
  int with_waits = 0, checked = 0;
  for (size_t i = 0; i < names.size(); i += stride) {
    const std::string& name = names[i];
    ++checked;
    const std::string onnx = (dir / (name + ".onnx")).string();
    const std::string tbin = (dir / (name + ".tbin")).string();
    INFO(name);
    // Pin every input's shape from its generated .npy (some models have symbolic dims).
    std::string shapes;
    for (const auto& f : fs::directory_iterator(dir / (name + ".inputs"))) {
      const auto arr = trnsim::cli::read_npy(f.path().string());
      std::string dims;
      for (int64_t d : arr.shape) dims += (dims.empty() ? "" : "x") + std::to_string(d);
      if (!dims.empty()) shapes += " --shape " + f.path().stem().string() + "=" + dims;
    }
    // The model's extra options (--cores 2 for the data-parallel models).
    const std::string args_file = (dir / (name + ".args")).string();
    REQUIRE(std::system(("/usr/bin/python3 " + script + " --run-args " + name + " > " + args_file)
                            .c_str()) == 0);
    std::string extra;
    std::getline(std::ifstream(args_file), extra);
    REQUIRE(run_cli("compile " + onnx + " --chip trn1" + shapes + " " + extra + " -o " + tbin) == 0);
    // Every wait of the e2e models up to a few hundred; the long-row models (thousands of
    // waits, each costing a check of the whole program) get an evenly spaced sample.
    if (require_clean_and_waits_needed(tbin, trn1, max_waits) >= 1) ++with_waits;
  }
  fs::remove_all(dir);
  // Nearly every model synchronises engines; a model with no needed wait at all is suspicious.
  CHECK(with_waits >= checked - 5);
}
