// Time conversion, and the sc_main that libsystemc's own main() refers to.
#include "models/clock/clock.h"

namespace trnsim::model {
sc_core::sc_time ps_to_time(Picos ps) {
  return sc_core::sc_time::from_value(static_cast<sc_dt::uint64>(ps));
}
}  // namespace trnsim::model

// libsystemc references sc_main from its own main(); trnsim's programs have their own main()
// and drive the kernel through model::simulate(), so this is never called.
int sc_main(int, char*[]) { return 1; }
