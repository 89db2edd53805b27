#include "weft/io/training_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "weft/error.hpp"

namespace weft::io {
namespace {

constexpr double panel_width = 460, panel_height = 320, left = 60, top = 40, plot_width = 370, plot_height = 230;

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", v);
  return text;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

// One panel at horizontal offset `x0`: axes, ticks, the training and validation curves, legend.
std::string panel(double x0, const std::string& series, const std::vector<double>& epochs, const std::vector<double>& train,
                  const std::vector<double>& validation) {
  double lo = INFINITY, hi = -INFINITY;
  for (const auto* values : {&train, &validation})
    for (double v : *values)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(lo <= hi)) lo = 0, hi = 1;
  if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
  const double pad = (hi - lo) * 0.05;
  lo -= pad, hi += pad;
  const double e0 = epochs.front(), e1 = std::max(epochs.back(), e0 + 1);
  auto px = [&](double e) { return x0 + left + (e - e0) / (e1 - e0) * plot_width; };
  auto py = [&](double v) { return top + (hi - v) / (hi - lo) * plot_height; };

  std::string svg = "<g class=\"panel\" data-series=\"" + series + "\">\n";
  svg += "<text x=\"" + number(x0 + left + plot_width / 2) + "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">" + series +
         "</text>\n";
  svg += "<rect x=\"" + number(x0 + left) + "\" y=\"" + number(top) + "\" width=\"" + number(plot_width) + "\" height=\"" +
         number(plot_height) + "\" fill=\"none\" stroke=\"#444\"/>\n";
  for (int k = 0; k <= 4; ++k) {  // horizontal grid with value labels
    const double v = lo + (hi - lo) * k / 4, y = py(v);
    svg += "<line x1=\"" + number(x0 + left) + "\" y1=\"" + number(y) + "\" x2=\"" + number(x0 + left + plot_width) +
           "\" y2=\"" + number(y) + "\" stroke=\"#ddd\"/>\n";
    svg += "<text x=\"" + number(x0 + left - 6) + "\" y=\"" + number(y + 4) + "\" text-anchor=\"end\" font-size=\"11\">" +
           number(v) + "</text>\n";
  }
  const std::size_t every = std::max<std::size_t>(1, (epochs.size() + 9) / 10);
  for (std::size_t i = 0; i < epochs.size(); i += every)
    svg += "<text x=\"" + number(px(epochs[i])) + "\" y=\"" + number(top + plot_height + 16) +
           "\" text-anchor=\"middle\" font-size=\"11\">" + number(epochs[i]) + "</text>\n";
  svg += "<text x=\"" + number(x0 + left + plot_width / 2) + "\" y=\"" + number(top + plot_height + 34) +
         "\" text-anchor=\"middle\" font-size=\"12\">epoch</text>\n";
  struct Curve {
    const std::vector<double>* values;
    const char* cls;
    const char* colour;
    const char* dash;
  };
  double legend_y = top + 14;
  for (const Curve& c : {Curve{&train, "train", "#1f77b4", ""}, Curve{&validation, "validation", "#ff7f0e", "6,4"}}) {
    std::string points;
    for (std::size_t i = 0; i < c.values->size() && i < epochs.size(); ++i)
      if (std::isfinite((*c.values)[i])) {
        if (!points.empty()) points += ' ';
        points += number(px(epochs[i]));
        points += ',';
        points += number(py((*c.values)[i]));
      }
    if (points.empty()) continue;
    svg += "<polyline class=\"" + std::string(c.cls) + "\" data-series=\"" + series + "\" fill=\"none\" stroke=\"" + c.colour +
           "\" stroke-width=\"2\" stroke-dasharray=\"" + (*c.dash ? c.dash : "none") + "\" points=\"" + points + "\"/>\n";
    svg += "<text x=\"" + number(x0 + left + plot_width - 8) + "\" y=\"" + number(legend_y) + "\" text-anchor=\"end\" font-size=\"12\" fill=\"" +
           c.colour + "\">" + c.cls + "</text>\n";
    legend_y += 16;
  }
  return svg + "</g>\n";
}

}  // namespace

std::string training_curves_svg(const MetricsTable& table, const std::string& title) {
  const auto epochs = table.column("epoch"), loss = table.column("loss");
  if (epochs.empty() || loss.empty())
    throw Error("the metrics table needs \"epoch\" and \"loss\" columns with at least one row (as `weft train --log` writes)");
  const auto accuracy = table.column("accuracy"), val_accuracy = table.column("val_accuracy");
  const bool with_accuracy = !accuracy.empty() || !val_accuracy.empty();
  const double width = panel_width * (with_accuracy ? 2 : 1) + 20;
  std::string svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    number(width) + "\" height=\"" + number(panel_height + 30) + "\" viewBox=\"0 0 " + number(width) + " " +
                    number(panel_height + 30) + "\" font-family=\"sans-serif\">\n";
  svg += "<title>" + escape(title) + "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += panel(0, "loss", epochs, loss, table.column("val_loss"));
  if (with_accuracy) svg += panel(panel_width, "accuracy", epochs, accuracy, val_accuracy);
  svg += "<text x=\"10\" y=\"" + number(panel_height + 20) + "\" font-size=\"11\" fill=\"#666\">" + escape(title) + "</text>\n";
  return svg + "</svg>\n";
}

void write_training_curves(const MetricsTable& table, const std::string& title, const std::string& path) {
  const std::string svg = training_curves_svg(table, title);
  std::ofstream out(path);
  if (!out || !(out << svg) || !out.flush()) throw IoError("cannot write the plot '" + path + "'");
}

}  // namespace weft::io
