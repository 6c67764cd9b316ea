// Sweep runner tests: listing, spec errors, results, kill + resume, shards + merge, report.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

const std::string kSpec = std::string(TRNSIM_TEST_DATA) + "/sweep/data/eight_points.yaml";

struct Result {
  int code;
  std::string out;
};

Result run(const std::string& args) {
  std::string cmd = std::string(TRNSIM_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path scratch(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("trnsim_sweep_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

size_t lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

// The header and the cells of each row of a results table (no quoted cells in these tests).
std::vector<std::vector<std::string>> csv_rows(const std::string& csv, std::string* header) {
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  if (header) *header = line;
  std::vector<std::vector<std::string>> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ls(line);
    std::string c;
    while (std::getline(ls, c, ',')) cells.push_back(c);
    rows.push_back(cells);
  }
  return rows;
}

}  // namespace

TEST_CASE("sweep --list prints the grid in order", "[sweep]") {
  Result r = run("sweep " + kSpec + " --list");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("     0 ") != std::string::npos);
  CHECK(r.out.find("pe.clock_ghz=0.5 dma.engine_gbps=5\n") != std::string::npos);
  CHECK(r.out.find("pe.clock_ghz=1.0 dma.engine_gbps=40\n") != std::string::npos);
  CHECK(r.out.find("8 design points") != std::string::npos);
  Result s = run("sweep " + kSpec + " --list --shard 2/4");
  CHECK(s.out.find("2 design points") != std::string::npos);
}

TEST_CASE("sweep results: one ok row per point, latency falls with DMA bandwidth", "[sweep]") {
  fs::path d = scratch("results");
  Result r = run("sweep " + kSpec + " -o " + (d / "r.csv").string() + " -j 2");
  REQUIRE(r.code == 0);
  std::string csv = slurp(d / "r.csv");
  REQUIRE(lines(csv) == 9);
  CHECK(csv.rfind("index,id,workload,pe.clock_ghz,dma.engine_gbps,status,sim_time_ns,", 0) == 0);
  CHECK(lines(slurp(d / "r.csv.jsonl")) == 8);
  // Rows sorted by index; read sim_time_ns of points 4..7 (pe 1 GHz, DMA 5..40 GB/s).
  std::vector<double> t;
  for (const auto& cells : csv_rows(csv, nullptr)) {
    REQUIRE(cells.size() >= 7);
    CHECK(cells[5] == "ok");
    t.push_back(std::stod(cells[6]));
  }
  REQUIRE(t.size() == 8);
  CHECK(t[4] > t[5]);
  CHECK(t[5] > t[6]);
  CHECK(t[6] > t[7]);
  // Refuses to overwrite an existing table without --resume.
  Result again = run("sweep " + kSpec + " -o " + (d / "r.csv").string());
  CHECK(again.code == 2);
  CHECK(again.out.find("exists; use --resume") != std::string::npos);
  fs::remove_all(d);
}

TEST_CASE("a killed sweep resumes to the same table as an uninterrupted run", "[sweep]") {
  fs::path d = scratch("resume");
  REQUIRE(run("sweep " + kSpec + " -o " + (d / "full.csv").string() + " -j 1").code == 0);
  std::string part = (d / "part.csv").string();
  pid_t pid = fork();
  if (pid == 0) {
    int fd = ::open("/dev/null", O_WRONLY);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(TRNSIM_BINARY, TRNSIM_BINARY, "sweep", kSpec.c_str(), "-o", part.c_str(), "-j", "1",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill it once some but not all rows are in.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  size_t rows = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    rows = fs::exists(part) ? lines(slurp(part)) : 0;
    if (rows >= 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  size_t at_kill = lines(slurp(part));
  INFO("rows when killed: " << at_kill);
  REQUIRE(at_kill >= 3);
  REQUIRE(at_kill < 9);
  Result r = run("sweep " + kSpec + " -o " + part + " --resume -j 2");
  REQUIRE(r.code == 0);
  CHECK(slurp(part) == slurp(d / "full.csv"));
  fs::remove_all(d);
}

TEST_CASE("shards merge into the full table; missing and duplicate shards are errors", "[sweep]") {
  fs::path d = scratch("shards");
  REQUIRE(run("sweep " + kSpec + " -o " + (d / "full.csv").string()).code == 0);
  std::string shards;
  for (int k = 1; k <= 3; ++k) {
    std::string out = (d / ("s" + std::to_string(k) + ".csv")).string();
    REQUIRE(run("sweep " + kSpec + " --shard " + std::to_string(k) + "/3 -o " + out).code == 0);
    shards += " " + out;
  }
  Result m = run("sweep merge" + shards + " --spec " + kSpec + " -o " + (d / "m.csv").string());
  REQUIRE(m.code == 0);
  CHECK(slurp(d / "m.csv") == slurp(d / "full.csv"));
  Result missing = run("sweep merge " + (d / "s1.csv").string() + " " + (d / "s2.csv").string() +
                       " --spec " + kSpec + " -o " + (d / "bad.csv").string());
  CHECK(missing.code == 2);
  CHECK(missing.out.find("points missing") != std::string::npos);
  Result dup = run("sweep merge " + (d / "s1.csv").string() + " " + (d / "s1.csv").string() +
                   " -o " + (d / "bad.csv").string());
  CHECK(dup.code == 2);
  CHECK(dup.out.find("is also in") != std::string::npos);
  CHECK_FALSE(fs::exists(d / "bad.csv"));
  CHECK(run("sweep x --shard 4/3 --list").code == 2);
  fs::remove_all(d);
}

TEST_CASE("sweep spec errors name the file and the problem", "[sweep]") {
  fs::path d = scratch("errors");
  fs::path prog = fs::path(TRNSIM_TEST_DATA) / "../traces/01_matmul/matmul.tasm";
  auto check = [&](const std::string& body, const std::string& expect) {
    write(d / "s.yaml", body);
    Result r = run("sweep " + (d / "s.yaml").string() + " --list");
    INFO(r.out);
    CHECK(r.code == 2);
    CHECK(r.out.find(expect) != std::string::npos);
  };
  std::string wl = "workloads:\n  - program: " + prog.string() + "\n";
  check("chip: tiny\naxes:\n  pe.rowz: [1, 2]\n" + wl, "pe.rowz");
  check("chip: tiny\naxes:\n  pe.rows: [0]\n" + wl, "pe.rows");
  check("chip: nosuchchip\n" + wl, "nosuchchip");
  check("chip: tiny\nmode: diagonal\n" + wl, "mode: expected grid, zip or random");
  check("chip: tiny\nworkloads:\n  - program: missing.tasm\n", "workload file not found");
  check("chip: tiny\nbogus: 1\n" + wl, "unknown key 'bogus'");
  check("chip: tiny\naxes: {pe.rows: {from: 4, to: 2, step: 1}}\n" + wl, "need step > 0 and to >= from");
  check("chip: [unclosed\n", "malformed YAML");
  check("chip: tiny\nworkloads:\n  - program: " + prog.string() + "\n    cores: 2\n",
        "cores: only for models");
  check("chip: tiny\nworkloads:\n  - program: " + prog.string() + "\n    cores: many\n",
        "cores: expected a positive integer or all");
  fs::remove_all(d);
}

TEST_CASE("a model workload with cores: all is compiled data parallel for each core count",
          "[sweep]") {
  // The batch-4 BERT-style layer of the e2e tests, swept over the chip's core count: with two
  // cores each runs half the batch, so the simulated time must drop.
  fs::path d = scratch("cores");
  const std::string gen = "/usr/bin/python3 " + std::string(TRNSIM_TEST_DATA) +
                          "/models/make_models.py " + d.string() + " dp_hf_bert > /dev/null";
  REQUIRE(std::system(gen.c_str()) == 0);
  write(d / "s.yaml",
        "chip: trn1\naxes:\n  cores: [1, 2]\nworkloads:\n  - model: dp_hf_bert.onnx\n"
        "    shapes: {ids: [4, 12], mask: [4, 12]}\n    cores: all\noptions:\n"
        "  timing-only: true\n");
  Result r = run("sweep " + (d / "s.yaml").string() + " -o " + (d / "r.csv").string() + " -j 2");
  INFO(r.out);
  REQUIRE(r.code == 0);
  std::string header;
  const auto rows = csv_rows(slurp(d / "r.csv"), &header);
  REQUIRE(header.rfind("index,id,workload,cores,status,sim_time_ns,", 0) == 0);
  std::vector<double> t;
  for (const auto& cells : rows) {
    REQUIRE(cells.size() >= 6);
    CHECK(cells[4] == "ok");
    t.push_back(std::stod(cells[5]));
  }
  REQUIRE(t.size() == 2);
  CHECK(t[1] < 0.9 * t[0]);
  fs::remove_all(d);
}

TEST_CASE("sweep report writes a Pareto plot and summary", "[sweep]") {
  fs::path d = scratch("report");
  REQUIRE(run("sweep " + kSpec + " -o " + (d / "r.csv").string()).code == 0);
  Result r = run("sweep report " + (d / "r.csv").string() + " -o " + (d / "rep").string());
  REQUIRE(r.code == 0);
  std::string svg = slurp(d / "rep/pareto.svg");
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("Pareto front") != std::string::npos);
  std::string md = slurp(d / "rep/summary.md");
  CHECK(md.find("8 design points, 8 ok") != std::string::npos);
  CHECK(lines(slurp(d / "rep/pareto.csv")) >= 2);
  fs::remove_all(d);
}

namespace {

std::vector<std::string> sorted_lines(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) v.push_back(line);
  std::sort(v.begin(), v.end());
  return v;
}

// A sweep of the e2e test's small encoder over `axes` (YAML lines under `axes:`); returns its
// stdout and leaves the table in DIR/NAME.csv.
Result sweep_encoder(const fs::path& d, const std::string& name, const std::string& axes,
                     const std::string& flags = "") {
  if (!fs::exists(d / "encoder_small.onnx")) {
    const std::string gen = "/usr/bin/python3 " + std::string(TRNSIM_TEST_DATA) +
                            "/models/make_models.py " + d.string() + " encoder_small > /dev/null";
    REQUIRE(std::system(gen.c_str()) == 0);
  }
  write(d / (name + ".yaml"), "chip: trn1\naxes:\n" + axes +
                                  "workloads:\n  - model: encoder_small.onnx\n"
                                  "    shapes: {x: [1, 32, 64]}\n");
  return run("sweep " + (d / (name + ".yaml")).string() + " -o " + (d / (name + ".csv")).string() +
             " -j 2 " + flags);
}

}  // namespace

TEST_CASE("the compile cache: software-visible parameters recompile, clocks and bandwidths do not",
          "[sweep]") {
  fs::path d = scratch("cache");
  // 2 clocks x 2 DMA bandwidths: one program for all four points.
  Result r = sweep_encoder(d, "timing", "  pe.clock_ghz: [1.4, 2.8]\n  dma.engine_gbps: [8, 32]\n");
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("4 design points, 0 not ok, 1 model compilation(s);") != std::string::npos);
  // 2 clocks x 2 SBUF sizes: the SBUF size is software-visible (the allocator plans for it), so
  // two programs; the clock still is not.
  r = sweep_encoder(d, "sbuf", "  pe.clock_ghz: [1.4, 2.8]\n  sbuf.bytes_per_partition: [65536, 196608]\n");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("4 design points, 0 not ok, 2 model compilation(s);") != std::string::npos);
  // Every isa::Target field is software-visible: PE array, PSUM, semaphores, queues, cores each
  // give their own program.
  r = sweep_encoder(d, "target", "  pe.rows: [64, 128]\n  dma.queues: [8, 16]\n");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("4 design points, 0 not ok, 4 model compilation(s);") != std::string::npos);
  // Without the cache every point compiles for itself: the same tables.
  for (const std::string name : {"timing", "sbuf", "target"}) {
    INFO(name);
    const auto& axes = name == "timing"
                           ? "  pe.clock_ghz: [1.4, 2.8]\n  dma.engine_gbps: [8, 32]\n"
                           : name == "sbuf" ? "  pe.clock_ghz: [1.4, 2.8]\n  sbuf.bytes_per_partition: [65536, 196608]\n"
                                            : "  pe.rows: [64, 128]\n  dma.queues: [8, 16]\n";
    Result u = sweep_encoder(d, name + "_uncached", axes, "--no-compile-cache");
    REQUIRE(u.code == 0);
    CHECK(u.out.find("compilation") == std::string::npos);
    CHECK(slurp(d / (name + "_uncached.csv")) == slurp(d / (name + ".csv")));
    // The full stats of every point too (JSON lines, in the order the points finished).
    CHECK(sorted_lines(slurp(d / (name + "_uncached.csv.jsonl"))) ==
          sorted_lines(slurp(d / (name + ".csv.jsonl"))));
  }
  // The timing points really differ (the cache did not hand out one result).
  const auto rows = csv_rows(slurp(d / "timing.csv"), nullptr);
  REQUIRE(rows.size() == 4);
  CHECK(rows[0][6] != rows[3][6]);
  fs::remove_all(d);
}

TEST_CASE("a resumed sweep reuses what the killed one compiled, unless the model changed",
          "[sweep]") {
  fs::path d = scratch("cache_resume");
  std::string clocks;
  for (int i = 0; i < 40; ++i) clocks += (i ? ", " : "") + std::to_string(1.0 + 0.05 * i);
  Result r = sweep_encoder(d, "full", "  pe.clock_ghz: [" + clocks + "]\n");
  REQUIRE(r.code == 0);
  const std::string part = (d / "part.csv").string(), spec = (d / "part.yaml").string();
  fs::copy_file(d / "full.yaml", spec);
  auto kill_part_way = [&] {
    pid_t pid = fork();
    if (pid == 0) {
      int fd = ::open("/dev/null", O_WRONLY);
      dup2(fd, 1);
      dup2(fd, 2);
      execl(TRNSIM_BINARY, TRNSIM_BINARY, "sweep", spec.c_str(), "-o", part.c_str(), "-j", "1",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    // A row is in only after the model was compiled.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline &&
           (!fs::exists(part) || lines(slurp(part)) < 3))
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    REQUIRE(lines(slurp(part)) >= 3);
    REQUIRE(lines(slurp(part)) < 41);
  };
  kill_part_way();
  r = run("sweep " + spec + " -o " + part + " --resume -j 2");
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("0 model compilation(s) (1 reused from the interrupted run)") !=
        std::string::npos);
  CHECK(slurp(part) == slurp(d / "full.csv"));
  // A model rewritten between the kill and the resume (new modification time) is compiled again.
  fs::remove(part);
  kill_part_way();
  fs::last_write_time(d / "encoder_small.onnx",
                      fs::last_write_time(d / "encoder_small.onnx") + std::chrono::seconds(5));
  r = run("sweep " + spec + " -o " + part + " --resume -j 2");
  REQUIRE(r.code == 0);
  CHECK(r.out.find(", 1 model compilation(s);") != std::string::npos);
  fs::remove_all(d);
}
