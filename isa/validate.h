// Static checks of a program against a target chip (sizes, shapes, dtypes, sync resources).
#pragma once

#include <string>
#include <vector>

#include "isa/program.h"
#include "isa/target.h"

namespace trnsim::isa {

// Every problem, one message each, in program order ("prog.tasm:17: core 0 pe #3 (matmul
// @mm0): moving free size 600 exceeds 512"). Register-offset access patterns are checked
// without the register part (the simulator checks the rest at run time).
std::vector<std::string> validation_problems(const Program& prog, const Target& target);

// Throws InputError with the first problem, if any.
void validate(const Program& prog, const Target& target);

}  // namespace trnsim::isa
