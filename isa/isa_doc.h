// Generates docs/isa.md (the instruction set reference) from the table in isa/isa.def.
#pragma once

#include <string>

namespace trnsim::isa {

std::string isa_reference_markdown();

}  // namespace trnsim::isa
