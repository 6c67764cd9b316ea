// `trnsim collectives` through the built binary: rows, JSON, check, and one-line errors.
#include <catch2/catch.hpp>

#include "tests/common/run_trnsim.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using trnsim::test::Run;
using trnsim::test::run_trnsim;

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace

TEST_CASE("collectives: rows, JSON and a numerics check on tiny4", "[system][cli]") {
  const std::string json = "/tmp/trnsim_cli_collectives_" + std::to_string(::getpid()) + ".json";
  Run r = run_trnsim("collectives --system tiny4 --op all_reduce --bytes 1K,64K --check --json " + json);
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("all_reduce on tiny4") != std::string::npos);
  CHECK(r.out.find("  ok") != std::string::npos);
  std::ifstream f(json);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string j = ss.str();
  CHECK(j.find("\"op\": \"all_reduce\"") != std::string::npos);
  CHECK(j.find("\"bytes\": 65536") != std::string::npos);
  CHECK(j.find("\"busbw_gbps\"") != std::string::npos);
  CHECK(j.find("\"mismatches\": 0") != std::string::npos);
  std::remove(json.c_str());
}

TEST_CASE("collectives: per-link stats and a trace with rank and link tracks", "[system][cli]") {
  const std::string base = "/tmp/trnsim_cli_coll_" + std::to_string(::getpid());
  Run r = run_trnsim("collectives --system tiny4 --op all_gather --algo ring --bytes 64K --stats " +
                     base + ".stats.json --trace " + base + ".trace.json");
  INFO(r.out);
  REQUIRE(r.status == 0);
  auto slurp = [](const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  };
  const std::string st = slurp(base + ".stats.json"), tr = slurp(base + ".trace.json");
  CHECK(st.find("\"name\": \"c0.x+\", \"kind\": \"neuronlink\"") != std::string::npos);
  CHECK(st.find("\"utilisation\"") != std::string::npos);
  CHECK(tr.find("\"name\":\"links\"") != std::string::npos);
  CHECK(tr.find("\"name\":\"c0.x+\"") != std::string::npos);
  CHECK(tr.find("\"name\":\"all-gather\"") != std::string::npos);
  std::remove((base + ".stats.json").c_str());
  std::remove((base + ".trace.json").c_str());
}

TEST_CASE("collectives: bad requests are one-line errors with exit 2", "[system][cli]") {
  struct Case {
    const char* args;
    const char* says;
  };
  const Case cases[] = {
      {"collectives --system tiny4 --op allreduce", "unknown collective 'allreduce'"},
      {"collectives --system tiny4 --algo fastest", "unknown algorithm 'fastest'"},
      {"collectives --system tiny4 --bytes 1X", "'1X' is not a size"},
      {"collectives --system tiny4 --group 0,1,99", "rank 99 does not exist"},
      {"collectives --system tiny4 --group 0,1,1", "listed twice"},
      {"collectives --system tiny4 --ranks 6 --algo rdh", "power-of-two"},
      {"collectives --system tiny4 --op all_gather --algo hier", "all_reduce only"},
      {"collectives --system tiny4 --ranks 99", "the system has 8 ranks"},
      {"collectives --system tiny4 --dtype fp8", "not fp32 or bf16"},
      {"collectives --system tiny4 --min 1K --max 8", "below --min"},
      {"collectives --system nosuch", "nosuch"},
      {"collectives --system tiny4 --set link.latency_ns=-1", "link.latency_ns"},
  };
  for (const Case& c : cases) {
    INFO(c.args);
    Run r = run_trnsim(c.args);
    INFO(r.out);
    CHECK(r.status == 2);
    CHECK(r.out.find(c.says) != std::string::npos);
    CHECK(lines(r.out) == 1);
  }
}
