// `trnsim collectives`: the simulator's nccom-test / nccl-tests. One collective on a system at
// each size, one row per size: bytes, elements, dtype, algorithm, time, algbw and busbw.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "config/system_config.h"
#include "models/system/collectives_run.h"
#include "support/error.h"
#include "support/file_util.h"
#include "support/json.h"
#include "tools/cli.h"

namespace trnsim::cli {
namespace {

struct CollArgs {
  std::string system, op = "all_reduce", algo = "auto", dtype = "fp32", reduce = "sum";
  std::vector<std::string> sets;
  int channels = 0, ranks = 0;
  std::string group, bytes, min = "8", max, json, trace, stats;
  double factor = 2;
  bool check = false;
};

// "8", "64K", "1M", "1G" (binary multiples, as nccl-tests), in bytes.
int64_t parse_size(const std::string& text, const std::string& opt) {
  size_t used = 0;
  long double v = 0;
  try {
    v = std::stold(text, &used);
  } catch (const std::exception&) {
    throw InputError(fmt::format("{}: '{}' is not a size (e.g. 8, 64K, 1M, 1G)", opt, text));
  }
  std::string unit = text.substr(used);
  long double mul = 1;
  if (unit == "K" || unit == "k" || unit == "KiB") mul = 1024.0L;
  else if (unit == "M" || unit == "MiB") mul = 1024.0L * 1024;
  else if (unit == "G" || unit == "GiB") mul = 1024.0L * 1024 * 1024;
  else if (!unit.empty() && unit != "B")
    throw InputError(fmt::format("{}: '{}' is not a size (e.g. 8, 64K, 1M, 1G)", opt, text));
  const long double b = v * mul;
  if (!(b >= 0) || b > 1e15L || b != static_cast<long double>(static_cast<int64_t>(b)))
    throw InputError(fmt::format("{}: '{}' is not a whole number of bytes between 0 and 1e15", opt, text));
  return static_cast<int64_t>(b);
}

std::vector<int64_t> sizes(const CollArgs& a) {
  std::vector<int64_t> out;
  if (!a.bytes.empty()) {
    size_t start = 0;
    while (start <= a.bytes.size()) {
      const size_t comma = a.bytes.find(',', start);
      out.push_back(parse_size(a.bytes.substr(start, comma - start), "--bytes"));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return out;
  }
  const int64_t lo = parse_size(a.min, "--min");
  const int64_t hi = a.max.empty() ? lo : parse_size(a.max, "--max");
  if (hi < lo) throw InputError(fmt::format("--max {} is below --min {}", a.max, a.min));
  if (!(a.factor > 1.0)) throw InputError(fmt::format("--factor must be above 1, not {}", a.factor));
  if (lo == 0) out.push_back(0);
  for (long double s = lo > 0 ? lo : 1; s <= hi; s *= a.factor) {
    out.push_back(static_cast<int64_t>(s));
    if (out.size() > 10000) throw InputError("--min/--max/--factor give more than 10,000 sizes");
  }
  return out;
}

std::vector<int> group(const CollArgs& a, int64_t total) {
  std::vector<int> g;
  if (!a.group.empty()) {
    size_t start = 0;
    while (true) {
      const size_t comma = a.group.find(',', start);
      const std::string item = a.group.substr(start, comma - start);
      try {
        size_t used = 0;
        const int v = std::stoi(item, &used);
        if (used != item.size()) throw std::invalid_argument(item);
        g.push_back(v);
      } catch (const std::exception&) {
        throw InputError(fmt::format("--group: '{}' is not a rank number", item));
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return g;
  }
  if (a.ranks > 0) {
    if (a.ranks > total)
      throw InputError(fmt::format("--ranks {}: the system has {} ranks (NeuronCores)", a.ranks, total));
    for (int r = 0; r < a.ranks; ++r) g.push_back(r);
  }
  return g;
}


void run(const CollArgs& a) {
  config::SystemConfig sys = config::load_system(a.system, a.sets);
  model::CollSpec spec;
  spec.op = model::parse_coll_op(a.op);
  spec.algo = model::parse_coll_algo(a.algo);
  spec.reduce = model::parse_red_op(a.reduce);
  if (a.dtype != "fp32" && a.dtype != "bf16")
    throw InputError(fmt::format("--dtype: '{}' is not fp32 or bf16", a.dtype));
  spec.bf16 = a.dtype == "bf16";
  if (a.channels < 0) throw InputError("--channels must not be negative");
  spec.channels = a.channels;
  spec.ranks = group(a, sys.total_ranks());
  spec.sizes = sizes(a);
  spec.check = a.check;
  spec.trace = a.trace;
  const model::CollReport rep = model::run_collectives(sys, spec);

  std::string out = fmt::format("# {} on {} ({} chips x {} {} cores, {}), {} ranks\n", a.op, sys.name,
                                sys.total_chips(), sys.chip_config.cores, sys.chip_config.name,
                                sys.topology, rep.rows.empty() ? 0 : rep.rows[0].ranks);
  out += fmt::format("{:>12} {:>12} {:>6} {:>6} {:>4} {:>12} {:>10} {:>10}{}\n", "bytes", "elements",
                     "dtype", "algo", "ch", "time(us)", "algbw", "busbw", a.check ? "  check" : "");
  int64_t bad = 0;
  for (const auto& r : rep.rows) {
    out += fmt::format("{:>12} {:>12} {:>6} {:>6} {:>4} {:>12.3f} {:>10.2f} {:>10.2f}{}\n", r.bytes,
                       r.elems, a.dtype, r.algo, r.channels, static_cast<double>(r.time_ps) / 1e6,
                       r.algbw_gbps, r.busbw_gbps,
                       r.checked ? (r.mismatches ? fmt::format("  {} wrong", r.mismatches) : std::string("  ok")) : "");
    bad += r.mismatches;
  }
  out += "# algbw = bytes / time, busbw = algbw x the nccl-tests bus factor; GB/s = 1e9 B/s\n";
  // The busiest links over the whole run.
  std::vector<size_t> idx;
  for (size_t i = 0; i < rep.use.size(); ++i)
    if (rep.use[i].bytes > 0) idx.push_back(i);
  std::sort(idx.begin(), idx.end(), [&](size_t x, size_t y) { return rep.use[x].busy_ps > rep.use[y].busy_ps; });
  if (!idx.empty() && rep.sim_end_ps > 0) {
    out += "# busiest links (bytes, busy time, utilisation over the run):";
    for (size_t k = 0; k < std::min<size_t>(4, idx.size()); ++k) {
      const auto& u = rep.use[idx[k]];
      out += fmt::format(" {} {} B {:.1f} us {:.0f}%;", rep.links[idx[k]].name, u.bytes,
                         static_cast<double>(u.busy_ps) / 1e6,
                         100.0 * static_cast<double>(u.busy_ps) / static_cast<double>(rep.sim_end_ps));
    }
    out += "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (!a.json.empty()) {
    std::string j = "[\n";
    for (size_t k = 0; k < rep.rows.size(); ++k) {
      const auto& r = rep.rows[k];
      j += fmt::format(
          "  {{\"op\": \"{}\", \"algo\": \"{}\", \"bytes\": {}, \"elements\": {}, \"dtype\": \"{}\", "
          "\"ranks\": {}, \"channels\": {}, \"transfers\": {}, \"time_ns\": {:.3f}, \"algbw_gbps\": {:.6g}, "
          "\"busbw_gbps\": {:.6g}{}}}{}\n",
          r.op, r.algo, r.bytes, r.elems, a.dtype, r.ranks, r.channels, r.transfers,
          static_cast<double>(r.time_ps) / 1e3, r.algbw_gbps, r.busbw_gbps,
          r.checked ? fmt::format(", \"mismatches\": {}", r.mismatches) : std::string(),
          k + 1 < rep.rows.size() ? "," : "");
    }
    j += "]\n";
    write_file_atomic(a.json, j);
  }
  if (!a.stats.empty()) {
    // Every resource that carried bytes over the whole run: bytes, busy time, utilisation.
    const char* kinds[] = {"neuronlink", "efa", "dma", "hbm"};
    std::string j = fmt::format("{{\n  \"system\": \"{}\",\n  \"sim_time_ns\": {:.3f},\n  \"links\": [\n",
                                sys.name, static_cast<double>(rep.sim_end_ps) / 1e3);
    bool first = true;
    for (size_t i = 0; i < rep.use.size(); ++i) {
      const auto& u = rep.use[i];
      if (u.bytes == 0) continue;
      j += fmt::format("{}    {{\"name\": \"{}\", \"kind\": \"{}\", \"bytes\": {}, \"busy_ns\": {:.3f}, "
                       "\"utilisation\": {:.6f}}}",
                       first ? "" : ",\n", rep.links[i].name, kinds[static_cast<int>(rep.links[i].kind)], u.bytes,
                       static_cast<double>(u.busy_ps) / 1e3,
                       rep.sim_end_ps > 0 ? static_cast<double>(u.busy_ps) / static_cast<double>(rep.sim_end_ps) : 0.0);
      first = false;
    }
    j += "\n  ]\n}\n";
    write_file_atomic(a.stats, j);
  }
  if (bad > 0)
    throw SimFault(fmt::format("{} elements differ from the reference sum/max/concatenation", bad));
}

}  // namespace

void add_collectives_command(CLI::App& app) {
  auto a = std::make_shared<CollArgs>();
  auto* c = app.add_subcommand("collectives", "Time a collective on a multi-chip system at several sizes (like nccom-test)");
  c->add_option("--system", a->system, "system preset or system YAML file (default trn1.32xlarge)");
  c->add_option("--set", a->sets, "override a system or chip parameter: KEY=VALUE (repeatable)");
  c->add_option("--op", a->op, "all_reduce|all_gather|reduce_scatter|all_to_all|permute");
  c->add_option("--algo", a->algo, "auto|ring|rdh|mesh|hier (default auto: by size, as the Neuron runtime)");
  c->add_option("--channels", a->channels, "ring channels (default: cc.channels, else what the topology offers)");
  c->add_option("--ranks", a->ranks, "use ranks 0..N-1 (NeuronCores; default every rank)");
  c->add_option("--group", a->group, "the replica group as rank numbers: 0,2,4,6");
  c->add_option("--dtype", a->dtype, "fp32|bf16");
  c->add_option("--reduce", a->reduce, "sum|max (all_reduce, reduce_scatter)");
  c->add_option("--bytes", a->bytes, "sizes: 8,1K,1M (binary K/M/G)");
  c->add_option("--min", a->min, "smallest size of a sweep (default 8)");
  c->add_option("--max", a->max, "largest size of a sweep (default --min)");
  c->add_option("--factor", a->factor, "size step of a sweep (default 2)");
  c->add_flag("--check", a->check, "move real values and compare with a plain reference (exit 3 on a mismatch)");
  c->add_option("--json", a->json, "write the rows as JSON objects");
  c->add_option("--trace", a->trace, "write every transfer as a Chrome/Perfetto trace (a track per rank and per link)");
  c->add_option("--stats", a->stats, "write every link's bytes, busy time and utilisation over the run as JSON");
  c->callback([a] { run(*a); });
}

}  // namespace trnsim::cli
