// The addresses SCALE-Sim v2's compute classes put into the IFMAP and filter prefetch matrices
// (fetch order) and demand matrices (per demand line), for the USER-mode read-buffer simulation.
#pragma once

#include <cstdint>
#include <vector>

#include "models/scalesim/scalesim_input.h"
#include "models/scalesim/systolic_model.h"

namespace trnsim::model::scalesim {

enum class ReadKind { kIfmap, kFilter };

class OperandStreams {
 public:
  OperandStreams(Dataflow df, const Mapping& m, const Layer& layer, ReadKind kind);

  // Addresses are relative to the operand's offset: [0, addr_space()).
  int64_t addr_space() const;

  // Calls visit(addr) for every prefetch-matrix entry in the order set_fetch_matrix flattens it
  // (-1 = null slot).
  template <class Visit>
  void for_each_prefetch(Visit&& visit) const {
    const int64_t rows = blocks_ * block_rows_, cols = width_;
    if (!diagonal_) {
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = 0; c < cols; ++c) visit(prefetch_elem(r, c));
      }
      return;
    }
    // create_*_prefetch_mat "roll out along the diagonal": anti-diagonals in order, each from its
    // bottom row up.
    for (int64_t d = 0; d < rows + cols - 1; ++d) {
      const int64_t lo = std::max<int64_t>(0, d - cols + 1);
      for (int64_t r = std::min(d, rows - 1); r >= lo; --r) visit(prefetch_elem(r, d - r));
    }
  }

  // Addresses of local line LINE of fold (FR, FC) of the demand matrix, in column order.
  void demand_line(int64_t fr, int64_t fc, int64_t line, std::vector<int64_t>* out) const;

  // Calls visit(addr) for the non-null addresses of a demand line, in column order.
  template <class Visit>
  void for_each_demand(int64_t fr, int64_t fc, int64_t line, Visit&& visit) const {
    const Cols cols = demand_cols(fr, fc, line);
    if (kind_ == ReadKind::kIfmap && all_valid_ && cols.lo <= cols.hi) {
      // No null taps: address = pixel offset + tap offset, and along a line the block row r and
      // column k of base(r, k) step by (-1 or 0, +1).
      const int64_t b = by_row_fold_ ? fr : fc;
      const int64_t r0 = skewed_ ? line - prefix_ - cols.lo : fr * rows_ + rows_ - 1 - line;
      const int64_t dr = skewed_ ? -1 : 0, k0 = b * width_ + cols.lo;
      int64_t p = transposed_ ? k0 : r0, j = transposed_ ? r0 : k0;
      const int64_t dp = transposed_ ? 1 : dr, dj = transposed_ ? dr : 1;
      for (int64_t n = cols.hi - cols.lo + 1; n > 0; --n, p += dp, j += dj) {
        visit(static_cast<int64_t>(pix_[p].off + tap_[j].off));
      }
      return;
    }
    for (int64_t c = cols.lo; c <= cols.hi; ++c) {
      const int64_t a = demand_addr(fr, fc, line, c);
      if (a >= 0) visit(a);
    }
  }

  // The columns [lo, hi] of a demand line that carry request slots (null taps included); hi < lo
  // when it has none.
  struct Cols {
    int64_t lo, hi;
  };
  Cols demand_cols(int64_t fr, int64_t fc, int64_t line) const;
  // Address in column C (within demand_cols) of a demand line, -1 for a null tap.
  int64_t demand_addr(int64_t fr, int64_t fc, int64_t line, int64_t c) const {
    const int64_t b = by_row_fold_ ? fr : fc;
    if (skewed_) return base(line - prefix_ - c, b * width_ + c);
    return base(fr * rows_ + rows_ - 1 - line, b * width_ + c);
  }
  // Non-null requests in columns [C0, C1] (within demand_cols) of a demand line, in O(1) for
  // filters, ifmaps without null taps and 1x1 ifmaps.
  int64_t valid_in(int64_t fr, int64_t fc, int64_t line, int64_t c0, int64_t c1) const;

  // Whether no address occurs twice in the operand matrix: filters, and ifmaps whose windows do not
  // overlap (filter <= stride both ways, e.g. 1x1 convolutions).
  bool injective() const;
  // For an injective operand, how many demand lines back the requests of fold (FR, FC) were last
  // made, in the same columns, or 0 if this is their first occurrence. A skewed operand depends
  // on its block only, so its folds repeat: the row-fold blocks for every column fold
  // (ROW_FOLDS folds of LINES_PER_FOLD lines back), a column-fold block for each of its row folds
  // (one fold back). Flipped tiles (the stationary operand of WS/IS) are all distinct.
  int64_t repeat_shift(int64_t fr, int64_t fc, int64_t row_folds, int64_t lines_per_fold) const {
    if (!skewed_) return 0;
    if (by_row_fold_) return fc > 0 ? row_folds * lines_per_fold : 0;
    return fr > 0 ? lines_per_fold : 0;
  }

 private:
  // im2col entry (pixel P, tap J), -1 outside the ifmap.
  int64_t ifmap(int64_t p, int64_t j) const {
    const Pos& a = pix_[p];
    const Pos& b = tap_[j];
    if (a.row + b.row >= l_.ifmap_h || a.col + b.col >= l_.ifmap_w) return -1;
    return a.off + b.off;
  }
  int64_t base(int64_t r, int64_t k) const {  // the operand (maybe transposed) at row r, col k
    const int64_t row = transposed_ ? k : r, col = transposed_ ? r : k;
    if (kind_ == ReadKind::kIfmap) return ifmap(row, col);
    return col * l_.window() + row;  // filter (tap, filter)
  }
  int64_t used(int64_t block) const { return std::min(width_, span_ - block * width_); }
  int64_t prefetch_elem(int64_t row, int64_t c) const {
    const int64_t b = row / block_rows_;
    return c < used(b) ? base(row % block_rows_, b * width_ + c) : -1;
  }

  struct Pos {
    int32_t row, col, off;  // ifmap row/column and address offset
  };
  std::vector<Pos> pix_, tap_;  // per output pixel (window corner), per window tap
  bool all_valid_ = true;          // no null taps (filters; ifmaps without overhanging windows)
  std::vector<int32_t> valid_px_;  // 1x1 ifmap with null taps: valid pixels below p, p = 0..P
  const Layer& l_;
  ReadKind kind_;
  bool transposed_ = false;  // base(r, k) = operand(k, r)
  bool diagonal_ = false;    // prefetch matrix rolled out along anti-diagonals
  bool skewed_ = false;      // demand fold skewed (else flipped R-line block)
  bool by_row_fold_ = true;  // prefetch blocks / demand columns follow the row folds
  int64_t blocks_ = 0, block_rows_ = 0, width_ = 0, span_ = 0;
  int64_t prefix_ = 0;       // null demand lines before a skewed block
  int64_t rows_ = 0;         // array rows R
};

}  // namespace trnsim::model::scalesim
