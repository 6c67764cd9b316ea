// The sweep runner: one forked trnsim process per design point, N at a time, results appended
// as each point finishes.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "compiler/compile.h"
#include "config/chip_config.h"
#include "isa/target.h"
#include "support/error.h"
#include "support/file_util.h"
#include "support/json.h"
#include "tools/spawn.h"
#include "tools/sweep/metrics.h"
#include "tools/sweep/sweep.h"

namespace trnsim::cli::sweep {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Child {
  pid_t pid = -1;
  Clock::time_point start;
  size_t point = 0;      // index into the pts vector being run
  bool compile = false;  // a compile step, not a measurement
  std::string log, stats;
};

std::string last_line(const std::string& path) {
  std::string text;
  try {
    text = read_text_file(path);
  } catch (const InputError&) {
    return "";
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  size_t nl = text.rfind('\n');
  std::string line = nl == std::string::npos ? text : text.substr(nl + 1);
  for (char& c : line)
    if (c == ',' || c == '"') c = ';';
  return line.substr(0, 300);
}

// "PATH size=N mtime=NS" (a file that cannot be stat'ed: "PATH missing").
std::string file_identity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return path + " missing";
  return fmt::format("{} size={} mtime={}.{:09}", path, static_cast<int64_t>(st.st_size),
                     static_cast<int64_t>(st.st_mtim.tv_sec), st.st_mtim.tv_nsec);
}

// FNV-1a, 64 bits, as 16 hex digits: a file name for a key.
std::string hash_hex(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return fmt::format("{:016x}", h);
}

std::vector<std::string> point_sets(const SweepSpec& spec, const DesignPoint& p) {
  std::vector<std::string> sets = spec.sets;
  for (const auto& [k, v] : p.params) sets.push_back(k + "=" + v);
  return sets;
}

void append_line(const std::string& path, const std::string& line) {
  // One write() per row with O_APPEND: a killed sweep leaves whole rows (at most a partial last
  // line, which read_csv ignores).
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) throw InputError(fmt::format("{}: cannot write", path));
  ssize_t n = ::write(fd, line.data(), line.size());
  ::fsync(fd);
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) throw InputError(fmt::format("{}: write failed", path));
}

}  // namespace

std::string workload_identity(const SweepSpec& spec, int workload, const std::string& self_exe) {
  const Workload& wl = spec.workloads[workload];
  std::string id = "trnsim: " + file_identity(self_exe) + "\n";
  for (const auto& f : compiler::model_files(wl.path)) id += "model: " + file_identity(f) + "\n";
  id += fmt::format("shapes: {}\ndtype: {}\ncores: {}\ntiming-only: {}\n",
                    fmt::join(wl.shapes, " "), wl.dtype, wl.cores == 0 ? "all" : std::to_string(wl.cores),
                    spec.timing_only);
  return id;
}

std::string compile_key(const SweepSpec& spec, const DesignPoint& p, const std::string& identity) {
  const isa::Target t = config::load_chip(spec.chip, point_sets(spec, p)).target();
  return identity + "target: " + isa::target_key(t) + "\n";
}

std::vector<std::string> result_columns(const SweepSpec& spec) {
  std::vector<std::string> cols = {"index", "id", "workload"};
  for (const auto& ax : spec.axes) cols.push_back(ax.key);
  cols.push_back("status");
  for (const auto& m : metric_columns()) cols.push_back(m);
  cols.push_back("reason");
  return cols;
}

RunSummary run_points(const SweepSpec& spec, const std::vector<DesignPoint>& pts,
                      const RunOptions& o) {
  const std::vector<std::string> header = result_columns(spec);
  const std::string jsonl = o.out_csv + ".jsonl";
  std::set<std::string> done;
  if (fs::exists(o.out_csv)) {
    if (!o.resume)
      throw InputError(fmt::format("{}: exists; use --resume to continue it or remove it", o.out_csv));
    Table t = read_csv(o.out_csv);
    if (t.header != header)
      throw InputError(fmt::format("{}: its columns do not match this sweep spec", o.out_csv));
    int id_col = t.column("id");
    for (const auto& r : t.rows) done.insert(r[id_col]);
    // Drop a partial last line left by a killed run so appends start on a fresh line.
    std::string text = read_text_file(o.out_csv);
    if (!text.empty() && text.back() != '\n')
      write_file_atomic(o.out_csv, text.substr(0, text.rfind('\n') + 1));
  } else {
    append_line(o.out_csv, csv_line(header));
  }
  std::vector<size_t> todo;
  for (size_t i = 0; i < pts.size(); ++i)
    if (!done.count(pts[i].id)) todo.push_back(i);

  fs::path work = fs::path(o.out_csv + ".work");
  fs::create_directories(work);
  int jobs = o.jobs > 0 ? o.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  bool show = o.progress && isatty(2) && !std::getenv("CI");

  // Compile each model once per compile key (what the compiler reads); points wait for their
  // compilation. Programs live in WORK/compiled/HASH.tbin beside HASH.key (the key's text), so a
  // resumed sweep reuses what the killed one compiled, unless something in the key changed.
  RunSummary summary;
  std::map<std::string, std::string> compiled;      // hash -> .tbin path ("" while pending)
  std::map<std::string, std::string> compile_error;  // hash -> reason
  std::vector<std::string> keys(pts.size());          // hash of each model point's key
  const fs::path cache_dir = work / "compiled";
  if (o.compile_cache) {
    fs::create_directories(cache_dir);
    std::map<int, std::string> identity;  // per workload
    for (size_t i : todo) {
      const int w = pts[i].workload;
      if (!spec.workloads[w].is_model) continue;
      if (!identity.count(w)) identity[w] = workload_identity(spec, w, o.self_exe);
      const std::string key = compile_key(spec, pts[i], identity[w]);
      keys[i] = hash_hex(key);
      if (compiled.count(keys[i])) continue;
      const fs::path tbin = cache_dir / (keys[i] + ".tbin"), key_file = cache_dir / (keys[i] + ".key");
      std::error_code ec;
      if (fs::exists(tbin, ec) && fs::exists(key_file, ec) && read_text_file(key_file) == key) {
        compiled[keys[i]] = tbin.string();
        ++summary.reused;
      } else {
        write_file_atomic(key_file.string(), key);
      }
    }
  }

  std::vector<Child> running;
  size_t next = 0, finished = 0, failures = 0;
  auto t0 = Clock::now();
  std::vector<size_t> waiting;  // points whose compilation is in flight

  auto record = [&](const DesignPoint& p, const std::string& status, const Metrics& m,
                    const std::string& reason, const std::string& stats_json) {
    std::vector<std::string> row = {std::to_string(p.index), p.id, spec.workloads[p.workload].name};
    for (const auto& [k, v] : p.params) row.push_back(v);
    row.push_back(status);
    for (const auto& v : m.values) row.push_back(v);
    row.push_back(reason);
    append_line(o.out_csv, csv_line(row));
    append_line(jsonl, fmt::format("{{\"index\":{},\"id\":\"{}\",\"status\":\"{}\",\"stats\":{}}}\n",
                                   p.index, p.id, status, stats_json.empty() ? "null" : stats_json));
    ++finished;
    if (status != "ok") ++failures;
  };

  // The options a point's model compiles with (`trnsim compile`, or `run MODEL.onnx` uncached).
  auto add_compile_args = [&](std::vector<std::string>& argv, const SweepSpec& spec,
                              const DesignPoint& p) {
    const Workload& wl = spec.workloads[p.workload];
    for (const auto& s : wl.shapes) argv.insert(argv.end(), {"--shape", s});
    argv.insert(argv.end(), {"--dtype", wl.dtype});
    if (wl.cores != 1) {  // data parallel: a number, or every core of this point's chip
      int n = wl.cores;
      if (n == 0) n = config::load_chip(spec.chip, point_sets(spec, p)).target().num_cores;
      argv.insert(argv.end(), {"--cores", std::to_string(n)});
    }
  };

  auto launch_run = [&](size_t i) {
    const DesignPoint& p = pts[i];
    const Workload& wl = spec.workloads[p.workload];
    Child c;
    c.point = i;
    c.log = (work / fmt::format("{}.log", p.id)).string();
    c.stats = (work / fmt::format("{}.json", p.id)).string();
    std::vector<std::string> argv = {o.self_exe, "run"};
    argv.push_back(wl.is_model && o.compile_cache ? compiled[keys[i]] : wl.path);
    argv.insert(argv.end(), {"--chip", spec.chip});
    for (const auto& s : spec.sets) argv.insert(argv.end(), {"--set", s});
    for (const auto& [k, v] : p.params) argv.insert(argv.end(), {"--set", k + "=" + v});
    if (wl.is_model && !o.compile_cache) add_compile_args(argv, spec, p);
    if (spec.timing_only) argv.push_back("--timing-only");
    argv.insert(argv.end(), {"--stats", c.stats});
    std::remove(c.stats.c_str());
    c.start = Clock::now();
    c.pid = spawn_logged(argv, c.log);
    running.push_back(c);
  };

  auto launch_compile = [&](size_t i) {
    const DesignPoint& p = pts[i];
    const Workload& wl = spec.workloads[p.workload];
    Child c;
    c.point = i;
    c.compile = true;
    std::string out = (cache_dir / (keys[i] + ".tbin")).string();
    c.log = out + ".log";
    std::vector<std::string> argv = {o.self_exe, "compile", wl.path, "--chip", spec.chip};
    for (const auto& s : spec.sets) argv.insert(argv.end(), {"--set", s});
    for (const auto& [k, v] : p.params) argv.insert(argv.end(), {"--set", k + "=" + v});
    add_compile_args(argv, spec, p);
    if (spec.timing_only) argv.push_back("--timing-only");  // no weights in the program
    argv.insert(argv.end(), {"-o", out});
    ++summary.compiles;
    compiled[keys[i]] = "";
    c.stats = out;
    c.start = Clock::now();
    c.pid = spawn_logged(argv, c.log);
    running.push_back(c);
  };

  auto progress = [&]() {
    if (!show) return;
    double el = std::chrono::duration<double>(Clock::now() - t0).count();
    double eta = finished ? el / finished * (todo.size() - finished) : 0;
    std::fprintf(stderr, "\r[%zu/%zu] %zu failed, elapsed %.0fs, eta %.0fs   ", finished,
                 todo.size(), failures, el, eta);
  };

  while (finished < todo.size()) {
    // Points whose compilation finished (or failed) can start or be recorded.
    for (size_t w = 0; w < waiting.size();) {
      size_t i = waiting[w];
      auto ce = compile_error.find(keys[i]);
      if (ce != compile_error.end()) {
        record(pts[i], "failed", Metrics{}, "compile: " + ce->second, "");
        waiting.erase(waiting.begin() + w);
      } else if (!compiled[keys[i]].empty() && static_cast<int>(running.size()) < jobs) {
        launch_run(i);
        waiting.erase(waiting.begin() + w);
      } else {
        ++w;
      }
    }
    while (static_cast<int>(running.size()) < jobs && next < todo.size()) {
      size_t i = todo[next++];
      if (!spec.workloads[pts[i].workload].is_model || !o.compile_cache) {
        launch_run(i);
      } else if (compiled.count(keys[i])) {
        waiting.push_back(i);
        break;  // re-check in the waiting loop
      } else {
        launch_compile(i);
        waiting.push_back(i);
      }
    }
    // Reap children; kill the ones over their time limit.
    bool reaped = false;
    for (size_t r = 0; r < running.size();) {
      Child& c = running[r];
      int st = 0;
      pid_t got = waitpid(c.pid, &st, WNOHANG);
      double el = std::chrono::duration<double>(Clock::now() - c.start).count();
      if (got == 0 && el > spec.timeout_s) {
        kill(c.pid, SIGKILL);
        waitpid(c.pid, &st, 0);
        got = c.pid;
        st = -1;
      }
      if (got == 0) {
        ++r;
        continue;
      }
      reaped = true;
      const DesignPoint& p = pts[c.point];
      bool ok = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
      if (c.compile) {
        if (ok) {
          compiled[keys[c.point]] = c.stats;
        } else {
          compile_error[keys[c.point]] = st == -1 ? fmt::format("timed out after {}s", spec.timeout_s)
                                                  : last_line(c.log);
        }
      } else if (st == -1) {
        record(p, "timeout", Metrics{}, fmt::format("timed out after {}s", spec.timeout_s), "");
      } else if (!ok) {
        std::string why = WIFSIGNALED(st) ? fmt::format("killed by signal {}", WTERMSIG(st))
                                          : last_line(c.log);
        record(p, "failed", Metrics{}, why, "");
      } else {
        std::string json;
        Metrics m;
        try {
          json = read_text_file(c.stats);
          m = extract_metrics(json, c.stats);
          record(p, "ok", m, "", json::parse(json, c.stats).dump(false));
        } catch (const InputError& e) {
          record(p, "failed", Metrics{}, std::string("stats: ") + e.what(), "");
        }
        std::remove(c.log.c_str());
        std::remove(c.stats.c_str());
      }
      running.erase(running.begin() + r);
      progress();
    }
    if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (show) std::fprintf(stderr, "\n");

  // The final table is sorted by index, so a resumed sweep equals an uninterrupted one.
  Table t = read_csv(o.out_csv);
  int idx = t.column("index");
  std::stable_sort(t.rows.begin(), t.rows.end(), [&](const auto& a, const auto& b) {
    return std::stoll(a[idx]) < std::stoll(b[idx]);
  });
  std::string text = csv_line(t.header);
  for (const auto& r : t.rows) text += csv_line(r);
  write_file_atomic(o.out_csv, text);
  std::error_code ec;
  fs::remove_all(work, ec);
  summary.not_ok = static_cast<int>(failures);
  return summary;
}

}  // namespace trnsim::cli::sweep
