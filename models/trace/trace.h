// Timeline recorder: Chrome Trace Event JSON (opens in Perfetto / chrome://tracing).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "isa/program.h"
#include "models/clock/clock.h"

namespace trnsim::model {

class ChunkedFile;

// Records raw events during the run (no string formatting) and formats them once at the end.
// Tracks: per core, one per engine (tid = engine index) and one per DMA queue
// (tid = kNumEngines + queue). Counters: cumulative SBUF/PSUM bytes written per core, and HBM
// bandwidth per time window for the chip. Every method is a no-op unless enabled.
class Tracer {
 public:
  explicit Tracer(bool enabled) : enabled_(enabled) {}
  bool enabled() const { return enabled_; }

  // One instruction (engine track) or one transfer (queue track, queue >= 0).
  void slice(int core, isa::Engine engine, int queue, uint32_t index, Picos start, Picos dur) {
    if (enabled_) slices_.push_back({core, engine, queue, index, start, dur});
  }
  enum class Counter : uint8_t { SbufWritten, PsumWritten };
  void counter(int core, Counter c, Picos t, int64_t value) {
    if (enabled_) counters_.push_back({core, c, t, value});
  }
  void hbm_transfer(Picos start, Picos end, int64_t bytes) {
    if (enabled_ && bytes > 0) hbm_.push_back({start, end, bytes});
  }

  // Writes the whole trace document to `path` (streamed in chunks, renamed into place when
  // complete, so a failure leaves no partial file). `queues` = DMA queues per core.
  void write_json(const std::string& path, const isa::Program& prog, int cores, int queues,
                  Picos sim_end) const;

  // A system run: every chip's tracer (chip c's cores are processes "chipC coreK"), then
  // `extra` slices on tracks of their own (collectives: one track per rank), in one document.
  struct ExtraSlice {
    std::string process, track, name;
    Picos start, dur;
  };
  static void write_system_json(const std::string& path, const isa::Program& prog,
                                const std::vector<const Tracer*>& chips, int cores, int queues,
                                Picos sim_end, const std::vector<ExtraSlice>& extra);

 private:
  void append_json(ChunkedFile& file, bool& first, const isa::Program& prog, int cores,
                   int queues, Picos sim_end, int pid0, const std::string& label) const;
  struct Slice {
    int core;
    isa::Engine engine;
    int queue;
    uint32_t index;
    Picos start, dur;
  };
  struct CounterEv {
    int core;
    Counter c;
    Picos t;
    int64_t value;
  };
  struct HbmEv {
    Picos start, end;
    int64_t bytes;
  };
  bool enabled_;
  std::vector<Slice> slices_;
  std::vector<CounterEv> counters_;
  std::vector<HbmEv> hbm_;
};

}  // namespace trnsim::model
