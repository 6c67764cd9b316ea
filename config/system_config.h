// The system configuration: several chips of one chip configuration, their topology, links and
// the EFA network between instances. Every parameter is declared once in system_params.def;
// loaded from presets (config/systems/NAME.yaml), YAML files and --set overrides.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/chip_config.h"

namespace trnsim::config {

struct SystemConfig {
#define TRNSIM_SYS_PARAM(field, key, type, def, lo, hi, unit, doc) TRNSIM_SYS_TYPE_##type field = def;
#define TRNSIM_SYS_TYPE_Int int64_t
#define TRNSIM_SYS_TYPE_Float double
#define TRNSIM_SYS_TYPE_String std::string
#define TRNSIM_SYS_TYPE_IntList std::vector<int64_t>
#define TRNSIM_SYS_TYPE_FloatList std::vector<double>
#include "config/system_params.def"
#undef TRNSIM_SYS_PARAM

  // The chip every position holds: `chip` loaded, with the chip keys of --set applied.
  ChipConfig chip_config;

  // chips x instances.
  int64_t total_chips() const { return chips * instances; }
  // A rank is a NeuronCore: total_chips() x chip_config.cores.
  int64_t total_ranks() const { return total_chips() * chip_config.cores; }
  // Link bandwidth of dimension d (link.dim_bandwidth_gbps[d] when given, else
  // link.bandwidth_gbps), GB/s per direction.
  double dim_bandwidth_gbps(size_t d) const {
    return d < link_dim_bandwidth_gbps.size() ? link_dim_bandwidth_gbps[d] : link_bandwidth_gbps;
  }
};

// Names of the built-in system presets (trn1.32xlarge, inf2.48xlarge, trn2.48xlarge, trn2u, tiny4).
std::vector<std::string> system_preset_names();
// The YAML text of a built-in system preset (config/systems/NAME.yaml, compiled in); throws
// InputError listing the presets when `name` is not one.
const char* system_preset_yaml(const std::string& name);

// `spec` is a system preset name or a system YAML file; `sets` are "key=value" overrides applied
// last: a system key (system_params.def) sets the system, any other key the chip (params.def).
// An empty spec means trn1.32xlarge. A system YAML file holds `preset: NAME` (optional) and keys,
// nested (`link: {latency_ns: 500}`) or dotted; `chip:` names a chip preset or a chip YAML file
// (relative paths from the system file's folder), and a map under `chip_set:` overrides chip
// parameters. Throws InputError naming the file, the line and the key on any problem.
SystemConfig load_system(const std::string& spec, const std::vector<std::string>& sets = {});

// Cross-parameter checks (dims multiply to system.chips; torus2d has 2 dims, torus3d 3; a ring
// has at least 2 chips; link.dim_bandwidth_gbps has one entry per dim; ...). `where` prefixes
// the message.
void validate_system(const SystemConfig& s, const std::string& where = "");
// One line per cross-parameter rule that validate_system enforces (for docs/multichip.md).
std::vector<std::string> system_validation_rule_docs();

// `trnsim systems`: one aligned line per preset (name, chips x chip, topology, link bandwidth,
// title).
std::string systems_listing();
// `trnsim describe --system S`: every system parameter (key, value, unit, doc), then the chip's.
std::string describe_system(const SystemConfig& s);
// The generated parameter table and presets section of docs/multichip.md.
std::string system_doc_markdown();
// `page` (docs/multichip.md) with its generated section replaced by system_doc_markdown();
// throws InputError naming `where` when the page has no generated section.
std::string splice_system_doc(const std::string& page, const std::string& where);

}  // namespace trnsim::config
