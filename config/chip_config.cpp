// Loads a ChipConfig from a preset, a user YAML file and --set overrides, driven by params.def.
#include "config/chip_config.h"

#include <fmt/format.h>

#include <sstream>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <map>

#include "config/load_util.h"
#include "config/params.h"
#include "config/presets_embedded.h"
#include "support/error.h"
#include "support/file_util.h"

namespace trnsim::config {

isa::Target ChipConfig::target() const {
  isa::Target t;
  t.num_cores = static_cast<int>(cores);
  t.partitions = static_cast<int>(partitions);
  t.sbuf_bytes_per_partition = sbuf_bytes_per_partition;
  t.psum_banks = static_cast<int>(psum_banks);
  t.psum_bank_bytes = psum_bank_bytes;
  t.pe_rows = static_cast<int>(pe_rows);
  t.pe_cols = static_cast<int>(pe_cols);
  t.max_moving_free = static_cast<int>(pe_max_moving_free);
  t.num_semaphores = static_cast<int>(semaphores);
  t.num_dma_queues = static_cast<int>(dma_queues);
  t.hbm_bytes = hbm_bytes;
  t.dma_psum_access = dma_psum_access != 0;
  return t;
}

std::vector<std::string> embedded_names(const EmbeddedPreset* list, int count) {
  std::vector<std::string> names;
  for (int i = 0; i < count; ++i) names.push_back(list[i].name);
  return names;
}

const char* embedded_yaml(const EmbeddedPreset* list, int count, const std::string& name,
                          const char* what, const char* plural) {
  for (int i = 0; i < count; ++i)
    if (name == list[i].name) return list[i].yaml;
  throw InputError(fmt::format("unknown {} '{}' ({}: {})", what, name, plural,
                               fmt::join(embedded_names(list, count), ", ")));
}

std::vector<std::string> preset_names() {
  return embedded_names(kEmbeddedPresets, kNumEmbeddedPresets);
}

const char* preset_yaml(const std::string& name) {
  return embedded_yaml(kEmbeddedPresets, kNumEmbeddedPresets, name, "preset", "presets");
}

namespace {

constexpr int kMaxPresetDepth = 4;


class Loader {
 public:
  // `path` names the text in messages ("chip.yaml", "config/presets/tiny.yaml").
  void apply_yaml(const std::string& text, const std::string& path, bool default_preset,
                  int depth) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw InputError(fmt::format("{}: malformed YAML: {}", yaml_at(path, e.mark), e.msg));
    }
    if (!root.IsMap() && !root.IsNull())
      throw InputError(fmt::format("{}: expected a map of chip parameters", yaml_at(path, root.Mark())));
    std::string preset = default_preset ? "trn1" : "";
    if (root.IsMap()) {
      for (auto it = root.begin(); it != root.end(); ++it) {
        if (!it->first.IsScalar() || it->first.Scalar() != "preset") continue;
        if (!it->second.IsScalar() || it->second.Scalar().empty())
          throw InputError(fmt::format("{}: key preset: expected a preset name ({})",
                                       yaml_at(path, it->first.Mark()), fmt::join(preset_names(), ", ")));
        preset = it->second.Scalar();
        try {
          preset_yaml(preset);
        } catch (const InputError& e) {
          throw InputError(fmt::format("{}: {}", yaml_at(path, it->second.Mark()), e.what()));
        }
      }
    }
    if (!preset.empty()) apply_preset(preset, depth + 1);
    std::map<std::string, int> seen;  // key -> line, to catch a key given twice
    if (root.IsMap()) walk(root, "", path, seen);
  }

  void apply_preset(const std::string& name, int depth) {
    if (depth > kMaxPresetDepth)
      throw InputError(fmt::format("preset {}: presets nest too deeply", name));
    apply_yaml(preset_yaml(name), fmt::format("config/presets/{}.yaml", name), false, depth);
  }

  void apply_set(const std::string& set) {
    std::string where = fmt::format("--set {}", set);
    size_t eq = set.find('=');
    if (eq == std::string::npos) throw InputError(fmt::format("{}: expected KEY=VALUE", where));
    apply_override({trim_blanks(set.substr(0, eq)), trim_blanks(set.substr(eq + 1)), where});
  }

  void apply_override(const ChipOverride& o) {
    const ParamInfo* p = find_param(o.key);
    if (!p) throw InputError(fmt::format("{}: {}", o.where, unknown_key_message(o.key)));
    set_param_from_text(cfg_, *p, o.value, o.where);
    origin_[std::string(p->key)] = o.where;
  }

  const ChipConfig& config() const { return cfg_; }
  std::string origin(std::string_view key, const std::string& fallback) const {
    auto it = origin_.find(std::string(key));
    return it == origin_.end() ? fallback : it->second;
  }

 private:
  static std::string unknown_key_message(const std::string& key) {
    std::string guess = closest_param_key(key);
    if (guess.empty())
      return fmt::format("unknown key {} (see `trnsim describe` for the keys)", key);
    return fmt::format("unknown key {} (did you mean {}?)", key, guess);
  }

  void walk(const YAML::Node& map, const std::string& prefix, const std::string& path,
            std::map<std::string, int>& seen) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      // Copies: the iterator's pair is a temporary, references into it would dangle.
      YAML::Node k = it->first;
      YAML::Node v = it->second;
      if (!k.IsScalar())
        throw InputError(fmt::format("{}: expected a parameter name", yaml_at(path, k.Mark())));
      if (prefix.empty() && k.Scalar() == "preset") continue;  // handled by apply_yaml
      std::string key = prefix.empty() ? k.Scalar() : prefix + "." + k.Scalar();
      const ParamInfo* p = find_param(key);
      if (p) {
        auto [prev, fresh] = seen.emplace(key, k.Mark().line + 1);
        if (!fresh)
          throw InputError(fmt::format("{}: key {}: given twice (first on line {})",
                                       yaml_at(path, k.Mark()), key, prev->second));
        if (v.IsMap() || v.IsSequence())
          throw InputError(fmt::format("{}: key {}: expected a single {} value, got a {}",
                                       yaml_at(path, v.Mark()), key, param_type_name(p->type),
                                       v.IsMap() ? "map" : "list"));
        std::string where = yaml_at(path, v.IsNull() ? k.Mark() : v.Mark());
        set_param_from_text(cfg_, *p, v.IsNull() ? "" : v.Scalar(), where);
        origin_[key] = where;
      } else if (is_chip_group(key)) {
        if (!v.IsMap())
          throw InputError(fmt::format("{}: key {}: expected a map of {}.* parameters",
                                       yaml_at(path, v.IsNull() ? k.Mark() : v.Mark()), key, key));
        walk(v, key, path, seen);
      } else {
        throw InputError(fmt::format("{}: {}", yaml_at(path, k.Mark()), unknown_key_message(key)));
      }
    }
  }

  ChipConfig cfg_;
  std::map<std::string, std::string> origin_;  // key -> where its value was last set
};



// The first failing cross-parameter rule as {keys involved, message}; the first key is the
// usual culprit. Key empty when all pass.
std::pair<std::string, std::string> cross_check(const ChipConfig& c) {
  if (c.pe_rows > c.partitions)
    return {"pe.rows sbuf.partitions", fmt::format("pe.rows = {} exceeds sbuf.partitions = {} (the contraction "
                                   "dimension K runs over SBUF partitions)",
                                   c.pe_rows, c.partitions)};
  if (c.pe_cols > c.partitions)
    return {"pe.cols sbuf.partitions", fmt::format("pe.cols = {} exceeds sbuf.partitions = {} (matmul output "
                                   "rows land on PSUM partitions)",
                                   c.pe_cols, c.partitions)};
  constexpr int64_t kTileBytes = 512 * 4;
  if (c.sbuf_bytes_per_partition < kTileBytes)
    return {"sbuf.bytes_per_partition",
            fmt::format("sbuf.bytes_per_partition = {} is smaller than one 512-element fp32 tile "
                        "({} bytes)",
                        c.sbuf_bytes_per_partition, kTileBytes)};
  if (c.psum_bank_bytes % 4 != 0)
    return {"psum.bank_bytes",
            fmt::format("psum.bank_bytes = {} is not a multiple of 4 (fp32 accumulators)",
                        c.psum_bank_bytes)};
  if (c.pe_max_moving_free * 4 > c.psum_bank_bytes)
    return {"pe.max_moving_free psum.bank_bytes",
            fmt::format("pe.max_moving_free = {} fp32 results ({} bytes) do not fit one PSUM "
                        "bank (psum.bank_bytes = {})",
                        c.pe_max_moving_free, c.pe_max_moving_free * 4, c.psum_bank_bytes)};
  if (c.pe_pipeline_cycles != 0)
    return {"pe.pipeline_cycles",
            fmt::format("pe.pipeline_cycles = {}: only 0 is modelled (the Tensor Engine model is "
                        "throughput-only; a fill/drain latency would be ignored)",
                        c.pe_pipeline_cycles)};
  return {"", ""};
}

}  // namespace

std::vector<std::string> validation_rule_docs() {
  // Keep in step with cross_check() above.
  return {
      "`pe.rows` <= `sbuf.partitions` (K runs over SBUF partitions)",
      "`pe.cols` <= `sbuf.partitions` (matmul output rows land on PSUM partitions)",
      "`sbuf.bytes_per_partition` >= 2048 (one 512-element fp32 tile)",
      "`psum.bank_bytes` is a multiple of 4 (fp32 accumulators)",
      "`pe.max_moving_free` x 4 bytes <= `psum.bank_bytes` (a matmul result fits one PSUM bank)",
      "`pe.pipeline_cycles` = 0 (the Tensor Engine model is throughput-only; reserved)",
  };
}

void validate_chip(const ChipConfig& c, const std::string& where) {
  auto [key, msg] = cross_check(c);
  if (key.empty()) return;
  throw InputError(where.empty() ? msg : fmt::format("{}: {}", where, msg));
}

namespace {

ChipConfig load_chip_impl(const std::string& spec_in, const std::vector<std::string>& sets,
                          const std::vector<ChipOverride>& overrides) {
  std::string spec = spec_in.empty() ? "trn1" : spec_in;
  Loader loader;
  bool is_preset = false;
  for (const auto& n : preset_names()) is_preset = is_preset || n == spec;
  if (is_preset) {
    loader.apply_preset(spec, 0);
  } else if (file_exists(spec) || looks_like_path(spec)) {
    loader.apply_yaml(read_text_file(spec), spec, true, 0);
  } else {
    throw InputError(fmt::format("unknown preset '{}' (presets: {}; or give a YAML file)", spec,
                                 fmt::join(preset_names(), ", ")));
  }
  for (const auto& s : sets) loader.apply_set(s);
  for (const auto& o : overrides) loader.apply_override(o);
  auto [keys, msg] = cross_check(loader.config());
  if (!keys.empty()) {
    // Blame the first involved key that the user set (file or --set), not a preset default.
    std::istringstream in(keys);
    std::string key, blame;
    while (in >> key) {
      std::string where = loader.origin(key, spec);
      if (blame.empty()) blame = where;
      if (where.rfind("config/presets/", 0) != 0) {
        blame = where;
        break;
      }
    }
    throw InputError(fmt::format("{}: {}", blame, msg));
  }
  return loader.config();
}

}  // namespace

ChipConfig load_chip(const std::string& spec, const std::vector<std::string>& sets) {
  return load_chip_impl(spec, sets, {});
}

ChipConfig load_chip_overridden(const std::string& spec,
                                const std::vector<ChipOverride>& overrides) {
  return load_chip_impl(spec, {}, overrides);
}

}  // namespace trnsim::config
