#pragma once
// Training curves as an SVG image any browser shows: loss per epoch (training and validation)
// beside accuracy per epoch when the table has accuracy columns. What `weft plot` draws.
// Each curve is one `<polyline>` with class "train" or "validation" and data-series "loss" or
// "accuracy", one point per epoch that has the value.
#include <string>

#include "weft/io/metrics_csv.hpp"

namespace weft::io {

// Throws Error when the table has no "epoch" or no "loss" column.
std::string training_curves_svg(const MetricsTable& table, const std::string& title);

// Writes the SVG to `path`; throws IoError.
void write_training_curves(const MetricsTable& table, const std::string& title, const std::string& path);

}  // namespace weft::io
