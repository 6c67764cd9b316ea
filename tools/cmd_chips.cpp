// Placeholder until this subcommand lands.
#include <CLI/CLI.hpp>

#include "tools/cli.h"

namespace trnsim::cli {
void add_chip_commands(CLI::App&) {}
}  // namespace trnsim::cli
