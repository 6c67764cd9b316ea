// trnsim: the command-line front end. Parses arguments and maps errors to exit codes:
// 0 success, 1 internal error, 2 bad input, 3 simulation fault.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <exception>

#include "support/error.h"
#include "tools/cli.h"

int main(int argc, char** argv) {
  using trnsim::ExitCode;
  CLI::App app{"trnsim: cycle-approximate simulator of a Trainium-style accelerator"};
  app.set_version_flag("--version", std::string("trnsim ") + TRNSIM_VERSION);
  app.require_subcommand(1);
  trnsim::cli::add_asm_commands(app);
  trnsim::cli::add_chip_commands(app);
  trnsim::cli::add_run_command(app);
  trnsim::cli::add_compile_command(app);
  trnsim::cli::add_scalesim_command(app);
  trnsim::cli::add_sweep_command(app);
  trnsim::cli::add_systolic_command(app);
  trnsim::cli::add_collectives_command(app);
  trnsim::cli::add_generate_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return static_cast<int>(ExitCode::kBadInput);
  } catch (const trnsim::InputError& e) {
    std::fprintf(stderr, "trnsim: error: %s\n", e.what());
    return static_cast<int>(ExitCode::kBadInput);
  } catch (const trnsim::SimFault& e) {
    std::fprintf(stderr, "trnsim: simulation fault: %s\n", e.what());
    return static_cast<int>(ExitCode::kSimFault);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trnsim: internal error: %s\n", e.what());
    return static_cast<int>(ExitCode::kInternal);
  }
  return 0;
}
