// The trnsim subcommands. Each add_* registers its subcommands on the app; callbacks throw
// trnsim::InputError / SimFault, which main() turns into one-line messages and exit codes.
#pragma once

namespace CLI {
class App;
}

namespace trnsim::cli {

void add_asm_commands(CLI::App& app);       // asm, disasm            (tools/cmd_asm.cpp)
void add_chip_commands(CLI::App& app);      // chips, systems, describe (tools/cmd_chips.cpp)
void add_run_command(CLI::App& app);        // run                    (tools/cmd_run.cpp)
void add_compile_command(CLI::App& app);    // compile                (tools/cmd_compile.cpp)
void add_scalesim_command(CLI::App& app);   // scalesim               (tools/cmd_scalesim.cpp)
void add_sweep_command(CLI::App& app);      // sweep, sweep merge/report (tools/cmd_sweep.cpp)
void add_systolic_command(CLI::App& app);   // systolic               (tools/cmd_systolic.cpp)
void add_collectives_command(CLI::App& app);  // collectives          (tools/cmd_collectives.cpp)
void add_generate_command(CLI::App& app);   // generate               (tools/cmd_generate.cpp)

}  // namespace trnsim::cli
