// Loading and saving programs by file extension (.tasm text, .tbin binary).
#pragma once

#include <string>

#include "isa/program.h"

namespace trnsim::isa {

// Reads PATH as .tasm or .tbin (chosen by extension); throws InputError naming PATH.
// const_data = false (timing-only runs): a .tbin's const tensors are left `absent`, their bytes
// mapped but never read.
Program load_program(const std::string& path, bool const_data = true);

// Writes PATH as .tasm or .tbin (chosen by extension) atomically: on any error nothing is left.
void save_program(const Program& prog, const std::string& path);

}  // namespace trnsim::isa
