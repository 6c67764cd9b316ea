// Target equality and key, from the one field list in target.h.
#include "isa/target.h"

#include <fmt/format.h>

namespace trnsim::isa {

bool Target::operator==(const Target& o) const {
#define TRNSIM_TARGET_EQ(type, name, def, doc) \
  if (name != o.name) return false;
  TRNSIM_TARGET_FIELDS(TRNSIM_TARGET_EQ)
#undef TRNSIM_TARGET_EQ
  return true;
}

std::string target_key(const Target& t) {
  std::string key;
#define TRNSIM_TARGET_KEY(type, name, def, doc) \
  key += fmt::format("{}{}={}", key.empty() ? "" : " ", #name, t.name);
  TRNSIM_TARGET_FIELDS(TRNSIM_TARGET_KEY)
#undef TRNSIM_TARGET_KEY
  return key;
}

}  // namespace trnsim::isa
