// `trnsim sweep merge`: joins shard result tables and checks completeness.
#include <fmt/format.h>

#include <map>

#include "support/error.h"
#include "support/file_util.h"
#include "tools/sweep/sweep.h"

namespace trnsim::cli::sweep {

void merge_results(const std::vector<std::string>& inputs, const std::string& out_csv,
                   const std::string& spec_path) {
  if (inputs.empty()) throw InputError("sweep merge: no input tables");
  Table merged;
  std::map<long long, std::pair<std::string, std::vector<std::string>>> by_index;  // -> file, row
  for (const auto& in : inputs) {
    Table t = read_csv(in);
    if (merged.header.empty()) {
      merged.header = t.header;
    } else if (t.header != merged.header) {
      throw InputError(fmt::format("{}: columns differ from {}", in, inputs.front()));
    }
    int idx = t.column("index");
    if (idx < 0) throw InputError(fmt::format("{}: no index column", in));
    for (auto& r : t.rows) {
      long long i = std::stoll(r[idx]);
      auto [it, fresh] = by_index.emplace(i, std::make_pair(in, r));
      if (!fresh)
        throw InputError(fmt::format("{}: point {} is also in {}", in, i, it->second.first));
    }
  }
  if (!spec_path.empty()) {
    SweepSpec spec = load_spec(spec_path);
    auto pts = expand_points(spec);
    if (merged.header != result_columns(spec))
      throw InputError(fmt::format("{}: columns do not match {}", inputs.front(), spec_path));
    std::vector<int> missing;
    int id_col = merged.column("id");
    for (const auto& p : pts) {
      auto it = by_index.find(p.index);
      if (it == by_index.end()) {
        missing.push_back(p.index);
      } else if (it->second.second[id_col] != p.id) {
        throw InputError(fmt::format("{}: point {} has id {} but the spec gives {}",
                                     it->second.first, p.index, it->second.second[id_col], p.id));
      }
    }
    if (by_index.size() > pts.size())
      throw InputError(fmt::format("sweep merge: {} rows but the spec has {} points",
                                   by_index.size(), pts.size()));
    if (!missing.empty()) {
      std::string list;
      for (size_t k = 0; k < missing.size() && k < 10; ++k) list += (k ? ", " : "") + std::to_string(missing[k]);
      throw InputError(fmt::format("sweep merge: {} of {} points missing (first: {})",
                                   missing.size(), pts.size(), list));
    }
  }
  std::string text = csv_line(merged.header);
  for (const auto& [i, fr] : by_index) text += csv_line(fr.second);
  write_file_atomic(out_csv, text);
}

}  // namespace trnsim::cli::sweep
