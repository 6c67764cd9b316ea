// Runs the built trnsim binary (TRNSIM_BINARY) from a test: exit status and output.
#pragma once

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace trnsim::test {

struct Run {
  int status;
  std::string out;  // stdout and stderr together
};

// `args` is appended to the binary's path as a shell command line.
inline Run run_trnsim(const std::string& args) {
  const std::string cmd = std::string(TRNSIM_BINARY) + " " + args + " 2>&1";
  Run r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace trnsim::test
