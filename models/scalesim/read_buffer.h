// SCALE-Sim v2's USER-bandwidth read buffer (scalesim/memory/read_buffer.py) for one operand:
// the circular active/prefetch window over the hashed lines of the prefetch matrix, its misses,
// the prefetch timing and the DRAM access counts.
#pragma once

#include <cstdint>
#include <vector>

namespace trnsim::model::scalesim {

class UserReadBuffer {
 public:
  // SRAM_BYTES: the operand's SRAM (word size 1, active fraction 0.5); BW: USER words/cycle;
  // PREFETCH_ELEMS: entries of the prefetch matrix, null slots included; VALID_ELEMS: non-null ones.
  UserReadBuffer(int64_t sram_bytes, int64_t bw, int64_t prefetch_elems, int64_t valid_elems);

  // All hashed lines sit in the active half: every request hits, nothing is prefetched later.
  bool fits() const { return lines_ <= active_lines_; }

  // Builds the address -> hashed-line index. GEN(visit) must call visit(addr) for every entry of
  // the prefetch matrix in fetch order (addr -1 = null, otherwise 0 <= addr < ADDR_SPACE); it is
  // called twice. Needed only when !fits().
  template <class Gen>
  void build_index(int64_t addr_space, Gen&& gen) {
    begin_index(addr_space);
    gen([this](int64_t a) { count(a); });
    mid_index();
    gen([this](int64_t a) { fill(a); });
    end_index();
  }

  // Services one demand line (ADDRS in column order, -1 = null) issued at CYCLE; returns the
  // cycle SCALE-Sim reports it served (cycle + 1 on hits, the last prefetch's end after misses).
  int64_t service_line(const std::vector<int64_t>& addrs, int64_t cycle);

  int64_t dram_reads() const { return (first_rows_ + prefetches_ * prefetch_rows_) * bw_; }
  int64_t dram_start() const { return -first_rows_; }
  int64_t dram_stop() const { return last_prefetch_; }
  int64_t prefetches() const { return prefetches_; }

 private:
  void begin_index(int64_t addr_space);
  void count(int64_t addr);
  void mid_index();
  void fill(int64_t addr);
  void end_index();
  bool hit(int64_t addr) const;

  int64_t bw_;
  int64_t elems_per_line_;            // ceil(total / 100): valid entries per hashed line
  int64_t lines_ = 1;                 // hashed lines (the last one may be partial or empty)
  int64_t active_lines_ = 1, prefetch_lines_ = 0;
  int64_t first_rows_ = 0;            // fetch rows of the initial active-buffer fill
  int64_t prefetch_rows_ = 0;         // fetch rows of every later prefetch
  int64_t window_start_ = 0;          // first hashed line of the active window
  int64_t prefetches_ = 0;
  int64_t last_prefetch_ = -1;        // cycle the latest prefetch's last row is served
  // Index: the hashed lines holding each address, ascending (CSR).
  std::vector<uint32_t> begin_;
  std::vector<uint32_t> line_ids_;
  std::vector<int32_t> last_line_;    // build scratch: last line recorded per address
  int64_t pos_ = 0;                   // build scratch: valid entries seen
};

}  // namespace trnsim::model::scalesim
