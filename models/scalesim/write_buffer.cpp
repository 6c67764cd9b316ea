// Studied (scalesim-project/scale-sim-v2 at 22f88b1, not copied): scalesim/memory/write_buffer.py
// (store_to_trace_mat_cache, service_writes, empty_drain_buf, empty_all_buffers) and
// write_port.py (latency 0).
#include "models/scalesim/write_buffer.h"

#include <algorithm>

#include "support/error.h"

namespace trnsim::model::scalesim {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

OfmapWriteBuffer::OfmapWriteBuffer(int64_t total_elems, int64_t bw)
    : bw_(bw),
      active_(total_elems - total_elems / 2),  // ceil(total * 0.5)
      drain_size_(total_elems / 2),
      free_(total_elems) {}

// service_writes checks after every stored word: while a drain runs (cycle < drain end) a word
// that leaves no free space makes the line wait for the drain's end; otherwise a word that
// leaves less than the active half free starts a drain at the current cycle. Words are handled
// here in runs up to the next word that triggers either.
int64_t OfmapWriteBuffer::service_line(int64_t n, int64_t cycle) {
  int64_t cur = cycle;
  while (n > 0) {
    if (cur < drain_end_) {
      if (free_ > n) {  // every word leaves space
        store(n);
        break;
      }
      const int64_t j = std::max<int64_t>(free_, 1);  // the word that fills the buffer waits
      store(j);
      n -= j;
      cur = drain_end_;
    } else {
      const int64_t j = std::max<int64_t>(1, free_ - active_ + 1);  // first word past the half
      if (j > n) {
        store(n);
        break;
      }
      store(j);
      n -= j;
      commit_partial();
      drain_end_ = drain(cur);
    }
  }
  return cur;
}

void OfmapWriteBuffer::flush(int64_t cycle) {
  commit_partial();
  while (rows_left_ > 0) cycle = drain(cycle) + 1;
}

void OfmapWriteBuffer::store(int64_t n) {
  free_ -= n;
  line_idx_ += n;
  if (line_idx_ >= bw_) {
    push_rows(line_idx_ / bw_, bw_);
    line_idx_ %= bw_;
  }
}

void OfmapWriteBuffer::commit_partial() {
  if (line_idx_ > 0) push_rows(1, line_idx_);
  line_idx_ = 0;
}

void OfmapWriteBuffer::push_rows(int64_t n, int64_t valid) {
  if (!rows_.empty() && rows_.back().second == valid) {
    rows_.back().first += n;
  } else {
    rows_.emplace_back(n, valid);
  }
  rows_left_ += n;
}

int64_t OfmapWriteBuffer::pop_rows(int64_t k) {
  int64_t last = 0;
  while (k > 0) {
    auto& seg = rows_.front();
    const int64_t take = std::min(k, seg.first);
    seg.first -= take;
    k -= take;
    rows_left_ -= take;
    last = seg.second;
    if (seg.first == 0) rows_.pop_front();
  }
  return last;
}

// empty_drain_buf: the next ceil(drain / bw) committed rows (at most all), one per cycle from
// START; returns the cycle of the last one. The space comes back at once.
int64_t OfmapWriteBuffer::drain(int64_t start) {
  const int64_t k = std::min(ceil_div(drain_size_, bw_), rows_left_);
  if (k <= 0) throw SimFault("scalesim: ofmap drain with no rows (OfmapSramSzkB too small?)");
  const int64_t last_valid = pop_rows(k);
  // Only the last row's empty slots are discounted.
  const int64_t data = k * bw_ - (bw_ - last_valid);
  accesses_ += data;
  free_ += data;
  const int64_t end = start + k - 1;
  if (!any_drain_) first_ = start;  // the DRAM trace's first and last rows
  last_ = v3_stop_ && any_drain_ ? std::max(last_, end) : end;
  any_drain_ = true;
  return end;
}

}  // namespace trnsim::model::scalesim
