// The chip and system subcommands: `chips` and `systems` (list presets), `describe` (every
// parameter of a chip or a system) and the maintenance commands `config-doc` (writes
// docs/config.md) and `system-doc` (the generated section of docs/multichip.md).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "config/chip_config.h"
#include "config/describe.h"
#include "config/system_config.h"
#include "support/error.h"
#include "support/file_util.h"
#include "tools/cli.h"

namespace trnsim::cli {
namespace {

struct DescribeArgs {
  std::string chip;
  std::string system;
  std::vector<std::string> sets;
};

void print(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

}  // namespace

void add_chip_commands(CLI::App& app) {
  auto* chips = app.add_subcommand("chips", "List the built-in chip presets");
  chips->callback([] { print(config::presets_listing()); });
  auto* systems = app.add_subcommand("systems", "List the built-in multi-chip system presets");
  systems->callback([] { print(config::systems_listing()); });

  auto args = std::make_shared<DescribeArgs>();
  auto* describe =
      app.add_subcommand("describe", "Print every parameter of a chip or system configuration");
  auto* chip_opt =
      describe->add_option("--chip", args->chip, "preset name or chip YAML file (default trn1)");
  auto* system_opt = describe->add_option(
      "--system", args->system, "system preset name or system YAML file (docs/multichip.md)");
  describe->add_option("--set", args->sets,
                       "override a parameter: KEY=VALUE (repeatable); with --system, system "
                       "keys set the system and other keys the chip");
  describe->callback([args, chip_opt, system_opt] {
    if (chip_opt->count() > 0 && system_opt->count() > 0)
      throw InputError(
          "describe: give --chip or --system, not both (a system names its chip: `chip:` in "
          "its file, or --set chip=NAME)");
    if (system_opt->count() > 0) {
      print(config::describe_system(config::load_system(args->system, args->sets)));
      return;
    }
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

  auto sys_out = std::make_shared<std::string>();
  auto* sys_doc = app.add_subcommand(
      "system-doc", "Print the generated section of docs/multichip.md (from system_params.def)");
  sys_doc->add_option("-o,--output", *sys_out,
                      "replace the generated section of this page (docs/multichip.md) in place; "
                      "a new file gets the section alone");
  sys_doc->callback([sys_out] {
    if (sys_out->empty()) {
      print(config::system_doc_markdown());
      return;
    }
    std::FILE* f = std::fopen(sys_out->c_str(), "rb");
    if (f == nullptr) {
      write_file_atomic(*sys_out, config::system_doc_markdown());
      return;
    }
    std::fclose(f);
    write_file_atomic(*sys_out, config::splice_system_doc(read_text_file(*sys_out), *sys_out));
  });
}

}  // namespace trnsim::cli
