// The one stats dumper: every counter of SimStats as JSON with units, and the run summary.
#include <fmt/format.h>

#include <algorithm>

#include "models/clock/clock.h"
#include "models/stats/stats.h"
#include "support/json.h"

namespace trnsim::model {

std::vector<NodeStats> NodeProfile::nodes(const std::vector<std::string>& strings) const {
  std::vector<NodeStats> out;
  for (size_t t = 0; t < by_tag_.size(); ++t) {
    if (by_tag_[t].first_ps < 0) continue;
    out.push_back(by_tag_[t]);
    out.back().name = t < strings.size() ? strings[t] : std::string();
  }
  std::stable_sort(out.begin(), out.end(), [](const NodeStats& a, const NodeStats& b) {
    return a.first_ps < b.first_ps;
  });
  return out;
}

int64_t SimStats::instructions() const {
  int64_t n = 0;
  for (const auto& c : cores)
    for (const auto& e : c.engines) n += e.instructions;
  return n;
}

double SimStats::mfu() const {
  if (sim_time_ps <= 0 || peak_flops_per_s <= 0) return 0.0;
  return static_cast<double>(pe_flops) / (static_cast<double>(sim_time_ps) * 1e-12 * peak_flops_per_s);
}

namespace {

// Bytes that are not UTF-8 (a node name from an ONNX file can hold any) become U+FFFD, so the
// document stays valid for strict readers such as json::parse (the sweep runner reads it).
std::string json_string(const std::string& s) {
  std::string out;
  json::append_string(out, s);
  return out;
}

std::string stat(double v, const char* unit) {
  return fmt::format("{{\"value\": {}, \"unit\": \"{}\"}}", v, unit);
}
std::string stat(int64_t v, const char* unit) {
  return fmt::format("{{\"value\": {}, \"unit\": \"{}\"}}", v, unit);
}

double util(int64_t busy, int64_t total) {
  return total > 0 ? static_cast<double>(busy) / static_cast<double>(total) : 0.0;
}

std::string mem_json(const MemStats& m) {
  return fmt::format("{{\"read_bytes\": {}, \"write_bytes\": {}}}", stat(m.read_bytes, "bytes"),
                     stat(m.write_bytes, "bytes"));
}

std::string human_bytes(int64_t b) {
  if (b >= (int64_t(1) << 30)) return fmt::format("{:.2f} GiB", b / double(int64_t(1) << 30));
  if (b >= (1 << 20)) return fmt::format("{:.2f} MiB", b / double(1 << 20));
  if (b >= (1 << 10)) return fmt::format("{:.2f} KiB", b / double(1 << 10));
  return fmt::format("{} B", b);
}

}  // namespace

std::string stats_json(const SimStats& s) {
  std::string out = "{\n";
  out += fmt::format("  \"chip\": {{\"value\": {}, \"unit\": \"name\"}},\n", json_string(s.chip));
  out += fmt::format("  \"sim_time_ns\": {},\n", stat(ps_to_ns(s.sim_time_ps), "ns"));
  out += fmt::format("  \"instructions\": {},\n", stat(s.instructions(), "instructions"));
  for (size_t c = 0; c < s.cores.size(); ++c) {
    const CoreStats& cs = s.cores[c];
    out += fmt::format("  \"core{}\": {{\n", c);
    for (int e = 0; e < isa::kNumEngines; ++e) {
      const EngineStats& es = cs.engines[e];
      out += fmt::format(
          "    \"{}\": {{\"busy_ns\": {}, \"instructions\": {}, \"utilization\": {}}},\n",
          isa::engine_name(static_cast<isa::Engine>(e)), stat(ps_to_ns(es.busy_ps), "ns"),
          stat(es.instructions, "instructions"),
          stat(util(es.busy_ps, s.sim_time_ps), "fraction"));
    }
    out += "    \"dma\": {\n";
    for (size_t q = 0; q < cs.queues.size(); ++q) {
      const QueueStats& qs = cs.queues[q];
      out += fmt::format(
          "      \"q{}\": {{\"busy_ns\": {}, \"bytes\": {}, \"transfers\": {}, \"utilization\": "
          "{}}}{}\n",
          q, stat(ps_to_ns(qs.busy_ps), "ns"), stat(qs.bytes, "bytes"),
          stat(qs.transfers, "transfers"), stat(util(qs.busy_ps, s.sim_time_ps), "fraction"),
          q + 1 < cs.queues.size() ? "," : "");
    }
    out += "    },\n";
    // DMA bytes and runs by contiguous run size, summed over the core's queues.
    out += "    \"dma_runs\": {";
    for (int b = 0; b < kDmaRunBuckets; ++b) {
      int64_t bytes = 0, runs = 0;
      for (const QueueStats& qs : cs.queues) bytes += qs.run_bytes[b], runs += qs.runs[b];
      out += fmt::format("{}\"{}_bytes\": {}, \"{}_runs\": {}", b ? ", " : "",
                         kDmaRunBucketName[b], stat(bytes, "bytes"), kDmaRunBucketName[b],
                         stat(runs, "runs"));
    }
    out += "},\n";
    out += fmt::format("    \"sbuf\": {},\n", mem_json(cs.sbuf));
    out += fmt::format("    \"psum\": {}\n", mem_json(cs.psum));
    out += "  },\n";
  }
  out += fmt::format("  \"hbm\": {},\n", mem_json(s.hbm));
  out += fmt::format("  \"pe\": {{\"flops\": {}, \"peak_flops_per_s\": {}}},\n",
                     stat(s.pe_flops, "flop"), stat(s.peak_flops_per_s, "flop/s"));
  out += fmt::format("  \"mfu\": {},\n", stat(s.mfu(), "fraction"));
  const EnergyStats& e = s.energy;
  out += fmt::format(
      "  \"energy\": {{\"total_j\": {}, \"avg_power_w\": {}, \"pe_j\": {}, \"sbuf_j\": {}, "
      "\"psum_j\": {}, \"hbm_j\": {}, \"dma_j\": {}, \"instr_j\": {}, \"static_j\": {}}}\n",
      stat(e.total_j(), "J"), stat(s.avg_power_w(), "W"), stat(e.pe_j, "J"), stat(e.sbuf_j, "J"),
      stat(e.psum_j, "J"), stat(e.hbm_j, "J"), stat(e.dma_j, "J"), stat(e.instr_j, "J"),
      stat(e.static_j, "J"));
  // Per source tag (graph node), in the order they first ran; engine and DMA times summed over
  // cores, so they can exceed the span when engines overlap.
  out.back() = ',';  // the energy line's newline becomes ",\n"
  out += "\n  \"nodes\": {";
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    const NodeStats& n = s.nodes[i];
    out += fmt::format("{}\n    {}: {{\"start_ns\": {}, \"span_ns\": {}, ", i ? "," : "",
                       json_string(n.name), stat(ps_to_ns(n.first_ps), "ns"),
                       stat(ps_to_ns(n.span_ps()), "ns"));
    for (int e = 0; e < isa::kNumEngines; ++e)
      out += fmt::format("\"{}_busy_ns\": {}, ", isa::engine_name(static_cast<isa::Engine>(e)),
                         stat(ps_to_ns(n.busy_ps[e]), "ns"));
    out += fmt::format("\"dma_ns\": {}, \"dma_bytes\": {}, \"instructions\": {}}}",
                       stat(ps_to_ns(n.dma_ps), "ns"), stat(n.dma_bytes, "bytes"),
                       stat(n.instructions, "instructions"));
  }
  out += s.nodes.empty() ? "}\n" : "\n  }\n";
  out += "}\n";
  return out;
}

namespace {
double pct(double part, double total) { return total > 0 ? 100.0 * part / total : 0.0; }
}  // namespace

std::string stats_summary(const SimStats& s) {
  std::string out;
  double t_ns = ps_to_ns(s.sim_time_ps);
  out += fmt::format("simulated time: {:.3f} us ({} instructions, chip {})\n", t_ns / 1000.0,
                     s.instructions(), s.chip);
  std::string bottleneck;
  int64_t best = -1;
  for (size_t c = 0; c < s.cores.size(); ++c) {
    const CoreStats& cs = s.cores[c];
    std::string line = fmt::format("core{} utilisation:", c);
    for (int e = 0; e < isa::kNumEngines; ++e) {
      const EngineStats& es = cs.engines[e];
      auto name = isa::engine_name(static_cast<isa::Engine>(e));
      line += fmt::format(" {} {:.1f}%", name, 100.0 * util(es.busy_ps, s.sim_time_ps));
      if (es.busy_ps > best) {
        best = es.busy_ps;
        bottleneck = fmt::format("core{} {}", c, name);
      }
    }
    int64_t qbusy = 0, qbytes = 0;
    for (size_t q = 0; q < cs.queues.size(); ++q) {
      qbusy = std::max(qbusy, cs.queues[q].busy_ps);
      qbytes += cs.queues[q].bytes;
      if (cs.queues[q].busy_ps > best) {
        best = cs.queues[q].busy_ps;
        bottleneck = fmt::format("core{} q{} (DMA)", c, q);
      }
    }
    line += fmt::format(" | busiest DMA queue {:.1f}%, DMA {}",
                        100.0 * util(qbusy, s.sim_time_ps), human_bytes(qbytes));
    out += line + "\n";
    std::array<int64_t, kDmaRunBuckets> rb{};
    for (const QueueStats& qs : cs.queues)
      for (int b = 0; b < kDmaRunBuckets; ++b) rb[b] += qs.run_bytes[b];
    if (qbytes > 0) {
      std::string runs = fmt::format("core{} DMA bytes by contiguous run:", c);
      for (int b = 0; b < kDmaRunBuckets; ++b)
        runs += fmt::format("{} {} {:.1f}%", b ? "," : "", kDmaRunBucketName[b],
                            pct(static_cast<double>(rb[b]), static_cast<double>(qbytes)));
      out += runs + "\n";
    }
    out += fmt::format("core{} memory: SBUF read {} write {}, PSUM read {} write {}\n", c,
                       human_bytes(cs.sbuf.read_bytes), human_bytes(cs.sbuf.write_bytes),
                       human_bytes(cs.psum.read_bytes), human_bytes(cs.psum.write_bytes));
  }
  out += fmt::format("HBM: read {}, write {}\n", human_bytes(s.hbm.read_bytes),
                     human_bytes(s.hbm.write_bytes));
  out += fmt::format("PE: {:.3e} FLOP, MFU {:.2f}% of {:.1f} TFLOP/s peak\n",
                     static_cast<double>(s.pe_flops), 100.0 * s.mfu(), s.peak_flops_per_s / 1e12);
  const EnergyStats& e = s.energy;
  out += fmt::format(
      "energy: {:.4g} J, average power {:.4g} W (PE {:.0f}%, SBUF {:.0f}%, PSUM {:.0f}%, HBM {:.0f}%, "
      "DMA {:.0f}%, instructions {:.0f}%, static {:.0f}%)\n",
      e.total_j(), s.avg_power_w(), pct(e.pe_j, e.total_j()), pct(e.sbuf_j, e.total_j()),
      pct(e.psum_j, e.total_j()), pct(e.hbm_j, e.total_j()), pct(e.dma_j, e.total_j()),
      pct(e.instr_j, e.total_j()), pct(e.static_j, e.total_j()));
  if (best > 0)
    out += fmt::format("bottleneck: {} (busy {:.1f}% of the time)\n", bottleneck,
                       100.0 * util(best, s.sim_time_ps));
  // The nodes that span the most time (their instructions' first start to last end).
  std::vector<const NodeStats*> top;
  for (const auto& n : s.nodes) top.push_back(&n);
  std::stable_sort(top.begin(), top.end(), [](const NodeStats* a, const NodeStats* b) {
    return a->span_ps() > b->span_ps();
  });
  if (top.size() > 5) top.resize(5);
  for (size_t i = 0; i < top.size(); ++i) {
    const NodeStats& n = *top[i];
    int busiest = 0;
    for (int e = 1; e < isa::kNumEngines; ++e)
      if (n.busy_ps[e] > n.busy_ps[busiest]) busiest = e;
    const bool dma = n.dma_ps > n.busy_ps[busiest];
    out += fmt::format(
        "{} {} spans {:.3f} us ({:.1f}% of the run); most time: {} {:.3f} us\n",
        i == 0 ? "slowest nodes:" : "              ", n.name, ps_to_ns(n.span_ps()) / 1000.0,
        pct(static_cast<double>(n.span_ps()), static_cast<double>(s.sim_time_ps)),
        dma ? "DMA transfers (all queues)"
            : std::string(isa::engine_name(static_cast<isa::Engine>(busiest))),
        ps_to_ns(dma ? n.dma_ps : n.busy_ps[busiest]) / 1000.0);
  }
  return out;
}

}  // namespace trnsim::model
