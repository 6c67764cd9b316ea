// CSV reading and writing for sweep result tables (RFC 4180 quoting).
#include <fmt/format.h>

#include "support/error.h"
#include "support/file_util.h"
#include "tools/sweep/sweep.h"

namespace trnsim::cli::sweep {

int Table::column(const std::string& name) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

std::string csv_line(const std::vector<std::string>& cells) {
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) out += ',';
    const std::string& c = cells[i];
    if (c.find_first_of(",\"\n\r") == std::string::npos) {
      out += c;
    } else {
      out += '"';
      for (char ch : c) {
        if (ch == '"') out += '"';
        out += ch;
      }
      out += '"';
    }
  }
  out += '\n';
  return out;
}

Table read_csv(const std::string& path) {
  std::string text = read_text_file(path);
  // A writer killed mid-row leaves a line without its newline: ignore it.
  if (!text.empty() && text.back() != '\n') text.erase(text.rfind('\n') + 1);
  Table t;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false;
  int line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
    } else if (c == '\n') {
      row.push_back(std::move(cell));
      cell.clear();
      if (!row.empty() && !(row.size() == 1 && row[0].empty())) {
        if (t.header.empty()) {
          t.header = std::move(row);
        } else if (row.size() != t.header.size()) {
          throw InputError(fmt::format("{}:{}: expected {} columns, found {}", path, line,
                                       t.header.size(), row.size()));
        } else {
          t.rows.push_back(std::move(row));
        }
      }
      row.clear();
      ++line;
    } else if (c != '\r') {
      cell += c;
    }
  }
  if (t.header.empty()) throw InputError(fmt::format("{}: empty table", path));
  return t;
}

}  // namespace trnsim::cli::sweep
