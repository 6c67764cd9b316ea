// Formats the recorded timeline as Chrome Trace Event JSON.
#include "models/trace/trace.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <algorithm>
#include <array>
#include <iterator>
#include <map>
#include <string>
#include <cmath>
#include <tuple>

#include "isa/asm.h"
#include "support/error.h"
#include "support/json.h"

namespace trnsim::model {

namespace {

// JSON string contents without the quotes; bytes that are not UTF-8 become U+FFFD, so the
// trace stays valid JSON for strict readers (json::parse, Perfetto) whatever the names hold.
std::string esc(const std::string& s) {
  std::string out;
  json::append_string(out, s);
  return out.substr(1, out.size() - 2);
}

// Trace timestamps are microseconds; six decimals keep picosecond resolution.
std::string us(Picos ps) { return fmt::format("{:.6f}", static_cast<double>(ps) / 1e6); }

// A round window (1, 2 or 5 x 10^k ps) giving at most ~500 HBM bandwidth samples.
Picos hbm_window(Picos end) {
  Picos w = 1000;
  while (end / w > 500) {
    if (end / (w * 2) <= 500) return w * 2;
    if (end / (w * 5) <= 500) return w * 5;
    w *= 10;
  }
  return w;
}

}  // namespace

// Streams the document to a temporary file in ~1 MiB chunks (a whole trace can be hundreds of
// megabytes; building it in one string cost more than the formatting), then renames it.
class ChunkedFile {
 public:
  explicit ChunkedFile(const std::string& path)
      : path_(path), tmp_(fmt::format("{}.tmp.{}", path, ::getpid())) {
    f_ = std::fopen(tmp_.c_str(), "wb");
    if (!f_) throw InputError(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
    buf.reserve(kChunk + 4096);
  }
  ~ChunkedFile() {
    if (f_) {
      std::fclose(f_);
      std::remove(tmp_.c_str());
    }
  }
  void maybe_flush() {
    if (buf.size() >= kChunk) flush();
  }
  void commit() {
    flush();
    bool ok = ok_ && std::fclose(f_) == 0;
    f_ = nullptr;
    if (!ok || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
      std::remove(tmp_.c_str());
      throw InputError(fmt::format("{}: cannot write trace", path_));
    }
  }
  std::string buf;

 private:
  static constexpr size_t kChunk = 1 << 20;
  void flush() {
    if (!buf.empty() && std::fwrite(buf.data(), 1, buf.size(), f_) != buf.size()) ok_ = false;
    buf.clear();
  }
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  bool ok_ = true;
};

void Tracer::write_json(const std::string& path, const isa::Program& prog, int cores, int queues,
                        Picos sim_end) const {
  ChunkedFile file(path);
  file.buf += "{\"displayTimeUnit\": \"ns\", \"traceEvents\": [\n";
  bool first = true;
  append_json(file, first, prog, cores, queues, sim_end, 0, "");
  file.buf += "\n]}\n";
  file.commit();
}

void Tracer::write_system_json(const std::string& path, const isa::Program& prog,
                               const std::vector<const Tracer*>& chips, int cores, int queues,
                               Picos sim_end, const std::vector<ExtraSlice>& extra) {
  ChunkedFile file(path);
  std::string& out = file.buf;
  out += "{\"displayTimeUnit\": \"ns\", \"traceEvents\": [\n";
  bool first = true;
  for (size_t c = 0; c < chips.size(); ++c)
    chips[c]->append_json(file, first, prog, cores, queues, sim_end,
                          static_cast<int>(c) * (cores + 1), fmt::format("chip{} ", c));
  // Extra processes and tracks, numbered after the chips', in order of first appearance.
  std::map<std::string, int> pids;
  std::map<std::pair<std::string, std::string>, int> tids;
  int next_pid = static_cast<int>(chips.size()) * (cores + 1);
  auto emit = [&](const std::string& ev) {
    if (!first) out += ",\n";
    first = false;
    out += ev;
    file.maybe_flush();
  };
  for (const ExtraSlice& e : extra) {
    auto [pit, pnew] = pids.emplace(e.process, next_pid);
    if (pnew) {
      ++next_pid;
      emit(fmt::format("{{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": {}, \"tid\": 0, "
                       "\"args\": {{\"name\": \"{}\"}}}}",
                       pit->second, esc(e.process)));
    }
    const int tid_count = static_cast<int>(tids.size());
    auto [tit, tnew] = tids.emplace(std::make_pair(e.process, e.track), tid_count);
    if (tnew)
      emit(fmt::format("{{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": {}, \"tid\": {}, "
                       "\"args\": {{\"name\": \"{}\"}}}}",
                       pit->second, tit->second, esc(e.track)));
    emit(fmt::format("{{\"name\": \"{}\", \"cat\": \"collective\", \"ph\": \"X\", \"pid\": {}, "
                     "\"tid\": {}, \"ts\": {:.6f}, \"dur\": {:.6f}}}",
                     esc(e.name), pit->second, tit->second, static_cast<double>(e.start) / 1e6,
                     static_cast<double>(e.dur) / 1e6));
  }
  out += "\n]}\n";
  file.commit();
}

void Tracer::append_json(ChunkedFile& file, bool& first, const isa::Program& prog, int cores,
                         int queues, Picos sim_end, int pid0, const std::string& label) const {
  std::string& out = file.buf;
  auto emit = [&](const std::string& ev) {
    if (!first) out += ",\n";
    first = false;
    out += ev;
    file.maybe_flush();
  };
  for (int c = 0; c < cores; ++c) {
    emit(fmt::format(
        "{{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": {}, \"tid\": 0, \"args\": "
        "{{\"name\": \"{}core{}\"}}}}",
        pid0 + c, label, c));
    for (int e = 0; e < isa::kNumEngines; ++e)
      emit(fmt::format(
          "{{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": {}, \"tid\": {}, \"args\": "
          "{{\"name\": \"core{} {}\"}}}}",
          pid0 + c, e, c, isa::engine_name(static_cast<isa::Engine>(e))));
    for (int q = 0; q < queues; ++q)
      emit(fmt::format(
          "{{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": {}, \"tid\": {}, \"args\": "
          "{{\"name\": \"core{} q{}\"}}}}",
          pid0 + c, isa::kNumEngines + q, c, q));
  }
  emit(fmt::format(
      "{{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": {}, \"tid\": 0, \"args\": "
      "{{\"name\": \"{}hbm\"}}}}",
      pid0 + cores, label));

  // Slices, sorted per track by start time (they are recorded in completion order).
  std::vector<const Slice*> order;
  order.reserve(slices_.size());
  for (const Slice& s : slices_) order.push_back(&s);
  auto tid = [](const Slice& s) {
    return s.queue >= 0 ? isa::kNumEngines + s.queue : static_cast<int>(s.engine);
  };
  std::stable_sort(order.begin(), order.end(), [&](const Slice* a, const Slice* b) {
    return std::make_tuple(a->core, tid(*a), a->start) < std::make_tuple(b->core, tid(*b), b->start);
  });
  // Operand text and tag are formatted once per static instruction (loops repeat them).
  std::vector<std::array<std::vector<std::string>, isa::kNumEngines>> text(prog.cores.size());
  for (const Slice* s : order) {
    const auto& stream = prog.cores.at(s->core).stream(s->engine);
    const isa::Instr& in = stream.at(s->index);
    auto& cache = text[s->core][static_cast<int>(s->engine)];
    if (cache.empty()) cache.resize(stream.size());
    std::string& args = cache[s->index];
    if (args.empty()) {
      const char* name = in.info().mnemonic;
      args = fmt::format(
          "\"opcode\": \"{}\", \"operands\": \"{}\", \"tag\": \"{}\", \"engine\": \"{}\", "
          "\"index\": {}",
          name, esc(isa::format_instr(prog, stream, s->index)), esc(prog.str(in.tag)),
          isa::engine_name(s->engine), s->index);
    }
    if (!first) out += ",\n";
    first = false;
    fmt::format_to(std::back_inserter(out),
                   "{{\"name\": \"{}\", \"cat\": \"{}\", \"ph\": \"X\", \"pid\": {}, \"tid\": {}, "
                   "\"ts\": {:.6f}, \"dur\": {:.6f}, \"args\": {{{}}}}}",
                   in.info().mnemonic, s->queue >= 0 ? "dma" : "instr", pid0 + s->core, tid(*s),
                   static_cast<double>(s->start) / 1e6, static_cast<double>(s->dur) / 1e6, args);
    file.maybe_flush();
  }

  std::vector<const CounterEv*> cs;
  for (const CounterEv& c : counters_) cs.push_back(&c);
  std::stable_sort(cs.begin(), cs.end(), [](const CounterEv* a, const CounterEv* b) {
    return std::make_tuple(a->core, a->c, a->t) < std::make_tuple(b->core, b->c, b->t);
  });
  for (const CounterEv* c : cs) {
    if (!first) out += ",\n";
    first = false;
    fmt::format_to(std::back_inserter(out),
                   "{{\"name\": \"{}\", \"ph\": \"C\", \"pid\": {}, \"ts\": {:.6f}, \"args\": "
                   "{{\"bytes\": {}}}}}",
                   c->c == Counter::SbufWritten ? "sbuf bytes written (cumulative)"
                                                : "psum bytes written (cumulative)",
                   pid0 + c->core, static_cast<double>(c->t) / 1e6, c->value);
    file.maybe_flush();
  }

  // HBM bandwidth: each transfer's bytes spread evenly over its duration, binned into windows.
  if (!hbm_.empty() && sim_end > 0) {
    Picos w = hbm_window(sim_end);
    std::vector<double> bins(static_cast<size_t>(sim_end / w + 1), 0.0);
    for (const HbmEv& h : hbm_) {
      Picos len = std::max<Picos>(h.end - h.start, 1);
      for (Picos b = h.start / w; b * w < h.end || b == h.start / w; ++b) {
        Picos lo = std::max(h.start, b * w), hi = std::min(h.end, (b + 1) * w);
        if (b >= static_cast<Picos>(bins.size())) break;
        bins[b] += static_cast<double>(h.bytes) * static_cast<double>(std::max<Picos>(hi - lo, 0)) /
                   static_cast<double>(len);
        if (h.end == h.start) bins[b] += static_cast<double>(h.bytes);
      }
    }
    for (size_t b = 0; b < bins.size(); ++b)
      emit(fmt::format(
          "{{\"name\": \"hbm bandwidth\", \"ph\": \"C\", \"pid\": {}, \"ts\": {}, \"args\": "
          "{{\"GB/s\": {:.3f}}}}}",
          pid0 + cores, us(static_cast<Picos>(b) * w), bins[b] / (static_cast<double>(w) / 1000.0)));
  }
}

}  // namespace trnsim::model
