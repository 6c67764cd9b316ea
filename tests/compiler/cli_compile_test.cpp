// `trnsim compile` end to end through the binary: outputs, exit codes, one-line errors,
// --dump-after. Models are made by tests/models/make_models.py.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace {

struct Run {
  int code = -1;
  std::string out;
};

Run run(const std::string& cmd) {
  Run r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
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
    char tmpl[] = "/tmp/trnsim_cc_XXXXXX";
    std::string dir = mkdtemp(tmpl);
    return dir;
  }();
  return d;
}

std::string make_model(const std::string& name) {
  std::string dir = tmp_dir();
  Run r = run(std::string("/usr/bin/python3 ") + TRNSIM_TEST_DATA + "/models/make_models.py " +
              dir + " " + name);
  REQUIRE(r.code == 0);
  return dir + "/" + name + ".onnx";
}

const std::string kBin = TRNSIM_BINARY;

}  // namespace

TEST_CASE("trnsim compile writes .tasm and .tbin that disassemble the same", "[compiler][cli]") {
  std::string m = make_model("mlp");
  std::string d = tmp_dir();
  REQUIRE(run(kBin + " compile " + m + " --chip tiny -o " + d + "/mlp.tasm").code == 0);
  REQUIRE(run(kBin + " compile " + m + " --chip tiny -o " + d + "/mlp.tbin").code == 0);
  Run a = run(kBin + " disasm " + d + "/mlp.tasm");
  Run b = run(kBin + " disasm " + d + "/mlp.tbin");
  REQUIRE(a.code == 0);
  CHECK(a.out == b.out);
  CHECK(a.out.find(".tensor x input fp32 [8, 64]") != std::string::npos);
  CHECK(a.out.find(".tensor y output fp32 [8, 10]") != std::string::npos);
  CHECK(a.out.find("@fc1") != std::string::npos);
}

TEST_CASE("trnsim compile --dump-after prints the IR after that pass", "[compiler][cli]") {
  std::string m = make_model("mlp");
  Run r = run(kBin + " compile " + m + " -o " + tmp_dir() + "/x.tasm --dump-after=fuse_epilogue");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("= MatMul(%x:fp32[8,64], %w1:fp32[64,256]=const, %b1:fp32[256]=const) "
                   "{_act=\"Relu\"} @fc1") != std::string::npos);
  r = run(kBin + " compile " + m + " -o " + tmp_dir() + "/x.tasm --dump-after=insert_sync");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("pe   matmul psum[") != std::string::npos);
  r = run(kBin + " compile " + m + " -o " + tmp_dir() + "/x.tasm --dump-after=bogus");
  CHECK(r.code == 2);
  CHECK(r.out.rfind("trnsim: error: --dump-after=bogus: no such pass; passes: frontend,", 0) == 0);
}

TEST_CASE("trnsim compile: bad inputs exit 2 with one line and write nothing", "[compiler][cli]") {
  std::string d = tmp_dir();
  {
    std::ofstream f(d + "/junk.onnx");
    f << "this is not a protobuf";
  }
  Run r = run(kBin + " compile " + d + "/junk.onnx -o " + d + "/junk.tasm");
  CHECK(r.code == 2);
  CHECK(r.out == "trnsim: error: " + d +
                     "/junk.onnx: not a valid ONNX model (truncated or invalid protobuf)\n");
  CHECK(!std::ifstream(d + "/junk.tasm").good());
  std::string m = make_model("op_relu");
  r = run(kBin + " compile " + m + " -o " + d + "/r.tasm --shape x=4x201");
  CHECK(r.code == 2);
  CHECK(r.out == "trnsim: error: " + m + ": --shape x: dimension 1 is 200 in the model, not 201\n");
  r = run(kBin + " compile " + m + " -o " + d + "/r.tasm --shape x=4xq");
  CHECK(r.code == 2);
  CHECK(r.out == "trnsim: error: --shape x=4xq: 'q' is not an integer >= 0\n");
  r = run(kBin + " compile " + m + " -o " + d + "/r.txt");
  CHECK(r.code == 2);
  CHECK(r.out == "trnsim: error: -o " + d + "/r.txt: expected a .tasm or .tbin file name\n");
}
