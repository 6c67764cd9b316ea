#include "isa/validate.h"
#include "support/error.h"
namespace trnsim::isa {
std::vector<std::string> validation_problems(const Program&, const Target&) { return {}; }
void validate(const Program& p, const Target& t) {
  auto v = validation_problems(p, t);
  if (!v.empty()) throw InputError(v.front());
}
}  // namespace trnsim::isa
