// Studied (scalesim-project/scale-sim-v2, not copied): scalesim/compute/operand_matrix.py
// (calc_ifmap_elem_addr, calc_filter_elem_addr) and systolic_compute_{os,ws,is}.py
// (create_{ifmap,filter}_prefetch_mat, create_{ifmap,filter}_demand_mat).
#include "models/scalesim/operand_streams.h"

#include <algorithm>

namespace trnsim::model::scalesim {

// Every prefetch matrix is a stack of BLOCKS blocks of BLOCK_ROWS x WIDTH taken from the operand
// (or its transpose), cut along the array dimension it maps to and null-padded to WIDTH.
OperandStreams::OperandStreams(Dataflow df, const Mapping& m, const Layer& layer, ReadKind kind)
    : l_(layer), kind_(kind), rows_(m.rows) {
  // Row-fold blocks are T rows; column-fold blocks are the window (Sr in WS/IS, T in OS).
  const bool ifm = kind == ReadKind::kIfmap;
  switch (df) {
    case Dataflow::kWs:  // ifmap: T pixels x R taps per row fold, skewed after R weight lines;
                         // filter: Sr taps x C filters per col fold, flipped
      transposed_ = false;
      diagonal_ = ifm, skewed_ = ifm, by_row_fold_ = ifm;
      prefix_ = ifm ? m.rows : 0;
      break;
    case Dataflow::kOs:  // ifmap: T taps x R pixels per row fold; filter: T taps x C filters
      transposed_ = ifm;
      diagonal_ = true, skewed_ = true, by_row_fold_ = ifm;
      prefix_ = 0;
      break;
    case Dataflow::kIs:  // ifmap: Sr taps x C pixels per col fold, flipped; filter: T filters x R
                         // taps per row fold, skewed after R input lines
      transposed_ = true;
      diagonal_ = !ifm, skewed_ = !ifm, by_row_fold_ = !ifm;
      prefix_ = ifm ? 0 : m.rows;
      break;
  }
  if (ifm) {  // operand_matrix.calc_ifmap_elem_addr, split into a pixel part and a tap part
    const int64_t ow_n = layer.ofmap_w(), fwc = layer.filter_w * layer.channels;
    for (int64_t p = 0; p < layer.ofmap_px(); ++p) {
      const int64_t ih = (p / ow_n) * layer.stride_h, iw = (p % ow_n) * layer.stride_w;
      pix_.push_back({static_cast<int32_t>(ih), static_cast<int32_t>(iw),
                      static_cast<int32_t>((ih * layer.ifmap_w + iw) * layer.channels)});
    }
    for (int64_t j = 0; j < layer.window(); ++j) {
      const int64_t cr = j / fwc, cc = (j % fwc) / layer.channels;
      tap_.push_back({static_cast<int32_t>(cr), static_cast<int32_t>(cc),
                      static_cast<int32_t>((cr * layer.ifmap_w + cc) * layer.channels +
                                           j % layer.channels)});
    }
  }
  if (ifm) {
    all_valid_ = (layer.ofmap_h() - 1) * layer.stride_h + layer.filter_h <= layer.ifmap_h &&
                 (layer.ofmap_w() - 1) * layer.stride_w + layer.filter_w <= layer.ifmap_w;
    if (!all_valid_ && layer.filter_h == 1 && layer.filter_w == 1) {
      valid_px_.assign(pix_.size() + 1, 0);
      for (size_t p = 0; p < pix_.size(); ++p) {
        const bool in = pix_[p].row < layer.ifmap_h && pix_[p].col < layer.ifmap_w;
        valid_px_[p + 1] = valid_px_[p] + (in ? 1 : 0);
      }
    }
  }
  if (by_row_fold_) {
    blocks_ = m.row_folds, block_rows_ = m.t, width_ = m.rows, span_ = m.sr;
  } else {
    blocks_ = m.col_folds, block_rows_ = layer.window(), width_ = m.cols, span_ = m.sc;
  }
}

int64_t OperandStreams::addr_space() const {
  return kind_ == ReadKind::kIfmap ? l_.ifmap_h * l_.ifmap_w * l_.channels
                                   : l_.window() * l_.num_filters;
}

void OperandStreams::demand_line(int64_t fr, int64_t fc, int64_t line,
                                 std::vector<int64_t>* out) const {
  out->assign(static_cast<size_t>(width_), -1);
  const int64_t b = by_row_fold_ ? fr : fc;
  const int64_t u = used(b);
  if (skewed_) {  // column c carries block row line - prefix - c
    for (int64_t c = 0; c < u; ++c) {
      const int64_t src = line - prefix_ - c;
      if (src >= 0 && src < block_rows_) (*out)[c] = base(src, b * width_ + c);
    }
    return;
  }
  // Flipped R x WIDTH block: line l holds row R-1-l of the (fr, fc) tile.
  if (line >= rows_) return;
  const int64_t row = rows_ - 1 - line;
  const int64_t ru = std::min(rows_, l_.window() - fr * rows_);
  if (row >= ru) return;
  for (int64_t c = 0; c < u; ++c) (*out)[c] = base(fr * rows_ + row, b * width_ + c);
}


bool OperandStreams::injective() const {
  return kind_ == ReadKind::kFilter ||
         (l_.filter_h <= l_.stride_h && l_.filter_w <= l_.stride_w);
}

OperandStreams::Cols OperandStreams::demand_cols(int64_t fr, int64_t fc, int64_t line) const {
  const int64_t u = used(by_row_fold_ ? fr : fc);
  if (skewed_) {  // column c carries block row line - prefix - c
    const int64_t top = line - prefix_;
    return {std::max<int64_t>(0, top - block_rows_ + 1), std::min(u - 1, top)};
  }
  if (line >= rows_ || rows_ - 1 - line >= std::min(rows_, l_.window() - fr * rows_)) {
    return {0, -1};
  }
  return {0, u - 1};
}

int64_t OperandStreams::valid_in(int64_t fr, int64_t fc, int64_t line, int64_t c0,
                                 int64_t c1) const {
  if (c1 < c0) return 0;
  if (all_valid_) return c1 - c0 + 1;
  // 1x1 ifmap: a slot is null exactly when its pixel is outside the ifmap.
  if (!valid_px_.empty() && (transposed_ || skewed_)) {
    if (transposed_) {  // pixel = block column
      const int64_t k0 = (by_row_fold_ ? fr : fc) * width_;
      return valid_px_[k0 + c1 + 1] - valid_px_[k0 + c0];
    }
    const int64_t top = line - prefix_;  // pixel = block row line - prefix - c
    return valid_px_[top - c0 + 1] - valid_px_[top - c1];
  }
  int64_t n = 0;
  for (int64_t c = c0; c <= c1; ++c) n += demand_addr(fr, fc, line, c) >= 0 ? 1 : 0;
  return n;
}

}  // namespace trnsim::model::scalesim
