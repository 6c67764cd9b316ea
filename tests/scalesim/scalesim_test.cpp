// trnsim scalesim: SCALE-Sim v2/v3 config/topology parsing, the layer model, its buffers and
// reports, checked against reports of SCALE-Sim v2's and v3's own code (golden/README.md).
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
#include "models/scalesim/write_buffer.h"
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
      {"v3_sparsity.cfg", nullptr,
       "v3_sparsity.cfg:31: key sparsity.SparsitySupport: sparsity is not modelled"},
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

// Compares report TEXT with the golden report WANT_FILE cell by cell (as text).
void check_cells(const std::string& text, const std::string& want_file) {
  const auto want = report_cells(trnsim::read_text_file(want_file));
  const auto got = report_cells(text);
  INFO(want_file);
  CHECK(got.size() == want.size());
  for (size_t row = 0; row < std::min(got.size(), want.size()); ++row) {
    CHECK(got[row].size() == want[row].size());
    for (size_t col = 0; col < std::min(got[row].size(), want[row].size()); ++col) {
      INFO("layer " << want[row][0] << ", " << want[0][col]);
      CHECK(got[row][col] == want[row][col]);
    }
  }
}

const char* const kReports[] = {"COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv",
                                "DETAILED_ACCESS_REPORT.csv"};

// Case NAME of golden/SET/ (real: reports of SCALE-Sim v2's code, v3: of scale-sim-v3's;
// README.md there): the model's three reports, every cell compared as text. With CLI, also
// through the trnsim command, whose files must be the same and whose stderr must be empty.
void check_real(const std::string& name, const std::string& topology, bool gemm, bool cli,
                const std::string& set = "real") {
  const std::string dir = kGolden + set + "/" + name + "/";
  const std::string topo = std::string(TRNSIM_TEST_DATA) + "/scalesim/" + topology;
  INFO(name);
  const ss::ScaleSimConfig cfg = ss::load_scalesim_config(dir + "scale.cfg");
  CHECK(cfg.version == (set == "v3" ? 3 : 2));
  const std::vector<ss::Layer> layers = ss::load_topology(topo, gemm);
  std::vector<ss::LayerResult> results;
  for (const ss::Layer& l : layers) results.push_back(ss::simulate_layer(cfg, l));
  const std::string texts[] = {ss::compute_report(results), ss::bandwidth_report(results),
                               ss::detailed_access_report(results)};
  for (int k = 0; k < 3; ++k) check_cells(texts[k], dir + kReports[k]);
  if (!cli) return;
  const fs::path out = fs::temp_directory_path() / ("trnsim_scalesim_" + set + "_" + name);
  fs::remove_all(out);
  Run r = run_trnsim("-c " + dir + "scale.cfg -t " + topo + (gemm ? " -i gemm" : "") + " -o " +
                         out.string(),
                     set + "_" + name);
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  for (int k = 0; k < 3; ++k) {
    CHECK(trnsim::read_text_file((out / kReports[k]).string()) == texts[k]);
  }
  fs::remove_all(out);
}

struct RealCase {
  std::string name, topology;
  bool gemm;
};

// golden/SET/cases.txt: "name topology conv|gemm" per line (tools/scalesim_regen.py writes it).
std::vector<RealCase> real_cases(const std::string& set = "real") {
  std::vector<RealCase> cases;
  const std::string text = trnsim::read_text_file(kGolden + set + "/cases.txt");
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    const size_t a = line.find(' '), b = line.rfind(' ');
    REQUIRE(a != std::string::npos);
    REQUIRE(b > a);
    cases.push_back(
        {line.substr(0, a), line.substr(a + 1, b - a - 1), line.substr(b + 1) == "gemm"});
  }
  return cases;
}

}  // namespace

// Every case folder of golden/real/ is listed in cases.txt, so none is skipped silently.
TEST_CASE("real SCALE-Sim: cases.txt lists every golden folder", "[scalesim]") {
  const std::vector<RealCase> cases = real_cases();
  CHECK(cases.size() == 145);
  std::vector<std::string> listed, found;
  for (const RealCase& c : cases) listed.push_back(c.name);
  for (const auto& e : fs::directory_iterator(kGolden + "real")) {
    if (e.is_directory() && e.path().filename() != "topologies") {
      found.push_back(e.path().filename().string());
    }
  }
  std::sort(listed.begin(), listed.end());
  std::sort(found.begin(), found.end());
  CHECK(listed == found);
}

// One test per group of topologies, so that ctest can run them side by side. The first case of
// each topology also goes through the command line.
void check_real_topology(const std::string& prefix) {
  int n = 0;
  for (const RealCase& c : real_cases()) {
    if (c.name.rfind(prefix + "__", 0) != 0) continue;
    check_real(c.name, c.topology, c.gemm, n == 0);
    ++n;
  }
  CHECK(n > 0);
}

TEST_CASE("real SCALE-Sim: GEMMs, 8x8 to 128x128, non-square, CALC and USER", "[scalesim]") {
  check_real_topology("gemms");
  check_real_topology("gemmlarge");
  check_real_topology("gemmsmall");
  check_real_topology("mnk");
}
TEST_CASE("real SCALE-Sim: conv corner cases (strides, overhang, depthwise)", "[scalesim]") {
  check_real_topology("convedge");
  check_real_topology("convsmall");
}
TEST_CASE("real SCALE-Sim: ResNet-50 at 128x128 and its layers on smaller arrays", "[scalesim]") {
  check_real_topology("r50");
  check_real_topology("r50pick");
  check_real_topology("r50small");
}
TEST_CASE("real SCALE-Sim: shipped topologies on the shipped configs", "[scalesim]") {
  check_real_topology("test");
}

// golden/SET/SOURCE.txt names the SCALE-Sim commit the reports came from.
std::string golden_commit(const std::string& set) {
  const std::string text = trnsim::read_text_file(kGolden + set + "/SOURCE.txt");
  return text.substr(0, text.find('\n'));
}

TEST_CASE("real SCALE-Sim: the goldens record their SCALE-Sim commit", "[scalesim]") {
  CHECK(golden_commit("real") ==
        "scalesim-project/scale-sim-v2 22f88b17f1dd3160e18bff5df165035bf8146e83");
  CHECK(golden_commit("v3") ==
        "scalesim-project/scale-sim-v3 fab89b777d7363550b7560ff615a11f888db46b9");
}

// The same inputs on scale-sim-v3 (its configs carry the [layout] section, so trnsim follows
// v3): every cell of v3's reports, including its extra "Total Cycles (incl. prefetch)" column.
TEST_CASE("SCALE-Sim v3: reports of the same inputs, cell for cell", "[scalesim]") {
  const std::vector<RealCase> cases = real_cases("v3");
  CHECK(cases.size() >= 8);
  bool first = true;
  for (const RealCase& c : cases) {
    check_real(c.name, c.topology, c.gemm, first, "v3");
    first = false;
  }
}

// Cell (LAYER, COLUMN) of golden/SET/CASE/REPORT.
std::string golden_cell(const std::string& set, const std::string& name, const std::string& report,
                        size_t layer, const std::string& column) {
  const auto rows = report_cells(trnsim::read_text_file(kGolden + set + "/" + name + "/" + report));
  const auto& hdr = rows.at(0);
  const size_t col = std::find(hdr.begin(), hdr.end(), column) - hdr.begin();
  REQUIRE(col < hdr.size());
  return rows.at(layer + 1).at(col);
}

// The v3 goldens are not v2's reports again: where docs/scalesim.md says v3 differs, it does.
TEST_CASE("SCALE-Sim v3 differs from v2 where the docs say", "[scalesim]") {
  const char* cr = "COMPUTE_REPORT.csv";
  const char* dr = "DETAILED_ACCESS_REPORT.csv";
  // USER read waits counted twice: GEMM 2 of gemms.csv on 12x14 OS, 495 -> 990 stall cycles.
  CHECK(golden_cell("real", "gemms__u12x14_64k_bw10_os", cr, 2, "Stall Cycles") == "495");
  CHECK(golden_cell("v3", "gemms__u12x14_64k_bw10_os", cr, 2, "Stall Cycles") == "990");
  // OFMAP DRAM stop: v2 the flush's last row, v3 the latest drained row.
  const std::string name = "convsmall__c8x8_2k1k1k_ws";
  CHECK(golden_cell("real", name, dr, 0, "DRAM OFMAP Stop Cycle") == "296.0");
  CHECK(golden_cell("v3", name, dr, 0, "DRAM OFMAP Stop Cycle") == "339.0");
  // Everything else of that layer is the same.
  for (const char* col : {"Total Cycles", "Stall Cycles", "Overall Util %"}) {
    CHECK(golden_cell("real", name, cr, 0, col) == golden_cell("v3", name, cr, 0, col));
  }
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
  // Address 0 (line 0): window [22, 61) + [0, 11), second prefetch ends at 10 + 11 = 21, before
  // the line came at cycle 30: served at 30 + 1 (read_buffer.py adds only positive waits).
  CHECK(b.service_line({0}, 30) == 31);
  CHECK(b.prefetches() == 2);
  CHECK(b.dram_reads() == (10 + 2 * 10) * 10);
  CHECK(b.dram_start() == -10);
  CHECK(b.dram_stop() == 21);
  // Everything fits: 98 valid entries -> 98 / 2 + 1 = 50 lines <= 50 active lines.
  CHECK(ss::UserReadBuffer(200, 10, 98, 98).fits());
  CHECK_FALSE(ss::UserReadBuffer(200, 10, 100, 100).fits());  // 51 lines
}

// The same requests with scale-sim-v3's service_reads (offset += wait, and again if wait > 0).
TEST_CASE("USER read buffer: v3 counts a positive wait twice and a negative one", "[scalesim]") {
  ss::UserReadBuffer b(200, 10, 120, 120);
  b.set_v3_waits(true);
  b.build_index(120, [](auto&& visit) {
    for (int64_t a = 0; a < 120; ++a) visit(a);
  });
  CHECK(b.service_line({0, 1, -1, 9}, 0) == 1);
  CHECK(b.service_line({100}, 5) == 14);  // prefetch ends at 10: wait 10 - 6 = 4, 6 + 2 x 4
  CHECK(b.service_line({100, 119}, 7) == 8);
  CHECK(b.service_line({0}, 30) == 21);  // prefetch ends at 21: wait 21 - 31 = -10, served at 21
  CHECK(b.dram_stop() == 21);
}

// read_buffer_estimate_bw.py by hand. 1000-byte SRAM: sets of floor(1000 / 100) = 10 addresses,
// a refill when 50 sets (500 addresses) are complete, bandwidth 10.
TEST_CASE("CALC estimate buffer: refills of 50 sets, DRAM reads and start/stop", "[scalesim]") {
  std::vector<int64_t> first(250), second(250), again(100);
  for (int64_t a = 0; a < 250; ++a) first[a] = a, second[a] = 250 + a;
  for (int64_t a = 0; a < 100; ++a) again[a] = a;
  ss::EpochTable marks;
  // Twice with the same marks, as successive layers use them: the second buffer must not see the
  // first one's collections.
  for (int run = 0; run < 2; ++run) {
    ss::EstimateReadBuffer b(1000, 10, 600, 1000, marks);
    REQUIRE(b.simulated());  // 600 distinct addresses >= 500
    CHECK(b.service_line({-1, -1}, 2) == 3);  // no request: not the first request's line
    CHECK(b.service_line(first, 3) == 4);     // stall free: always cycle + 1
    b.service_line({0, 5, -1, 9}, 4);         // collected since the last refill: not counted again
    CHECK(b.refills() == 0);
    b.service_line(second, 7);  // the 500th address closes the 50th set: refill at cycle 7
    CHECK(b.refills() == 1);
    b.service_line(again, 9);  // a new collection: 0..99 are read again
    CHECK(b.refills() == 1);
    CHECK(b.dram_reads() == 600);
    // First refill: ceil(500 / 10) = 50 rows served up to the cycle before the first request (3).
    CHECK(b.dram_start() == 3 - 50);
    CHECK(b.dram_stop() == 7 + 1);  // the final partial refill is served up to last refill + 1
  }

  // Fewer than 500 distinct addresses: no refill, all fetched (sets rounded up) before cycle 0.
  ss::EstimateReadBuffer fits(1000, 10, 123, 1000, marks);
  CHECK_FALSE(fits.simulated());
  CHECK(fits.dram_reads() == 123);
  CHECK(fits.dram_start() == -13);  // 13 sets of 10 at 10 per cycle
  CHECK(fits.dram_stop() == -1);

  // Two refills in one demand line: SCALE-Sim divides by zero sizing the next one.
  ss::EstimateReadBuffer wide(1000, 10, 1000, 1000, marks);
  std::vector<int64_t> all(1000);
  for (int64_t a = 0; a < 1000; ++a) all[a] = a;
  CHECK_THROWS_AS(wide.service_line(all, 0), trnsim::SimFault);
}

// service_repeating_line (counts and repeat distances) against service_line (addresses): PRE
// lines of first occurrences, then PERIOD lines repeated: line l's columns [lo, hi] carry
// addresses unique within the period, every fifth slot null, the same in line l + PERIOD.
// 1000-byte SRAM: a refill every 500 collected addresses, at the start of, inside and at the end
// of lines; the line repeating the one that refilled is collected up to the refill's column
// (with a period of fewer than 500 addresses that line does not refill itself).
TEST_CASE("CALC estimate buffer: repeating lines served without addresses", "[scalesim]") {
  struct Stream {
    int64_t width, period, pre;
  };
  for (const Stream st : {Stream{60, 12, 0}, Stream{60, 8, 4}, Stream{100, 5, 3}}) {
    const int64_t space = (st.pre + st.period) * st.width;
    ss::EpochTable marks;
    ss::EstimateReadBuffer by_addr(1000, 10, space, space, marks);
    ss::EstimateReadBuffer by_count(1000, 10, space, space, marks);
    REQUIRE(by_addr.simulated());
    for (int64_t l = 0; l < st.pre + 6 * st.period; ++l) {
      const int64_t row = l < st.pre ? l : st.pre + (l - st.pre) % st.period;  // repeats
      const int64_t shift = l - st.pre >= st.period ? st.period : 0;
      auto addr = [&](int64_t c) { return (row * 7 + c) % 5 == 0 ? -1 : row * st.width + c; };
      const int64_t lo = (row * 3) % 11, hi = st.width - 1 - row % 4;
      std::vector<int64_t> addrs(static_cast<size_t>(st.width), -1);
      for (int64_t c = lo; c <= hi; ++c) addrs[c] = addr(c);
      const int64_t cycle = 2 * l + 1;
      by_addr.service_line(addrs, cycle);
      by_count.service_repeating_line(
          l, cycle, lo, hi, shift,
          [&](int64_t c0, int64_t c1) {
            int64_t n = 0;
            for (int64_t c = c0; c <= c1; ++c) n += addr(c) >= 0 ? 1 : 0;
            return n;
          },
          [&](int64_t c) { return addr(c) >= 0; });
      REQUIRE(by_count.dram_reads() == by_addr.dram_reads());
      REQUIRE(by_count.refills() == by_addr.refills());
    }
    CHECK(by_addr.refills() >= 1);
    CHECK(by_count.dram_start() == by_addr.dram_start());
    CHECK(by_count.dram_stop() == by_addr.dram_stop());
  }
}

// write_buffer.py by hand: 20 words (active half 10, drain half 10), rows of 4 words, a drain
// writes ceil(10 / 4) = 3 rows, one per cycle from the cycle it starts.
TEST_CASE("OFMAP write buffer: drains start without stalling, a full buffer waits", "[scalesim]") {
  ss::OfmapWriteBuffer wb(20, 4);
  // The 11th word leaves 9 < 10 free: rows 4, 4, 3 (partial row committed) drain at 0..2, the
  // line does not wait; the 11 words come back at once.
  CHECK(wb.service_line(11, 0) == 0);
  // Drain running (1 < 2): the 20th word leaves no space and waits for the drain's end (2); the
  // next word is past the half at cycle 2, so rows 4, 4, 4 drain at 2..4 while the line goes on.
  CHECK(wb.service_line(25, 1) == 2);  // a stall of 2 - 1 = 1 cycle
  CHECK(wb.service_line(0, 3) == 3);
  // Left: rows 4, 4, 1 (the partial row the second drain committed) and 4. The flush drains them
  // from 2 (the last line's cycle): 3 rows at 2..4 (4 + 4 + 1 words: only the last row's empty
  // slots are discounted, 12 - 3), then 1 row at 5.
  wb.flush(2);
  CHECK(wb.dram_writes() == 11 + 12 + 9 + 4);  // all 36 words
  CHECK(wb.dram_start() == 0);
  CHECK(wb.dram_stop() == 5);  // the flush's last row
}

// v2 reports the flush's last row as the DRAM OFMAP stop even when an earlier drain ended later;
// v3 the latest row. 20 words, rows of 4: the 11th word at cycle 10 starts a drain of 3 rows
// (10..12); the flush, told to start at 5, writes the last (1-word) row at 5.
TEST_CASE("OFMAP write buffer: v3 reports the latest drained row as the stop cycle",
          "[scalesim]") {
  for (bool v3 : {false, true}) {
    ss::OfmapWriteBuffer wb(20, 4);
    wb.set_v3_stop(v3);
    CHECK(wb.service_line(12, 10) == 10);
    wb.flush(5);
    CHECK(wb.dram_writes() == 12);
    CHECK(wb.dram_start() == 10);
    CHECK(wb.dram_stop() == (v3 ? 12 : 5));
  }
}
