// The chips/describe/config-doc commands, run through the built trnsim binary.
#include <catch2/catch.hpp>

#include "tests/common/run_trnsim.h"

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>

namespace {

using trnsim::test::Run;
using trnsim::test::run_trnsim;

std::string data(const std::string& rel) { return std::string(TRNSIM_TEST_DATA) + "/" + rel; }

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

TEST_CASE("trnsim chips lists the four presets, one line each", "[config][cli]") {
  Run r = run_trnsim("chips");
  CHECK(r.status == 0);
  CHECK(r.out.rfind("trn1  2 cores, PE 128x128 @ 2.8 GHz, SBUF 128 x 192 KiB, HBM 820 GB/s", 0) ==
        0);
  CHECK(r.out.find("\ntrn2  8 cores, PE 128x128 @ 2.4 GHz, SBUF 128 x 224 KiB, HBM 2900 GB/s") !=
        std::string::npos);
  CHECK(r.out.find("\ninf2  ") != std::string::npos);
  CHECK(r.out.find("\ntiny  2 cores, PE 32x32 @ 1 GHz, SBUF 32 x 64 KiB, HBM 100 GB/s") !=
        std::string::npos);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 4);
}

TEST_CASE("trnsim describe prints the chosen chip with overrides", "[config][cli]") {
  Run r = run_trnsim("describe --chip tiny --set pe.rows=16 --set cores=3");
  CHECK(r.status == 0);
  CHECK(squeeze(r.out).find("\npe.rows 16 PEs") != std::string::npos);
  CHECK(squeeze(r.out).find("\ncores 3 cores") != std::string::npos);
  CHECK(squeeze(r.out).find("\nname tiny") != std::string::npos);

  Run d = run_trnsim("describe");
  CHECK(d.status == 0);
  CHECK(squeeze(d.out).find("\nname trn1") != std::string::npos);

  Run f = run_trnsim("describe --chip " + data("config/small.yaml"));
  CHECK(f.status == 0);
  CHECK(squeeze(f.out).find("\npe.dataflow os") != std::string::npos);
}

TEST_CASE("trnsim describe rejects bad chips with exit 2 and one line", "[config][cli]") {
  Run a = run_trnsim("describe --chip " + data("bad_inputs/config/malformed.yaml"));
  CHECK(a.status == 2);
  CHECK(a.out == "trnsim: error: " + data("bad_inputs/config/malformed.yaml") +
                     ":2:6: malformed YAML: end of map flow not found\n");

  Run b = run_trnsim("describe --chip trn9");
  CHECK(b.status == 2);
  CHECK(b.out ==
        "trnsim: error: unknown preset 'trn9' (presets: trn1, inf2, trn2, tiny; or give a YAML "
        "file)\n");

  Run c = run_trnsim("describe --chip " + data("bad_inputs/config/unknown_key.yaml"));
  CHECK(c.status == 2);
  CHECK(c.out == "trnsim: error: " + data("bad_inputs/config/unknown_key.yaml") +
                     ":4:3: unknown key pe.rowz (did you mean pe.rows?)\n");

  Run d = run_trnsim("describe --chip tiny --set pe.colz=3");
  CHECK(d.status == 2);
  CHECK(d.out == "trnsim: error: --set pe.colz=3: unknown key pe.colz (did you mean pe.cols?)\n");
}

TEST_CASE("trnsim config-doc writes the generated docs page", "[config][cli]") {
  std::string out = std::string(TRNSIM_BINARY) + ".config-doc-test.md";
  Run r = run_trnsim("config-doc -o " + out);
  CHECK(r.status == 0);
  CHECK(r.out.empty());
  Run s = run_trnsim("config-doc");
  CHECK(s.status == 0);
  FILE* f = fopen(out.c_str(), "rb");
  REQUIRE(f != nullptr);
  std::string text;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), f)) > 0) text.append(buf.data(), n);
  fclose(f);
  std::remove(out.c_str());
  CHECK(text == s.out);
  CHECK(text.find("| `pe.rows` | int | [1, 4096] | PEs | 128 | 128 | 128 | 32 |") !=
        std::string::npos);
}

TEST_CASE("trnsim systems lists the five system presets, one line each", "[config][cli]") {
  Run r = run_trnsim("systems");
  CHECK(r.status == 0);
  CHECK(squeeze(r.out).rfind("trn1.32xlarge 16 x trn1 torus2d 4x4 links 103.079215104 GB/s ", 0) ==
        0);
  CHECK(squeeze(r.out).find("\ntiny4 4 x tiny ring 4 links 64 GB/s ") != std::string::npos);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 5);
}

TEST_CASE("trnsim describe --system prints the system, then its chip, with overrides",
          "[config][cli]") {
  Run r = run_trnsim("describe --system tiny4 --set link.latency_ns=50 --set pe.rows=16");
  CHECK(r.status == 0);
  std::string out = squeeze(r.out);
  CHECK(out.rfind("system tiny4: 4 chips, 8 ranks (NeuronCores)\n", 0) == 0);
  CHECK(out.find("\nlink.latency_ns 50 ns ") != std::string::npos);
  CHECK(out.find("\nsystem.dims [4] chips ") != std::string::npos);
  CHECK(out.find("\npe.rows 16 PEs") != std::string::npos);
  CHECK(out.find("\nchip tiny (every chip of the system):") != std::string::npos);
  // The system key list comes before the chip's.
  CHECK(out.find("\ncc.rdh_max_bytes ") < out.find("\npe.rows "));

  Run f = run_trnsim("describe --system " + data("config/systems/ring8.yaml"));
  CHECK(f.status == 0);
  CHECK(squeeze(f.out).find("\nsystem.chips 8 chips ") != std::string::npos);
}

TEST_CASE("trnsim describe --system rejects bad systems with exit 2 and one line",
          "[config][cli]") {
  Run both = run_trnsim("describe --system tiny4 --chip tiny");
  CHECK(both.status == 2);
  CHECK(both.out ==
        "trnsim: error: describe: give --chip or --system, not both (a system names its chip: "
        "`chip:` in its file, or --set chip=NAME)\n");

  Run unknown = run_trnsim("describe --system trn9");
  CHECK(unknown.status == 2);
  CHECK(unknown.out ==
        "trnsim: error: unknown system preset 'trn9' (systems: trn1.32xlarge, inf2.48xlarge, "
        "trn2.48xlarge, trn2u, tiny4; or give a YAML file)\n");

  Run dims = run_trnsim("describe --system tiny4 --set system.dims=2x2x1");
  CHECK(dims.status == 2);
  CHECK(dims.out ==
        "trnsim: error: --set system.dims=2x2x1: system.dims = [2, 2, 1] has 3 sizes, "
        "system.topology = ring needs 1\n");

  Run file = run_trnsim("describe --system " + data("bad_inputs/system/dims_product.yaml"));
  CHECK(file.status == 2);
  CHECK(file.out == "trnsim: error: " + data("bad_inputs/system/dims_product.yaml") +
                        ":3:9: system.dims = [4, 2] multiply to 8 chips, but system.chips = 16 "
                        "(set both)\n");

  Run key = run_trnsim("describe --system tiny4 --set link.latency=5");
  CHECK(key.status == 2);
  CHECK(key.out ==
        "trnsim: error: --set link.latency=5: unknown key link.latency (did you mean "
        "link.latency_ns?)\n");
}

TEST_CASE("trnsim system-doc prints the section and rewrites only that part of a page",
          "[config][cli]") {
  Run s = run_trnsim("system-doc");
  CHECK(s.status == 0);
  CHECK(s.out.find("| `link.bandwidth_gbps` | float |") != std::string::npos);

  std::string page = std::string(TRNSIM_BINARY) + ".system-doc-test.md";
  std::string stale = "# hand-written intro\n\n" + s.out.substr(0, 200) +
                      "<!-- end of generated section -->\nhand-written tail\n";
  FILE* w = fopen(page.c_str(), "wb");
  REQUIRE(w != nullptr);
  fwrite(stale.data(), 1, stale.size(), w);
  fclose(w);
  Run r = run_trnsim("system-doc -o " + page);
  CHECK(r.status == 0);
  CHECK(r.out.empty());
  FILE* f = fopen(page.c_str(), "rb");
  REQUIRE(f != nullptr);
  std::string text;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), f)) > 0) text.append(buf.data(), n);
  fclose(f);
  CHECK(text == "# hand-written intro\n\n" + s.out + "hand-written tail\n");

  // A page without the markers is refused and left as it was.
  w = fopen(page.c_str(), "wb");
  REQUIRE(w != nullptr);
  fputs("# no markers\n", w);
  fclose(w);
  Run bad = run_trnsim("system-doc -o " + page);
  CHECK(bad.status == 2);
  CHECK(bad.out.rfind("trnsim: error: " + page + ": no generated section", 0) == 0);
  CHECK(std::count(bad.out.begin(), bad.out.end(), '\n') == 1);
  std::remove(page.c_str());
}
