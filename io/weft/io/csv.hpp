#pragma once
// CSV datasets: a header row naming the columns, then one sample per row. One column holds the
// target (the last by default); every other column is a numeric feature.
//
//   classification: the target is a class index (0, 1, ...) or a class name; names are numbered
//                   in sorted order and listed in `classes`.
//   regression:     the target is a number; targets have shape (n, 1).
// Fields may be quoted ("a, b" and "" inside quotes); blank lines are skipped.
#include <string>
#include <string_view>
#include <vector>

#include "weft/dataset.hpp"

namespace weft::io {

// How read_csv() and parse_csv() read a file.
struct CsvOptions {
  std::string label;        // the target column: a header name or a 0-based index; "" = the last column
  bool labeled = true;      // false: every column is a feature (inputs for prediction); y stays empty
  bool regression = false;  // true: the target is a number, y is (n, 1); false: a class
  char delimiter = ',';     // the field separator, e.g. ';' or a tab
};

// A CSV file read as a dataset, with the names needed to interpret it.
struct CsvDataset {
  Dataset data;                      // x (n, features), y (n) class indices or (n, 1) numbers
  std::vector<std::string> features; // feature column names, in order
  std::string label;                 // the target column's name
  std::vector<std::string> classes;  // classification by name: the names, index order
};

// Throws IoError naming the file, the line and the column for any malformed field.
CsvDataset read_csv(const std::string& path, const CsvOptions& options = {});
// The same on text in memory; `name` is used in messages.
CsvDataset parse_csv(std::string_view text, const std::string& name, const CsvOptions& options = {});

}  // namespace weft::io
