// Lowering of Mod: fmod=0 is the ALU's floored `mod` through the elementwise lowering; fmod=1
// (C fmod, truncated) is only folded at compile time.
#include <fmt/format.h>

#include "compiler/lower/lower_ctx.h"
#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

void lower_mod(LowerCtx& ctx, const Node& n) {
  if (n.attr_int("fmod", 0) != 0)
    throw InputError(ctx.graph().where(n) +
                     ": attribute 'fmod' = 1 is supported only on compile-time constants");
  lower_elementwise(ctx, n);
}

}  // namespace trnsim::compiler
