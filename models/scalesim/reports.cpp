// Report writers. Headers and row layout follow scalesim/simulator.py (generate_reports): every
// row is "LayerID, v1, v2, ...," with ", " separators and a trailing comma, each value printed as
// Python's str() prints it.
#include "models/scalesim/reports.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <system_error>

#include "support/error.h"
#include "support/file_util.h"

namespace trnsim::model::scalesim {

std::string python_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, r.ptr);  // shortest digits: "-d.ddde+XX"
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  int exp10 = std::stoi(sci.substr(e + 1));
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int nd = static_cast<int>(digits.size());
  if (exp10 >= -5 + 1 && exp10 < 16) {  // Python's repr uses fixed notation for 1e-4 <= |v| < 1e16
    std::string out;
    if (exp10 < 0) {
      out = "0." + std::string(-exp10 - 1, '0') + digits;
    } else if (nd <= exp10 + 1) {
      out = digits + std::string(exp10 + 1 - nd, '0') + ".0";
    } else {
      out = digits.substr(0, exp10 + 1) + "." + digits.substr(exp10 + 1);
    }
    return sign + out;
  }
  std::string mant = digits.substr(0, 1);
  if (nd > 1) mant += "." + digits.substr(1);
  return fmt::format("{}{}e{}{:02d}", sign, mant, exp10 < 0 ? '-' : '+', std::abs(exp10));
}

namespace {

std::string row(size_t id, const std::vector<std::string>& items) {
  std::string s = std::to_string(id);
  for (const auto& it : items) s += ", " + it;
  return s + ",\n";
}

std::string i(int64_t v) { return std::to_string(v); }
std::string f(double v) { return python_float(v); }

}  // namespace

std::string compute_report(const std::vector<LayerResult>& layers) {
  // scale-sim-v3 (simulator.py) has one more column, second.
  const bool v3 = !layers.empty() && layers.front().v3;
  std::string s = std::string("LayerID, ") + (v3 ? "Total Cycles (incl. prefetch), " : "") +
                  "Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, "
                  "Compute Util %,\n";
  for (size_t k = 0; k < layers.size(); ++k) {
    const LayerResult& l = layers[k];
    std::vector<std::string> items;
    if (v3) items.push_back(i(l.total_cycles_incl_prefetch));
    for (std::string v : {i(l.total_cycles), i(l.stall_cycles), f(l.overall_util),
                          f(l.mapping_eff), f(l.compute_util)}) {
      items.push_back(v);
    }
    s += row(k, items);
  }
  return s;
}

std::string bandwidth_report(const std::vector<LayerResult>& layers) {
  std::string s =
      "LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, "
      "Avg IFMAP DRAM BW, Avg FILTER DRAM BW, Avg OFMAP DRAM BW,\n";
  for (size_t k = 0; k < layers.size(); ++k) {
    const LayerResult& l = layers[k];
    s += row(k, {f(l.ifmap_sram_bw), f(l.filter_sram_bw), f(l.ofmap_sram_bw), f(l.ifmap_dram_bw),
                 f(l.filter_dram_bw), f(l.ofmap_dram_bw)});
  }
  return s;
}

std::string detailed_access_report(const std::vector<LayerResult>& layers) {
  std::string s =
      "LayerID, "
      "SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, "
      "SRAM Filter Start Cycle, SRAM Filter Stop Cycle, SRAM Filter Reads, "
      "SRAM OFMAP Start Cycle, SRAM OFMAP Stop Cycle, SRAM OFMAP Writes, "
      "DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, DRAM IFMAP Reads, "
      "DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, "
      "DRAM OFMAP Start Cycle, DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,\n";
  for (size_t k = 0; k < layers.size(); ++k) {
    const LayerResult& l = layers[k];
    s += row(k, {f(l.ifmap_sram_start), f(l.ifmap_sram_stop), i(l.ifmap_sram_reads),
                 f(l.filter_sram_start), f(l.filter_sram_stop), i(l.filter_sram_reads),
                 f(l.ofmap_sram_start), f(l.ofmap_sram_stop), i(l.ofmap_sram_writes),
                 f(l.ifmap_dram_start), f(l.ifmap_dram_stop), i(l.ifmap_dram_reads),
                 f(l.filter_dram_start), f(l.filter_dram_stop), i(l.filter_dram_reads),
                 f(l.ofmap_dram_start), f(l.ofmap_dram_stop), i(l.ofmap_dram_writes)});
  }
  return s;
}

void write_reports(const std::string& dir, const std::vector<LayerResult>& layers) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw InputError(fmt::format("{}: cannot create directory: {}", dir, ec.message()));
  write_file_atomic(dir + "/COMPUTE_REPORT.csv", compute_report(layers));
  write_file_atomic(dir + "/BANDWIDTH_REPORT.csv", bandwidth_report(layers));
  write_file_atomic(dir + "/DETAILED_ACCESS_REPORT.csv", detailed_access_report(layers));
}

}  // namespace trnsim::model::scalesim
