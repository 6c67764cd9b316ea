#include "isa/isa_doc.h"
namespace trnsim::isa {
std::string isa_reference_markdown() { return ""; }
}  // namespace trnsim::isa
