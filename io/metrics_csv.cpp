#include "weft/io/metrics_csv.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "weft/error.hpp"
#include "weft/trainer.hpp"

namespace weft::io {

std::vector<double> MetricsTable::column(const std::string& name) const {
  for (std::size_t c = 0; c < columns.size(); ++c)
    if (columns[c] == name) {
      std::vector<double> out;
      for (const auto& row : rows) out.push_back(row[c]);
      return out;
    }
  return {};
}

void write_metrics_csv(const std::vector<Metrics>& history, const std::string& path) {
  std::vector<std::string> columns;
  for (const auto& m : history)
    for (const auto& name : m.names())
      if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary);
    if (!out) throw IoError("cannot write the metrics log '" + path + "'");
    for (std::size_t c = 0; c < columns.size(); ++c) out << (c ? "," : "") << columns[c];
    out << '\n';
    char field[40];
    for (const auto& m : history) {
      for (std::size_t c = 0; c < columns.size(); ++c) {
        if (c) out << ',';
        if (const auto v = m.get(columns[c])) {
          std::snprintf(field, sizeof field, "%.10g", *v);
          out << field;
        }
      }
      out << '\n';
    }
    if (!out.flush()) throw IoError("cannot write the metrics log '" + path + "'");
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) throw IoError("cannot write the metrics log '" + path + "': " + ec.message());
}

MetricsTable read_metrics_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot open the metrics file '" + path + "'");
  auto split = [](const std::string& line) {
    std::vector<std::string> fields;
    std::stringstream s(line);
    std::string f;
    while (std::getline(s, f, ',')) fields.push_back(f);
    if (!line.empty() && line.back() == ',') fields.emplace_back();
    return fields;
  };
  MetricsTable t;
  std::string line;
  if (!std::getline(in, line) || line.empty()) throw IoError("metrics file '" + path + "' is empty; expected a CSV header");
  t.columns = split(line);
  for (std::size_t n = 2; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const auto fields = split(line);
    const std::string where = "metrics file '" + path + "' line " + std::to_string(n);
    if (fields.size() != t.columns.size())
      throw IoError(where + ": " + std::to_string(fields.size()) + " fields, the header has " + std::to_string(t.columns.size()));
    std::vector<double> row;
    for (const auto& f : fields) {
      if (f.empty()) {
        row.push_back(std::nan(""));
        continue;
      }
      std::size_t used = 0;
      double v = 0;
      try {
        v = std::stod(f, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != f.size()) throw IoError(where + ": '" + f + "' is not a number");
      row.push_back(v);
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

void CsvLog::on_epoch_end(Trainer& trainer, const EpochEvent&) { write_metrics_csv(trainer.history(), path_); }

}  // namespace weft::io
