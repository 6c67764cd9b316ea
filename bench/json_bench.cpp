// JSON benchmark: writing a large timeline and reading large stats/timeline documents, each way
// against a baseline measured in the same run (the machine may be shared: CPU time, best of N).
// Writing: fmt straight into a buffer (models/trace/trace.cpp, the baseline), the streaming
// json::Writer, nlohmann::json (build the document, then dump it). Reading: nlohmann::json::parse
// (DOM, the baseline), nlohmann::ordered_json (DOM in document order), nlohmann's SAX parser with
// a handler that only counts (the floor for anything built on it), and json::parse.
//   Usage: json_bench [SLICES] [READ_SLICES] [NODES]   (`ninja json_bench` builds it)
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/json.h"

namespace {

// Best of `reps` runs of f(), in seconds of this process's CPU time.
template <typename F>
double best_of(int reps, F f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const std::clock_t t0 = std::clock();
    f();
    best = std::min(best, static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC);
  }
  return best;
}

// One timeline slice with the fields the tracer writes (models/trace/trace.cpp).
struct Slice {
  int core, tid, index;
  double ts, dur;
};
constexpr const char* kOperands = "sbuf[0:128]+0:bf16[1,512], hbm.x+0:bf16{512,128}[1,512]";

std::vector<Slice> make_slices(int n) {
  std::vector<Slice> s(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) s[i] = {i % 2, i % 21, i, i * 0.137, 0.064 + (i % 7) * 0.01};
  return s;
}

void write_timeline(trnsim::json::Writer& w, const std::vector<Slice>& slices) {
  w.begin_object().field("displayTimeUnit", "ns").key("traceEvents").begin_array();
  for (const Slice& s : slices) {
    w.begin_object().field("name", "dma").field("cat", "dma").field("ph", "X");
    w.field("pid", s.core).field("tid", s.tid).field("ts", s.ts).field("dur", s.dur);
    w.key("args").begin_object().field("opcode", "dma").field("operands", kOperands);
    w.field("tag", "/layers.0/MatMul").field("index", s.index).end_object().end_object();
  }
  w.end_array().end_object();
}

// A stats document shaped like `trnsim run --stats` (models/stats/stats_dump.cpp) with `nodes`
// graph nodes: every value {"value": ..., "unit": ...}.
std::string make_stats(int nodes) {
  std::string out;
  trnsim::json::Writer w(&out, /*pretty=*/true);
  auto stat = [&](const char* k, double v, const char* unit) {
    w.key(k).begin_object().field("value", v).field("unit", unit).end_object();
  };
  w.begin_object();
  stat("sim_time_ns", 123456.789, "ns");
  for (int c = 0; c < 2; ++c) {
    w.key(fmt::format("core{}", c)).begin_object();
    for (const char* e : {"pe", "act", "pool", "sp", "dma"}) {
      w.key(e).begin_object();
      stat("instructions", 1000 + c, "instructions");
      stat("busy_ns", 98765.4321, "ns");
      stat("utilization", 0.8123, "fraction");
      w.end_object();
    }
    w.end_object();
  }
  w.key("nodes").begin_object();
  for (int n = 0; n < nodes; ++n) {
    w.key(fmt::format("/layers.{}/attn/MatMul_{}", n / 16, n)).begin_object();
    stat("start_ns", n * 12.5, "ns");
    stat("span_ns", 40.25, "ns");
    for (const char* e : {"pe_busy_ns", "act_busy_ns", "pool_busy_ns", "sp_busy_ns", "dma_ns"})
      stat(e, 3.125 * (n % 9), "ns");
    w.key("dma_bytes").begin_object().field("value", 65536 + n).field("unit", "bytes").end_object();
    w.key("instructions").begin_object().field("value", 17).field("unit", "instructions");
    w.end_object().end_object();
  }
  w.end_object().end_object();
  return out;
}

// nlohmann SAX handler that builds nothing: the cost of nlohmann's lexer and parser alone.
struct CountingSax {
  size_t n = 0;
  bool null() { return ++n; }
  bool boolean(bool) { return ++n; }
  bool number_integer(int64_t) { return ++n; }
  bool number_unsigned(uint64_t) { return ++n; }
  bool number_float(double, const std::string&) { return ++n; }
  bool string(std::string&) { return ++n; }
  bool binary(nlohmann::json::binary_t&) { return ++n; }
  bool start_object(size_t) { return ++n; }
  bool key(std::string&) { return ++n; }
  bool end_object() { return true; }
  bool start_array(size_t) { return ++n; }
  bool end_array() { return true; }
  bool parse_error(size_t, const std::string&, const nlohmann::json::exception& e) {
    throw e;
  }
};

void report_read(const char* what, const std::string& text, int reps) {
  size_t sink = 0;
  const double t_dom = best_of(reps, [&] { sink += nlohmann::json::parse(text).size(); });
  const double t_odom = best_of(reps, [&] { sink += nlohmann::ordered_json::parse(text).size(); });
  const double t_sax = best_of(reps, [&] {
    CountingSax sax;
    nlohmann::json::sax_parse(text, &sax);
    sink += sax.n;
  });
  const double t_ours = best_of(reps, [&] { sink += trnsim::json::parse(text).size(); });
  std::printf("read %s (%.1f MB), best of %d:\n", what, text.size() / 1e6, reps);
  auto row = [&](const char* name, double t) {
    std::printf("  %-32s %8.1f ms  %.2fx\n", name, t * 1e3, t / t_dom);
  };
  row("nlohmann::json::parse (DOM)", t_dom);
  row("nlohmann::ordered_json::parse", t_odom);
  row("nlohmann SAX, counting only", t_sax);
  row("json::parse (support/json.cpp)", t_ours);
  if (sink == 0) std::printf("(empty documents)\n");
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 1000000;
  const int n_read = argc > 2 ? std::atoi(argv[2]) : 200000;
  const int nodes = argc > 3 ? std::atoi(argv[3]) : 5000;
  const std::vector<Slice> slices = make_slices(n);
  size_t bytes = 0;

  const double t_fmt = best_of(3, [&] {
    std::string out = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[";
    bool first = true;
    for (const Slice& s : slices) {
      if (!first) out += ',';
      first = false;
      fmt::format_to(std::back_inserter(out),
                     "{{\"name\":\"{}\",\"cat\":\"{}\",\"ph\":\"X\",\"pid\":{},\"tid\":{},"
                     "\"ts\":{},\"dur\":{},\"args\":{{\"opcode\":\"{}\",\"operands\":\"{}\","
                     "\"tag\":\"{}\",\"index\":{}}}}}",
                     "dma", "dma", s.core, s.tid, s.ts, s.dur, "dma", kOperands,
                     "/layers.0/MatMul", s.index);
    }
    out += "]}";
    bytes = out.size();
  });
  const double t_writer = best_of(3, [&] {
    std::string out;
    trnsim::json::Writer w(&out);
    write_timeline(w, slices);
  });
  const double t_nl = best_of(3, [&] {
    nlohmann::json events = nlohmann::json::array();
    for (const Slice& s : slices)
      events.push_back({{"name", "dma"}, {"cat", "dma"}, {"ph", "X"}, {"pid", s.core},
                        {"tid", s.tid}, {"ts", s.ts}, {"dur", s.dur},
                        {"args", {{"opcode", "dma"}, {"operands", kOperands},
                                  {"tag", "/layers.0/MatMul"}, {"index", s.index}}}});
    nlohmann::json doc = {{"displayTimeUnit", "ns"}, {"traceEvents", std::move(events)}};
    std::string out = doc.dump();
  });
  std::printf("write a timeline of %d slices (%.0f MB), best of 3:\n", n, bytes / 1e6);
  std::printf("  fmt into a buffer (trace.cpp)     %8.1f ms  1.00x\n", t_fmt * 1e3);
  std::printf("  json::Writer (streaming)          %8.1f ms  %.2fx\n", t_writer * 1e3,
              t_writer / t_fmt);
  std::printf("  nlohmann::json build + dump       %8.1f ms  %.2fx\n", t_nl * 1e3, t_nl / t_fmt);

  std::string timeline;
  {
    trnsim::json::Writer w(&timeline);
    write_timeline(w, make_slices(n_read));
  }
  report_read(fmt::format("a timeline of {} slices", n_read).c_str(), timeline, 5);
  report_read(fmt::format("a stats document with {} nodes", nodes).c_str(), make_stats(nodes), 5);
  return 0;
}
