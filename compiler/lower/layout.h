// Tilings chosen by the choose_layout pass (node attribute `_layout`) for the elementwise
// lowering, so that a consumer's load tiles are exactly its producer's store tiles (which the
// allocate_sbuf pass then forwards in SBUF instead of going through HBM).
#pragma once

#include <optional>
#include <vector>

#include "compiler/lower/lower_ctx.h"

namespace trnsim::compiler {

// One tile: `np` partitions x `nf` free elements (contiguous in SBUF); hbm[0] is the output's
// access pattern, hbm[k + 1] input k's.
struct LayoutTile {
  int64_t np = 0, nf = 0;
  std::vector<isa::AccessPattern> hbm;
};

// The tiles of the current node's `_layout` for output `out` and inputs `ins` (broadcast to
// out's shape), or nullopt when the node has no layout or it does not apply (then the default
// tiling of LowerCtx::for_each_tile is used). `buffers`: SBUF tiles live per tile.
//   _layout = "rows":      all axes but the last on partitions (up to 128 rows a tile), the last
//                          along the free dim: the tiles of LayerNorm/Softmax's loads and stores.
//   _layout = "follow:K":  the tiles of the stores that wrote input K (matmul, conv or another
//                          elementwise op), when they cover the tensor exactly once.
std::optional<std::vector<LayoutTile>> layout_tiles(LowerCtx& ctx, const HbmView& out,
                                                    const std::vector<HbmView>& ins, int buffers);

}  // namespace trnsim::compiler
