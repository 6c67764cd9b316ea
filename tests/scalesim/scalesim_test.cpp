// trnsim scalesim: SCALE-Sim v2 config/topology parsing, closed-form cycle model and reports,
// checked against reference reports from SCALE-Sim's algorithm (golden/README.md).
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "models/scalesim/read_buffer.h"
#include "models/scalesim/reports.h"
#include "models/scalesim/scalesim_input.h"
#include "models/scalesim/systolic_model.h"
#include "support/error.h"
#include "support/file_util.h"

namespace ss = trnsim::model::scalesim;
namespace fs = std::filesystem;

namespace {

const std::string kData = std::string(TRNSIM_TEST_DATA) + "/scalesim/data/";
const std::string kGolden = std::string(TRNSIM_TEST_DATA) + "/scalesim/golden/";
const std::string kBad = std::string(TRNSIM_TEST_DATA) + "/bad_inputs/scalesim/";

struct Run {
  int code;
  std::string err;
};

Run run_trnsim(const std::string& args, const std::string& tag) {
  const fs::path dir = fs::temp_directory_path() / ("trnsim_scalesim_" + tag);
  fs::create_directories(dir);
  const std::string err_file = (dir / "stderr.txt").string();
  const std::string cmd = std::string(TRNSIM_BINARY) + " scalesim -q " + args + " 2> " + err_file;
  int st = std::system(cmd.c_str());
  Run r{WIFEXITED(st) ? WEXITSTATUS(st) : -1, trnsim::read_text_file(err_file)};
  return r;
}

void check_golden(const std::string& name, const std::string& topology, bool gemm) {
  const fs::path out = fs::temp_directory_path() / ("trnsim_scalesim_out_" + name);
  fs::remove_all(out);
  Run r = run_trnsim("-c " + kGolden + name + "/scale.cfg -t " + kData + topology +
                         (gemm ? " -i gemm" : "") + " -o " + out.string(),
                     name);
  INFO(r.err);
  REQUIRE(r.code == 0);
  for (const char* f : {"COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv", "DETAILED_ACCESS_REPORT.csv"}) {
    INFO(name << "/" << f);
    CHECK(trnsim::read_text_file((out / f).string()) == trnsim::read_text_file(kGolden + name + "/" + f));
  }
}

ss::ScaleSimConfig config(ss::Dataflow df, int64_t rows, int64_t cols) {
  ss::ScaleSimConfig c;
  c.run_name = "t";
  c.array_rows = rows;
  c.array_cols = cols;
  c.ifmap_sram_kb = c.filter_sram_kb = c.ofmap_sram_kb = 64;
  c.dataflow = df;
  return c;
}

}  // namespace

TEST_CASE("python float formatting matches repr()", "[scalesim]") {
  CHECK(ss::python_float(12.0) == "12.0");
  CHECK(ss::python_float(0.1) == "0.1");
  CHECK(ss::python_float(62.717770034843205) == "62.717770034843205");
  CHECK(ss::python_float(83.33333333333334) == "83.33333333333334");
  CHECK(ss::python_float(0.0001) == "0.0001");
  CHECK(ss::python_float(0.00001) == "1e-05");
  CHECK(ss::python_float(1.5e-7) == "1.5e-07");
  CHECK(ss::python_float(1e16) == "1e+16");
  CHECK(ss::python_float(123456789012345.0) == "123456789012345.0");
  CHECK(ss::python_float(-18875.0) == "-18875.0");
  CHECK(ss::python_float(0.0) == "0.0");
}

TEST_CASE("fold geometry and ideal-memory cycles per dataflow", "[scalesim]") {
  // GEMM M=20, N=12, K=9 on a 4x4 array (topology_utils maps it to ifmap 20x9, filter 1x9, 12 filters).
  ss::Layer g;
  g.ifmap_h = 20, g.ifmap_w = 9, g.filter_h = 1, g.filter_w = 9, g.channels = 1, g.num_filters = 12;
  // OS: Sr = M = 20, Sc = N = 12, T = K = 9 -> 5 x 3 folds of T + R + C - 2 = 15 lines.
  ss::Mapping os = ss::map_layer(config(ss::Dataflow::kOs, 4, 4), g);
  CHECK(os.row_folds == 5);
  CHECK(os.col_folds == 3);
  CHECK(os.lines_per_fold == 15);
  // WS: Sr = K = 9, Sc = N = 12, T = M = 20 -> 3 x 3 folds of 2R + C + T - 2 = 30 lines.
  ss::Mapping ws = ss::map_layer(config(ss::Dataflow::kWs, 4, 4), g);
  CHECK(ws.row_folds == 3);
  CHECK(ws.lines_per_fold == 30);
  CHECK(ws.util_cycles_per_fold == 33);  // 2R + 2C + T - 3
  // IS: Sr = K = 9, Sc = M = 20, T = N = 12 -> 3 x 5 folds of 2R + C + T - 2 = 22 lines.
  ss::Mapping is = ss::map_layer(config(ss::Dataflow::kIs, 4, 4), g);
  CHECK(is.col_folds == 5);
  CHECK(is.lines_per_fold == 22);

  // With a large OFMAP SRAM nothing stalls: total cycles = last demand line = folds * lines - 1.
  ss::LayerResult r = ss::simulate_layer(config(ss::Dataflow::kOs, 4, 4), g);
  CHECK(r.stall_cycles == 0);
  CHECK(r.total_cycles == 15 * 15 - 1);  // 224, as SCALE-Sim reports for g1 (golden)
  r = ss::simulate_layer(config(ss::Dataflow::kWs, 4, 4), g);
  CHECK(r.total_cycles == 9 * 30 - 1);
  r = ss::simulate_layer(config(ss::Dataflow::kIs, 4, 4), g);
  CHECK(r.total_cycles == 15 * 22 - 1);
}

TEST_CASE("ofmap dims use ceil like SCALE-Sim", "[scalesim]") {
  ss::Layer l;  // 9x7 ifmap, 3x2 filter, stride 2: ceil((9-3+2)/2) = 4, ceil((7-2+2)/2) = 4
  l.ifmap_h = 9, l.ifmap_w = 7, l.filter_h = 3, l.filter_w = 2, l.stride_h = l.stride_w = 2;
  CHECK(l.ofmap_h() == 4);
  CHECK(l.ofmap_w() == 4);
}

TEST_CASE("golden: OS 4x4 CALC conv", "[scalesim]") {
  check_golden("os_4x4_calc_conv", "conv_small.csv", false);
}
TEST_CASE("golden: WS 8x4 USER conv", "[scalesim]") {
  check_golden("ws_8x4_user_conv", "conv_small.csv", false);
}
TEST_CASE("golden: IS 3x5 CALC gemm", "[scalesim]") {
  check_golden("is_3x5_calc_gemm", "gemm_small.csv", true);
}
// Layer c3's IFMAP (2304 addresses, streamed 4 times) overflows the 1 kB CALC estimate buffer:
// 18 refills of 50 sets of 10, the last one completed at cycle 6721 (DRAM IFMAP Stop 6722.0).
TEST_CASE("golden: WS 3x5 CALC with OFMAP write stalls", "[scalesim]") {
  check_golden("ws_3x5_calc_stalls_conv", "conv_small.csv", false);
}

TEST_CASE("ResNet-50 runs for all dataflows at 128x128", "[scalesim]") {
  std::vector<ss::Layer> layers = ss::load_topology(kData + "Resnet50_8col.csv", false);
  REQUIRE(layers.size() == 54);
  for (ss::Dataflow df : {ss::Dataflow::kOs, ss::Dataflow::kWs, ss::Dataflow::kIs}) {
    ss::ScaleSimConfig c = config(df, 128, 128);
    c.ifmap_sram_kb = c.filter_sram_kb = 6144;
    c.ofmap_sram_kb = 2048;
    for (const ss::Layer& l : layers) {
      ss::LayerResult r = ss::simulate_layer(c, l);
      ss::Mapping m = ss::map_layer(c, l);
      // Each layer takes at least its demand lines; stalls only add to that.
      CHECK(r.total_cycles == m.total_lines() - 1 + r.stall_cycles);
      CHECK(r.mapping_eff > 0);
      CHECK(r.mapping_eff <= 100.0);
    }
  }
}

TEST_CASE("bad scalesim inputs give one-line errors and exit 2", "[scalesim]") {
  struct Case {
    const char* cfg;
    const char* csv;
    const char* expect;
  };
  const std::string good_csv = kData + "conv_small.csv";
  const Case cases[] = {
      {"missing_section.cfg", nullptr, "missing_section.cfg: missing section [run_presets]"},
      {"non_numeric_height.cfg", nullptr,
       "non_numeric_height.cfg:5: key architecture_presets.ArrayHeight: expected an integer, got 'eight'"},
      {"unknown_dataflow.cfg", nullptr,
       "unknown_dataflow.cfg:14: key architecture_presets.Dataflow: expected os, ws or is, got 'rs'"},
      {"good.cfg", "wrong_columns.csv", "wrong_columns.csv:3: expected 8 or 9 fields"},
      {"good.cfg", "non_numeric.csv", "non_numeric.csv:3: field 'Filter Width': expected an integer, got 'x3'"},
      {"good.cfg", "filter_too_big.csv",
       "filter_too_big.csv:2: field 'Filter Height': 9 is larger than IFMAP Height 8"},
      {"good.cfg", "zero_stride.csv", "zero_stride.csv:2: field 'Strides': expected a positive integer, got 0"},
  };
  int k = 0;
  for (const Case& c : cases) {
    const std::string csv = c.csv ? kBad + c.csv : good_csv;
    const fs::path out = fs::temp_directory_path() / "trnsim_scalesim_bad";
    Run r = run_trnsim("-c " + kBad + c.cfg + " -t " + csv + " -o " + out.string(),
                       "bad" + std::to_string(k++));
    INFO(c.expect << "\n got: " << r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find(c.expect) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("the save-traces option is refused with a clear error", "[scalesim]") {
  Run r = run_trnsim("-c " + kBad + "good.cfg -t " + kData + "conv_small.csv -o " +
                         (fs::temp_directory_path() / "trnsim_scalesim_tr").string() +
                         " --save-traces",
                     "traces");
  CHECK(r.code == 2);
  CHECK(r.err.find("not implemented") != std::string::npos);
}

namespace {

// Cells of a SCALE-Sim report: rows of trimmed comma-separated fields (trailing empty field
// dropped).
std::vector<std::vector<std::string>> report_cells(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.find_first_not_of(" \r") == std::string::npos) continue;
    std::vector<std::string> cells;
    size_t a = 0;
    while (a <= line.size()) {
      size_t b = line.find(',', a);
      if (b == std::string::npos) b = line.size();
      std::string c = line.substr(a, b - a);
      c.erase(0, c.find_first_not_of(' '));
      c.erase(c.find_last_not_of(" \r") + 1);
      cells.push_back(c);
      a = b + 1;
    }
    if (!cells.empty() && cells.back().empty()) cells.pop_back();
    rows.push_back(cells);
  }
  return rows;
}

// Runs trnsim on a case of golden/real/ (reports of the real SCALE-Sim v2 code, README.md there)
// and requires every cell to be identical as text and nothing on stderr.
void check_real(const std::string& name, const std::string& topology, bool gemm) {
  const std::string dir = kGolden + "real/" + name + "/";
  const fs::path out = fs::temp_directory_path() / ("trnsim_scalesim_real_" + name);
  fs::remove_all(out);
  Run r = run_trnsim("-c " + dir + "scale.cfg -t " + kGolden + "real/topologies/" + topology +
                         (gemm ? " -i gemm" : "") + " -o " + out.string(),
                     "real_" + name);
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.empty());
  for (const char* f : {"COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv", "DETAILED_ACCESS_REPORT.csv"}) {
    const auto want = report_cells(trnsim::read_text_file(dir + f));
    const auto got = report_cells(trnsim::read_text_file((out / f).string()));
    INFO(name << "/" << f);
    REQUIRE(got.size() == want.size());
    REQUIRE(got[0] == want[0]);  // header
    for (size_t row = 1; row < want.size(); ++row) {
      REQUIRE(got[row].size() == want[row].size());
      for (size_t col = 0; col < want[row].size(); ++col) {
        INFO("layer " << want[row][0] << ", " << want[0][col]);
        CHECK(got[row][col] == want[row][col]);
      }
    }
  }
}

}  // namespace

// Ideal memory (16 MB SRAMs, USER bandwidth): all three reports equal SCALE-Sim's, cell for cell.
TEST_CASE("real SCALE-Sim: ideal memory, OS 8x8, conv test.csv", "[scalesim]") {
  check_real("test__ideal_8x8_os", "test.csv", false);
}
TEST_CASE("real SCALE-Sim: ideal memory, WS 32x32, conv_small", "[scalesim]") {
  check_real("convsmall__ideal_32x32_ws", "../../../data/conv_small.csv", false);
}
TEST_CASE("real SCALE-Sim: ideal memory, IS 12x14, GEMM test_mnk_input", "[scalesim]") {
  check_real("mnk__ideal_12x14_is", "test_mnk_input.csv", true);
}
TEST_CASE("real SCALE-Sim: ideal memory, OS 128x128, gemm_small", "[scalesim]") {
  check_real("gemmsmall__ideal_128x128_os", "../../../data/gemm_small.csv", true);
}
// The shipped google.cfg (256x256, CALC) and eyeriss.cfg (12x14, 36 kB, CALC), Dataflow changed.
TEST_CASE("real SCALE-Sim: google.cfg, AlexNet, OS/WS/IS", "[scalesim]") {
  check_real("alexnet__google_os", "alexnet.csv", false);
  check_real("alexnet__google_ws", "alexnet.csv", false);
  check_real("alexnet__google_is", "alexnet.csv", false);
}
TEST_CASE("real SCALE-Sim: google.cfg WS, conv test.csv", "[scalesim]") {
  check_real("test__google_ws", "test.csv", false);
}
TEST_CASE("real SCALE-Sim: eyeriss.cfg IS, conv_small", "[scalesim]") {
  check_real("convsmall__eyeriss_is", "../../../data/conv_small.csv", false);
}
// Regression: OFMAP write-back stalls. SCALE-Sim counts max(0, out - cycle - 1) per demand line
// (double_buffered_scratchpad_mem.py: ofmap_stalls = out - cycle - 1); trnsim used out - cycle,
// one cycle too many per stalled line (WS here: 51324 instead of SCALE-Sim's 51285 stalls).
// Both operands overflow half of the 36 kB CALC estimate buffer (read_buffer_estimate_bw.py:
// refills of 50 sets of 368 addresses), so the DRAM IFMAP/filter columns come from the refills.
TEST_CASE("real SCALE-Sim: eyeriss.cfg GEMM with OFMAP write stalls, OS/WS/IS", "[scalesim]") {
  check_real("mnk__eyeriss_os", "test_mnk_input.csv", true);
  check_real("mnk__eyeriss_ws", "test_mnk_input.csv", true);
  check_real("mnk__eyeriss_is", "test_mnk_input.csv", true);
}
// The filter (663552 addresses) overflows the CALC estimate buffer, the IFMAP (9408) does not.
TEST_CASE("real SCALE-Sim: eyeriss.cfg (CALC, filter overflows), conv test.csv, OS/WS/IS",
          "[scalesim]") {
  check_real("test__eyeriss_os", "test.csv", false);
  check_real("test__eyeriss_ws", "test.csv", false);
  check_real("test__eyeriss_is", "test.csv", false);
}
// Small-SRAM CALC variants: other set sizes (floor(bytes / 100) = 40, 81, 163, 20), array
// shapes, per-operand SRAM sizes, and OFMAP stalls that move the refill cycles.
TEST_CASE("real SCALE-Sim: small-SRAM CALC variants", "[scalesim]") {
  check_real("mnk__c16x16_8k4k2k_calc_os", "test_mnk_input.csv", true);
  check_real("mnk__c12x14_4k_calc_is", "test_mnk_input.csv", true);
  check_real("test__c32x32_16k8k4k_calc_ws", "test.csv", false);
  check_real("convsmall__c8x8_2k1k1k_calc_ws", "../../../data/conv_small.csv", false);
}

// USER bandwidth with SRAMs too small for the operands: SCALE-Sim's circular read buffer misses,
// prefetches and stalls (read_buffer.py); every cell equal. The shipped scale.cfg (32x32, 64 kB,
// Bandwidth 64) with only Dataflow changed: conv test.csv WS stalls 203924 of 281035 cycles.
TEST_CASE("real SCALE-Sim: scale.cfg (USER, operands overflow), conv test.csv, OS/WS/IS",
          "[scalesim]") {
  check_real("test__scale_os", "test.csv", false);
  check_real("test__scale_ws", "test.csv", false);
  check_real("test__scale_is", "test.csv", false);
}
// GEMM OS: the filter (32768 entries) just fits 50 hashed sets of ceil(65536 / 100) = 656, the
// IFMAP does not: 15 prefetches of 512 rows, 249 stall cycles.
TEST_CASE("real SCALE-Sim: scale.cfg (USER, operands overflow), GEMM test_mnk_input, OS/WS/IS",
          "[scalesim]") {
  check_real("mnk__scale_os", "test_mnk_input.csv", true);
  check_real("mnk__scale_ws", "test_mnk_input.csv", true);
  check_real("mnk__scale_is", "test_mnk_input.csv", true);
}
// Other array shapes, SRAM sizes (different per operand) and bandwidths, both operands missing.
TEST_CASE("real SCALE-Sim: small-SRAM USER variants", "[scalesim]") {
  check_real("mnk__u16x16_32k16k8k_bw32_os", "test_mnk_input.csv", true);
  check_real("test__u16x16_32k16k8k_bw32_os", "test.csv", false);
  check_real("mnk__u16x8_8k_bw8_is", "test_mnk_input.csv", true);
  check_real("mnk__u12x14_10k_bw24_ws", "test_mnk_input.csv", true);  // rows of 24 cut the halves
  check_real("convsmall__u8x8_2k1k1k_bw10_ws", "../../../data/conv_small.csv", false);
  check_real("gemmsmall__u8x8_2k1k1k_bw10_ws", "../../../data/gemm_small.csv", true);
}

// read_buffer.py by hand. 200-byte SRAM: sets of ceil(200 / 100) = 2 entries, active = prefetch =
// 100 bytes -> 50 lines each at most. 120 distinct addresses -> 120 / 2 + 1 = 61 hashed lines,
// 50 active, min(50, 61 - 50) = 11 prefetch lines. Bandwidth 10: the initial fill is
// min(ceil(100 / 10), ceil(120 / 10)) = 10 rows served at -10..-1; each later prefetch is
// ceil(100 / 10) = 10 rows requested right after the previous one ends, so it ends 11 cycles later.
TEST_CASE("USER read buffer: hashed lines, circular window and prefetch timing", "[scalesim]") {
  ss::UserReadBuffer b(200, 10, 120, 120);
  REQUIRE_FALSE(b.fits());
  b.build_index(120, [](auto&& visit) {
    for (int64_t a = 0; a < 120; ++a) visit(a);
  });
  CHECK(b.service_line({0, 1, -1, 9}, 0) == 1);  // lines 0..4 of the window [0, 50): hit latency 1
  // Address 100 is in line 50: window moves to [11, 61), prefetch ends at -1 + 11 = 10.
  CHECK(b.service_line({100}, 5) == 10);
  CHECK(b.service_line({100, 119}, 7) == 8);  // now a hit
  // Address 0 (line 0): window [22, 61) + [0, 11), second prefetch ends at 10 + 11 = 21; SCALE-Sim
  // reports 21 even though the line came at cycle 30 (a negative "stall").
  CHECK(b.service_line({0}, 30) == 21);
  CHECK(b.prefetches() == 2);
  CHECK(b.dram_reads() == (10 + 2 * 10) * 10);
  CHECK(b.dram_start() == -10);
  CHECK(b.dram_stop() == 21);
  // Everything fits: 98 valid entries -> 98 / 2 + 1 = 50 lines <= 50 active lines.
  CHECK(ss::UserReadBuffer(200, 10, 98, 98).fits());
  CHECK_FALSE(ss::UserReadBuffer(200, 10, 100, 100).fits());  // 51 lines
}

// read_buffer_estimate_bw.py by hand. 1000-byte SRAM: sets of floor(1000 / 100) = 10 addresses,
// a refill when 50 sets (500 addresses) are complete, bandwidth 10.
TEST_CASE("CALC estimate buffer: refills of 50 sets, DRAM reads and start/stop", "[scalesim]") {
  std::vector<int64_t> first(250), second(250), again(100);
  for (int64_t a = 0; a < 250; ++a) first[a] = a, second[a] = 250 + a;
  for (int64_t a = 0; a < 100; ++a) again[a] = a;
  ss::EstimateReadBuffer b(1000, 10, 600, 1000);
  REQUIRE(b.simulated());  // 600 distinct addresses >= 500
  CHECK(b.service_line({-1, -1}, 2) == 3);  // no request: not the first request's line
  CHECK(b.service_line(first, 3) == 4);     // stall free: always cycle + 1
  b.service_line({0, 5, -1, 9}, 4);          // collected since the last refill: not counted again
  CHECK(b.refills() == 0);
  b.service_line(second, 7);  // the 500th address closes the 50th set: refill at cycle 7
  CHECK(b.refills() == 1);
  b.service_line(again, 9);  // a new collection: 0..99 are read again
  CHECK(b.refills() == 1);
  CHECK(b.dram_reads() == 600);
  // First refill: ceil(500 / 10) = 50 rows served up to the cycle before the first request (3).
  CHECK(b.dram_start() == 3 - 50);
  CHECK(b.dram_stop() == 7 + 1);  // the final partial refill is served up to last refill + 1

  // Fewer than 500 distinct addresses: no refill, all fetched (sets rounded up) before cycle 0.
  ss::EstimateReadBuffer fits(1000, 10, 123, 1000);
  CHECK_FALSE(fits.simulated());
  CHECK(fits.dram_reads() == 123);
  CHECK(fits.dram_start() == -13);  // 13 sets of 10 at 10 per cycle
  CHECK(fits.dram_stop() == -1);

  // Two refills in one demand line: SCALE-Sim divides by zero sizing the next one.
  ss::EstimateReadBuffer wide(1000, 10, 1000, 1000);
  std::vector<int64_t> all(1000);
  for (int64_t a = 0; a < 1000; ++a) all[a] = a;
  CHECK_THROWS_AS(wide.service_line(all, 0), trnsim::SimFault);
}
