// Chip configuration: presets, overrides, every error kind (exact messages), generated docs.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include <yaml-cpp/yaml.h>

#include "config/chip_config.h"
#include "config/describe.h"
#include "config/params.h"
#include "support/error.h"
#include "support/file_util.h"

using namespace trnsim;
using namespace trnsim::config;

namespace {

std::string bad(const std::string& name) {
  return std::string(TRNSIM_TEST_DATA) + "/bad_inputs/config/" + name;
}

// The message of the InputError that load_chip throws (fails the test when none is thrown).
std::string load_error(const std::string& spec, const std::vector<std::string>& sets = {}) {
  try {
    load_chip(spec, sets);
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("expected an InputError for " << spec);
  return "";
}

void flatten_keys(const YAML::Node& map, const std::string& prefix, std::set<std::string>& out) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    std::string key = prefix.empty() ? it->first.Scalar() : prefix + "." + it->first.Scalar();
    if (it->second.IsMap()) flatten_keys(it->second, key, out);
    else out.insert(key);
  }
}

}  // namespace


namespace {
// Collapses runs of spaces (describe pads its columns to the widest cell).
std::string squeeze(const std::string& s) {
  std::string out;
  for (char c : s)
    if (!(c == ' ' && !out.empty() && out.back() == ' ')) out += c;
  return out;
}
}  // namespace

TEST_CASE("presets are listed in order and each one loads", "[config]") {
  CHECK(preset_names() == std::vector<std::string>{"trn1", "inf2", "trn2", "tiny"});
  for (const auto& n : preset_names()) {
    ChipConfig c = load_chip(n);
    CHECK(c.name == n);
    CHECK_NOTHROW(validate_chip(c));
    CHECK(!preset_title(n).empty());
  }
}

TEST_CASE("trn1 preset equals the params.def defaults, and is the default chip", "[config]") {
  ChipConfig defaults;
  ChipConfig trn1 = load_chip("trn1");
  ChipConfig empty_spec = load_chip("");
  for (const auto& p : param_table()) {
    INFO(p.key);
    CHECK(param_value_text(trn1, p) == param_value_text(defaults, p));
    CHECK(param_value_text(empty_spec, p) == param_value_text(defaults, p));
  }
}

TEST_CASE("every preset file sets every parameter explicitly", "[config]") {
  // A preset that silently inherits a params.def default would change when the default does.
  for (const auto& n : preset_names()) {
    std::set<std::string> keys;
    flatten_keys(YAML::Load(preset_yaml(n)), "", keys);
    for (const auto& p : param_table()) {
      INFO(n << ": " << p.key);
      CHECK(keys.count(std::string(p.key)) == 1);
    }
    CHECK(keys.size() == param_table().size());
  }
}

TEST_CASE("preset values follow the reference", "[config]") {
  ChipConfig trn1 = load_chip("trn1");
  CHECK(trn1.cores == 2);
  CHECK(trn1.pe_clock_ghz == 2.8);
  CHECK(trn1.sbuf_bytes_per_partition == 192 * 1024);
  CHECK(trn1.hbm_gbps == 820.0);

  ChipConfig inf2 = load_chip("inf2");
  CHECK(inf2.cores == 2);
  CHECK(inf2.pe_clock_ghz == 2.8);
  CHECK(inf2.hbm_bytes == int64_t{32} << 30);

  ChipConfig trn2 = load_chip("trn2");
  CHECK(trn2.cores == 8);
  CHECK(trn2.pe_clock_ghz == 2.4);
  CHECK(trn2.dve_clock_ghz == 0.96);
  CHECK(trn2.act_clock_ghz == 1.2);
  CHECK(trn2.pool_clock_ghz == 1.2);
  CHECK(trn2.sbuf_bytes_per_partition == 224 * 1024);
  CHECK(trn2.hbm_gbps == 2900.0);
  CHECK(trn2.hbm_bytes == int64_t{96} << 30);
  CHECK(trn2.dma_engine_gbps == 23.0);
  // fp8 double-row needs K = 256 packed per instruction [G2], which the ISA cannot express.
  CHECK(trn2.pe_fp8_factor == 1);
  CHECK(trn2.pe_fp32_transpose_factor == 2);  // [G2] transpose mode
  CHECK(trn2.dve_perf_mode_copy == 4);        // [G2] perf mode
  CHECK(trn2.dve_perf_mode == 2);
  CHECK(trn2.dma_hwdge_fixed_ns == 600.0);    // [G2, DGE]
  CHECK(trn2.dma_fixed_ns == 1300.0);         // [DMABW] without HW-DGE

  ChipConfig tiny = load_chip("tiny");
  CHECK(tiny.cores == 2);
  CHECK(tiny.partitions == 32);
  CHECK(tiny.pe_rows == 32);
  CHECK(tiny.pe_cols == 32);
  CHECK(tiny.sbuf_bytes_per_partition == 64 * 1024);
  CHECK(tiny.psum_banks == 8);
  CHECK(tiny.psum_bank_bytes == 2048);
  CHECK(tiny.dma_engines == 4);
  CHECK(tiny.dma_queues == 16);
  CHECK(tiny.pe_clock_ghz == 1.0);
  CHECK(tiny.act_clock_ghz == 1.0);
  CHECK(tiny.dve_clock_ghz == 1.0);
  CHECK(tiny.pool_clock_ghz == 1.0);
  CHECK(tiny.sp_clock_ghz == 1.0);
  CHECK(tiny.dma_fixed_ns < trn1.dma_fixed_ns);

  isa::Target t = tiny.target();
  CHECK(t.partitions == 32);
  CHECK(t.pe_rows == 32);
  CHECK(t.sbuf_bytes_per_partition == 65536);
  CHECK(t.num_dma_queues == 16);
}

TEST_CASE("a chip file overrides its preset, nested or dotted, and --set overrides last",
          "[config]") {
  std::string path = std::string(TRNSIM_TEST_DATA) + "/config/small.yaml";
  ChipConfig c = load_chip(path);
  CHECK(c.name == "tiny");  // from the preset
  CHECK(c.pe_rows == 16);
  CHECK(c.pe_cols == 16);
  CHECK(c.pe_dataflow == "os");
  CHECK(c.sbuf_bytes_per_partition == 32768);
  CHECK(c.dma_engines == 2);
  CHECK(c.dma_fixed_ns == 50.5);
  CHECK(c.partitions == 32);  // untouched tiny value

  ChipConfig s = load_chip(path, {"pe.rows=8", "name=mine", "hbm.gbps = 12.5", "pe.rows=4"});
  CHECK(s.pe_rows == 4);  // the later --set wins
  CHECK(s.name == "mine");
  CHECK(s.hbm_gbps == 12.5);
  CHECK(s.pe_cols == 16);

  ChipConfig p = load_chip("trn2", {"cores=1", "pe.dataflow=is"});
  CHECK(p.cores == 1);
  CHECK(p.pe_dataflow == "is");
  CHECK(p.pe_clock_ghz == 2.4);
}

TEST_CASE("chip file errors name the file, line, column and key", "[config]") {
  CHECK(load_error(bad("unknown_key.yaml")) ==
        bad("unknown_key.yaml") + ":4:3: unknown key pe.rowz (did you mean pe.rows?)");
  CHECK(load_error(bad("wrong_type.yaml")) ==
        bad("wrong_type.yaml") + ":2:9: key pe.rows: expected an integer, got 'lots'");
  CHECK(load_error(bad("out_of_range.yaml")) ==
        bad("out_of_range.yaml") + ":1:18: key sbuf.partitions: 0 is out of range [1, 4096]");
  CHECK(load_error(bad("unknown_preset.yaml")) ==
        bad("unknown_preset.yaml") +
            ":1:9: unknown preset 'trn9' (presets: trn1, inf2, trn2, tiny)");
  CHECK(load_error(bad("malformed.yaml")) ==
        bad("malformed.yaml") + ":2:6: malformed YAML: end of map flow not found");
  CHECK(load_error(bad("duplicate_key.yaml")) ==
        bad("duplicate_key.yaml") + ":3:3: key pe.rows: given twice (first on line 1)");
  CHECK(load_error(bad("bad_enum.yaml")) ==
        bad("bad_enum.yaml") + ":2:13: key pe.dataflow: expected one of ws, os, is, got 'rs'");
  CHECK(load_error(bad("not_a_map.yaml")) ==
        bad("not_a_map.yaml") + ":2:1: expected a map of chip parameters");
  CHECK(load_error(bad("no_such_file.yaml")) ==
        bad("no_such_file.yaml") + ": cannot open: No such file or directory");
}

TEST_CASE("cross-parameter checks name where the offending value was set", "[config]") {
  CHECK(load_error(bad("rows_exceed_partitions.yaml")) ==
        bad("rows_exceed_partitions.yaml") +
            ":3:9: pe.rows = 64 exceeds sbuf.partitions = 32 (the contraction dimension K runs "
            "over SBUF partitions)");
  CHECK(load_error(bad("sbuf_too_small.yaml")) ==
        bad("sbuf_too_small.yaml") +
            ":3:24: sbuf.bytes_per_partition = 1024 is smaller than one 512-element fp32 tile "
            "(2048 bytes)");
  CHECK(load_error(bad("psum_bank_too_small.yaml")) ==
        bad("psum_bank_too_small.yaml") +
            ":3:20: pe.max_moving_free = 1024 fp32 results (4096 bytes) do not fit one PSUM "
            "bank (psum.bank_bytes = 2048)");
  CHECK(load_error("tiny", {"pe.cols=64"}) ==
        "--set pe.cols=64: pe.cols = 64 exceeds sbuf.partitions = 32 (matmul output rows land "
        "on PSUM partitions)");
  // Shrinking the partitions below the preset's array blames the user's setting, not the
  // preset's pe.rows line.
  CHECK(load_error("trn1", {"sbuf.partitions=64"}) ==
        "--set sbuf.partitions=64: pe.rows = 128 exceeds sbuf.partitions = 64 (the "
        "contraction dimension K runs over SBUF partitions)");
  CHECK(load_error("tiny", {"psum.bank_bytes=2050"}) ==
        "--set psum.bank_bytes=2050: psum.bank_bytes = 2050 is not a multiple of 4 (fp32 "
        "accumulators)");
  // A parameter the model does not implement is refused, not silently ignored.
  CHECK(load_error("trn1", {"pe.pipeline_cycles=5"}) ==
        "--set pe.pipeline_cycles=5: pe.pipeline_cycles = 5: only 0 is modelled (the Tensor "
        "Engine model is throughput-only; a fill/drain latency would be ignored)");
  ChipConfig c;
  c.pe_rows = 256;
  CHECK_THROWS_WITH(validate_chip(c, "sweep point 3"),
                    "sweep point 3: pe.rows = 256 exceeds sbuf.partitions = 128 (the contraction "
                    "dimension K runs over SBUF partitions)");
}

TEST_CASE("override (--set) errors name the override and key", "[config]") {
  CHECK(load_error("tiny", {"pe.rowz=3"}) ==
        "--set pe.rowz=3: unknown key pe.rowz (did you mean pe.rows?)");
  CHECK(load_error("tiny", {"rows=3"}) == "--set rows=3: unknown key rows (did you mean pe.rows?)");
  CHECK(load_error("tiny", {"frobnicate=3"}) ==
        "--set frobnicate=3: unknown key frobnicate (see `trnsim describe` for the keys)");
  CHECK(load_error("tiny", {"pe.rows"}) == "--set pe.rows: expected KEY=VALUE");
  CHECK(load_error("tiny", {"pe.rows=1.5"}) ==
        "--set pe.rows=1.5: key pe.rows: expected an integer, got '1.5'");
  CHECK(load_error("tiny", {"pe.rows="}) ==
        "--set pe.rows=: key pe.rows: expected an integer, got nothing");
  CHECK(load_error("tiny", {"pe.rows=99999999999999999999"}) ==
        "--set pe.rows=99999999999999999999: key pe.rows: 99999999999999999999 is out of range "
        "[1, 4096]");
  CHECK(load_error("tiny", {"pe.clock_ghz=fast"}) ==
        "--set pe.clock_ghz=fast: key pe.clock_ghz: expected a number, got 'fast'");
  CHECK(load_error("tiny", {"pe.clock_ghz=inf"}) ==
        "--set pe.clock_ghz=inf: key pe.clock_ghz: expected a number, got 'inf'");
  CHECK(load_error("tiny", {"pe.clock_ghz=0"}) ==
        "--set pe.clock_ghz=0: key pe.clock_ghz: 0 is out of range [0.01, 100]");
  CHECK(load_error("tiny", {"pe.dataflow=xs"}) ==
        "--set pe.dataflow=xs: key pe.dataflow: expected one of ws, os, is, got 'xs'");
  CHECK(load_error("trn9") ==
        "unknown preset 'trn9' (presets: trn1, inf2, trn2, tiny; or give a YAML file)");
}

TEST_CASE("describe prints every parameter with value and unit", "[config]") {
  std::string text = describe_chip(load_chip("tiny"));
  CHECK(text.rfind("key ", 0) == 0);
  for (const auto& p : param_table()) {
    INFO(p.key);
    CHECK(text.find("\n" + std::string(p.key) + " ") != std::string::npos);
  }
  // Column widths follow the longest key, so compare with runs of spaces squeezed.
  CHECK(squeeze(text).find("\nsbuf.partitions 32 partitions SBUF and PSUM") != std::string::npos);
  CHECK(chip_summary(load_chip("trn1")) ==
        "2 cores, PE 128x128 @ 2.8 GHz, SBUF 128 x 192 KiB, HBM 820 GB/s");
}

TEST_CASE("docs/config.md is up to date (regenerate: trnsim config-doc -o docs/config.md)",
          "[config]") {
  std::string committed = read_text_file(std::string(TRNSIM_TEST_DATA) + "/../docs/config.md");
  std::string fresh = config_doc_markdown();
  CHECK(fresh.rfind(
            "<!-- generated from config/params.def by `trnsim config-doc`, do not edit -->", 0) ==
        0);
  CHECK(committed == fresh);
}
