// The per-epoch CSV log and the SVG training curves drawn from it.
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

#include "model_helpers.hpp"
#include "weft/io/metrics_csv.hpp"
#include "weft/io/training_plot.hpp"

namespace {

std::vector<weft::Metrics> history(int epochs, bool with_accuracy) {
  std::vector<weft::Metrics> h;
  for (int e = 1; e <= epochs; ++e) {
    weft::Metrics m;
    m.set("epoch", e);
    m.set("loss", 1.0 / e);
    if (with_accuracy) m.set("accuracy", 0.5 + 0.1 * e);
    m.set("val_loss", 1.2 / e);
    if (with_accuracy && e > 1) m.set("val_accuracy", 0.4 + 0.1 * e);  // missing in epoch 1
    h.push_back(m);
  }
  return h;
}

// Every <polyline> under the SVG: (class, data-series, number of points).
std::vector<std::tuple<std::string, std::string, int>> polylines(const std::string& svg) {
  namespace pt = boost::property_tree;
  pt::ptree tree;
  std::istringstream in(svg);
  pt::read_xml(in, tree);  // throws when the SVG is not well-formed XML
  std::vector<std::tuple<std::string, std::string, int>> out;
  for (const auto& [name, group] : tree.get_child("svg"))
    if (name == "g")
      for (const auto& [child, node] : group)
        if (child == "polyline") {
          std::istringstream points(node.get<std::string>("<xmlattr>.points"));
          int count = 0;
          for (std::string p; points >> p;) ++count;
          out.emplace_back(node.get<std::string>("<xmlattr>.class"), node.get<std::string>("<xmlattr>.data-series"), count);
        }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(csv_round_trip_keeps_columns_values_and_gaps) {
  weft::testing::TempDir dir;
  weft::io::write_metrics_csv(history(3, true), dir.file("m.csv"));
  std::ifstream in(dir.file("m.csv"));
  std::string header;
  std::getline(in, header);
  BOOST_CHECK_EQUAL(header, "epoch,loss,accuracy,val_loss,val_accuracy");
  const auto t = weft::io::read_metrics_csv(dir.file("m.csv"));
  BOOST_REQUIRE_EQUAL(t.rows.size(), 3u);
  BOOST_CHECK_CLOSE(t.column("loss")[2], 1.0 / 3, 1e-7);
  BOOST_CHECK(std::isnan(t.column("val_accuracy")[0]));
  BOOST_CHECK_CLOSE(t.column("val_accuracy")[1], 0.6, 1e-7);
  BOOST_CHECK(t.column("nothing").empty());
}

BOOST_AUTO_TEST_CASE(bad_csv_is_a_clear_error) {
  weft::testing::TempDir dir;
  std::ofstream(dir.file("bad.csv")) << "epoch,loss\n1,0.5\n2,zero\n";
  const std::string message = weft::testing::error_of([&] { weft::io::read_metrics_csv(dir.file("bad.csv")); });
  BOOST_CHECK_MESSAGE(message.find("bad.csv' line 3: 'zero' is not a number") != std::string::npos, message);
  std::ofstream(dir.file("short.csv")) << "epoch,loss\n1\n";
  BOOST_CHECK(weft::testing::error_of([&] { weft::io::read_metrics_csv(dir.file("short.csv")); }).find("1 fields, the header has 2") !=
              std::string::npos);
}

BOOST_AUTO_TEST_CASE(svg_is_xml_with_a_polyline_per_curve) {
  const auto table_path = [] {
    static weft::testing::TempDir dir;
    weft::io::write_metrics_csv(history(4, true), dir.file("m.csv"));
    return dir.file("m.csv");
  }();
  const auto lines = polylines(weft::io::training_curves_svg(weft::io::read_metrics_csv(table_path), "run"));
  const std::vector<std::tuple<std::string, std::string, int>> expected = {
      {"train", "loss", 4}, {"validation", "loss", 4}, {"train", "accuracy", 4}, {"validation", "accuracy", 3}};
  BOOST_CHECK(lines == expected);
  // Regression: no accuracy columns, only the loss panel.
  weft::testing::TempDir dir;
  weft::io::write_metrics_csv(history(2, false), dir.file("r.csv"));
  const auto loss_only = polylines(weft::io::training_curves_svg(weft::io::read_metrics_csv(dir.file("r.csv")), "r & <b>"));
  BOOST_CHECK_EQUAL(loss_only.size(), 2u);
}
