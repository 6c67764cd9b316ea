// The chip subcommands: `chips` (list presets), `describe` (every parameter of a chip) and the
// maintenance command `config-doc` (writes docs/config.md).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "config/chip_config.h"
#include "config/describe.h"
#include "support/file_util.h"
#include "tools/cli.h"

namespace trnsim::cli {
namespace {

struct DescribeArgs {
  std::string chip;
  std::vector<std::string> sets;
};

void print(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

}  // namespace

void add_chip_commands(CLI::App& app) {
  auto* chips = app.add_subcommand("chips", "List the built-in chip presets");
  chips->callback([] { print(config::presets_listing()); });

  auto args = std::make_shared<DescribeArgs>();
  auto* describe = app.add_subcommand("describe", "Print every parameter of a chip configuration");
  describe->add_option("--chip", args->chip, "preset name or chip YAML file (default trn1)");
  describe->add_option("--set", args->sets, "override a parameter: KEY=VALUE (repeatable)");
  describe->callback([args] {
    config::ChipConfig c = config::load_chip(args->chip, args->sets);
    print(config::describe_chip(c));
  });

  auto out = std::make_shared<std::string>();
  auto* doc = app.add_subcommand("config-doc", "Print docs/config.md (generated from params.def)");
  doc->add_option("-o,--output", *out, "write to this file instead of stdout");
  doc->callback([out] {
    std::string md = config::config_doc_markdown();
    if (out->empty()) print(md);
    else write_file_atomic(*out, md);
  });
}

}  // namespace trnsim::cli
