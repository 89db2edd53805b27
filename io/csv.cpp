#include "weft/io/csv.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "weft/error.hpp"

namespace weft::io {
namespace {

// Splits the text into rows of fields; quotes may hold delimiters, newlines and doubled quotes.
class CsvReader {
 public:
  CsvReader(std::string_view text, const std::string& name, char delimiter)
      : text_(text), name_(name), delimiter_(delimiter) {}

  // The next non-blank row; false at the end. `line()` is the row's first line number.
  bool next(std::vector<std::string>& fields) {
    for (;;) {
      if (pos_ >= text_.size()) return false;
      line_ = next_line_;
      fields.clear();
      if (read_row(fields)) return true;
    }
  }
  std::size_t line() const { return line_; }

 private:
  // Reads one row; false when it was blank.
  bool read_row(std::vector<std::string>& fields) {
    std::string field;
    bool quoted = false, any = false;
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (quoted) {
        if (c == '"') {
          if (pos_ < text_.size() && text_[pos_] == '"') {
            field += '"';
            ++pos_;
          } else {
            quoted = false;
          }
        } else {
          if (c == '\n') ++next_line_;
          field += c;
        }
        continue;
      }
      if (c == '\n') {
        ++next_line_;
        break;
      }
      if (c == '\r') continue;
      any = true;
      if (c == '"' && field.empty()) quoted = true;
      else if (c == delimiter_) fields.push_back(std::exchange(field, {}));
      else field += c;
    }
    if (quoted) throw IoError("CSV file '" + name_ + "' line " + std::to_string(line_) + ": a quoted field is not closed");
    if (!any && field.empty()) return false;
    fields.push_back(std::move(field));
    return true;
  }

  std::string_view text_;
  const std::string& name_;
  char delimiter_;
  std::size_t pos_ = 0, line_ = 1, next_line_ = 1;
};

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

bool parse_number(const std::string& field, double& out) {
  const std::string t = trimmed(field);
  if (t.empty()) return false;
  const char* begin = t.data() + (t[0] == '+' ? 1 : 0);
  const auto [end, ec] = std::from_chars(begin, t.data() + t.size(), out);
  return ec == std::errc() && end == t.data() + t.size() && std::isfinite(out);
}

std::size_t label_index(const std::vector<std::string>& header, const CsvOptions& options, const std::string& name) {
  if (options.label.empty()) return header.size() - 1;
  for (std::size_t i = 0; i < header.size(); ++i)
    if (trimmed(header[i]) == options.label) return i;
  std::size_t index = 0;
  const auto [end, ec] = std::from_chars(options.label.data(), options.label.data() + options.label.size(), index);
  if (ec == std::errc() && end == options.label.data() + options.label.size() && index < header.size()) return index;
  std::string names;
  for (const auto& h : header) names += (names.empty() ? "" : ", ") + trimmed(h);
  throw IoError("CSV file '" + name + "': no label column '" + options.label + "'; the columns are " + names);
}

}  // namespace

CsvDataset parse_csv(std::string_view text, const std::string& name, const CsvOptions& options) {
  CsvReader reader(text, name, options.delimiter);
  std::vector<std::string> header, fields;
  if (!reader.next(header)) throw IoError("CSV file '" + name + "' is empty (expected a header row naming the columns)");
  if (options.labeled && header.size() < 2)
    throw IoError("CSV file '" + name + "': the header names " + std::to_string(header.size()) +
                  " column; expected at least one feature and the label");
  // Without a label, no column matches `label`.
  const std::size_t label = options.labeled ? label_index(header, options, name) : header.size();
  CsvDataset out;
  if (options.labeled) out.label = trimmed(header[label]);
  for (std::size_t i = 0; i < header.size(); ++i)
    if (i != label) out.features.push_back(trimmed(header[i]));

  std::vector<float> x;
  std::vector<double> numeric_labels;
  std::vector<std::string> text_labels;
  bool all_indices = true;
  auto where = [&](std::size_t column) {
    return "CSV file '" + name + "' line " + std::to_string(reader.line()) + ", column '" + trimmed(header[column]) + "'";
  };
  while (reader.next(fields)) {
    if (fields.size() != header.size())
      throw IoError("CSV file '" + name + "' line " + std::to_string(reader.line()) + ": " + std::to_string(fields.size()) +
                    " fields, expected " + std::to_string(header.size()) + " as in the header");
    for (std::size_t i = 0; i < fields.size(); ++i) {
      double v = 0;
      const bool number = parse_number(fields[i], v);
      if (i == label) {
        text_labels.push_back(trimmed(fields[i]));
        if (options.regression && !number) throw IoError(where(i) + ": '" + fields[i] + "' is not a finite number");
        if (text_labels.back().empty()) throw IoError(where(i) + ": the label is empty");
        all_indices = all_indices && number && v >= 0 && v == std::floor(v) && v < 1e9;
        numeric_labels.push_back(v);
        continue;
      }
      if (!number) throw IoError(where(i) + ": '" + fields[i] + "' is not a finite number");
      x.push_back(static_cast<float>(v));
    }
  }
  const auto features = static_cast<std::int64_t>(out.features.size());
  const auto n = static_cast<std::int64_t>(x.size()) / std::max<std::int64_t>(features, 1);
  if (n == 0) throw IoError("CSV file '" + name + "' has a header but no samples");
  out.data.name = name;
  out.data.x = Tensor(Shape{n, features});
  std::copy(x.begin(), x.end(), out.data.x.data());
  if (!options.labeled) return out;
  out.data.y = options.regression ? Tensor(Shape{n, 1}) : Tensor(Shape{n});
  if (options.regression || all_indices) {
    for (std::int64_t i = 0; i < n; ++i) out.data.y[i] = static_cast<float>(numeric_labels[i]);
    return out;
  }
  // Class names: numbered in sorted order, so the same set of names always gets the same indices.
  std::map<std::string, std::size_t> index;
  for (const auto& l : text_labels) index.emplace(l, 0);
  for (auto& [class_name, i] : index) {
    i = out.classes.size();
    out.classes.push_back(class_name);
  }
  for (std::int64_t i = 0; i < n; ++i) out.data.y[i] = static_cast<float>(index[text_labels[i]]);
  return out;
}

CsvDataset read_csv(const std::string& path, const CsvOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open CSV file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_csv(text.str(), path, options);
}

}  // namespace weft::io
