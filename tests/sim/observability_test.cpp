// Stats document and Chrome Trace Event timeline produced by a run.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <utility>

#include "sim_util.h"
#include "support/file_util.h"
#include "support/json.h"

using trnsim::test::run_tasm;

namespace {
const char* kProgram = R"(
.tensor a input bf16 [32, 128]
.tensor out output fp32 [32, 128]
.core 0
.engine sp
  dma q0, sbuf[0:32]+0:bf16[1,128], hbm.a+0:bf16{128,32}[1,128] inc(s0)
  dma q3, hbm.out+0:fp32{128,32}[1,128], sbuf[0:32]+1024:fp32[1,128] wait(s2>=1)
.engine pe
  matmul psum[0:32]+0:fp32[1,128], sbuf[0:32]+0:bf16[1,32], sbuf[0:32]+0:bf16[1,128], zero wait(s0>=1) inc(s1) @mm0
  matmul psum[0:32]+512:fp32[1,128], sbuf[0:32]+64:bf16[1,32], sbuf[0:32]+0:bf16[1,128], zero @mm1
.engine act
  act sbuf[0:32]+1024:fp32[1,128], psum[0:32]+0:fp32[1,128], relu, 1.0, 0.0, - wait(s1>=1) inc(s2) @relu
)";

std::string temp_dir() {
  char tmpl[] = "/tmp/trnsim_sim_test_XXXXXX";
  const char* d = mkdtemp(tmpl);
  REQUIRE(d != nullptr);
  return d;
}

// Every leaf of the stats document is {"value": ..., "unit": "..."}.
void check_units(const trnsim::json::Value& v, const std::string& path) {
  REQUIRE(v.is_object());
  if (v.find("value")) {
    INFO(path);
    CHECK(v.size() == 2);
    CHECK(v["unit"].is_string());
    return;
  }
  for (const auto& [k, child] : v.as_object()) check_units(child, path + "." + k);
}
}  // namespace

TEST_CASE("stats document has every required key, each with a unit", "[sim]") {
  auto r = run_tasm(kProgram, "tiny", trnsim::test::timing_only());
  auto doc = trnsim::json::parse(trnsim::model::stats_json(r.stats), "stats");
  check_units(doc, "");
  CHECK(doc["sim_time_ns"]["unit"].as_string() == "ns");
  CHECK(doc["sim_time_ns"]["value"].as_number() == Approx(r.sim_time_ns));
  for (const char* e : {"pe", "act", "dve", "pool", "sp"}) {
    INFO(e);
    CHECK(doc["core0"][e]["busy_ns"]["unit"].as_string() == "ns");
    CHECK(doc["core0"][e].find("instructions"));
    CHECK(doc["core0"][e].find("utilization"));
  }
  CHECK(doc["core0"]["pe"]["instructions"]["value"].as_int() == 2);
  CHECK(doc["core0"]["pe"]["busy_ns"]["value"].as_number() == Approx(136 + 128));
  CHECK(doc["core0"]["dma"]["q0"]["bytes"]["value"].as_int() == 32 * 128 * 2);
  CHECK(doc["core0"]["dma"]["q3"]["bytes"]["value"].as_int() == 32 * 128 * 4);
  CHECK(doc["core0"]["dma"]["q3"].find("busy_ns"));
  CHECK(doc["hbm"]["read_bytes"]["value"].as_int() == 32 * 128 * 2);
  CHECK(doc["hbm"]["write_bytes"]["value"].as_int() == 32 * 128 * 4);
  CHECK(doc["core0"]["sbuf"]["write_bytes"]["value"].as_int() == 8192 + 16384);
  CHECK(doc["core0"]["psum"]["write_bytes"]["value"].as_int() == 2 * 16384);
  CHECK(doc["core0"]["psum"]["read_bytes"]["value"].as_int() == 16384);
  const int64_t flops = 2 * (2 * 32 * 32 * 128);
  CHECK(doc["pe"]["flops"]["value"].as_int() == flops);
  // tiny: 2 cores x 32 x 32 PEs x 2 flop x 1 GHz = 4.096e12 flop/s.
  CHECK(doc["mfu"]["value"].as_number() ==
        Approx(flops / (r.sim_time_ns * 1e-9 * 4.096e12)));
  std::string summary = trnsim::model::stats_summary(r.stats);
  CHECK_THAT(summary, Catch::Contains("MFU") && Catch::Contains("bottleneck: core0"));
  // Per-node profile: the three tagged instructions (the DMAs carry no tag), in run order.
  const auto& nodes = doc["nodes"];
  REQUIRE(nodes.size() == 3);
  CHECK(nodes["mm0"]["pe_busy_ns"]["value"].as_number() == Approx(136));
  CHECK(nodes["mm1"]["pe_busy_ns"]["value"].as_number() == Approx(128));
  CHECK(nodes["mm1"]["start_ns"]["value"].as_number() ==
        Approx(nodes["mm0"]["start_ns"]["value"].as_number() + 136));
  CHECK(nodes["relu"]["act_busy_ns"]["value"].as_number() > 0);
  CHECK(nodes["relu"]["pe_busy_ns"]["value"].as_number() == 0);
  CHECK(nodes["relu"]["instructions"]["value"].as_int() == 1);
  CHECK_THAT(summary, Catch::Contains("slowest nodes: relu spans") &&
                          Catch::Contains("mm0 spans 0.136 us"));
}

// json::parse refuses bytes that are not UTF-8 (RFC 8259), and an ONNX node name may hold any:
// the dumper writes them as U+FFFD so the sweep runner can read the document back.
TEST_CASE("stats document stays valid JSON when a node name is not UTF-8", "[sim]") {
  trnsim::model::SimStats s;
  s.nodes.emplace_back();
  s.nodes.back().name = "conv\xff\"1";
  auto doc = trnsim::json::parse(trnsim::model::stats_json(s), "stats");
  REQUIRE(doc["nodes"].size() == 1);
  CHECK(doc["nodes"].as_object()[0].first == "conv\xef\xbf\xbd\"1");
}

TEST_CASE("timeline is valid Chrome Trace Event JSON", "[sim]") {
  std::string dir = temp_dir();
  trnsim::model::SimOptions o;
  o.trace_path = dir + "/t.json";
  auto r = run_tasm(kProgram, "tiny", o);
  auto doc = trnsim::json::parse_file(o.trace_path);
  const auto& evs = doc["traceEvents"].as_array();
  std::map<std::pair<int64_t, int64_t>, std::vector<std::pair<double, double>>> tracks;
  std::map<std::string, int> thread_names;
  int slices = 0, counters = 0;
  for (const auto& e : evs) {
    REQUIRE(e.is_object());
    REQUIRE(e["name"].is_string());
    const std::string ph = e["ph"].as_string();
    REQUIRE(e["pid"].is_int());
    if (ph == "M") {
      if (e["name"].as_string() == "thread_name") thread_names[e["args"]["name"].as_string()]++;
      continue;
    }
    REQUIRE(e["ts"].is_number());
    CHECK(e["ts"].as_number() >= 0);
    if (ph == "X") {
      ++slices;
      REQUIRE(e["tid"].is_int());
      REQUIRE(e["dur"].is_number());
      CHECK(e["dur"].as_number() >= 0);
      CHECK(e["args"]["opcode"].as_string() == e["name"].as_string());
      CHECK(e["args"]["operands"].as_string().find(e["name"].as_string()) == 0);
      CHECK(e["args"].find("tag"));
      tracks[{e["pid"].as_int(), e["tid"].as_int()}].push_back(
          {e["ts"].as_number(), e["dur"].as_number()});
    } else {
      REQUIRE(ph == "C");
      ++counters;
      CHECK(e["args"].size() >= 1);
    }
  }
  // 2 dma issues + 2 matmuls + 1 act on engines, 2 transfers on queues.
  CHECK(slices == 7);
  CHECK(counters > 0);
  CHECK(thread_names.count("core0 pe") == 1);
  CHECK(thread_names.count("core0 q3") == 1);
  CHECK(thread_names.count("core1 sp") == 1);
  // Per track: timestamps monotonic and slices do not overlap.
  for (const auto& [key, v] : tracks) {
    for (size_t i = 1; i < v.size(); ++i) {
      CHECK(v[i].first >= v[i - 1].first);
      CHECK(v[i].first >= v[i - 1].first + v[i - 1].second - 1e-6);
    }
  }
  // The last event ends at the simulated time (us in the trace).
  double end = 0;
  for (const auto& [key, v] : tracks) end = std::max(end, v.back().first + v.back().second);
  CHECK(end == Approx(r.sim_time_ns / 1000.0).epsilon(1e-6));
  CHECK_THAT(trnsim::read_text_file(o.trace_path), Catch::Contains("\"tag\": \"mm0\""));
}

TEST_CASE("trnsim run: outputs, stats, exit codes", "[sim][cli]") {
  std::string dir = temp_dir();
  trnsim::write_file_atomic(dir + "/p.tasm", std::string(kProgram));
  std::string bin = TRNSIM_BINARY;
  std::string cmd = "cd " + dir + " && " + bin +
                    " run p.tasm --chip tiny --output-dir out --stats s.json > log.txt 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::string log = trnsim::read_text_file(dir + "/log.txt");
  CHECK_THAT(log, Catch::Contains("input a: generated from seed 0"));
  CHECK_THAT(log, Catch::Contains("simulated time"));
  CHECK(trnsim::read_binary_file(dir + "/out/out.npy").size() == 128 + 32 * 128 * 4);
  CHECK(trnsim::json::parse_file(dir + "/s.json")["sim_time_ns"]["value"].as_number() > 0);

  // Deadlock: exit 3 with the report.
  trnsim::write_file_atomic(dir + "/d.tasm",
                            std::string(".core 0\n.engine pe\n  nop wait(s1>=1)\n"));
  cmd = "cd " + dir + " && " + bin + " run d.tasm --chip tiny --timing-only > d.txt 2>&1";
  int rc = std::system(cmd.c_str());
  CHECK(WEXITSTATUS(rc) == 3);
  CHECK_THAT(trnsim::read_text_file(dir + "/d.txt"), Catch::Contains("deadlock"));

  // An input whose shape does not match: exit 2, naming the file and both shapes.
  // A valid float32 [2, 2] .npy (version 1.0, header padded to a 128-byte preamble).
  std::string npy;
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  header.append(118 - header.size() - 1, ' ');
  header += '\n';
  npy = std::string("\x93NUMPY\x01\x00", 8) + std::string(1, static_cast<char>(header.size())) +
        std::string(1, '\0') + header + std::string(16, '\0');
  trnsim::write_file_atomic(dir + "/a.npy", npy);
  cmd = "cd " + dir + " && " + bin + " run p.tasm --chip tiny --input a=a.npy > i.txt 2>&1";
  rc = std::system(cmd.c_str());
  CHECK(WEXITSTATUS(rc) == 2);
  std::string msg = trnsim::read_text_file(dir + "/i.txt");
  CHECK_THAT(msg, Catch::Contains("a.npy") && Catch::Contains("[2, 2]") &&
                      Catch::Contains("[32, 128]"));
}

TEST_CASE("stats count DMA bytes and runs by contiguous run size", "[sim][dma]") {
  // 4 KiB rows (one run per partition), a column gather (4-byte runs, the element-strided
  // transposing load the run histogram exists to expose) and 64-byte row pieces.
  const char* prog = R"(
.tensor x input fp32 [128, 1024]
.core 0
.engine sp
  dma q0, sbuf[0:128]+0:fp32[1,1024], hbm.x+0:fp32{1024,128}[1,1024]
  dma q1, sbuf[0:128]+8192:fp32[1,16], hbm.x+0:fp32{1,128}[1024,16]
  dma q2, sbuf[0:128]+16384:fp32[1,16], hbm.x+0:fp32{1024,128}[1,16]
)";
  auto r = run_tasm(prog, "trn1", trnsim::test::timing_only());
  auto doc = trnsim::json::parse(trnsim::model::stats_json(r.stats), "stats");
  const auto& h = doc["core0"]["dma_runs"];
  CHECK(h["gt2KiB_bytes"]["value"].as_int() == 128 * 4096);
  CHECK(h["gt2KiB_runs"]["value"].as_int() == 128);
  CHECK(h["le4B_bytes"]["value"].as_int() == 128 * 16 * 4);
  CHECK(h["le4B_runs"]["value"].as_int() == 128 * 16);
  CHECK(h["le64B_bytes"]["value"].as_int() == 128 * 64);
  CHECK(h["le64B_runs"]["value"].as_int() == 128);
  CHECK(h["le512B_bytes"]["value"].as_int() == 0);
  CHECK(h["le2KiB_runs"]["unit"].as_string() == "runs");
  CHECK_THAT(trnsim::model::stats_summary(r.stats),
             Catch::Contains("DMA bytes by contiguous run: le4B 1.5%, le64B 1.5%"));
}
