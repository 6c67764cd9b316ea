// System configuration: presets, system files, --set routing, list parsing, every validation
// rule and error kind (exact messages), describe/listing and the generated docs section.
#include "config/system_config.h"

#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <set>
#include <string>

#include "config/system_params.h"
#include "support/error.h"
#include "support/file_util.h"

using namespace trnsim;
using namespace trnsim::config;

namespace {

std::string bad(const std::string& name) {
  return std::string(TRNSIM_TEST_DATA) + "/bad_inputs/system/" + name;
}
std::string good(const std::string& name) {
  return std::string(TRNSIM_TEST_DATA) + "/config/systems/" + name;
}

// The message of the InputError that load_system throws (fails the test when none is thrown).
std::string load_error(const std::string& spec, const std::vector<std::string>& sets = {}) {
  try {
    load_system(spec, sets);
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("expected an InputError for " << spec);
  return "";
}

std::string validate_error(const SystemConfig& s) {
  try {
    validate_system(s, "here");
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("expected an InputError");
  return "";
}

void flatten_keys(const YAML::Node& map, const std::string& prefix, std::set<std::string>& out) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    std::string key = prefix.empty() ? it->first.Scalar() : prefix + "." + it->first.Scalar();
    if (it->second.IsMap())
      flatten_keys(it->second, key, out);
    else
      out.insert(key);
  }
}

// Collapses runs of spaces (describe and the listing pad their columns).
std::string squeeze(const std::string& s) {
  std::string out;
  for (char c : s)
    if (!(c == ' ' && !out.empty() && out.back() == ' ')) out += c;
  return out;
}

// 96 GiB/s in GB/s (1 GB = 1e9 B).
const double kNeuronLinkV2 = 96.0 * (1 << 30) / 1e9;

}  // namespace

TEST_CASE("system presets are listed in order and each one loads and validates", "[config]") {
  CHECK(system_preset_names() == std::vector<std::string>{"trn1.32xlarge", "inf2.48xlarge",
                                                          "trn2.48xlarge", "trn2u", "tiny4"});
  for (const auto& n : system_preset_names()) {
    INFO(n);
    SystemConfig s = load_system(n);
    CHECK(s.name == n);
    CHECK_NOTHROW(validate_system(s));
    CHECK(s.chip_config.name == s.chip);  // presets name chip presets
    int64_t product = 1;
    for (int64_t d : s.dims) product *= d;
    CHECK(product == s.chips);
  }
}

TEST_CASE("every system preset file sets every system parameter explicitly", "[config]") {
  // A preset that silently inherits a system_params.def default would change when it does.
  for (const auto& n : system_preset_names()) {
    std::set<std::string> keys;
    flatten_keys(YAML::Load(system_preset_yaml(n)), "", keys);
    for (const auto& p : system_param_table()) {
      INFO(n << ": " << p.key);
      CHECK(keys.count(std::string(p.key)) == 1);
    }
    CHECK(keys.size() == system_param_table().size());
  }
}

TEST_CASE("system preset values follow the reference", "[config]") {
  SystemConfig t1 = load_system("trn1.32xlarge");
  CHECK(t1.chip_config.name == "trn1");
  CHECK(t1.chips == 16);
  CHECK(t1.topology == "torus2d");
  CHECK(t1.dims == std::vector<int64_t>{4, 4});
  CHECK(t1.link_bandwidth_gbps == kNeuronLinkV2);  // [TRN1I] 384 GiB/s / 4 links
  CHECK(t1.link_latency_ns == 1000.0);             // [INTRA] 1-2 us per hop, lower end
  CHECK(t1.efa_bandwidth_gbps == 800.0 / 8 / 16);  // [TRN1I] 800 Gbps over 16 chips
  CHECK(t1.efa_latency_ns == 15000.0);             // [INTER] ~15 us
  CHECK(t1.total_chips() == 16);
  CHECK(t1.total_ranks() == 32);  // 2 NeuronCores per trn1

  SystemConfig i2 = load_system("inf2.48xlarge");
  CHECK(i2.chip_config.name == "inf2");
  CHECK(i2.chips == 12);
  CHECK(i2.topology == "ring");
  CHECK(i2.dims == std::vector<int64_t>{12});
  CHECK(i2.link_bandwidth_gbps == kNeuronLinkV2);  // [INF2I figure] 96 GiB/s
  CHECK(std::string(system_preset_yaml("inf2.48xlarge")).find("not documented") !=
        std::string::npos);

  SystemConfig t2 = load_system("trn2.48xlarge");
  CHECK(t2.chip_config.name == "trn2");
  CHECK(t2.dims == std::vector<int64_t>{4, 4});
  CHECK(t2.link_bandwidth_gbps == 1024.0 / 4);      // [TRN2I] 1,024 GB/s / 4 links
  CHECK(t2.efa_bandwidth_gbps == 3200.0 / 8 / 16);  // [TRN2I, CCA] 3,200 Gbps over 16 chips

  SystemConfig u = load_system("trn2u");
  CHECK(u.chips == 64);
  CHECK(u.topology == "torus3d");
  CHECK(u.dims == std::vector<int64_t>{4, 4, 4});
  CHECK(u.link_dim_bandwidth_gbps == std::vector<double>{256, 256, 128});
  CHECK(u.dim_bandwidth_gbps(0) == 256.0);
  CHECK(u.dim_bandwidth_gbps(2) == 256.0 / 2);  // [TRN2I] 256 GB/s inter-instance over 2 links
  CHECK(u.efa_bandwidth_gbps == 25.0);
  CHECK(u.total_ranks() == 64 * 8);

  SystemConfig t4 = load_system("tiny4");
  CHECK(t4.chip_config.name == "tiny");
  CHECK(t4.chips == 4);
  CHECK(t4.topology == "ring");
  CHECK(t4.link_bandwidth_gbps == 64.0);
  CHECK(t4.link_latency_ns == 100.0);
  CHECK(t4.cc_launch_ns == 0.0);
  CHECK(t4.dim_bandwidth_gbps(0) == 64.0);  // no per-dimension list: the link bandwidth
}

TEST_CASE("trn1.32xlarge is the default system and equals the defaults (dims aside)", "[config]") {
  SystemConfig defaults;
  SystemConfig t1 = load_system("trn1.32xlarge");
  SystemConfig empty_spec = load_system("");
  CHECK(empty_spec.name == "trn1.32xlarge");
  for (const auto& p : system_param_table()) {
    INFO(p.key);
    CHECK(system_param_value_text(empty_spec, p) == system_param_value_text(t1, p));
    if (p.key != "system.dims")
      CHECK(system_param_value_text(t1, p) == system_param_value_text(defaults, p));
  }
}

TEST_CASE("a system file overrides its preset, nested or dotted, with chip_set for the chip",
          "[config]") {
  SystemConfig s = load_system(good("ring8.yaml"));
  CHECK(s.name == "ring8");
  CHECK(s.chips == 8);
  CHECK(s.topology == "ring");               // from tiny4
  CHECK(s.dims == std::vector<int64_t>{8});  // nested system: {dims: [8]}
  CHECK(s.link_latency_ns == 50.0);          // dotted link.latency_ns
  CHECK(s.efa_bandwidth_gbps == 10.5);       // flow map
  CHECK(s.link_bandwidth_gbps == 64.0);      // untouched tiny4 value
  CHECK(s.chip_config.name == "tiny");
  CHECK(s.chip_config.pe_rows == 16);     // chip_set, nested
  CHECK(s.chip_config.dma_engines == 2);  // chip_set, dotted
  CHECK(s.chip_config.partitions == 32);  // untouched tiny value
}

TEST_CASE("chip: names a chip file relative to the system file's folder", "[config]") {
  // No preset: trn1.32xlarge underneath.
  SystemConfig s = load_system(good("torus_rel_chip.yaml"));
  CHECK(s.name == "trn1.32xlarge");
  CHECK(s.chip == good("../small.yaml"));
  CHECK(s.chip_config.name == "tiny");  // small.yaml's preset
  CHECK(s.chip_config.pe_rows == 16);   // small.yaml
  CHECK(s.chip_config.pe_cols == 8);    // chip_set over small.yaml
  CHECK(s.dims == std::vector<int64_t>{4, 2});
  CHECK(s.instances == 2);
  CHECK(s.total_chips() == 16);
  CHECK(s.link_dim_bandwidth_gbps == std::vector<double>{64, 32.5});
  CHECK(s.dim_bandwidth_gbps(1) == 32.5);
  // The stored path loads again from anywhere.
  CHECK(load_system("tiny4", {"chip=" + s.chip}).chip_config.pe_rows == 16);

  // An error inside the chip file names the chip file.
  CHECK(load_error(good("chip_file_error.yaml")) ==
        good("../../bad_inputs/config/unknown_key.yaml") +
            ":4:3: unknown key pe.rowz (did you mean pe.rows?)");
}

TEST_CASE("a --set goes to the system for system keys and to the chip otherwise", "[config]") {
  SystemConfig s = load_system("tiny4", {"link.latency_ns=7", "pe.rows=16", "name=mine",
                                         "system.instances = 3", "cc.channels=1"});
  CHECK(s.link_latency_ns == 7.0);
  CHECK(s.name == "mine");  // "name" is a system key (the chip keeps its own)
  CHECK(s.chip_config.name == "tiny");
  CHECK(s.chip_config.pe_rows == 16);
  CHECK(s.instances == 3);
  CHECK(s.cc_channels == 1);

  // --set comes after chip_set, in order; chip keys follow a --set chip= to the new chip.
  SystemConfig r = load_system(good("ring8.yaml"), {"pe.rows=8", "chip=trn1", "pe.cols=64"});
  CHECK(r.chip_config.name == "trn1");
  CHECK(r.chip_config.pe_rows == 8);
  CHECK(r.chip_config.pe_cols == 64);
  CHECK(r.chip_config.dma_engines == 2);  // ring8's chip_set still applies

  // Chip keys get the chip loader's checks, blamed on the --set.
  CHECK(load_error("tiny4", {"pe.rows=64"}) ==
        "--set pe.rows=64: pe.rows = 64 exceeds sbuf.partitions = 32 (the contraction "
        "dimension K runs over SBUF partitions)");
  CHECK(load_error("tiny4", {"pe.rows=lots"}) ==
        "--set pe.rows=lots: key pe.rows: expected an integer, got 'lots'");
}

TEST_CASE("lists: YAML sequences, and [4,4], 4,4 or 4x4 on --set", "[config]") {
  for (std::string form : {"[4,2]", "4,2", "4x2", " [ 4 , 2 ] ", "4 x 2"}) {
    INFO(form);
    SystemConfig s = load_system("trn1.32xlarge", {"system.chips=8", "system.dims=" + form});
    CHECK(s.dims == std::vector<int64_t>{4, 2});
  }
  SystemConfig f = load_system("trn2u", {"link.dim_bandwidth_gbps=[1e2, 256, 0.5]"});
  CHECK(f.link_dim_bandwidth_gbps == std::vector<double>{100, 256, 0.5});
  SystemConfig e = load_system("trn2u", {"link.dim_bandwidth_gbps=[]"});
  CHECK(e.link_dim_bandwidth_gbps.empty());
  CHECK(e.dim_bandwidth_gbps(2) == 256.0);

  // An empty dims of a one-dimensional topology is [chips] in the loaded system.
  CHECK(load_system("tiny4", {"system.dims=[]"}).dims == std::vector<int64_t>{4});
  SystemConfig fc = load_system("tiny4", {"system.topology=fully_connected"});
  CHECK(fc.dims == std::vector<int64_t>{4});
  SystemConfig sw = load_system("tiny4", {"system.topology=switch", "system.chips=1",
                                          "system.dims=1", "switch.latency_ns=20"});
  CHECK(sw.chips == 1);  // one chip on a switch is allowed; a ring of one is not
  CHECK(sw.switch_latency_ns == 20.0);

  CHECK(load_error("tiny4", {"system.dims=4x"}) ==
        "--set system.dims=4x: key system.dims: expected an integer, got nothing");
  CHECK(load_error("tiny4", {"system.dims=[4"}) ==
        "--set system.dims=[4: key system.dims: unbalanced brackets in '[4'");
  CHECK(load_error("tiny4", {"system.dims="}) ==
        "--set system.dims=: key system.dims: expected a list such as [4, 4], got nothing");
  CHECK(load_error("tiny4", {"system.dims=4;4"}) ==
        "--set system.dims=4;4: key system.dims: expected an integer, got '4;4'");
  CHECK(load_error("tiny4", {"system.dims=0"}) ==
        "--set system.dims=0: key system.dims: 0 is out of range [1, 4096]");
  CHECK(load_error("trn2u", {"link.dim_bandwidth_gbps=2x3"}) ==
        "--set link.dim_bandwidth_gbps=2x3: key link.dim_bandwidth_gbps: expected a number, got "
        "'2x3'");

  const SysParamInfo* dims = find_system_param("system.dims");
  REQUIRE(dims != nullptr);
  CHECK(system_param_type_name(dims->type) == "int list");
  CHECK(system_param_range_text(*dims) == "[1, 4096]");
  CHECK(system_param_value_text(SystemConfig{}, *dims) == "[]");
  CHECK(system_param_range_text(*find_system_param("system.topology")) ==
        "ring|torus2d|torus3d|fully_connected|switch");
}

TEST_CASE("every system validation rule gives its one-line error naming file and key", "[config]") {
  CHECK(load_error(bad("dims_product.yaml")) ==
        bad("dims_product.yaml") +
            ":3:9: system.dims = [4, 2] multiply to 8 chips, but system.chips = 16 (set both)");
  CHECK(load_error(bad("torus_no_dims.yaml")) ==
        bad("torus_no_dims.yaml") +
            ":3:13: system.topology = torus2d needs system.dims (2 sizes, e.g. [4, 4])");
  CHECK(load_error(bad("torus3d_two_dims.yaml")) ==
        bad("torus3d_two_dims.yaml") +
            ":2:18: system.dims = [4, 4] has 2 sizes, system.topology = torus3d needs 3");
  CHECK(load_error(bad("ring_two_dims.yaml")) ==
        bad("ring_two_dims.yaml") +
            ":2:16: system.dims = [2, 2] has 2 sizes, system.topology = ring needs 1");
  CHECK(load_error(bad("ring_one_chip.yaml")) ==
        bad("ring_one_chip.yaml") +
            ":2:17: system.topology = ring needs at least 2 chips, got system.chips = 1");
  CHECK(load_error(bad("dim_bandwidth_count.yaml")) ==
        bad("dim_bandwidth_count.yaml") +
            ":2:26: link.dim_bandwidth_gbps has 2 entries, system.dims has 3 dimensions (give "
            "one per dimension, or none)");
  // A preset's value is not blamed: the user's --set is.
  CHECK(load_error("tiny4", {"system.chips=6"}) ==
        "--set system.chips=6: system.dims = [4] multiply to 4 chips, but system.chips = 6 (set "
        "both)");
  CHECK(load_error("trn1.32xlarge", {"system.topology=torus3d"}) ==
        "--set system.topology=torus3d: system.dims = [4, 4] has 2 sizes, system.topology = "
        "torus3d needs 3");
  CHECK(load_error("trn1.32xlarge", {"system.dims=[]"}) ==
        "--set system.dims=[]: system.topology = torus2d needs system.dims (2 sizes, e.g. [4, 4])");

  // validate_system on a hand-edited system (sweeps), `where` first.
  SystemConfig s = load_system("tiny4");
  s.instances = 2;
  s.efa_bandwidth_gbps = 0;
  CHECK(validate_error(s) ==
        "here: system.instances = 2 needs efa.bandwidth_gbps > 0, got 0 (instances talk over "
        "EFA)");
  s.instances = 1;
  CHECK_NOTHROW(validate_system(s));  // one instance needs no EFA
  s = load_system("trn2u");
  s.dims = {};
  CHECK(validate_error(s) ==
        "here: system.topology = torus3d needs system.dims (3 sizes, e.g. [4, 4, 4])");
  s = load_system("trn2u");
  s.dims = {4, 4, 2};
  CHECK(validate_error(s) ==
        "here: system.dims = [4, 4, 2] multiply to 32 chips, but system.chips = 64 (set both)");
  s = load_system("tiny4");
  s.dims = {};
  CHECK_NOTHROW(validate_system(s));  // empty = [chips] for a ring
  CHECK(system_validation_rule_docs().size() == 5);
}

TEST_CASE("system file errors name the file, line, column and key", "[config]") {
  CHECK(load_error(bad("unknown_key.yaml")) ==
        bad("unknown_key.yaml") +
            ":3:3: unknown key link.latency_nz (did you mean "
            "link.latency_ns?)");
  CHECK(load_error(bad("chipset_typo.yaml")) ==
        bad("chipset_typo.yaml") + ":2:1: unknown key chipset (did you mean chip_set?)");
  CHECK(load_error(bad("chip_key_at_top.yaml")) ==
        bad("chip_key_at_top.yaml") +
            ":2:1: key pe.rows is a chip parameter: put it under chip_set:");
  CHECK(load_error(bad("bad_list_item.yaml")) ==
        bad("bad_list_item.yaml") + ":2:20: key system.dims: expected an integer, got 'four'");
  CHECK(load_error(bad("nested_list.yaml")) ==
        bad("nested_list.yaml") +
            ":2:17: key system.dims: expected a list of numbers, got a nested list");
  CHECK(load_error(bad("list_for_scalar.yaml")) ==
        bad("list_for_scalar.yaml") +
            ":2:17: key system.chips: expected a single int value, got a list");
  CHECK(load_error(bad("bad_topology.yaml")) ==
        bad("bad_topology.yaml") +
            ":1:18: key system.topology: expected one of ring, torus2d, torus3d, "
            "fully_connected, switch, got 'mesh'");
  CHECK(load_error(bad("out_of_range.yaml")) ==
        bad("out_of_range.yaml") +
            ":2:22: key link.bandwidth_gbps: 0 is out of range [0.001, 10000000]");
  CHECK(load_error(bad("duplicate_key.yaml")) ==
        bad("duplicate_key.yaml") + ":3:3: key system.chips: given twice (first on line 1)");
  CHECK(load_error(bad("malformed.yaml")) ==
        bad("malformed.yaml") + ":3:1: malformed YAML: end of map flow not found");
  CHECK(load_error(bad("not_a_map.yaml")) ==
        bad("not_a_map.yaml") + ":1:1: expected a map of system parameters");
  CHECK(load_error(bad("unknown_preset.yaml")) ==
        bad("unknown_preset.yaml") +
            ":1:9: unknown system preset 'trn9.big' (systems: trn1.32xlarge, inf2.48xlarge, "
            "trn2.48xlarge, trn2u, tiny4)");
  CHECK(load_error(bad("unknown_chip.yaml")) ==
        bad("unknown_chip.yaml") +
            ":2:7: key chip: unknown chip preset 'trn9' (chip presets: trn1, inf2, trn2, tiny; "
            "or give a chip YAML file)");
  CHECK(load_error(bad("missing_chip_file.yaml")) == bad("missing_chip_file.yaml") +
                                                         ":2:7: key chip: cannot open chip file '" +
                                                         bad("nowhere/chip.yaml") + "'");
  CHECK(load_error(bad("chip_set_unknown_key.yaml")) ==
        bad("chip_set_unknown_key.yaml") +
            ":2:12: unknown chip key pe.rowz under chip_set (did you mean pe.rows?)");
  CHECK(load_error(bad("chip_set_bad_value.yaml")) ==
        bad("chip_set_bad_value.yaml") + ":4:11: key pe.rows: expected an integer, got 'lots'");
  CHECK(load_error(bad("chip_set_cross_check.yaml")) ==
        bad("chip_set_cross_check.yaml") +
            ":3:12: pe.rows = 64 exceeds sbuf.partitions = 32 (the contraction dimension K runs "
            "over SBUF partitions)");
  CHECK(load_error(bad("chip_set_not_a_map.yaml")) ==
        bad("chip_set_not_a_map.yaml") + ":2:11: key chip_set: expected a map of chip parameters");
  CHECK(load_error(bad("no_such_file.yaml")) ==
        bad("no_such_file.yaml") + ": cannot open: No such file or directory");
}

TEST_CASE("system --set errors name the override and key, with did-you-mean", "[config]") {
  CHECK(load_error("tiny4", {"system.dimz=3"}) ==
        "--set system.dimz=3: unknown key system.dimz (did you mean system.dims?)");
  CHECK(load_error("tiny4", {"dims=3"}) ==
        "--set dims=3: unknown key dims (did you mean system.dims?)");
  CHECK(load_error("tiny4", {"pe.rowz=3"}) ==
        "--set pe.rowz=3: unknown key pe.rowz (did you mean pe.rows?)");
  CHECK(load_error("tiny4", {"frobnicate=3"}) ==
        "--set frobnicate=3: unknown key frobnicate (see `trnsim describe --system` for the "
        "keys)");
  CHECK(load_error("tiny4", {"system.chips"}) == "--set system.chips: expected KEY=VALUE");
  CHECK(load_error("tiny4", {"system.chips=1.5"}) ==
        "--set system.chips=1.5: key system.chips: expected an integer, got '1.5'");
  CHECK(load_error("tiny4", {"chip=trn9"}) ==
        "--set chip=trn9: key chip: unknown chip preset 'trn9' (chip presets: trn1, inf2, trn2, "
        "tiny; or give a chip YAML file)");
  CHECK(load_error("trn1.32xlarg") ==
        "unknown system preset 'trn1.32xlarg' (systems: trn1.32xlarge, inf2.48xlarge, "
        "trn2.48xlarge, trn2u, tiny4; or give a YAML file)");
  CHECK(load_error("trn1") ==
        "unknown system preset 'trn1' (systems: trn1.32xlarge, inf2.48xlarge, trn2.48xlarge, "
        "trn2u, tiny4; trn1 is a chip: use --chip, or a system file with `chip: trn1`)");
  CHECK(closest_system_param_key("latency_ns") == "link.latency_ns");
  CHECK(closest_system_param_key("xyzzy").empty());
}

TEST_CASE("describe --system and the systems listing show the values", "[config]") {
  std::string text = describe_system(load_system("trn2u"));
  CHECK(text.rfind("system trn2u: 64 chips, 512 ranks (NeuronCores)\nkey ", 0) == 0);
  for (const auto& p : system_param_table()) {
    INFO(p.key);
    CHECK(text.find("\n" + std::string(p.key) + " ") != std::string::npos);
  }
  std::string sq = squeeze(text);
  CHECK(sq.find("\nsystem.dims [4, 4, 4] chips ") != std::string::npos);
  CHECK(sq.find("\nlink.dim_bandwidth_gbps [256, 256, 128] GB/s ") != std::string::npos);
  CHECK(sq.find("\nsystem.topology torus3d ") != std::string::npos);
  CHECK(sq.find("\nchip trn2 (every chip of the system):\nkey value unit description\nname trn2 "
                "chip name") != std::string::npos);
  CHECK(sq.find("\ncores 8 cores ") != std::string::npos);  // the chip's parameters follow

  std::string list = systems_listing();
  CHECK(std::count(list.begin(), list.end(), '\n') == 5);
  std::string sl = squeeze(list);
  CHECK(sl.rfind("trn1.32xlarge 16 x trn1 torus2d 4x4 links 103.079215104 GB/s AWS "
                 "trn1.32xlarge instance, 16 Trainium1 chips in a 4 x 4 2D torus over "
                 "NeuronLink-v2\n",
                 0) == 0);
  CHECK(sl.find("\ntrn2u 64 x trn2 torus3d 4x4x4 links 256/256/128 GB/s Trn2 UltraServer") !=
        std::string::npos);
  CHECK(sl.find("\ntiny4 4 x tiny ring 4 links 64 GB/s 4 tiny chips in a ring") !=
        std::string::npos);
  CHECK(sl.find("\ninf2.48xlarge 12 x inf2 ring 12 ") != std::string::npos);
}

TEST_CASE(
    "docs/multichip.md's generated section is up to date (trnsim system-doc -o "
    "docs/multichip.md)",
    "[config]") {
  std::string committed = read_text_file(std::string(TRNSIM_TEST_DATA) + "/../docs/multichip.md");
  std::string fresh = system_doc_markdown();
  CHECK(fresh.rfind("<!-- generated from config/system_params.def and config/systems/*.yaml by "
                    "`trnsim system-doc`, do not edit -->\n",
                    0) == 0);
  CHECK(committed.find(fresh) != std::string::npos);
  CHECK(splice_system_doc(committed, "docs/multichip.md") == committed);
  CHECK(fresh.find("| `system.dims` | int list | [1, 4096] | chips | [4, 4] | [12] | [4, 4] | "
                   "[4, 4, 4] | [4] |") != std::string::npos);
  // Splicing replaces only the section.
  std::string page = "# intro\n\n" + fresh + "tail\n";
  std::string stale =
      "# intro\n\n" + fresh.substr(0, 200) + "<!-- end of generated section -->\n" + "tail\n";
  CHECK(splice_system_doc(stale, "p.md") == page);
  CHECK_THROWS_WITH(splice_system_doc("# no markers\n", "p.md"),
                    Catch::Matchers::StartsWith("p.md: no generated section"));
}
