// Child processes of the CLI (a sweep's design points, generate's steps): SystemC runs one
// simulation per process, so every simulation is a fresh trnsim process.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace trnsim::cli {

// Forks and execs argv (argv[0] a path) with stdout and stderr into `log` and
// SC_COPYRIGHT_MESSAGE=DISABLE; returns the child's pid. Throws std::runtime_error if fork fails.
pid_t spawn_logged(const std::vector<std::string>& argv, const std::string& log);

}  // namespace trnsim::cli
