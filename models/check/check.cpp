// check_program(), explain_deadlock(), analyse_waits() and the report texts.
#include "models/check/check.h"

#include <algorithm>
#include <functional>
#include <set>
#include <string>

#include "isa/asm.h"
#include "models/check/checker.h"
#include "support/error.h"

namespace trnsim::model {

using check_detail::Checker;

namespace {

std::string span(int64_t lo, int64_t hi) {
  return "[" + std::to_string(lo) + ", " + std::to_string(hi) + ")";
}

std::string engines_text(isa::EngineMask m) {
  std::string s;
  for (int e = 0; e < isa::kNumEngines; ++e)
    if (m & (1u << e)) s += (s.empty() ? "" : "|") + std::string(isa::engine_name(static_cast<isa::Engine>(e)));
  return s.empty() ? "none" : s;
}

}  // namespace

const char* race_kind_name(RaceKind k) {
  switch (k) {
    case RaceKind::Raw: return "RAW";
    case RaceKind::War: return "WAR";
    case RaceKind::Waw: return "WAW";
  }
  return "?";
}

std::string MemRange::text() const {
  if (space == isa::MemSpace::Hbm)
    return "hbm tensor '" + tensor_name + "' bytes " + span(lo, hi);
  return "core" + std::to_string(core) + " " + std::string(isa::mem_space_name(space)) +
         " partitions " + span(p0, p1) + " bytes " + span(lo, hi);
}

std::string Race::text() const {
  const char* a = kind == RaceKind::War ? "reads" : "writes";
  const char* b = kind == RaceKind::Raw ? "reads" : "writes";
  return std::string(race_kind_name(kind)) + " race on " + range.text() + ": " + first.name +
         " " + a + ", " + second.name + " " + b +
         ", and no semaphore wait, barrier or queue order puts one before the other";
}

std::string UninitRead::text() const {
  return "uninitialised read: " + instr.name + " reads " + range.text() +
         ", which nothing wrote before";
}

std::string Deadlock::text() const {
  std::string s = "deadlock: " + std::to_string(waiters.size()) + " engine(s) blocked\n";
  for (const DeadlockWaiter& w : waiters) {
    if (w.barrier) {
      s += "  " + w.instr.name + " waits at a barrier of " + engines_text(w.barrier_mask) +
           " (arrived: " + engines_text(w.barrier_arrived) + ")\n";
      continue;
    }
    const std::string sem = "core" + std::to_string(w.instr.core) + " s" + std::to_string(w.sem);
    s += "  " + w.instr.name + " waits for s" + std::to_string(w.sem) + " >= " +
         std::to_string(w.target) + " (now " + std::to_string(w.current) + ")";
    if (w.incrementers.empty()) {
      s += "; no instruction increments " + sem + "\n";
      continue;
    }
    s += "; " + sem + " is incremented by:\n";
    for (const SemIncrementer& i : w.incrementers)
      s += "    " + i.instr.name + " +" + std::to_string(i.amount) + ": " +
           (i.executed > 0 ? "fired " + std::to_string(i.executed) + " time(s)" : "never fired") +
           "; " + i.where + "\n";
  }
  return s;
}

std::string CheckReport::text() const {
  std::string s;
  for (const Race& r : races) s += r.text() + "\n";
  for (const UninitRead& u : uninit) s += u.text() + "\n";
  if (deadlock) s += deadlock->text();
  if (dropped > 0) s += std::to_string(dropped) + " further report(s) not shown\n";
  return s;
}

namespace {

bool has_ldr(const isa::Program& prog) {
  for (const auto& c : prog.cores)
    for (const auto& s : c.streams)
      for (const auto& in : s)
        if (in.op == isa::Opcode::Ldr) return true;
  return false;
}

std::vector<WaitAnalysis> analyse_waits_on_path(const isa::Program& prog, const isa::Target& target,
                                                const std::vector<uint8_t>& choices,
                                                std::vector<uint8_t>& taken, size_t max_waits);

// The next path after one whose ldr values were `taken` (depth first: flip the last 0 to 1 and
// drop what follows); false when every path was seen.
bool next_path(std::vector<uint8_t> taken, std::vector<uint8_t>& next) {
  while (!taken.empty() && taken.back() != 0) taken.pop_back();
  if (taken.empty()) return false;
  taken.back() = 1;
  next = std::move(taken);
  return true;
}

// Runs `fn(choices)` for every path through the branches on ldr values (one run without ldr,
// or with explicit choices); fn returns the choices its run made. Returns the number of runs
// and whether max_paths cut the enumeration short.
std::pair<size_t, bool> for_each_path(
    const isa::Program& prog, const CheckOptions& opts,
    const std::function<std::vector<uint8_t>(const std::vector<uint8_t>&)>& fn) {
  if (!opts.ldr_choices.empty() || !has_ldr(prog)) {
    fn(opts.ldr_choices);
    return {1, false};
  }
  std::vector<uint8_t> choices;
  size_t runs = 0;
  while (true) {
    std::vector<uint8_t> taken = fn(choices);
    ++runs;
    if (!next_path(std::move(taken), choices)) return {runs, false};
    if (runs >= std::max<size_t>(opts.max_paths, 1)) return {runs, true};
  }
}

}  // namespace

CheckReport check_program(const isa::Program& prog, const isa::Target& target,
                          const CheckOptions& opts) {
  CheckReport merged;
  std::set<std::string> races, uninit;
  auto [paths, truncated] = for_each_path(prog, opts, [&](const std::vector<uint8_t>& choices) {
    CheckOptions o = opts;
    o.ldr_choices = choices;
    Checker c(prog, target, o);
    CheckReport r = c.run();
    for (Race& x : r.races)
      if (races.insert(x.text()).second) merged.races.push_back(std::move(x));
    for (UninitRead& u : r.uninit)
      if (uninit.insert(u.text()).second) merged.uninit.push_back(std::move(u));
    if (r.deadlock && !merged.deadlock) merged.deadlock = std::move(r.deadlock);
    merged.dropped += r.dropped;
    merged.dynamic_instructions = std::max(merged.dynamic_instructions, r.dynamic_instructions);
    return c.ldr_decisions();
  });
  merged.paths = paths;
  merged.paths_truncated = truncated;
  return merged;
}

std::string explain_deadlock(const isa::Program& prog) {
  isa::Target t;
  t.num_cores = 1024;  // an increment of a core that does not exist is the simulator's error
  t.num_dma_queues = 1 << 16;  // an unknown queue is the simulator's error to report
  CheckOptions o;
  o.races = false;
  o.uninit = false;
  try {
    CheckReport r = check_program(prog, t, o);
    return r.deadlock ? r.deadlock->text() : "";
  } catch (const SimFault& e) {
    return std::string("deadlock analysis stopped: ") + e.what() + "\n";
  }
}

std::vector<WaitAnalysis> analyse_waits(const isa::Program& prog, const isa::Target& target,
                                        size_t max_waits) {
  std::vector<WaitAnalysis> all;
  for_each_path(prog, CheckOptions{}, [&](const std::vector<uint8_t>& choices) {
    std::vector<uint8_t> taken;
    std::vector<WaitAnalysis> one = analyse_waits_on_path(prog, target, choices, taken, max_waits);
    if (all.empty()) {
      all = std::move(one);
    } else {
      for (size_t i = 0; i < all.size(); ++i) {
        all[i].needed = all[i].needed || one[i].needed;
        all[i].reports = std::max(all[i].reports, one[i].reports);
      }
    }
    return taken;
  });
  return all;
}

namespace {

std::vector<WaitAnalysis> analyse_waits_on_path(const isa::Program& prog, const isa::Target& target,
                                                const std::vector<uint8_t>& choices,
                                                std::vector<uint8_t>& taken, size_t max_waits) {
  CheckOptions base_opts;
  base_opts.ldr_choices = choices;
  Checker base(prog, target, base_opts);
  base.record_ordered = true;
  base.run();
  taken = base.ldr_decisions();
  std::vector<std::pair<uint64_t, uint64_t>> pairs(base.ordered_pairs.begin(),
                                                   base.ordered_pairs.end());
  size_t total = 0;
  for (const auto& core : prog.cores)
    for (const auto& stream : core.streams)
      for (const auto& in : stream) total += in.num_waits;
  const size_t step = max_waits > 0 && total > max_waits ? (total + max_waits - 1) / max_waits : 1;
  size_t index = 0;
  std::vector<WaitAnalysis> out;
  for (size_t c = 0; c < prog.cores.size(); ++c)
    for (int e = 0; e < isa::kNumEngines; ++e) {
      const auto& stream = prog.cores[c].streams[e];
      for (size_t i = 0; i < stream.size(); ++i)
        for (int w = 0; w < stream[i].num_waits; ++w) {
          if (index++ % step != 0) continue;
          WaitAnalysis a;
          a.wait = WaitRef{static_cast<int>(c), static_cast<isa::Engine>(e), i, w};
          const isa::SemWait& sw = stream[i].waits[w];
          a.site = "core" + std::to_string(c) + " " +
                   std::string(isa::engine_name(static_cast<isa::Engine>(e))) + " #" +
                   std::to_string(i) + " (" + stream[i].info().mnemonic + ") wait(s" +
                   std::to_string(sw.sem) + ">=" +
                   (sw.reg >= 0 ? "r" + std::to_string(sw.reg) : std::to_string(sw.value)) + ")";
          CheckOptions o;
          o.skip_wait = a.wait;
          o.ldr_choices = taken;
          Checker m(prog, target, o);
          for (const auto& p : pairs) {
            m.want_x.insert(p.first);
            m.want_y.insert(p.second);
          }
          CheckReport r = m.run();
          a.reports = r.races.size() + r.uninit.size() + r.dropped;
          for (const auto& p : pairs) {
            auto x = m.seen_x.find(p.first);
            auto y = m.seen_y.find(p.second);
            if (x == m.seen_x.end() || y == m.seen_y.end()) continue;
            if (x->second.second > y->second[x->second.first]) {
              a.needed = true;
              break;
            }
          }
          out.push_back(std::move(a));
        }
    }
  return out;
}

}  // namespace

}  // namespace trnsim::model
