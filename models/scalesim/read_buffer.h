// SCALE-Sim v2's read buffers for one operand (IFMAP or filter), driven one demand line at a time:
// USER mode's read_buffer.py and CALC mode's read_buffer_estimate_bw.py.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace trnsim::model::scalesim {

// What the layer simulation needs of either buffer.
class ReadBuffer {
 public:
  virtual ~ReadBuffer() = default;

  // Whether the demand lines must go through service_line(). When false, every request is served
  // one cycle after issue and the DRAM columns are known without them.
  virtual bool simulated() const = 0;

  // Services one demand line (ADDRS in column order, -1 = null) issued at CYCLE; returns the
  // cycle SCALE-Sim reports it served (cycle + 1 on hits).
  virtual int64_t service_line(const std::vector<int64_t>& addrs, int64_t cycle) = 0;

  // DETAILED_ACCESS_REPORT's DRAM columns, valid once every demand line was serviced.
  virtual int64_t dram_reads() const = 0;
  virtual int64_t dram_start() const = 0;
  virtual int64_t dram_stop() const = 0;
};

// USER mode (read_buffer.py): the circular active/prefetch window over the hashed lines of the
// prefetch matrix, its misses, the prefetch timing and the DRAM access counts.
class UserReadBuffer final : public ReadBuffer {
 public:
  // SRAM_BYTES: the operand's SRAM (word size 1, active fraction 0.5); BW: USER words/cycle;
  // PREFETCH_ELEMS: entries of the prefetch matrix, null slots included; VALID_ELEMS: non-null ones.
  UserReadBuffer(int64_t sram_bytes, int64_t bw, int64_t prefetch_elems, int64_t valid_elems);

  // All hashed lines sit in the active half: every request hits, nothing is prefetched later.
  bool fits() const { return lines_ <= active_lines_; }
  bool simulated() const override { return !fits(); }

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

  // A line with misses is served at the end of the prefetch that brings its last missing line,
  // or at cycle + 1 if that prefetch ended before.
  int64_t service_line(const std::vector<int64_t>& addrs, int64_t cycle) override;

  // scale-sim-v3's service_reads: each prefetch moves the served cycle by its wait twice when the
  // wait is positive, and back to the prefetch's end when it is not (docs/scalesim.md).
  void set_v3_waits(bool on) { v3_waits_ = on; }

  int64_t dram_reads() const override {
    return (first_rows_ + prefetches_ * prefetch_rows_) * bw_;
  }
  int64_t dram_start() const override { return -first_rows_; }
  int64_t dram_stop() const override { return last_prefetch_; }
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
  bool v3_waits_ = false;
  // Index: the hashed lines holding each address, ascending (CSR).
  std::vector<uint32_t> begin_;
  std::vector<uint32_t> line_ids_;
  std::vector<int32_t> last_line_;    // build scratch: last line recorded per address
  int64_t pos_ = 0;                   // build scratch: valid entries seen
};

// Per-address marks of one operand's CALC buffer, kept across layers: a layer takes fresh epoch
// numbers instead of clearing an array of its operand's size (ResNet-50's largest ifmap has 802816
// addresses, and clearing them per layer cost as much as the simulation).
class EpochTable {
 public:
  // Marks for addresses [0, N); none equals an epoch handed out later by next().
  uint32_t* marks(int64_t n) {
    if (marks_.size() < static_cast<size_t>(n)) marks_.resize(static_cast<size_t>(n), 0);
    return marks_.data();
  }
  // A fresh epoch; on wrap-around every mark is cleared so that none matches it.
  uint32_t next() {
    if (++last_ == 0) {
      std::fill(marks_.begin(), marks_.end(), 0);
      last_ = 1;
    }
    return last_;
  }

 private:
  std::vector<uint32_t> marks_;
  uint32_t last_ = 0;
};

// CALC mode (read_buffer_estimate_bw.py): never stalls, only books DRAM traffic. Requests that
// miss the addresses collected since the last refill are collected, in sets of
// floor(bytes / 100); each time 50 sets (the active half) are complete, they are "prefetched"
// and the collection starts over.
class EstimateReadBuffer final : public ReadBuffer {
 public:
  // SRAM_BYTES: the operand's SRAM; BW: the estimate bandwidth (10 words/cycle); UNIQUE: distinct
  // addresses of the demand lines, all in [0, ADDR_SPACE); MARKS: this operand's marks (outlives
  // the buffer, used by one buffer at a time).
  EstimateReadBuffer(int64_t sram_bytes, int64_t bw, int64_t unique, int64_t addr_space,
                     EpochTable& marks);

  // Fewer distinct addresses than 50 sets: nothing is refilled, every address is read once.
  bool simulated() const override { return unique_ >= refill_elems_; }
  int64_t service_line(const std::vector<int64_t>& addrs, int64_t cycle) override;

  // service_line() over the addresses FOR_EACH(visit) passes to visit(addr) (non-null ones, in
  // column order), without materialising the line.
  template <class ForEach>
  void service_addresses(int64_t cycle, ForEach&& for_each) {
    if (epoch_of_ == nullptr) take_marks();  // only the address path needs marks
    // The counters live in registers for the line: through the members, every request would
    // wait for the previous one's store.
    int64_t collected = collected_, in_epoch = in_epoch_;
    uint32_t* const marks = epoch_of_;
    uint32_t epoch = epoch_;  // a member could alias the marks
    bool any = false;
    for_each([&](int64_t a) {
      any = true;
      if (static_cast<uint64_t>(a) >= static_cast<uint64_t>(addr_space_)) outside(a);
      // manage_prefetches for one request, branch free: whether an address was collected since
      // the last refill is unpredictable.
      const int64_t fresh = marks[a] != epoch ? 1 : 0;
      marks[a] = epoch;
      collected += fresh;
      in_epoch += fresh;
      if (in_epoch < refill_elems_) return;
      refill(cycle);
      in_epoch = 0;
      epoch = epoch_ = table_.next();  // may clear the marks, never moves them
    });
    if (any && first_cycle_ < 0) first_cycle_ = cycle;
    collected_ = collected, in_epoch_ = in_epoch;
  }

  // service_line() without addresses, for an operand in which an address occurs at most once per
  // repetition: every request's previous occurrence, if any, is the request in the same column
  // SHIFT demand lines earlier (0: none). A request is collected exactly when a refill came at or
  // after its previous occurrence, so a line costs O(1) unless it completes a refill. LINE is the
  // global demand-line index; the requests are the non-null slots of columns [LO, HI]:
  // COUNT(c0, c1) counts them in [c0, c1], VALID(c) tells whether column c has one.
  template <class Count, class Valid>
  void service_repeating_line(int64_t line, int64_t cycle, int64_t lo, int64_t hi, int64_t shift,
                              Count&& count, Valid&& valid) {
    const int64_t requests = count(lo, hi);
    if (requests == 0) return;
    if (first_cycle_ < 0) first_cycle_ = cycle;
    // Requests whose previous occurrence (line - shift, c) is at or before the last refill.
    auto fresh = [&](int64_t c) {
      return shift == 0 || line - shift < refill_line_ ||
             (line - shift == refill_line_ && c <= refill_col_);
    };
    // fresh() holds for all columns, for those up to refill_col_, or for none.
    const int64_t n = fresh(hi) ? requests : fresh(lo) ? count(lo, refill_col_) : 0;
    if (in_epoch_ + n < refill_elems_) {
      in_epoch_ += n;
      collected_ += n;
      return;
    }
    for (int64_t c = lo; c <= hi; ++c) {  // this line refills: column by column
      if (!valid(c) || !fresh(c)) continue;
      ++collected_;
      if (++in_epoch_ < refill_elems_) continue;
      refill(cycle);
      refill_line_ = line, refill_col_ = c;
    }
  }

  int64_t dram_reads() const override { return simulated() ? collected_ : unique_; }
  int64_t dram_start() const override;
  int64_t dram_stop() const override { return refills_ > 0 ? last_refill_ + 1 : -1; }
  int64_t refills() const { return refills_; }

 private:
  void take_marks();
  void refill(int64_t cycle);
  [[noreturn]] void outside(int64_t addr) const;

  int64_t bw_;
  int64_t set_elems_;                 // floor(bytes / 100)
  int64_t refill_elems_;              // 50 sets
  int64_t unique_;
  int64_t addr_space_;
  EpochTable& table_;
  uint32_t* epoch_of_ = nullptr;      // per address: the collection it was last collected in
  uint32_t epoch_ = 0;
  int64_t in_epoch_ = 0, collected_ = 0, refills_ = 0;
  int64_t first_cycle_ = -1;          // issue cycle of the first line with a request
  int64_t last_refill_ = 0;           // issue cycle of the line that completed the last refill
  // service_repeating_line: demand line and column of the request that completed the last refill.
  int64_t refill_line_ = INT64_MIN / 2, refill_col_ = 0;
};

}  // namespace trnsim::model::scalesim
