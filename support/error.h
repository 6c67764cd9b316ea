// Typed errors that libraries throw and the CLI turns into one-line messages and exit codes.
#pragma once

#include <stdexcept>
#include <string>

namespace trnsim {

// Exit codes of the trnsim CLI (documented in docs/cli.md).
enum class ExitCode : int { kOk = 0, kInternal = 1, kBadInput = 2, kSimFault = 3 };

// Bad input: a file, flag or value the user gave. The message already names the place
// ("prog.tasm:12:5: expected ','"), so the CLI prints it as is. Exit code 2.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& msg) : std::runtime_error(msg) {}
};

// The simulated program did something the chip cannot do at run time (deadlock,
// out-of-bounds access with a register-computed address, ...). Exit code 3.
class SimFault : public std::runtime_error {
 public:
  explicit SimFault(const std::string& msg) : std::runtime_error(msg) {}
};

}  // namespace trnsim
