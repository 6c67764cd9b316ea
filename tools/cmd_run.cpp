// Placeholder until this subcommand lands.
#include <CLI/CLI.hpp>

#include "tools/cli.h"

namespace trnsim::cli {
void add_run_command(CLI::App&) {}
}  // namespace trnsim::cli
