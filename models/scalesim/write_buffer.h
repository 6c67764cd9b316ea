// SCALE-Sim v2's OFMAP write buffer (write_buffer.py + write_port.py), driven one demand line at a
// time with counts instead of addresses.
#pragma once

#include <cstdint>
#include <deque>
#include <utility>

namespace trnsim::model::scalesim {

// Outputs are packed into DRAM rows of BW words. Once more than the drain half has been written
// (free space below the active half), the partial row is committed and up to ceil(drain / bw)
// rows are written back, one per cycle from the current cycle; the line goes on. Only a write
// that finds no free space while a drain is running waits for that drain to end.
class OfmapWriteBuffer {
 public:
  // TOTAL_ELEMS: the OFMAP SRAM in words (word size 1, active fraction 0.5); BW: words per DRAM
  // row (CALC: ArrayWidth, USER: the first Bandwidth).
  OfmapWriteBuffer(int64_t total_elems, int64_t bw);

  // Services N writes of a demand line issued at CYCLE; returns the cycle the line completes
  // (CYCLE unless a write had to wait for a drain).
  int64_t service_line(int64_t n, int64_t cycle);

  // empty_all_buffers(): drains everything left, back to back, from CYCLE.
  void flush(int64_t cycle);

  int64_t dram_writes() const { return accesses_; }
  int64_t dram_start() const { return first_; }  // first drained row's cycle
  int64_t dram_stop() const { return last_; }    // last drained row's cycle

  // scale-sim-v3 reports the latest drained row's cycle (np.amax of the DRAM trace's cycles), v2
  // the last one written to the trace, i.e. the flush's last row even when an earlier drain ran
  // later.
  void set_v3_stop(bool on) { v3_stop_ = on; }

 private:
  void store(int64_t n);
  void commit_partial();
  void push_rows(int64_t n, int64_t valid);
  int64_t pop_rows(int64_t k);
  int64_t drain(int64_t start);

  int64_t bw_, active_, drain_size_, free_;
  int64_t line_idx_ = 0;                          // words in the open (partial) row
  int64_t drain_end_ = 0;                         // cycle the running drain's last row is written
  std::deque<std::pair<int64_t, int64_t>> rows_;  // committed rows: (count, valid words per row)
  int64_t rows_left_ = 0;
  int64_t accesses_ = 0;
  int64_t first_ = 0, last_ = 0;
  bool any_drain_ = false;
  bool v3_stop_ = false;
};

}  // namespace trnsim::model::scalesim
