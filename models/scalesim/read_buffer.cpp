// Studied (scalesim-project/scale-sim-v2 at 22f88b1, not copied): scalesim/memory/read_buffer.py
// (prepare_hashed_buffer, active_buffer_hit, service_reads, prefetch_active_buffer, new_prefetch),
// read_buffer_estimate_bw.py (service_reads, manage_prefetches, check_hit,
// complete_all_prefetches, prefetch) and read_port.py (latency 1). docs/scalesim.md, "IFMAP/filter
// reads", derives the timing used here.
#include "models/scalesim/read_buffer.h"

#include <algorithm>

#include "support/error.h"

namespace trnsim::model::scalesim {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

UserReadBuffer::UserReadBuffer(int64_t sram_bytes, int64_t bw, int64_t prefetch_elems,
                               int64_t valid_elems)
    : bw_(bw), elems_per_line_(std::max<int64_t>(1, ceil_div(sram_bytes, 100))) {
  const int64_t active = sram_bytes - sram_bytes / 2;  // ceil(total * 0.5)
  const int64_t prefetch = sram_bytes - active;
  // prepare_hashed_buffer: every ELEMS_PER_LINE valid entries close a line, and one more line
  // (possibly empty) follows the last closed one.
  lines_ = valid_elems / elems_per_line_ + 1;
  active_lines_ = std::min(ceil_div(active, elems_per_line_), lines_);
  prefetch_lines_ = std::min(ceil_div(prefetch, elems_per_line_), lines_ - active_lines_);
  // prefetch_active_buffer: ceil(active / bw) rows of the fetch matrix (at most all of them),
  // requested so that the last one is served at cycle -1.
  first_rows_ = std::min(ceil_div(active, bw), ceil_div(prefetch_elems, bw));
  prefetch_rows_ = ceil_div(prefetch, bw);
}

void UserReadBuffer::begin_index(int64_t addr_space) {
  begin_.assign(static_cast<size_t>(addr_space) + 1, 0);
  last_line_.assign(static_cast<size_t>(addr_space), -1);
  pos_ = 0;
}

void UserReadBuffer::count(int64_t addr) {
  if (addr < 0) return;
  const auto line = static_cast<int32_t>(pos_++ / elems_per_line_);
  if (last_line_[addr] != line) {
    last_line_[addr] = line;
    ++begin_[addr + 1];
  }
}

void UserReadBuffer::mid_index() {
  for (size_t a = 1; a < begin_.size(); ++a) begin_[a] += begin_[a - 1];
  line_ids_.assign(begin_.back(), 0);
  std::fill(last_line_.begin(), last_line_.end(), -1);
  pos_ = 0;
}

void UserReadBuffer::fill(int64_t addr) {
  if (addr < 0) return;
  const auto line = static_cast<int32_t>(pos_++ / elems_per_line_);
  if (last_line_[addr] != line) {
    last_line_[addr] = line;
    line_ids_[begin_[addr]++] = static_cast<uint32_t>(line);  // begin_ now points past the fill
  }
}

void UserReadBuffer::end_index() {
  // fill() advanced begin_[a] to the end of a's range, which is the start of a + 1's.
  for (size_t a = begin_.size() - 1; a > 0; --a) begin_[a] = begin_[a - 1];
  begin_[0] = 0;
  last_line_.clear();
  last_line_.shrink_to_fit();
}

// active_buffer_hit: the active window is hashed lines [start, end) with end = (start + active
// lines) mod lines, wrapping past the last line when start >= end.
bool UserReadBuffer::hit(int64_t addr) const {
  const uint32_t* lo = line_ids_.data() + begin_[addr];
  const uint32_t* hi = line_ids_.data() + begin_[addr + 1];
  if (lo == hi) return false;
  const int64_t s = window_start_, e = (s + active_lines_) % lines_;
  if (s < e) {
    const uint32_t* it = std::lower_bound(lo, hi, static_cast<uint32_t>(s));
    return it != hi && *it < e;
  }
  return hi[-1] >= s || *lo < e;
}

int64_t UserReadBuffer::service_line(const std::vector<int64_t>& addrs, int64_t cycle) {
  int64_t out = cycle + 1;  // hit latency
  if (fits()) return out;
  for (int64_t a : addrs) {
    if (a < 0) continue;
    int64_t guard = 0;
    while (!hit(a)) {
      // new_prefetch: the window moves on by the prefetch lines; the next PREFETCH_ROWS fetch rows
      // are requested back to back right after the previous prefetch was served (read port
      // latency 1), whatever the demand cycle. The request waits for the end of that prefetch if
      // it is still to come.
      if (begin_[a] == begin_[a + 1] || ++guard > lines_ + 1) {
        throw SimFault("scalesim: read buffer: address " + std::to_string(a) +
                       " is not in the prefetch matrix");
      }
      window_start_ = (window_start_ + prefetch_lines_) % lines_;
      ++prefetches_;
      last_prefetch_ += prefetch_rows_ + 1;
      if (!v3_waits_) {
        out = std::max(out, last_prefetch_);  // service_reads adds only positive waits
      } else {
        // v3: offset += wait; if wait > 0: offset += wait
        const int64_t wait = last_prefetch_ - out;
        out += wait > 0 ? 2 * wait : wait;
      }
    }
  }
  return out;
}

EstimateReadBuffer::EstimateReadBuffer(int64_t sram_bytes, int64_t bw, int64_t unique,
                                       int64_t addr_space, EpochTable& marks)
    : bw_(bw),
      set_elems_(sram_bytes / 100),
      refill_elems_(50 * set_elems_),  // num_sets_active_buffer = 0.5 * 100
      unique_(unique),
      addr_space_(addr_space),
      table_(marks) {
  if (set_elems_ <= 0) {  // SCALE-Sim never closes a set and fails reshaping its empty prefetch
    throw SimFault("scalesim: CALC read buffer of " + std::to_string(sram_bytes) +
                   " bytes holds no set of floor(bytes / 100) entries");
  }
}

// manage_prefetches for each request: check_hit looks only at the sets completed since the last
// refill (the read window starts at the first set after them), and the open set is searched
// too, so an address is collected at most once per refill. Closing the 50th set refills: the
// first refill's rows are served up to the cycle before the first request, each later refill's
// (and the final partial one's) up to the previous refill's line cycle + 1 (read port latency),
// whatever bandwidth that takes.
int64_t EstimateReadBuffer::service_line(const std::vector<int64_t>& addrs, int64_t cycle) {
  service_addresses(cycle, [&](auto&& visit) {
    for (int64_t a : addrs) {
      if (a >= 0) visit(a);
    }
  });
  return cycle + 1;  // stall free
}

void EstimateReadBuffer::take_marks() {
  epoch_of_ = table_.marks(addr_space_);
  epoch_ = table_.next();
}

void EstimateReadBuffer::outside(int64_t addr) const {
  throw SimFault("scalesim: CALC read buffer: address " + std::to_string(addr) +
                 " outside the operand");
}

void EstimateReadBuffer::refill(int64_t cycle) {
  // SCALE-Sim sizes refill k >= 2 by the cycles between refills k - 2 and k - 1 (and the final
  // partial one by those since the last): two refills in one cycle divide by zero there.
  if (refills_ > 0 && last_refill_ == cycle) {
    throw SimFault("scalesim: CALC read buffer: one demand line (cycle " + std::to_string(cycle) +
                   ") collects more than 50 sets of " + std::to_string(set_elems_) +
                   " new addresses; SCALE-Sim v2 divides by zero here (larger SRAM needed)");
  }
  ++refills_;
  last_refill_ = cycle;
  in_epoch_ = 0;
}

// The DRAM trace starts with the first refill: ceil(50 sets / bw) rows served up to the cycle
// before the first request. Without refills, complete_all_prefetches fetches all (partial sets
// rounded up) in the rows served at -cycles..-1.
int64_t EstimateReadBuffer::dram_start() const {
  if (refills_ > 0) return first_cycle_ - ceil_div(refill_elems_, bw_);
  const int64_t sets = ceil_div(dram_reads(), set_elems_);
  return -ceil_div(sets * set_elems_, bw_);
}

}  // namespace trnsim::model::scalesim
