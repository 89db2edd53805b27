// CSV datasets: features and targets as written, and one-line errors naming line and column.
#include <boost/test/unit_test.hpp>

#include "model_helpers.hpp"
#include "weft/io/csv.hpp"

using weft::testing::error_of;

namespace {

weft::io::CsvOptions options(const std::string& label, bool regression = false) {
  weft::io::CsvOptions o;
  o.label = label;
  o.regression = regression;
  return o;
}

weft::io::CsvDataset parse(std::string_view text, weft::io::CsvOptions options = {}) {
  return weft::io::parse_csv(text, "t.csv", options);
}

}  // namespace

BOOST_AUTO_TEST_CASE(features_and_class_indices_from_the_last_column) {
  const auto c = parse("a,b,class\n1,2.5,0\n\n-3,4e1,2\r\n");
  BOOST_CHECK(c.data.x.shape() == (weft::Shape{2, 2}));
  BOOST_CHECK(c.data.y.shape() == (weft::Shape{2}));
  const float x[] = {1, 2.5f, -3, 40};
  for (int i = 0; i < 4; ++i) BOOST_CHECK_EQUAL(c.data.x[i], x[i]);
  BOOST_CHECK_EQUAL(c.data.y[0], 0.0f);
  BOOST_CHECK_EQUAL(c.data.y[1], 2.0f);
  BOOST_CHECK(c.features == (std::vector<std::string>{"a", "b"}));
  BOOST_CHECK_EQUAL(c.label, "class");
  BOOST_CHECK(c.classes.empty());
}

BOOST_AUTO_TEST_CASE(class_names_are_numbered_in_sorted_order) {
  // Sorted: "iris setosa" = 0, versicolor = 1.
  const auto c = parse("species,\"length, cm\"\nversicolor,1\n\"iris setosa\",2\nversicolor,3\n", options("species"));
  BOOST_CHECK(c.classes == (std::vector<std::string>{"iris setosa", "versicolor"}));
  BOOST_CHECK_EQUAL(c.data.y[0], 1.0f);
  BOOST_CHECK_EQUAL(c.data.y[1], 0.0f);
  BOOST_CHECK_EQUAL(c.data.x[2], 3.0f);
  BOOST_CHECK(c.features == (std::vector<std::string>{"length, cm"}));
}

BOOST_AUTO_TEST_CASE(regression_targets_by_column_index) {
  const auto c = parse("y,x1,x2\n0.5,1,2\n-1.25,3,4\n", options("0", true));
  BOOST_CHECK(c.data.y.shape() == (weft::Shape{2, 1}));
  BOOST_CHECK_EQUAL(c.data.y[1], -1.25f);
  BOOST_CHECK_EQUAL(c.data.x[3], 4.0f);
}

BOOST_AUTO_TEST_CASE(malformed_csv_names_line_and_column) {
  auto check = [](std::string_view text, const std::string& expected, weft::io::CsvOptions with = {}) {
    const auto msg = error_of([&] { parse(text, with); });
    BOOST_CHECK_MESSAGE(msg.find(expected) != std::string::npos && msg.find('\n') == std::string::npos,
                        "expected '" << expected << "' in: " << msg);
  };
  check("", "'t.csv' is empty (expected a header row");
  check("a,b\n", "has a header but no samples");
  check("a,b\n1,2\n3\n", "line 3: 1 fields, expected 2 as in the header");
  check("a,b\n1,2\nx,0\n", "line 3, column 'a': 'x' is not a finite number");
  check("a,b\n1,nan\n", "line 2, column 'b': 'nan' is not a finite number", options("", true));
  check("a,b\n1,\"2\n", "line 2: a quoted field is not closed");
  check("a,b\n1,2\n", "no label column 'c'; the columns are a, b", options("c"));
  check("a,b\n1,\n", "line 2, column 'b': the label is empty");
}
