// `trnsim sweep report`: Pareto front of a results table, plotted with gnuplot, and a summary.
#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "support/error.h"
#include "support/file_util.h"
#include "tools/sweep/sweep.h"

namespace trnsim::cli::sweep {
namespace {

double cell_number(const std::string& s) {
  if (s.empty()) return NAN;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  return (end && *end == 0) ? v : NAN;
}

std::string gp_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += (c == '\'') ? std::string("''") : std::string(1, c);
  return out + "'";
}

}  // namespace

void write_report(const std::string& csv, const std::string& dir) {
  namespace fs = std::filesystem;
  Table t = read_csv(csv);
  int lat = t.column("sim_time_ns"), energy = t.column("energy_j"), status = t.column("status");
  if (lat < 0 || status < 0) throw InputError(fmt::format("{}: not a trnsim sweep table", csv));
  // The x axis: energy when the runs report it, else the first swept parameter.
  int axis_first = t.column("workload") + 1;
  int x = energy;
  bool have_energy = false;
  for (const auto& r : t.rows)
    if (energy >= 0 && std::isfinite(cell_number(r[energy]))) have_energy = true;
  if (!have_energy) x = (axis_first < status) ? axis_first : -1;
  if (x < 0) throw InputError(fmt::format("{}: no energy column and no swept parameter to plot", csv));

  struct P {
    double x, y;
    size_t row;
  };
  std::vector<P> pts;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const auto& r = t.rows[i];
    double xv = cell_number(r[x]), yv = cell_number(r[lat]);
    if (r[status] == "ok" && std::isfinite(xv) && std::isfinite(yv)) pts.push_back({xv, yv, i});
  }
  if (pts.empty()) throw InputError(fmt::format("{}: no successful design points", csv));
  std::sort(pts.begin(), pts.end(), [](const P& a, const P& b) {
    return a.x < b.x || (a.x == b.x && a.y < b.y);
  });
  std::vector<P> front;  // minimise both: sweep x ascending, keep strictly better latency
  for (const auto& p : pts)
    if (front.empty() || p.y < front.back().y) front.push_back(p);

  fs::create_directories(dir);
  std::string all_dat, front_dat, front_csv = csv_line(t.header);
  for (const auto& p : pts) all_dat += fmt::format("{} {}\n", p.x, p.y);
  for (const auto& p : front) {
    front_dat += fmt::format("{} {}\n", p.x, p.y);
    front_csv += csv_line(t.rows[p.row]);
  }
  write_file_atomic(dir + "/pareto.csv", front_csv);
  std::string tmp_all = dir + "/.all.dat", tmp_front = dir + "/.front.dat";
  write_file_atomic(tmp_all, all_dat);
  write_file_atomic(tmp_front, front_dat);
  std::string xlabel = have_energy ? "energy per run (J)" : t.header[x];
  std::string script = fmt::format(
      "set terminal svg size 800,560 dynamic background rgb 'white'\n"
      "set output {}\n"
      "set title {}\n"
      "set xlabel {}\nset ylabel 'simulated latency (ns)'\nset grid\nset key top right\n"
      "plot {} using 1:2 with points pt 7 ps 0.6 lc rgb '#7f7f7f' title 'design points', \\\n"
      "     {} using 1:2 with linespoints pt 7 ps 1 lw 2 lc rgb '#d62728' title 'Pareto front'\n",
      gp_quote(dir + "/pareto.svg"), gp_quote("Pareto front: " + fs::path(csv).filename().string()),
      gp_quote(xlabel), gp_quote(tmp_all), gp_quote(tmp_front));
  std::string gp = dir + "/.pareto.gp";
  write_file_atomic(gp, script);
  int rc = std::system(fmt::format("gnuplot {} 2>{}/.gnuplot.log", gp_quote(gp), gp_quote(dir)).c_str());
  std::remove(tmp_all.c_str());
  std::remove(tmp_front.c_str());
  std::remove(gp.c_str());
  if (rc != 0) {
    std::string log = dir + "/.gnuplot.log";
    throw InputError(fmt::format("{}: gnuplot failed (is gnuplot-nox installed?): {}", csv,
                                 fs::exists(log) ? read_text_file(log).substr(0, 200) : ""));
  }
  std::remove((dir + "/.gnuplot.log").c_str());

  // Summary: the best points and the front.
  std::string md = fmt::format("# Sweep report: {}\n\n{} design points, {} ok; Pareto front of "
                               "latency against {} has {} points ([pareto.csv](pareto.csv)).\n\n"
                               "![Pareto front](pareto.svg)\n\n",
                               fs::path(csv).filename().string(), t.rows.size(), pts.size(),
                               xlabel, front.size());
  auto row_md = [&](const std::vector<std::string>& r) {
    std::string s = "|";
    for (const auto& c : r) s += " " + c + " |";
    return s + "\n";
  };
  std::vector<std::string> cols;
  for (int c = axis_first - 1; c < status; ++c) cols.push_back(t.header[c]);
  cols.push_back("sim_time_ns");
  if (have_energy) cols.push_back("energy_j");
  for (const char* extra : {"mfu", "avg_power_w"})
    if (t.column(extra) >= 0) cols.push_back(extra);
  md += "## Pareto front\n\n" + row_md(cols) + row_md(std::vector<std::string>(cols.size(), "---"));
  for (const auto& p : front) {
    std::vector<std::string> r;
    for (const auto& c : cols) r.push_back(t.rows[p.row][t.column(c)]);
    md += row_md(r);
  }
  auto fastest = std::min_element(pts.begin(), pts.end(), [](const P& a, const P& b) { return a.y < b.y; });
  md += fmt::format("\nFastest: point {} at {} ns.\n", t.rows[fastest->row][t.column("index")], fastest->y);
  if (have_energy) {
    auto edp = std::min_element(pts.begin(), pts.end(),
                                [](const P& a, const P& b) { return a.x * a.y < b.x * b.y; });
    md += fmt::format("Lowest energy-delay product: point {} ({} J x {} ns).\n",
                      t.rows[edp->row][t.column("index")], edp->x, edp->y);
  }
  write_file_atomic(dir + "/summary.md", md);
}

}  // namespace trnsim::cli::sweep
