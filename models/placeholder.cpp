// Placeholder until the chip model lands.
namespace trnsim::model {}
