// flatten and reshape: values pass through unchanged, shapes as asked, bad targets rejected.
#include <boost/test/unit_test.hpp>

#include "gradient_cases.hpp"
#include "model_helpers.hpp"
#include "one_layer.hpp"

using weft::Json;
using weft::Shape;
using weft::testing::OneLayer;

WEFT_GRADIENT_CASES(shape_layers) {
  layer({{"type", "flatten"}}, Shape{2, 3, 4});
  layer({{"type", "flatten"}}, Shape{5});
  layer({{"type", "reshape"}, {"shape", {4, -1}}}, Shape{2, 3, 2});
  layer({{"type", "reshape"}, {"shape", {3, 1, 2}}}, Shape{6});
}

BOOST_AUTO_TEST_CASE(flatten_and_reshape_keep_the_values) {
  OneLayer flat({{"type", "flatten"}}, Shape{2, 3, 2});
  BOOST_CHECK(flat.output_shape() == Shape{12});
  OneLayer re({{"type", "reshape"}, {"shape", {-1, 3}}}, Shape{2, 3, 2});
  BOOST_CHECK(re.output_shape() == (Shape{4, 3}));
  std::vector<float> x(12);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i) - 5.5f;
  const auto a = flat.run(x), b = re.run(x);
  for (std::size_t i = 0; i < x.size(); ++i) {
    BOOST_CHECK_EQUAL(a[i], x[i]);
    BOOST_CHECK_EQUAL(b[i], x[i]);
  }
}

BOOST_AUTO_TEST_CASE(reshape_rejects_targets_that_do_not_fit) {
  auto build = [](const Json& layer, const Shape& in) {
    return weft::testing::error_of(
        [&] { weft::Model({{"input", in.to_vector()}, {"layers", Json::array({layer})}, {"loss", "mse"}}); });
  };
  const std::string count = build({{"type", "reshape"}, {"shape", {5, 2}}}, Shape{3, 4});
  BOOST_CHECK_MESSAGE(count.find("layer 0 (reshape) with input shape (3, 4)") != std::string::npos &&
                          count.find("needs 10 elements per sample, got 12") != std::string::npos,
                      count);
  const std::string free = build({{"type", "reshape"}, {"shape", {5, -1}}}, Shape{12});
  BOOST_CHECK_MESSAGE(free.find("divisible by 5, got 12") != std::string::npos, free);
  const std::string two = build({{"type", "reshape"}, {"shape", {-1, -1}}}, Shape{12});
  BOOST_CHECK_MESSAGE(two.find("'shape'") != std::string::npos && two.find("only one -1") != std::string::npos, two);
  const std::string zero = build({{"type", "reshape"}, {"shape", {0, 12}}}, Shape{12});
  BOOST_CHECK_MESSAGE(zero.find("'shape'") != std::string::npos, zero);
}
