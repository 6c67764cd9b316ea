// Sweep spec parsing and design-point expansion.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <set>

#include "config/chip_config.h"
#include "support/error.h"
#include "tools/sweep/sweep.h"

namespace trnsim::cli::sweep {
namespace {

namespace fs = std::filesystem;

std::string where(const std::string& file, const YAML::Node& n) {
  if (n.Mark().line >= 0) return fmt::format("{}:{}", file, n.Mark().line + 1);
  return file;
}

std::string scalar(const std::string& file, const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar()) throw InputError(fmt::format("{}: {}: expected a value", where(file, n), what));
  return n.Scalar();
}

double number(const std::string& file, const YAML::Node& n, const std::string& what) {
  std::string s = scalar(file, n, what);
  try {
    size_t used = 0;
    double v = std::stod(s, &used);
    if (used == s.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw InputError(fmt::format("{}: {}: expected a number, found '{}'", where(file, n), what, s));
}

// A chip spec or workload path: presets stay names, files resolve against the spec's folder.
std::string resolve(const std::string& spec_path, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  fs::path base = fs::path(spec_path).parent_path();
  return (base / p).lexically_normal().string();
}

std::string format_number(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

std::vector<std::string> axis_values(const std::string& file, const std::string& key,
                                     const YAML::Node& n) {
  std::vector<std::string> out;
  if (n.IsSequence()) {
    for (const auto& v : n) out.push_back(scalar(file, v, "axis " + key));
  } else if (n.IsMap()) {
    // {from: A, to: B, step: S} (arithmetic, inclusive) or {from: A, to: B, mul: M} (geometric).
    for (const auto& kv : n) {
      std::string k = kv.first.as<std::string>();
      if (k != "from" && k != "to" && k != "step" && k != "mul")
        throw InputError(fmt::format("{}: axis {}: unknown range key '{}' (from, to, step, mul)",
                                     where(file, kv.first), key, k));
    }
    if (!n["from"] || !n["to"] || (!n["step"] == !n["mul"]))
      throw InputError(fmt::format("{}: axis {}: a range needs from, to and one of step or mul",
                                   where(file, n), key));
    double from = number(file, n["from"], "axis " + key + " from");
    double to = number(file, n["to"], "axis " + key + " to");
    if (n["step"]) {
      double step = number(file, n["step"], "axis " + key + " step");
      if (step <= 0 || to < from)
        throw InputError(fmt::format("{}: axis {}: need step > 0 and to >= from", where(file, n), key));
      for (double v = from; v <= to + 1e-9 * std::fabs(step) && out.size() < 100000; v += step)
        out.push_back(format_number(v));
    } else {
      double mul = number(file, n["mul"], "axis " + key + " mul");
      if (mul <= 1 || from <= 0 || to < from)
        throw InputError(fmt::format("{}: axis {}: need mul > 1, from > 0 and to >= from",
                                     where(file, n), key));
      for (double v = from; v <= to * (1 + 1e-12) && out.size() < 100000; v *= mul)
        out.push_back(format_number(v));
    }
  } else {
    out.push_back(scalar(file, n, "axis " + key));
  }
  if (out.empty()) throw InputError(fmt::format("{}: axis {}: no values", where(file, n), key));
  return out;
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

SweepSpec load_spec(const std::string& path) {
  SweepSpec spec;
  spec.path = path;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw InputError(fmt::format("{}: cannot open", path));
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}:{}:{}: malformed YAML: {}", path, e.mark.line + 1,
                                 e.mark.column + 1, e.msg));
  }
  if (!root.IsMap()) throw InputError(fmt::format("{}: expected a mapping at the top", path));
  static const std::set<std::string> kKeys = {"chip", "set", "axes", "mode", "samples",
                                              "seed", "workloads", "options"};
  for (const auto& kv : root) {
    std::string k = kv.first.as<std::string>();
    if (!kKeys.count(k))
      throw InputError(fmt::format("{}: unknown key '{}' (expected one of chip, set, axes, mode, "
                                   "samples, seed, workloads, options)", where(path, kv.first), k));
  }
  if (root["chip"]) {
    spec.chip = scalar(path, root["chip"], "chip");
    bool is_file = spec.chip.find('/') != std::string::npos ||
                   spec.chip.find(".yaml") != std::string::npos ||
                   spec.chip.find(".yml") != std::string::npos;
    if (is_file) spec.chip = resolve(path, spec.chip);
  }
  if (const auto& s = root["set"]) {
    if (!s.IsMap()) throw InputError(fmt::format("{}: set: expected key: value pairs", where(path, s)));
    for (const auto& kv : s)
      spec.sets.push_back(kv.first.as<std::string>() + "=" + scalar(path, kv.second, "set"));
  }
  if (const auto& a = root["axes"]) {
    if (!a.IsMap()) throw InputError(fmt::format("{}: axes: expected key: values pairs", where(path, a)));
    for (const auto& kv : a) {
      std::string key = kv.first.as<std::string>();
      spec.axes.push_back({key, axis_values(path, key, kv.second)});
    }
  }
  if (root["mode"]) {
    spec.mode = scalar(path, root["mode"], "mode");
    if (spec.mode != "grid" && spec.mode != "zip" && spec.mode != "random")
      throw InputError(fmt::format("{}: mode: expected grid, zip or random, found '{}'",
                                   where(path, root["mode"]), spec.mode));
  }
  if (root["samples"]) spec.samples = static_cast<int64_t>(number(path, root["samples"], "samples"));
  if (root["seed"]) spec.seed = static_cast<uint64_t>(number(path, root["seed"], "seed"));
  if (spec.mode == "random" && (spec.samples <= 0 || spec.samples > 10000000))
    throw InputError(fmt::format("{}: mode random needs samples between 1 and 10000000", path));
  if (spec.mode == "zip") {
    for (const auto& ax : spec.axes)
      if (ax.values.size() != spec.axes.front().values.size())
        throw InputError(fmt::format("{}: mode zip needs axes of equal length ({} has {}, {} has {})",
                                     path, spec.axes.front().key, spec.axes.front().values.size(),
                                     ax.key, ax.values.size()));
  }
  const auto& wls = root["workloads"];
  if (!wls || !wls.IsSequence() || wls.size() == 0)
    throw InputError(fmt::format("{}: workloads: expected a list of models or programs", path));
  for (const auto& w : wls) {
    Workload wl;
    if (!w.IsMap()) throw InputError(fmt::format("{}: workload: expected a mapping", where(path, w)));
    for (const auto& kv : w) {
      std::string k = kv.first.as<std::string>();
      if (k != "name" && k != "model" && k != "program" && k != "shapes" && k != "dtype" &&
          k != "cores")
        throw InputError(fmt::format("{}: workload: unknown key '{}' (name, model, program, shapes, "
                                     "dtype, cores)", where(path, kv.first), k));
    }
    if (!w["model"] == !w["program"])
      throw InputError(fmt::format("{}: workload: give exactly one of model or program", where(path, w)));
    wl.is_model = static_cast<bool>(w["model"]);
    wl.path = resolve(path, scalar(path, wl.is_model ? w["model"] : w["program"], "workload path"));
    if (!fs::exists(wl.path))
      throw InputError(fmt::format("{}: workload file not found: {}", where(path, w), wl.path));
    wl.name = w["name"] ? scalar(path, w["name"], "name") : fs::path(wl.path).stem().string();
    if (const auto& sh = w["shapes"]) {
      if (!sh.IsMap()) throw InputError(fmt::format("{}: shapes: expected NAME: [dims]", where(path, sh)));
      for (const auto& kv : sh) {
        std::string dims;
        if (kv.second.IsSequence()) {
          for (const auto& d : kv.second) dims += (dims.empty() ? "" : "x") + scalar(path, d, "shape");
        } else {
          dims = scalar(path, kv.second, "shape");
        }
        wl.shapes.push_back(kv.first.as<std::string>() + "=" + dims);
      }
    }
    if (w["dtype"]) wl.dtype = scalar(path, w["dtype"], "dtype");
    if (wl.dtype != "bf16" && wl.dtype != "fp32")
      throw InputError(fmt::format("{}: dtype: expected bf16 or fp32", where(path, w["dtype"])));
    if (const auto& c = w["cores"]) {
      const std::string v = scalar(path, c, "cores");
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v == "all") wl.cores = 0;
      else if (!v.empty() && *end == '\0' && n >= 1 && n <= 4096) wl.cores = static_cast<int>(n);
      else throw InputError(fmt::format("{}: cores: expected a positive integer or all", where(path, c)));
      if (!wl.is_model)
        throw InputError(fmt::format("{}: cores: only for models (programs fix their cores)",
                                     where(path, c)));
    }
    spec.workloads.push_back(wl);
  }
  if (const auto& o = root["options"]) {
    for (const auto& kv : o) {
      std::string k = kv.first.as<std::string>();
      if (k == "timing-only" || k == "timing_only") {
        spec.timing_only = kv.second.as<bool>();
      } else if (k == "timeout" || k == "timeout_s") {
        spec.timeout_s = number(path, kv.second, k);
        if (spec.timeout_s <= 0) throw InputError(fmt::format("{}: timeout must be > 0", where(path, kv.second)));
      } else {
        throw InputError(fmt::format("{}: options: unknown option '{}' (timing-only, timeout)",
                                     where(path, kv.first), k));
      }
    }
  }
  // Load every distinct configuration once so that bad keys and values fail before any run.
  for (const auto& pt : expand_points(spec)) {
    std::vector<std::string> sets = spec.sets;
    for (const auto& [k, v] : pt.params) sets.push_back(k + "=" + v);
    try {
      config::load_chip(spec.chip, sets);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{}: design point {}: {}", path, pt.index, e.what()));
    }
  }
  return spec;
}

std::vector<DesignPoint> expand_points(const SweepSpec& spec) {
  std::vector<std::vector<std::pair<std::string, std::string>>> configs;
  if (spec.axes.empty()) {
    configs.emplace_back();
  } else if (spec.mode == "zip") {
    for (size_t i = 0; i < spec.axes.front().values.size(); ++i) {
      configs.emplace_back();
      for (const auto& ax : spec.axes) configs.back().emplace_back(ax.key, ax.values[i]);
    }
  } else if (spec.mode == "random") {
    std::mt19937_64 rng(spec.seed);
    for (int64_t s = 0; s < spec.samples; ++s) {
      configs.emplace_back();
      for (const auto& ax : spec.axes)
        configs.back().emplace_back(ax.key, ax.values[rng() % ax.values.size()]);
    }
  } else {
    // Odometer over the axes, the last axis fastest.
    std::vector<size_t> idx(spec.axes.size(), 0);
    bool more = true;
    while (more) {
      configs.emplace_back();
      for (size_t a = 0; a < spec.axes.size(); ++a)
        configs.back().emplace_back(spec.axes[a].key, spec.axes[a].values[idx[a]]);
      if (configs.size() > 10000000) throw InputError(spec.path + ": more than 10 million design points");
      more = false;
      for (size_t a = spec.axes.size(); a-- > 0;) {
        if (++idx[a] < spec.axes[a].values.size()) {
          more = true;
          break;
        }
        idx[a] = 0;
      }
    }
  }
  std::vector<DesignPoint> pts;
  for (size_t w = 0; w < spec.workloads.size(); ++w) {
    for (const auto& c : configs) {
      DesignPoint p;
      p.index = static_cast<int>(pts.size());
      p.workload = static_cast<int>(w);
      p.params = c;
      std::string key = spec.workloads[w].name;
      for (const auto& [k, v] : c) key += "\n" + k + "=" + v;
      p.id = fmt::format("{:016x}", fnv1a(key + "\n#" + std::to_string(p.index)));
      pts.push_back(std::move(p));
    }
  }
  return pts;
}

std::vector<DesignPoint> select_shard(const std::vector<DesignPoint>& pts, const std::string& shard) {
  int k = 0, n = 0;
  char slash = 0;
  char extra = 0;
  if (std::sscanf(shard.c_str(), "%d%c%d%c", &k, &slash, &n, &extra) != 3 || slash != '/' || n < 1 ||
      k < 1 || k > n)
    throw InputError(fmt::format("--shard {}: expected K/N with 1 <= K <= N", shard));
  std::vector<DesignPoint> out;
  for (const auto& p : pts)
    if (p.index % n == k - 1) out.push_back(p);
  return out;
}

}  // namespace trnsim::cli::sweep
