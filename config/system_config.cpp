// Loads a SystemConfig from a system preset, a system YAML file and --set overrides, driven by
// system_params.def; the chip goes through the chip loader so chip keys get all of its checks.
#include "config/system_config.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "config/params.h"
#include "config/presets_embedded.h"
#include "config/load_util.h"
#include "config/system_params.h"
#include "support/error.h"
#include "support/file_util.h"

namespace trnsim::config {

std::vector<std::string> system_preset_names() {
  return embedded_names(kEmbeddedSystems, kNumEmbeddedSystems);
}

const char* system_preset_yaml(const std::string& name) {
  return embedded_yaml(kEmbeddedSystems, kNumEmbeddedSystems, name, "system preset", "systems");
}

namespace {

constexpr int kMaxPresetDepth = 4;
constexpr const char* kPresetDir = "config/systems/";

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}






// Dimensions a topology has: a torus2d 2, a torus3d 3, the others 1.
size_t topology_rank(const std::string& topology) {
  if (topology == "torus2d") return 2;
  if (topology == "torus3d") return 3;
  return 1;
}

std::string dims_text(const std::vector<int64_t>& dims) {
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

// The first failing cross-parameter rule as {keys involved, message}; the first key is the
// usual culprit. Keys empty when all pass. Keep in step with system_validation_rule_docs().
std::pair<std::string, std::string> cross_check(const SystemConfig& s) {
  const size_t rank = topology_rank(s.topology);
  if (s.topology == "ring" && s.chips < 2)
    return {"system.chips system.topology",
            fmt::format("system.topology = ring needs at least 2 chips, got system.chips = {}",
                        s.chips)};
  if (s.dims.empty() && rank > 1)
    return {"system.topology system.dims",
            fmt::format("system.topology = {} needs system.dims ({} sizes, e.g. {})", s.topology,
                        rank, rank == 2 ? "[4, 4]" : "[4, 4, 4]")};
  if (!s.dims.empty() && s.dims.size() != rank)
    return {"system.dims system.topology",
            fmt::format("system.dims = {} has {} size{}, system.topology = {} needs {}",
                        dims_text(s.dims), s.dims.size(), s.dims.size() == 1 ? "" : "s", s.topology,
                        rank)};
  int64_t product = 1;
  for (int64_t d : s.dims) product *= d;  // at most 3 sizes of at most 4096: no overflow
  if (!s.dims.empty() && product != s.chips)
    return {"system.dims system.chips",
            fmt::format("system.dims = {} multiply to {} chips, but system.chips = {} (set both)",
                        dims_text(s.dims), product, s.chips)};
  if (!s.link_dim_bandwidth_gbps.empty() && s.link_dim_bandwidth_gbps.size() != rank)
    return {"link.dim_bandwidth_gbps system.dims",
            fmt::format("link.dim_bandwidth_gbps has {} entr{}, system.dims has {} dimension{} "
                        "(give one per dimension, or none)",
                        s.link_dim_bandwidth_gbps.size(),
                        s.link_dim_bandwidth_gbps.size() == 1 ? "y" : "ies", rank,
                        rank == 1 ? "" : "s")};
  if (s.instances > 1 && !(s.efa_bandwidth_gbps > 0))
    return {"efa.bandwidth_gbps system.instances",
            fmt::format("system.instances = {} needs efa.bandwidth_gbps > 0, got {} (instances "
                        "talk over EFA)",
                        s.instances, s.efa_bandwidth_gbps)};
  return {"", ""};
}

class SystemLoader {
 public:
  // `path` names the text in messages; `base` is the folder that relative chip paths start
  // from ("" for the embedded presets, which name chip presets).
  void apply_yaml(const std::string& text, const std::string& path, const std::string& base,
                  bool default_preset, int depth) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw InputError(fmt::format("{}: malformed YAML: {}", yaml_at(path, e.mark), e.msg));
    }
    if (!root.IsMap() && !root.IsNull())
      throw InputError(
          fmt::format("{}: expected a map of system parameters", yaml_at(path, root.Mark())));
    std::string preset = default_preset ? "trn1.32xlarge" : "";
    if (root.IsMap()) {
      for (auto it = root.begin(); it != root.end(); ++it) {
        if (!it->first.IsScalar() || it->first.Scalar() != "preset") continue;
        if (!it->second.IsScalar() || it->second.Scalar().empty())
          throw InputError(fmt::format("{}: key preset: expected a system preset name ({})",
                                       yaml_at(path, it->first.Mark()),
                                       fmt::join(system_preset_names(), ", ")));
        preset = it->second.Scalar();
        try {
          system_preset_yaml(preset);
        } catch (const InputError& e) {
          throw InputError(fmt::format("{}: {}", yaml_at(path, it->second.Mark()), e.what()));
        }
      }
    }
    if (!preset.empty()) apply_preset(preset, depth + 1);
    std::map<std::string, int> seen;  // key -> line, to catch a key given twice
    if (root.IsMap()) walk(root, "", path, base, seen);
  }

  void apply_preset(const std::string& name, int depth) {
    if (depth > kMaxPresetDepth)
      throw InputError(fmt::format("system preset {}: presets nest too deeply", name));
    apply_yaml(system_preset_yaml(name), kPresetDir + name + ".yaml", "", false, depth);
  }

  // A system key sets the system, any other key goes to the chip loader.
  void apply_set(const std::string& set) {
    std::string where = fmt::format("--set {}", set);
    size_t eq = set.find('=');
    if (eq == std::string::npos) throw InputError(fmt::format("{}: expected KEY=VALUE", where));
    std::string key = trim_blanks(set.substr(0, eq));
    std::string value = trim_blanks(set.substr(eq + 1));
    if (const SysParamInfo* p = find_system_param(key)) {
      set_system_param_from_text(cfg_, *p, value, where);
      origin_[key] = where;
    } else if (find_param(key)) {
      chip_overrides_.push_back({key, value, where});
    } else {
      throw InputError(fmt::format("{}: {}", where, unknown_key_message(key, true)));
    }
  }

  SystemConfig finish(const std::string& spec) {
    std::string chip_where = origin("chip", spec);
    const std::vector<std::string> chips = preset_names();
    if (!contains(chips, cfg_.chip)) {
      if (!looks_like_path(cfg_.chip) && !file_exists(cfg_.chip))
        throw InputError(fmt::format(
            "{}: key chip: unknown chip preset '{}' (chip presets: {}; or give a chip YAML file)",
            chip_where, cfg_.chip, fmt::join(chips, ", ")));
      if (!file_exists(cfg_.chip))
        throw InputError(
            fmt::format("{}: key chip: cannot open chip file '{}'", chip_where, cfg_.chip));
    }
    cfg_.chip_config = load_chip_overridden(cfg_.chip, chip_overrides_);

    auto [keys, msg] = cross_check(cfg_);
    if (!keys.empty()) {
      // Blame the first involved key that the user set (file or --set), not a preset's value.
      std::istringstream in(keys);
      std::string key, blame;
      while (in >> key) {
        std::string where = origin(key, spec);
        if (blame.empty()) blame = where;
        if (where.rfind(kPresetDir, 0) != 0) {
          blame = where;
          break;
        }
      }
      throw InputError(fmt::format("{}: {}", blame, msg));
    }
    if (cfg_.dims.empty()) cfg_.dims = {cfg_.chips};  // ring, fully_connected, switch
    return cfg_;
  }

 private:
  std::string origin(const std::string& key, const std::string& fallback) const {
    auto it = origin_.find(key);
    return it == origin_.end() ? fallback : it->second;
  }

  // `any_chip`: a --set may also name a chip key; in a file chip keys go under chip_set.
  static std::string unknown_key_message(const std::string& key, bool any_chip) {
    std::vector<std::string_view> keys;
    for (const auto& p : system_param_table()) keys.push_back(p.key);
    if (any_chip)
      for (const auto& p : param_table()) keys.push_back(p.key);
    else
      keys.insert(keys.end(), {"preset", "chip_set"});
    std::string guess = closest_key(key, keys);
    if (!guess.empty()) return fmt::format("unknown key {} (did you mean {}?)", key, guess);
    return fmt::format("unknown key {} (see `trnsim describe --system` for the keys)", key);
  }

  void walk(const YAML::Node& map, const std::string& prefix, const std::string& path,
            const std::string& base, std::map<std::string, int>& seen) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      // Copies: the iterator's pair is a temporary, references into it would dangle.
      YAML::Node k = it->first;
      YAML::Node v = it->second;
      if (!k.IsScalar())
        throw InputError(fmt::format("{}: expected a parameter name", yaml_at(path, k.Mark())));
      if (prefix.empty() && k.Scalar() == "preset") continue;  // handled by apply_yaml
      std::string key = prefix.empty() ? k.Scalar() : prefix + "." + k.Scalar();
      if (key == "chip_set") {
        if (!v.IsMap())
          throw InputError(fmt::format("{}: key chip_set: expected a map of chip parameters",
                                       yaml_at(path, v.IsNull() ? k.Mark() : v.Mark())));
        walk_chip_set(v, "", path, seen);
      } else if (const SysParamInfo* p = find_system_param(key)) {
        auto [prev, fresh] = seen.emplace(key, k.Mark().line + 1);
        if (!fresh)
          throw InputError(fmt::format("{}: key {}: given twice (first on line {})",
                                       yaml_at(path, k.Mark()), key, prev->second));
        set_value(*p, k, v, path);
        if (key == "chip") resolve_chip_path(base);
      } else if (is_system_group(key)) {
        if (!v.IsMap())
          throw InputError(fmt::format("{}: key {}: expected a map of {}.* parameters",
                                       yaml_at(path, v.IsNull() ? k.Mark() : v.Mark()), key, key));
        walk(v, key, path, base, seen);
      } else if (find_param(key) || is_chip_group(key)) {
        throw InputError(fmt::format(
            "{}: key {} is a chip parameter: put it under chip_set:", yaml_at(path, k.Mark()), key));
      } else {
        throw InputError(
            fmt::format("{}: {}", yaml_at(path, k.Mark()), unknown_key_message(key, false)));
      }
    }
  }

  void set_value(const SysParamInfo& p, const YAML::Node& k, const YAML::Node& v,
                 const std::string& path) {
    std::string where = yaml_at(path, v.IsNull() ? k.Mark() : v.Mark());
    if (v.IsMap() || (v.IsSequence() && !p.is_list()))
      throw InputError(fmt::format("{}: key {}: expected a single {} value, got a {}", where, p.key,
                                   system_param_type_name(p.type), v.IsMap() ? "map" : "list"));
    if (v.IsSequence()) {
      std::vector<std::string> items, wheres;
      for (const auto& item : v) {
        if (!item.IsScalar())
          throw InputError(fmt::format("{}: key {}: expected a list of numbers, got a nested {}",
                                       yaml_at(path, item.Mark()), p.key,
                                       item.IsMap() ? "map" : "list"));
        items.push_back(item.Scalar());
        wheres.push_back(yaml_at(path, item.Mark()));
      }
      set_system_param_from_items(cfg_, p, items, wheres);
    } else {
      set_system_param_from_text(cfg_, p, v.IsNull() ? "" : v.Scalar(), where);
    }
    origin_[std::string(p.key)] = where;
  }

  // A relative chip file in a system file is relative to the system file's folder; a bare name
  // ("trn1") is a chip preset.
  void resolve_chip_path(const std::string& base) {
    const std::string& c = cfg_.chip;
    if (base.empty() || !looks_like_path(c) || c.front() == '/') return;
    cfg_.chip = base + "/" + c;
  }

  // chip_set: chip parameters, nested or dotted, checked here so that errors point at the file.
  void walk_chip_set(const YAML::Node& map, const std::string& prefix, const std::string& path,
                     std::map<std::string, int>& seen) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      YAML::Node k = it->first;
      YAML::Node v = it->second;
      if (!k.IsScalar())
        throw InputError(fmt::format("{}: expected a chip parameter name", yaml_at(path, k.Mark())));
      std::string key = prefix.empty() ? k.Scalar() : prefix + "." + k.Scalar();
      if (const ParamInfo* p = find_param(key)) {
        auto [prev, fresh] = seen.emplace("chip_set." + key, k.Mark().line + 1);
        if (!fresh)
          throw InputError(fmt::format("{}: key chip_set.{}: given twice (first on line {})",
                                       yaml_at(path, k.Mark()), key, prev->second));
        if (v.IsMap() || v.IsSequence())
          throw InputError(fmt::format("{}: key {}: expected a single {} value, got a {}",
                                       yaml_at(path, v.Mark()), key, param_type_name(p->type),
                                       v.IsMap() ? "map" : "list"));
        chip_overrides_.push_back(
            {key, v.IsNull() ? "" : v.Scalar(), yaml_at(path, v.IsNull() ? k.Mark() : v.Mark())});
      } else if (is_chip_group(key)) {
        if (!v.IsMap())
          throw InputError(fmt::format("{}: key {}: expected a map of {}.* parameters",
                                       yaml_at(path, v.IsNull() ? k.Mark() : v.Mark()), key, key));
        walk_chip_set(v, key, path, seen);
      } else {
        std::string guess = closest_param_key(key);
        throw InputError(
            fmt::format("{}: unknown chip key {} under chip_set{}", yaml_at(path, k.Mark()), key,
                        guess.empty() ? "" : fmt::format(" (did you mean {}?)", guess)));
      }
    }
  }

  SystemConfig cfg_;
  std::map<std::string, std::string> origin_;  // key -> where its value was last set
  std::vector<ChipOverride> chip_overrides_;   // chip_set entries, then chip keys of --set
};

std::string folder_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

std::vector<std::string> system_validation_rule_docs() {
  // Keep in step with cross_check() above.
  return {
      "`system.topology` = ring needs `system.chips` >= 2",
      "`system.topology` = torus2d needs `system.dims` with 2 sizes, torus3d with 3; ring, "
      "fully_connected and switch take 1 size (empty means [`system.chips`])",
      "the sizes of `system.dims` multiply to `system.chips`",
      "`link.dim_bandwidth_gbps` is empty or has one entry per dimension",
      "`system.instances` > 1 needs `efa.bandwidth_gbps` > 0",
  };
}

void validate_system(const SystemConfig& s, const std::string& where) {
  auto [keys, msg] = cross_check(s);
  if (keys.empty()) return;
  throw InputError(where.empty() ? msg : fmt::format("{}: {}", where, msg));
}

SystemConfig load_system(const std::string& spec_in, const std::vector<std::string>& sets) {
  std::string spec = spec_in.empty() ? "trn1.32xlarge" : spec_in;
  SystemLoader loader;
  if (contains(system_preset_names(), spec)) {
    loader.apply_preset(spec, 0);
  } else if (file_exists(spec) || looks_like_path(spec)) {
    loader.apply_yaml(read_text_file(spec), spec, folder_of(spec), true, 0);
  } else {
    std::string hint = contains(preset_names(), spec)
                           ? fmt::format(
                                 "; {} is a chip: use --chip, or a system file with "
                                 "`chip: {}`",
                                 spec, spec)
                           : "; or give a YAML file";
    throw InputError(fmt::format("unknown system preset '{}' (systems: {}{})", spec,
                                 fmt::join(system_preset_names(), ", "), hint));
  }
  for (const auto& s : sets) loader.apply_set(s);
  return loader.finish(spec);
}

}  // namespace trnsim::config
