// Per-PE systolic array (models/systolic): hand-derived cycle counts and results, sequential
// GEMMs in one simulation, a property test over random shapes through `trnsim systolic`
// against the fast model (models/scalesim/gemm_cycles.h), the VCD waveform, and CLI errors.
// Every TEST_CASE that simulates runs in its own process (SystemC: one simulation per process).
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "models/scalesim/gemm_cycles.h"
#include "models/systolic/gemm_reference.h"
#include "models/systolic/systolic_array.h"
#include "support/error.h"
#include "support/file_util.h"

namespace sy = trnsim::model::systolic;
namespace ss = trnsim::model::scalesim;
namespace fs = std::filesystem;
using Df = ss::Dataflow;

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The closed forms of docs/systolic.md, written out independently of models/scalesim.
int64_t expected_cycles(int64_t r, int64_t c, Df df, int64_t m, int64_t n, int64_t k) {
  switch (df) {
    case Df::kOs: return ceil_div(m, r) * ceil_div(n, c) * (k + r + c - 2);
    case Df::kWs: return ceil_div(k, r) * ceil_div(n, c) * (2 * r + c + m - 2);
    case Df::kIs: return ceil_div(k, r) * ceil_div(m, c) * (2 * r + c + n - 2);
  }
  return -1;
}

// A = [[1,2],[3,4]], B = [[5,6],[7,8]]: C = [[19,22],[43,50]] (exact in fp32 in any order).
sy::GemmProblem hand_2x2x2() {
  sy::GemmProblem p;
  p.m = p.n = p.k = 2;
  p.a = {1, 2, 3, 4};
  p.b = {5, 6, 7, 8};
  return p;
}
const std::vector<float> kHandC = {19, 22, 43, 50};

struct Run {
  int code = -1;
  std::string out, err;
};

Run run_trnsim(const std::string& args, const std::string& tag) {
  const fs::path dir = fs::temp_directory_path() / ("trnsim_systolic_" + tag);
  fs::create_directories(dir);
  const std::string out_file = (dir / "stdout.txt").string();
  const std::string err_file = (dir / "stderr.txt").string();
  const std::string cmd = std::string(TRNSIM_BINARY) + " systolic " + args + " > " + out_file +
                          " 2> " + err_file;
  const int st = std::system(cmd.c_str());
  Run r;
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.out = trnsim::read_text_file(out_file);
  r.err = trnsim::read_text_file(err_file);
  return r;
}

// "<prefix> N cycles" from the CLI output, or -1.
long long cycles_after(const std::string& out, const std::string& prefix) {
  const size_t pos = out.find(prefix);
  if (pos == std::string::npos) return -1;
  long long v = -1;
  if (std::sscanf(out.c_str() + pos + prefix.size(), " %lld cycles", &v) != 1) return -1;
  return v;
}

}  // namespace

TEST_CASE("systolic fast-model cycles equal the closed forms and SCALE-Sim Total Cycles + 1",
          "[systolic]") {
  // No simulation: gemm_cycles() (map_layer + simulate_layer) against the closed forms, and
  // SCALE-Sim's Total Cycles (0-based index of the last demand line) = compute cycles - 1.
  for (Df df : {Df::kOs, Df::kWs, Df::kIs}) {
    for (int r : {1, 2, 3, 8, 32}) {
      for (int c : {1, 4, 7, 32}) {
        for (int64_t m : {1, 5, 33, 100}) {
          for (int64_t k : {1, 9, 64}) {
            const int64_t n = m % 7 + k % 5 + 1;
            const auto g = ss::gemm_cycles(r, c, df, m, n, k);
            CAPTURE(ss::dataflow_name(df), r, c, m, n, k);
            CHECK(g.compute_cycles == expected_cycles(r, c, df, m, n, k));
            CHECK(g.total_cycles == g.compute_cycles - 1);
          }
        }
      }
    }
  }
  // 2x2 array, 2x2x2 GEMM: os 1 fold x (K+R+C-2 = 4); ws/is 1 fold x (2R+C+T-2 = 6).
  CHECK(ss::gemm_cycles(2, 2, Df::kOs, 2, 2, 2).compute_cycles == 4);
  CHECK(ss::gemm_cycles(2, 2, Df::kWs, 2, 2, 2).compute_cycles == 6);
  CHECK(ss::gemm_cycles(2, 2, Df::kIs, 2, 2, 2).compute_cycles == 6);
  CHECK_THROWS_AS(ss::gemm_cycles(2, 2, Df::kOs, 0, 2, 2), trnsim::InputError);
}

TEST_CASE("systolic reference GEMMs agree with each other", "[systolic]") {
  // No simulation. model::execute with one matmul per K block sums in the array's order.
  for (Df df : {Df::kOs, Df::kWs, Df::kIs}) {
    const sy::GemmProblem p = sy::random_problem(7, 5, 19, 3);
    const auto order = sy::array_order_gemm(p, df, 4);
    CHECK(sy::compare_exact(sy::execute_gemm(p, df, 4), order).exact);
    CHECK(sy::compare_to_plain(p, order).within);
  }
  // K = 19 in blocks of 4 is a different order than k = 0..18: some element differs (seed 3).
  const sy::GemmProblem p = sy::random_problem(7, 5, 19, 3);
  CHECK_FALSE(sy::compare_exact(sy::array_order_gemm(p, Df::kWs, 4), sy::plain_gemm(p)).exact);
  CHECK(sy::compare_exact(sy::array_order_gemm(p, Df::kOs, 4), sy::plain_gemm(p)).exact);
  const sy::GemmProblem h = hand_2x2x2();
  CHECK(sy::plain_gemm(h) == kHandC);
}

TEST_CASE("systolic 2x2 os 2x2x2 GEMM: 4 cycles", "[systolic]") {
  // Output-stationary: A[i][k] enters row i at cycle k+i, B[k][j] enters column j at cycle k+j,
  // so PE(i,j) does its k-th MAC at cycle k+i+j. The last is PE(1,1), k=1, at cycle 1+1+1 = 3:
  // cycles 0..3 = 4 = K+R+C-2 (one fold: M=2 <= R, N=2 <= C).
  std::vector<sy::GemmProblem> ps{hand_2x2x2()};
  const sy::SystolicResult r = sy::run_systolic(2, 2, Df::kOs, ps);
  REQUIRE(r.runs.size() == 1);
  CHECK(r.runs[0].cycles == 4);
  CHECK(r.runs[0].folds == 1);
  CHECK(r.runs[0].macs == 8);
  CHECK(r.runs[0].c == kHandC);
}

TEST_CASE("systolic 2x2 ws 2x2x2 GEMM: 6 cycles", "[systolic]") {
  // Weight-stationary: cycles 0,1 load B (row 1 first) down the columns (R = 2 cycles). A[m][k]
  // enters row k at cycle 2+m+k and meets PE(k,n) at 2+m+k+n; partial sums go down, so row 1
  // emits C[m][n] at cycle 2+m+1+n. The last, m=1 n=1, is at cycle 5: 6 = 2R+C+T-2 cycles.
  std::vector<sy::GemmProblem> ps{hand_2x2x2()};
  const sy::SystolicResult r = sy::run_systolic(2, 2, Df::kWs, ps);
  REQUIRE(r.runs.size() == 1);
  CHECK(r.runs[0].cycles == 6);
  CHECK(r.runs[0].macs == 8);
  CHECK(r.runs[0].c == kHandC);
}

TEST_CASE("systolic 2x2 is 2x2x2 GEMM: 6 cycles", "[systolic]") {
  // Input-stationary: cycles 0,1 load A^T (PE(k,m) holds A[m][k]); B[k][n] enters row k at cycle
  // 2+n+k, meets PE(k,m) at 2+n+k+m; row 1 emits C[m][n] at cycle 2+n+1+m; the last (m=1, n=1)
  // at cycle 5: 6 = 2R+C+T-2 cycles with T = N = 2.
  std::vector<sy::GemmProblem> ps{hand_2x2x2()};
  const sy::SystolicResult r = sy::run_systolic(2, 2, Df::kIs, ps);
  REQUIRE(r.runs.size() == 1);
  CHECK(r.runs[0].cycles == 6);
  CHECK(r.runs[0].macs == 8);
  CHECK(r.runs[0].c == kHandC);
}

TEST_CASE("systolic 2x2 ws folded M=2 N=3 K=3: 4 folds x 6 = 24 cycles", "[systolic]") {
  // K=3 on 2 rows -> 2 row folds (the second uses 1 row, padded), N=3 on 2 columns -> 2 column
  // folds; every fold pays the full 2R+C+T-2 = 4+2+2-2 = 6 cycles: 24. The second K fold adds
  // onto the first's outputs. A = [[1,2,3],[4,5,6]], B = [[1,0,2],[0,1,3],[1,1,1]]:
  // C = [[1+0+3, 0+2+3, 2+6+3], [4+0+6, 0+5+6, 8+15+6]] = [[4,5,11],[10,11,29]].
  sy::GemmProblem p;
  p.m = 2, p.n = 3, p.k = 3;
  p.a = {1, 2, 3, 4, 5, 6};
  p.b = {1, 0, 2, 0, 1, 3, 1, 1, 1};
  std::vector<sy::GemmProblem> ps{p};
  const sy::SystolicResult r = sy::run_systolic(2, 2, Df::kWs, ps);
  REQUIRE(r.runs.size() == 1);
  CHECK(r.runs[0].folds == 4);
  CHECK(r.runs[0].cycles == 24);
  CHECK(r.runs[0].macs == 18);
  CHECK(r.runs[0].c == std::vector<float>{4, 5, 11, 10, 11, 29});
}

TEST_CASE("systolic sequential GEMMs in one simulation run back to back", "[systolic]") {
  // 30 random GEMMs on one 5x3 ws array inside one sc_start: each takes exactly the fast
  // model's cycles, starts the cycle after the previous one ends, and matches the references.
  std::mt19937 rng(11);
  std::vector<sy::GemmProblem> ps;
  for (int i = 0; i < 30; ++i) {
    ps.push_back(sy::random_problem(rng() % 20 + 1, rng() % 20 + 1, rng() % 20 + 1, i));
  }
  const sy::SystolicResult r = sy::run_systolic(5, 3, Df::kWs, ps);
  REQUIRE(r.runs.size() == ps.size());
  int64_t start = 0;
  for (size_t i = 0; i < ps.size(); ++i) {
    const sy::GemmProblem& p = ps[i];
    CAPTURE(i, p.m, p.n, p.k);
    CHECK(r.runs[i].first_cycle == start);
    CHECK(r.runs[i].cycles == ss::gemm_cycles(5, 3, Df::kWs, p.m, p.n, p.k).compute_cycles);
    CHECK(sy::compare_exact(r.runs[i].c, sy::array_order_gemm(p, Df::kWs, 5)).exact);
    CHECK(r.runs[i].macs == p.m * p.n * p.k);
    start += r.runs[i].cycles;
  }
  CHECK(r.total_cycles == start);
  // SystemC allows one simulation per process: a second run is refused with a SimFault.
  CHECK_THROWS_AS(sy::run_systolic(2, 2, Df::kOs, ps), trnsim::SimFault);
}

TEST_CASE("systolic property: random shapes and dataflows match the fast model", "[systolic]") {
  // 180 runs of `trnsim systolic` (one process each): rows/cols 1..32, M/N/K 1..100, the three
  // dataflows in turn. Cycles must equal models/scalesim's compute cycles (and the closed form);
  // results are bit-exact against the array-order fp32 GEMM and model::execute, and within the
  // summation-order bound of a plain fp32 GEMM (the CLI exits 3 otherwise).
  std::mt19937 rng(2024);
  const auto pick = [&rng](int lo, int hi) {
    // Bias towards the edges (1 and the maximum) a quarter of the time.
    const unsigned u = rng() % 8;
    if (u == 0) return lo;
    if (u == 1) return hi;
    return static_cast<int>(lo + rng() % (hi - lo + 1));
  };
  std::map<std::string, int> coverage;
  const Df dfs[3] = {Df::kOs, Df::kWs, Df::kIs};
  for (int i = 0; i < 180; ++i) {
    const Df df = dfs[i % 3];
    const int r = pick(1, 32), c = pick(1, 32);
    const int m = pick(1, 100), n = pick(1, 100), k = pick(1, 100);
    const std::string args =
        "--rows " + std::to_string(r) + " --cols " + std::to_string(c) + " --dataflow " +
        ss::dataflow_name(df) + " --m " + std::to_string(m) + " --n " + std::to_string(n) +
        " --k " + std::to_string(k) + " --seed " + std::to_string(i);
    CAPTURE(args);
    const Run run = run_trnsim(args, "prop");
    REQUIRE(run.code == 0);
    const auto g = ss::gemm_cycles(r, c, df, m, n, k);
    CHECK(g.compute_cycles == expected_cycles(r, c, df, m, n, k));
    CHECK(cycles_after(run.out, "per-PE model:") == g.compute_cycles);
    CHECK(cycles_after(run.out, "fast model:") == g.compute_cycles);
    CHECK(run.out.find("array order: bit-exact") != std::string::npos);
    CHECK(run.out.find("(bf16 operands): bit-exact") != std::string::npos);
    CHECK(run.out.find("within the summation-order bound") != std::string::npos);
    const auto& mp = g.mapping;
    coverage[std::string(ss::dataflow_name(df))]++;
    coverage[mp.row_folds > 1 ? "row folds > 1" : "row folds = 1"]++;
    coverage[mp.col_folds > 1 ? "col folds > 1" : "col folds = 1"]++;
    if (mp.sr % r != 0 || mp.sc % c != 0) coverage["partial fold"]++;
    if (df != Df::kOs && k > r) coverage["ws/is K blocked"]++;
    if (r == 1 || c == 1) coverage["1-wide array"]++;
    if (r == 32 && c == 32) coverage["32x32 array"]++;
  }
  for (const auto& [what, count] : coverage) WARN(what << ": " << count << " runs");
  CHECK(coverage["os"] == 60);
  CHECK(coverage["ws"] == 60);
  CHECK(coverage["is"] == 60);
  CHECK(coverage["row folds > 1"] >= 30);
  CHECK(coverage["row folds = 1"] >= 10);
  CHECK(coverage["col folds > 1"] >= 30);
  CHECK(coverage["col folds = 1"] >= 10);
  CHECK(coverage["partial fold"] >= 30);
  CHECK(coverage["ws/is K blocked"] >= 20);
  CHECK(coverage["1-wide array"] >= 5);
}

TEST_CASE("systolic VCD waveform has a header with every PE register and value changes",
          "[systolic]") {
  const fs::path dir = fs::temp_directory_path() / "trnsim_systolic_vcd";
  fs::create_directories(dir);
  const std::string vcd = (dir / "wave.vcd").string();
  fs::remove(vcd);
  // 2x3 os array, M=3 N=4 K=5: 2 x 2 folds of K+R+C-2 = 8 cycles = 32 cycles (0..31).
  const Run run = run_trnsim("--rows 2 --cols 3 --dataflow os --m 3 --n 4 --k 5 --vcd " + vcd,
                             "vcd");
  REQUIRE(run.code == 0);
  CHECK(cycles_after(run.out, "per-PE model:") == 32);
  REQUIRE(fs::exists(vcd));
  for (const auto& e : fs::directory_iterator(dir)) {  // no temporary left behind
    CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
  }
  const std::string text = trnsim::read_text_file(vcd);
  std::istringstream in(text);
  std::string line;
  bool timescale = false, enddefs = false;
  int depth = 0, max_depth = 0;
  std::map<std::string, std::string> ids;  // VCD id -> scoped name
  std::vector<std::string> scope;
  std::set<std::string> names;
  // Header: $timescale, balanced $scope/$upscope, $var TYPE SIZE ID NAME $end, $enddefinitions.
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string w;
    ls >> w;
    if (w == "$timescale") {
      timescale = true;
      if (line.find("$end") == std::string::npos) {
        std::getline(in, line);  // SystemC writes the unit on the next line
        CHECK(line.find("1 ps") != std::string::npos);
      } else {
        CHECK(line.find("1 ps") != std::string::npos);
      }
    } else if (w == "$scope") {
      std::string kind, name;
      ls >> kind >> name;
      CHECK(kind == "module");
      scope.push_back(name);
      max_depth = std::max(max_depth, ++depth);
    } else if (w == "$upscope") {
      REQUIRE(depth > 0);
      --depth;
      scope.pop_back();
    } else if (w == "$var") {
      std::string type, id, name, end;
      int size = 0;
      ls >> type >> size >> id >> name;
      CHECK((type == "real" || type == "wire"));
      CHECK(size > 0);
      std::string full;
      for (const auto& s : scope) full += s + ".";
      ids[id] = full + name;
      names.insert(full + name);
    } else if (w == "$enddefinitions") {
      enddefs = true;
      break;
    }
  }
  CHECK(timescale);
  REQUIRE(enddefs);
  CHECK(depth == 0);
  CHECK(max_depth >= 2);  // SystemC.pe_i_j
  // Every PE's h/v/acc, both edges' feeds and the counters are declared.
  const auto has = [&names](const std::string& suffix) {
    for (const auto& n : names) {
      if (n.size() >= suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(),
                                                 suffix) == 0) return true;
    }
    return false;
  };
  CHECK(has("cycle"));
  CHECK(has("fold"));
  for (int i = 0; i < 2; ++i) CHECK(has("feed.row_" + std::to_string(i)));
  for (int j = 0; j < 3; ++j) CHECK(has("feed.col_" + std::to_string(j)));
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) {
      for (const char* reg : {"h", "v", "acc"}) {
        CHECK(has("pe_" + std::to_string(i) + "_" + std::to_string(j) + "." + reg));
      }
    }
  }
  CHECK(ids.size() == 2 + 2 + 3 + 2 * 3 * 3);
  // Value changes: increasing #times (ps: cycle t's rising edge is at t*1000), every id
  // declared; the cycle counter reaches 31; the last timestamp is the stop edge, 32000.
  std::string cycle_id;
  for (const auto& [id, name] : ids) {
    if (name.size() >= 5 && name.compare(name.size() - 5, 5, "cycle") == 0) cycle_id = id;
  }
  REQUIRE(!cycle_id.empty());
  long long last_time = -1, changes = 0, last_cycle = -1;
  while (std::getline(in, line)) {
    if (line.rfind("$comment", 0) == 0) {  // skip the comment block
      while (line.find("$end") == std::string::npos && std::getline(in, line)) {
      }
      continue;
    }
    if (line.empty() || line[0] == '$') continue;  // $dumpvars ... $end around initial values
    if (line[0] == '#') {
      const long long t = std::stoll(line.substr(1));
      CHECK(t > last_time);
      last_time = t;
      continue;
    }
    std::string id, value;
    if (line[0] == 'r' || line[0] == 'b') {
      const size_t sp = line.find(' ');
      REQUIRE(sp != std::string::npos);
      value = line.substr(1, sp - 1);
      id = line.substr(sp + 1);
    } else {
      value = line.substr(0, 1);
      id = line.substr(1);
    }
    INFO(line);
    REQUIRE(ids.count(id) == 1);
    ++changes;
    if (id == cycle_id) {
      last_cycle = static_cast<long long>(std::stoull(value, nullptr, line[0] == 'b' ? 2 : 10));
    }
  }
  CHECK(changes > 100);
  CHECK(last_time == 32000);
  CHECK(last_cycle == 31);
}

TEST_CASE("systolic CLI errors are one line with exit code 2", "[systolic]") {
  Run r = run_trnsim("--rows 0 --cols 2 --dataflow ws --m 2 --n 2 --k 2", "err");
  CHECK(r.code == 2);
  r = run_trnsim("--rows 2 --cols 2 --dataflow xs --m 2 --n 2 --k 2", "err");
  CHECK(r.code == 2);
  r = run_trnsim("--rows 2 --cols 2 --dataflow ws --m 0 --n 2 --k 2", "err");
  CHECK(r.code == 2);
  r = run_trnsim("--rows 2 --cols 2 --dataflow ws --m 2 --n 2 --k 2 --vcd /nonexistent/dir/w.vcd",
                 "err");
  CHECK(r.code == 2);
  CHECK(r.err.find("/nonexistent/dir/w.vcd") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.out.empty());
}
