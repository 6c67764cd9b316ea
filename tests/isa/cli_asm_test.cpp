// The asm/disasm/validate/isa-doc subcommands of the trnsim binary: exit codes and output files.
#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "isa/asm.h"
#include "support/file_util.h"

namespace {

std::string tmp_dir() {
  static const std::string dir = [] {
    std::string d = "/tmp/trnsim_cli_asm_" + std::to_string(::getpid());
    std::system(("mkdir -p " + d).c_str());
    return d;
  }();
  return dir;
}

// Runs trnsim with `args`; returns the exit code; stderr goes to `err` if given.
int run(const std::string& args, std::string* out = nullptr, std::string* err = nullptr) {
  std::string o = tmp_dir() + "/stdout", e = tmp_dir() + "/stderr";
  int status = std::system((std::string(TRNSIM_BINARY) + " " + args + " >" + o + " 2>" + e).c_str());
  if (out) *out = trnsim::read_text_file(o);
  if (err) *err = trnsim::read_text_file(e);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool exists(const std::string& path) { return std::ifstream(path).good(); }

const char* kProgram =
    "# demo\n"
    "\n"
    ".tensor a input bf16 [128, 512]\n"
    "\n"
    ".core 0\n"
    ".engine sp\n"
    "  dma q0, sbuf[0:128]+0:bf16[1,512], hbm.a+0:bf16{512,128}[1,512]  inc(s0)\n";

}  // namespace

TEST_CASE("trnsim asm and disasm round-trip a program through files", "[isa]") {
  std::string d = tmp_dir();
  std::string tasm = d + "/p.tasm", tbin = d + "/p.tbin", back = d + "/back.tasm";
  trnsim::write_file_atomic(tasm, std::string(kProgram));
  CHECK(run("asm " + tasm + " -o " + tbin) == 0);
  REQUIRE(exists(tbin));
  std::string out;
  CHECK(run("disasm " + tbin, &out) == 0);
  CHECK(out == kProgram);
  CHECK(run("disasm " + tbin + " -o " + back) == 0);
  CHECK(trnsim::read_text_file(back) == kProgram);
  CHECK(run("validate " + tbin + " --chip trn1", &out) == 0);
  CHECK(out == tbin + ": ok (1 instructions)\n");
}

TEST_CASE("trnsim asm on a bad program exits 2 and writes nothing", "[isa]") {
  std::string d = tmp_dir();
  std::string bad = std::string(TRNSIM_TEST_DATA) + "/bad_inputs/isa/undefined_label.tasm";
  std::string tbin = d + "/bad.tbin";
  std::remove(tbin.c_str());
  std::string err;
  CHECK(run("asm " + bad + " -o " + tbin, nullptr, &err) == 2);
  CHECK(err == "trnsim: error: " + bad + ":4:14: undefined label 'nowhere'\n");
  CHECK(!exists(tbin));
  // No temporary file left either.
  int status = std::system(("ls " + d + " | grep -q 'bad.tbin'").c_str());
  CHECK(WEXITSTATUS(status) != 0);
}

TEST_CASE("trnsim disasm on a corrupt or future .tbin exits 2 with a one-line message", "[isa]") {
  std::string d = tmp_dir();
  std::string tasm = d + "/q.tasm", tbin = d + "/q.tbin";
  trnsim::write_file_atomic(tasm, std::string(kProgram));
  REQUIRE(run("asm " + tasm + " -o " + tbin) == 0);
  std::vector<uint8_t> bytes = trnsim::read_binary_file(tbin);
  std::vector<uint8_t> future = bytes;
  future[4] = 9;
  trnsim::write_file_atomic(d + "/future.tbin", future.data(), future.size());
  std::string err;
  CHECK(run("disasm " + d + "/future.tbin", nullptr, &err) == 2);
  CHECK(err == "trnsim: error: " + d + "/future.tbin: unsupported .tbin version 9 (this trnsim reads 1 to 2)\n");
  trnsim::write_file_atomic(d + "/short.tbin", bytes.data(), bytes.size() - 3);
  CHECK(run("disasm " + d + "/short.tbin", nullptr, &err) == 2);
  CHECK(err.rfind("trnsim: error: " + d + "/short.tbin: truncated .tbin at byte", 0) == 0);
  CHECK(run("disasm " + d + "/missing.tbin", nullptr, &err) == 2);
  CHECK(run("asm " + tasm + " -o " + d + "/out.txt", nullptr, &err) == 2);
  CHECK(err == "trnsim: error: " + d + "/out.txt: unknown program file extension (expected .tasm or .tbin)\n");
}

TEST_CASE("trnsim validate reports problems and exits 2", "[isa]") {
  std::string d = tmp_dir();
  std::string tasm = d + "/v.tasm";
  trnsim::write_file_atomic(tasm, std::string(".core 0\n.engine sp\n  nop  inc(s200)\n"));
  std::string err;
  CHECK(run("validate " + tasm + " --chip trn1", nullptr, &err) == 2);
  CHECK(err.find(tasm + ":3: core 0 sp #0 (nop): increment semaphore s200 >=") == 0);
  CHECK(err.find("trnsim: error: " + tasm + ": 1 problem found\n") != std::string::npos);
}

TEST_CASE("trnsim isa-doc prints the reference", "[isa]") {
  std::string out;
  CHECK(run("isa-doc", &out) == 0);
  CHECK(out == trnsim::read_text_file(TRNSIM_TEST_DATA "/../docs/isa.md"));
}
