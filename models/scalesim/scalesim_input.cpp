// Parsers for SCALE-Sim v2's .cfg (configparser INI) and topology CSV files.
// Conventions studied in scalesim-project/scale-sim-v2: scalesim/scale_config.py (keys, USER/CALC,
// case-insensitive option names) and scalesim/topology_utils.py (header skipped, trailing comma,
// stride copied to the width stride, GEMM rows mapped to [M, K, 1, K, 1, N, 1, 1], 'DP' rows split
// per channel).
#include "models/scalesim/scalesim_input.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "support/error.h"
#include "support/file_util.h"

namespace trnsim::model::scalesim {
namespace {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Python int(): optional sign, decimal digits. Returns nullopt on anything else or overflow.
std::optional<int64_t> parse_int(const std::string& raw) {
  std::string s = trim(raw);
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == s.size()) return std::nullopt;
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    if (v > (INT64_MAX - 9) / 10) return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return neg ? -v : v;
}

struct IniValue {
  std::string value;
  int line = 0;
};
using IniSection = std::map<std::string, IniValue>;  // lower-cased option -> value

struct Ini {
  std::map<std::string, IniSection> sections;
  std::map<std::string, int> section_lines;
};

Ini parse_ini(const std::string& path, const std::string& text) {
  Ini ini;
  std::string current;
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t[0] == '[') {
      if (t.back() != ']') throw InputError(fmt::format("{}:{}: malformed section header", path, line_no));
      current = trim(t.substr(1, t.size() - 2));
      if (ini.sections.count(current))
        throw InputError(fmt::format("{}:{}: duplicate section [{}]", path, line_no, current));
      ini.sections[current];
      ini.section_lines[current] = line_no;
      continue;
    }
    if (current.empty())
      throw InputError(fmt::format("{}:{}: option outside any [section]", path, line_no));
    size_t d = t.find_first_of(":=");
    if (d == std::string::npos || d == 0)
      throw InputError(fmt::format("{}:{}: expected 'key = value' or 'key: value'", path, line_no));
    std::string key = lower(trim(t.substr(0, d)));
    IniSection& sec = ini.sections[current];
    if (sec.count(key))
      throw InputError(fmt::format("{}:{}: duplicate key {}.{}", path, line_no, current, key));
    sec[key] = IniValue{trim(t.substr(d + 1)), line_no};
  }
  return ini;
}

const IniSection& need_section(const Ini& ini, const std::string& path, const std::string& name) {
  auto it = ini.sections.find(name);
  if (it == ini.sections.end())
    throw InputError(fmt::format("{}: missing section [{}]", path, name));
  return it->second;
}

const IniValue& need_key(const IniSection& sec, const std::string& path, const std::string& sname,
                         const std::string& key) {
  auto it = sec.find(lower(key));
  if (it == sec.end())
    throw InputError(fmt::format("{}: section [{}]: missing key {}", path, sname, key));
  return it->second;
}

int64_t need_int(const IniSection& sec, const std::string& path, const std::string& sname,
                 const std::string& key, int64_t min_value) {
  const IniValue& v = need_key(sec, path, sname, key);
  auto n = parse_int(v.value);
  if (!n) {
    throw InputError(fmt::format("{}:{}: key {}.{}: expected an integer, got '{}'", path, v.line,
                                 sname, key, v.value));
  }
  if (*n < min_value) {
    throw InputError(fmt::format("{}:{}: key {}.{}: expected an integer >= {}, got {}", path,
                                 v.line, sname, key, min_value, *n));
  }
  return *n;
}

// A key that must hold one of v3's booleans (configparser's getboolean / v3's lower() == 'true').
bool need_bool(const IniSection& sec, const std::string& path, const std::string& sname,
               const std::string& key) {
  const IniValue& v = need_key(sec, path, sname, key);
  const std::string s = lower(v.value);
  if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "0" || s == "no" || s == "off") return false;
  throw InputError(fmt::format("{}:{}: key {}.{}: expected True or False, got '{}'", path, v.line,
                               sname, key, v.value));
}

void refuse(const IniSection& sec, const std::string& path, const std::string& sname,
            const std::string& key, const char* what) {
  if (!need_bool(sec, path, sname, key)) return;
  throw InputError(fmt::format("{}:{}: key {}.{}: {} is not modelled by trnsim scalesim", path,
                               sec.at(lower(key)).line, sname, key, what));
}

// scale-sim-v3's keys (scale_config.py): the [layout] section, the request buffers, [sparsity]
// and UseRamulatorTrace are all required there. Custom layouts, sparsity and Ramulator traces are
// refused; without them v3 only uses the bank bandwidths (USER read bandwidth) and checks that
// each bank count divides its bandwidth (read_buffer.py asserts it).
void parse_v3_keys(const Ini& ini, const std::string& path, ScaleSimConfig& c) {
  c.version = 3;
  const std::string a = "architecture_presets";
  const IniSection& arch = need_section(ini, path, a);
  need_int(arch, path, a, "ReadRequestBuffer", 1);
  need_int(arch, path, a, "WriteRequestBuffer", 1);
  const IniSection& lay = need_section(ini, path, "layout");
  int64_t bws[2];
  const char* ops[2] = {"Ifmap", "Filter"};
  for (int k = 0; k < 2; ++k) {
    const std::string o = ops[k];
    refuse(lay, path, "layout", o + "CustomLayout", "a custom layout");
    bws[k] = need_int(lay, path, "layout", o + "SRAMBankBandwidth", 1);
    const int64_t banks = need_int(lay, path, "layout", o + "SRAMBankNum", 1);
    need_int(lay, path, "layout", o + "SRAMBankPort", 1);
    if (c.user_bandwidth && bws[k] % banks != 0) {
      throw InputError(fmt::format("{}:{}: key layout.{}SRAMBankNum: {} banks do not divide the "
                                   "bank bandwidth {} (SCALE-Sim v3 asserts this)", path,
                                   lay.at(lower(o + "SRAMBankNum")).line, o, banks, bws[k]));
    }
  }
  if (c.user_bandwidth) c.ifmap_read_bw = bws[0], c.filter_read_bw = bws[1];
  refuse(need_section(ini, path, "sparsity"), path, "sparsity", "SparsitySupport", "sparsity");
  refuse(need_section(ini, path, "run_presets"), path, "run_presets", "UseRamulatorTrace",
         "a Ramulator trace");
}

}  // namespace

const char* dataflow_name(Dataflow df) {
  switch (df) {
    case Dataflow::kOs: return "os";
    case Dataflow::kWs: return "ws";
    case Dataflow::kIs: return "is";
  }
  return "?";
}

ScaleSimConfig parse_scalesim_config(const std::string& path, const std::string& text) {
  Ini ini = parse_ini(path, text);
  ScaleSimConfig c;
  c.path = path;
  const IniSection& general = need_section(ini, path, "general");
  c.run_name = need_key(general, path, "general", "run_name").value;

  const IniSection& run = need_section(ini, path, "run_presets");
  const IniValue& mode = need_key(run, path, "run_presets", "InterfaceBandwidth");
  if (mode.value == "USER") {
    c.user_bandwidth = true;
  } else if (mode.value == "CALC") {
    c.user_bandwidth = false;
  } else {
    throw InputError(fmt::format("{}:{}: key run_presets.InterfaceBandwidth: expected USER or CALC, "
                                 "got '{}'", path, mode.line, mode.value));
  }

  const std::string a = "architecture_presets";
  const IniSection& arch = need_section(ini, path, a);
  c.array_rows = need_int(arch, path, a, "ArrayHeight", 1);
  c.array_cols = need_int(arch, path, a, "ArrayWidth", 1);
  c.ifmap_sram_kb = need_int(arch, path, a, "IfmapSramSzkB", 1);
  c.filter_sram_kb = need_int(arch, path, a, "FilterSramSzkB", 1);
  c.ofmap_sram_kb = need_int(arch, path, a, "OfmapSramSzkB", 1);
  c.ifmap_offset = need_int(arch, path, a, "IfmapOffset", 0);
  c.filter_offset = need_int(arch, path, a, "FilterOffset", 0);
  c.ofmap_offset = need_int(arch, path, a, "OfmapOffset", 0);
  const IniValue& df = need_key(arch, path, a, "Dataflow");
  if (df.value == "os") c.dataflow = Dataflow::kOs;
  else if (df.value == "ws") c.dataflow = Dataflow::kWs;
  else if (df.value == "is") c.dataflow = Dataflow::kIs;
  else
    throw InputError(fmt::format("{}:{}: key {}.Dataflow: expected os, ws or is, got '{}'", path,
                                 df.line, a, df.value));

  if (c.user_bandwidth) {
    const IniValue& bw = need_key(arch, path, a, "Bandwidth");
    size_t start = 0;
    while (true) {
      size_t comma = bw.value.find(',', start);
      std::string item = bw.value.substr(start, comma == std::string::npos ? comma : comma - start);
      auto n = parse_int(item);
      if (!n || *n < 1) {
        throw InputError(fmt::format("{}:{}: key {}.Bandwidth: expected positive integers "
                                     "separated by ',', got '{}'", path, bw.line, a, bw.value));
      }
      c.bandwidths.push_back(*n);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    c.ifmap_read_bw = c.filter_read_bw = c.bandwidths[0];
  }
  if (ini.sections.count("layout")) parse_v3_keys(ini, path, c);
  return c;
}

ScaleSimConfig load_scalesim_config(const std::string& path) {
  return parse_scalesim_config(path, read_text_file(path));
}

std::vector<Layer> parse_topology(const std::string& path, const std::string& text, bool gemm) {
  static const char* kConvFields[] = {"Layer name",   "IFMAP Height", "IFMAP Width",
                                      "Filter Height", "Filter Width", "Channels",
                                      "Num Filter",   "Strides",      "Stride Width"};
  static const char* kGemmFields[] = {"Layer", "M", "N", "K"};
  std::vector<Layer> layers;
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    ++line_no;
    std::string t = trim(line);
    if (line_no == 1 || t.empty()) continue;  // header, blank lines (as topology_utils.py)

    std::vector<std::string> f;
    size_t s = 0;
    while (true) {
      size_t c = t.find(',', s);
      f.push_back(trim(t.substr(s, c == std::string::npos ? c : c - s)));
      if (c == std::string::npos) break;
      s = c + 1;
    }
    // SCALE-Sim drops the field after the last comma (rows end with ','); we drop it only when
    // it is empty, so a row without the trailing comma is read the same way.
    if (f.size() > 1 && f.back().empty()) f.pop_back();

    const size_t want_min = gemm ? 4 : 8, want_max = gemm ? 4 : 9;
    if (f.size() < want_min || f.size() > want_max) {
      throw InputError(fmt::format("{}:{}: expected {} fields ({}), got {}", path, line_no,
                                   gemm ? "4" : "8 or 9",
                                   gemm ? "Layer, M, N, K" : "Layer name, IFMAP Height, IFMAP Width, "
                                   "Filter Height, Filter Width, Channels, Num Filter, Strides",
                                   f.size()));
    }
    if (f[0].empty()) throw InputError(fmt::format("{}:{}: field 'Layer name' is empty", path, line_no));
    std::vector<int64_t> v(f.size(), 0);
    for (size_t i = 1; i < f.size(); ++i) {
      auto n = parse_int(f[i]);
      const char* field = gemm ? kGemmFields[i] : kConvFields[i];
      if (!n) {
        throw InputError(fmt::format("{}:{}: field '{}': expected an integer, got '{}'", path,
                                     line_no, field, f[i]));
      }
      if (*n < 1) {
        throw InputError(fmt::format("{}:{}: field '{}': expected a positive integer, got {}", path,
                                     line_no, field, *n));
      }
      v[i] = *n;
    }
    Layer l;
    l.name = f[0];
    l.line = line_no;
    if (gemm) {  // topology_utils.load_arrays_gemm: [M, K, 1, K, 1, N, 1, 1]
      l.ifmap_h = v[1];
      l.ifmap_w = v[3];
      l.filter_h = 1;
      l.filter_w = v[3];
      l.channels = 1;
      l.num_filters = v[2];
      l.stride_h = l.stride_w = 1;
      layers.push_back(l);
      continue;
    }
    l.ifmap_h = v[1];
    l.ifmap_w = v[2];
    l.filter_h = v[3];
    l.filter_w = v[4];
    l.channels = v[5];
    l.num_filters = v[6];
    l.stride_h = v[7];
    l.stride_w = f.size() == 9 ? v[8] : v[7];
    if (l.filter_h > l.ifmap_h) {
      throw InputError(fmt::format("{}:{}: field 'Filter Height': {} is larger than IFMAP Height {}",
                                   path, line_no, l.filter_h, l.ifmap_h));
    }
    if (l.filter_w > l.ifmap_w) {
      throw InputError(fmt::format("{}:{}: field 'Filter Width': {} is larger than IFMAP Width {}",
                                   path, line_no, l.filter_w, l.ifmap_w));
    }
    if (l.name.find("DP") != std::string::npos) {
      // Depthwise layer: SCALE-Sim runs one single-channel layer per channel.
      for (int64_t ch = 0; ch < v[5]; ++ch) {
        Layer d = l;
        d.name = l.name + "Channel_" + std::to_string(ch);
        d.channels = 1;
        layers.push_back(d);
      }
    } else {
      layers.push_back(l);
    }
  }
  if (layers.empty()) throw InputError(fmt::format("{}: no layers (only a header line?)", path));
  return layers;
}

std::vector<Layer> load_topology(const std::string& path, bool gemm) {
  return parse_topology(path, read_text_file(path), gemm);
}

}  // namespace trnsim::model::scalesim
