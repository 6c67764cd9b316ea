// Lowering of Mod: the ALU's floored `mod` (fmod=0) or C's `fmod` (fmod=1), exact on fp32
// and on int64 tiles, through the elementwise lowering.
#include "compiler/ops/op_fns.h"

namespace trnsim::compiler {

void lower_mod(LowerCtx& ctx, const Node& n) { lower_elementwise(ctx, n); }

}  // namespace trnsim::compiler
