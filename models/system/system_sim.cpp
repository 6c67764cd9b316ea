// simulate_system(): N chips and the collective hub in one SystemC simulation.
#include "models/system/system_sim.h"

#include <fmt/format.h>

#include <memory>
#include <stdexcept>

#include "models/chip/chip.h"
#include "models/exec/exec.h"
#include "models/stats/stats.h"
#include "models/system/hub.h"
#include "models/trace/trace.h"
#include "support/error.h"

namespace trnsim::model {

uint64_t chip_seed(uint64_t seed, int chip) { return seed + static_cast<uint64_t>(chip) * 1000003u; }

SystemResult simulate_system(const isa::Program& prog, const config::SystemConfig& sys,
                             const SystemSimOptions& opts) {
  if (sc_core::sc_get_status() != sc_core::SC_ELABORATION)
    throw std::logic_error("simulate_system() may be called once per process (SystemC restriction)");
  const config::ChipConfig& cfg = sys.chip_config;
  const std::string file = prog.source_name.empty() ? "program" : prog.source_name;
  if (static_cast<int64_t>(prog.cores.size()) > cfg.cores)
    throw InputError(fmt::format("{}: program uses {} cores but chip {} of system {} has {}", file,
                                 prog.cores.size(), cfg.name, sys.name, cfg.cores));
  Topology topo(sys);
  check_collectives(prog, topo);
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_report_handler::set_actions(sc_core::SC_WARNING, sc_core::SC_DO_NOTHING);

  const int n = topo.chips();
  const bool numerics = !opts.common.timing_only;
  const bool tracing = !opts.common.trace_path.empty();
  SystemResult res;
  res.system = sys.name;
  res.chips.resize(static_cast<size_t>(n));
  std::vector<HbmStore> hbm(static_cast<size_t>(n));
  for (int c = 0; c < n; ++c) {
    SimOptions o = opts.common;
    o.seed = chip_seed(opts.common.seed, c);
    if (static_cast<size_t>(c) < opts.chip_inputs.size())
      for (const auto& [name, bytes] : opts.chip_inputs[static_cast<size_t>(c)]) o.inputs[name] = bytes;
    try {
      load_hbm(prog, o, hbm[static_cast<size_t>(c)], res.chips[static_cast<size_t>(c)].generated_inputs);
    } catch (const InputError& e) {
      throw InputError(fmt::format("chip {}: {}", c, e.what()));
    }
  }
  std::vector<std::unique_ptr<Tracer>> tracers;
  for (int c = 0; c < n; ++c) tracers.push_back(std::make_unique<Tracer>(tracing));
  ChipRunOptions ro;
  ro.numerics = numerics;
  ro.max_instructions_per_engine = opts.common.max_instructions_per_engine;
  CollectiveHub hub("hub", topo, numerics, tracing);
  std::vector<std::unique_ptr<Chip>> chips;
  std::vector<Chip*> raw;
  for (int c = 0; c < n; ++c) {
    chips.push_back(std::make_unique<Chip>(fmt::format("chip{}", c).c_str(), prog, cfg, ro,
                                           *tracers[static_cast<size_t>(c)],
                                           hbm[static_cast<size_t>(c)], c, &hub));
    raw.push_back(chips.back().get());
  }
  hub.set_chips(raw);

  auto write_trace = [&] {
    if (!tracing) return;
    std::vector<const Tracer*> ts;
    for (const auto& t : tracers) ts.push_back(t.get());
    std::vector<Tracer::ExtraSlice> extra;
    for (const CollectiveSpan& s : hub.spans()) {
      extra.push_back({"collectives", "collectives", s.name, s.start_ps, s.end_ps - s.start_ps});
      for (const auto& x : s.xfers) {
        const std::string name =
            fmt::format("{} rank{} -> rank{}", x.phase.empty() ? "transfer" : x.phase, x.src, x.dst);
        extra.push_back({"collectives", fmt::format("rank{} sends", x.src), name, x.start_ps,
                         x.end_ps - x.start_ps});
        // The same transfer on every link of its route (overlapping slices: several
        // transfers share a link, each at its share of the bandwidth).
        for (int l : topo.route(topo.chip_of(x.src), topo.chip_of(x.dst)).links)
          extra.push_back({"links", "link " + topo.links()[static_cast<size_t>(l)].name, name,
                           x.start_ps, x.end_ps - x.start_ps});
      }
    }
    Tracer::write_system_json(opts.common.trace_path, prog, ts, static_cast<int>(cfg.cores),
                              static_cast<int>(cfg.dma_queues), now_ps(), extra);
  };
  try {
    sc_core::sc_start();
    for (const auto& c : chips)
      if (c->faulted()) c->check_finished();  // throws the chip's fault
    if (hub.faulted()) throw SimFault(hub.fault_message());
    const std::string pending = hub.pending_report();
    if (!pending.empty()) throw SimFault(pending);
    for (const auto& c : chips) c->check_finished();
  } catch (const SimFault&) {
    write_trace();
    throw;
  }
  write_trace();
  res.sim_time_ps = now_ps();
  for (int c = 0; c < n; ++c) {
    SimResult& r = res.chips[static_cast<size_t>(c)];
    r.stats = chips[static_cast<size_t>(c)]->stats();
    r.sim_time_ns = ps_to_ns(r.stats.sim_time_ps);
    if (numerics) r.outputs = take_outputs(prog, hbm[static_cast<size_t>(c)]);
  }
  for (size_t l = 0; l < topo.links().size(); ++l) {
    const Link& link = topo.links()[l];
    if (link.kind != Link::Kind::NeuronLink && link.kind != Link::Kind::Efa) continue;
    res.links.push_back(link);
    res.use.push_back(hub.link_use()[l]);
  }
  res.collectives = hub.collectives_done();
  res.sends = hub.sends_done();
  return res;
}

namespace {
double util(Picos busy, Picos total) {
  return total > 0 ? static_cast<double>(busy) / static_cast<double>(total) : 0.0;
}
}  // namespace

std::string system_stats_json(const SystemResult& r) {
  std::string out = "{\n";
  out += fmt::format("  \"system\": {{\"value\": \"{}\", \"unit\": \"name\"}},\n", r.system);
  out += fmt::format("  \"sim_time_ns\": {{\"value\": {}, \"unit\": \"ns\"}},\n",
                     ps_to_ns(r.sim_time_ps));
  out += fmt::format("  \"collectives\": {{\"value\": {}, \"unit\": \"collectives\"}},\n",
                     r.collectives);
  out += fmt::format("  \"sends\": {{\"value\": {}, \"unit\": \"send/recv pairs\"}},\n", r.sends);
  out += "  \"links\": {";
  for (size_t l = 0; l < r.links.size(); ++l)
    out += fmt::format(
        "{}\n    \"{}\": {{\"bytes\": {{\"value\": {}, \"unit\": \"bytes\"}}, \"busy_ns\": "
        "{{\"value\": {}, \"unit\": \"ns\"}}, \"utilization\": {{\"value\": {}, \"unit\": "
        "\"fraction\"}}}}",
        l ? "," : "", r.links[l].name, r.use[l].bytes, ps_to_ns(r.use[l].busy_ps),
        util(r.use[l].busy_ps, r.sim_time_ps));
  out += r.links.empty() ? "},\n" : "\n  },\n";
  for (size_t c = 0; c < r.chips.size(); ++c) {
    std::string chip = stats_json(r.chips[c].stats);
    while (!chip.empty() && chip.back() == '\n') chip.pop_back();
    out += fmt::format("  \"chip{}\": {}{}\n", c, chip, c + 1 < r.chips.size() ? "," : "");
  }
  out += "}\n";
  return out;
}

std::string system_summary(const SystemResult& r) {
  std::string out = fmt::format("system {}: {} chips, simulated time {:.3f} us, {} collective(s)",
                                r.system, r.chips.size(), ps_to_ns(r.sim_time_ps) / 1000.0,
                                r.collectives);
  out += r.sends ? fmt::format(", {} send/recv\n", r.sends) : "\n";
  int64_t total = 0;
  for (size_t l = 0; l < r.links.size(); ++l) {
    if (r.use[l].bytes == 0) continue;
    total += r.use[l].bytes;
    out += fmt::format("link {}: {} bytes, busy {:.3f} us, utilisation {:.1f}%\n", r.links[l].name,
                       r.use[l].bytes, ps_to_ns(r.use[l].busy_ps) / 1000.0,
                       100.0 * util(r.use[l].busy_ps, r.sim_time_ps));
  }
  if (total == 0) out += "links: idle\n";
  for (size_t c = 0; c < r.chips.size(); ++c)
    out += fmt::format("--- chip{}\n{}", c, stats_summary(r.chips[c].stats));
  return out;
}

}  // namespace trnsim::model
