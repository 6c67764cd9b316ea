// Placeholder until the compiler lands.
namespace trnsim::compiler {}
