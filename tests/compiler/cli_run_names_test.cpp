// `trnsim run` on models through the binary: output file names (DIR/NAME.npy, only
// [A-Za-z0-9_.-] kept, collisions numbered), --input by the model's names, inputs whose .npy
// gives the shape, rank-0 inputs and outputs. Models are made by tests/models/make_models.py.
#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tools/npy.h"

namespace {

namespace fs = std::filesystem;
using trnsim::cli::NpyArray;
using trnsim::cli::read_npy;
using trnsim::cli::write_npy;
using trnsim::isa::DType;

struct Run {
  int code = -1;
  std::string out;
};

Run run(const std::string& args) {
  Run r;
  FILE* p = popen((std::string(TRNSIM_BINARY) + " " + args + " 2>&1").c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string tmp_dir() {
  static std::string d = [] {
    char tmpl[] = "/tmp/trnsim_names_XXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  return d;
}

std::string make_model(const std::string& name) {
  std::string dir = tmp_dir();
  std::string cmd = std::string("/usr/bin/python3 ") + TRNSIM_TEST_DATA +
                    "/models/make_models.py " + dir + " " + name + " > /dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  return dir + "/" + name + ".onnx";
}

std::string npy(const std::string& name, std::vector<int64_t> shape, std::vector<float> v) {
  std::vector<uint8_t> bytes(v.size() * 4);
  std::memcpy(bytes.data(), v.data(), bytes.size());
  std::string path = tmp_dir() + "/" + name + ".npy";
  write_npy(path, NpyArray{DType::Fp32, std::move(shape), std::move(bytes)});
  return path;
}

std::vector<float> floats(const NpyArray& a) {
  std::vector<float> v(a.data.size() / 4);
  std::memcpy(v.data(), a.data.data(), a.data.size());
  return v;
}

}  // namespace

TEST_CASE("run --output-dir writes DIR/NAME.npy under the model's output names", "[cli][e2e]") {
  const std::string m = make_model("scalar_io");
  const std::string x = npy("x5", {5, 4}, std::vector<float>(20, 2.0f));
  const std::string sr = npy("sr", {}, {0.25f});
  const std::string out = tmp_dir() + "/out";
  // No --shape: x's batch dimension is symbolic, its .npy says 5; sr is a scalar .npy.
  Run r = run("run " + m + " --input x=" + x + " --input sr=" + sr + " --output-dir " + out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("output 13: " + out + "/13.npy\n") != std::string::npos);
  CHECK(r.out.find("output 1 minute timer: " + out + "/1_minute_timer.npy\n") !=
        std::string::npos);
  CHECK(r.out.find("output {\"score\": 1}: " + out + "/__score___1_.npy\n") != std::string::npos);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(out)) files.push_back(e.path().filename());
  std::sort(files.begin(), files.end());
  CHECK(files == std::vector<std::string>{"13.npy", "1_minute_timer.npy", "__score___1_.npy"});
  NpyArray scaled = read_npy(out + "/13.npy");
  CHECK(scaled.shape == std::vector<int64_t>{5, 4});
  CHECK(floats(scaled) == std::vector<float>(20, 0.5f));  // 2 * 0.25
  NpyArray sum = read_npy(out + "/1_minute_timer.npy");
  CHECK(sum.shape.empty());  // rank 0 stays rank 0
  CHECK(floats(sum) == std::vector<float>{40.0f});
  CHECK(floats(read_npy(out + "/__score___1_.npy")) == std::vector<float>{1.25f});
}

TEST_CASE("run: --shape NAME= pins a scalar and a wrong .npy rank is one line", "[cli][e2e]") {
  const std::string m = make_model("scalar_io");
  const std::string out = tmp_dir() + "/gen";
  Run r = run("run " + m + " --shape x=2x4 --shape sr= --output-dir " + out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("input sr: generated from seed 0") != std::string::npos);
  CHECK(read_npy(out + "/1_minute_timer.npy").shape.empty());
  const std::string x3 = npy("x3d", {1, 2, 4}, std::vector<float>(8, 1.0f));
  r = run("run " + m + " --input x=" + x3 + " --shape sr=");
  CHECK(r.code == 2);
  CHECK(r.out == "trnsim: error: " + m + ": --input x (" + x3 +
                     ", shape [1,2,4]) has rank 3, the model's input has rank 2\n");
  // --shape wins over the file's shape; the file must then match it.
  const std::string x5 = npy("x5b", {5, 4}, std::vector<float>(20, 1.0f));
  r = run("run " + m + " --input x=" + x5 + " --shape x=3x4 --shape sr=");
  CHECK(r.code == 2);
  CHECK(r.out == "trnsim: error: " + x5 + ": fp32 [5, 4] does not match input 'x' fp32 [3, 4]\n");
}

TEST_CASE("run: --input takes the model's names and colliding output files are numbered",
          "[cli][e2e]") {
  const std::string m = make_model("names_collide");
  const std::string a = npy("a_colon_b", {2}, {1.0f, 2.0f});
  const std::string b = npy("a_underscore_b", {2}, {3.0f, 4.0f});
  // "a:b" and "a_b" are both a_b as identifiers; the program keeps the model's names.
  const std::string tbin = tmp_dir() + "/collide.tbin";
  REQUIRE(run("compile " + m + " -o " + tbin).code == 0);
  for (const std::string& prog : {m, tbin}) {
    const std::string out = tmp_dir() + "/collide_" + fs::path(prog).extension().string().substr(1);
    Run r = run("run " + prog + " --input a:b=" + a + " --input a_b=" + b + " --output-dir " + out);
    REQUIRE(r.code == 0);
    // Outputs "a/b" and "a|b" both sanitize to a_b: the second (model order) gets .2.
    CHECK(r.out.find("output a/b: " + out + "/a_b.npy\n") != std::string::npos);
    CHECK(r.out.find("output a|b: " + out + "/a_b.2.npy\n") != std::string::npos);
    CHECK(floats(read_npy(out + "/a_b.npy")) == std::vector<float>{1.0f, 2.0f});
    CHECK(floats(read_npy(out + "/a_b.2.npy")) == std::vector<float>{3.0f, 4.0f});
  }
  Run r = run("run " + tbin + " --input nope=" + a);
  CHECK(r.code == 2);
  CHECK(r.out == "trnsim: error: --input nope=" + a +
                     ": the program has no input 'nope' (inputs: a:b, a_b)\n");
}
