// layer_norm: per-sample normalisation worked out by hand.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "gradient_cases.hpp"
#include "model_helpers.hpp"
#include "one_layer.hpp"

using weft::Json;
using weft::Shape;

WEFT_GRADIENT_CASES(layer_norm) {
  layer({{"type", "layer_norm"}}, Shape{5});
  layer({{"type", "layer_norm"}, {"affine", false}}, Shape{2, 3});
  layer({{"type", "layer_norm"}, {"axes", 1}}, Shape{3, 4});
  layer({{"type", "layer_norm"}, {"axes", 2}, {"eps", 1e-3}}, Shape{2, 2, 3});
}

BOOST_AUTO_TEST_CASE(layer_norm_normalises_each_sample_by_hand) {
  // [1, 2, 3, 6]: mean 3, biased variance (4 + 1 + 0 + 9)/4 = 3.5; γ = [1, 2, 1, 1], β = [0, 0, 1, 0].
  weft::testing::OneLayer one({{"type", "layer_norm"}}, Shape{4});
  one.set_param("weight", {1, 2, 1, 1});
  one.set_param("bias", {0, 0, 1, 0});
  const weft::Tensor y = one.run(std::vector<float>{1, 2, 3, 6});
  const double s = std::sqrt(3.5 + 1e-5);
  const double expected[] = {-2 / s, 2 * -1 / s, 1, 3 / s};
  for (std::size_t i = 0; i < 4; ++i) BOOST_CHECK_CLOSE(y[i], expected[i], 1e-4);
}

BOOST_AUTO_TEST_CASE(layer_norm_over_the_last_axis_only) {
  // (2, 2) per sample, "axes": 1: rows [1, 3] → mean 2, var 1; [0, 4] → mean 2, var 4.
  weft::testing::OneLayer one({{"type", "layer_norm"}, {"axes", 1}, {"affine", false}}, Shape{2, 2});
  BOOST_CHECK_EQUAL(one.model().parameter_count(), 0u);
  const weft::Tensor y = one.run(std::vector<float>{1, 3, 0, 4});
  const double a = 1 / std::sqrt(1 + 1e-5), b = 2 / std::sqrt(4 + 1e-5);
  const double expected[] = {-a, a, -b, b};
  for (std::size_t i = 0; i < 4; ++i) BOOST_CHECK_CLOSE(y[i], expected[i], 1e-4);
  // The scale and shift have the normalised shape, (2,) here.
  weft::testing::OneLayer affine({{"type", "layer_norm"}, {"axes", 1}}, Shape{3, 2});
  BOOST_CHECK_EQUAL(affine.param("weight").size(), 2u);
}

BOOST_AUTO_TEST_CASE(layer_norm_rejects_more_axes_than_the_input_has) {
  const std::string msg = weft::testing::error_of([] { weft::testing::OneLayer one({{"type", "layer_norm"}, {"axes", 3}}, Shape{4, 2}); });
  BOOST_CHECK_MESSAGE(msg.find("layer 0 (layer_norm)") != std::string::npos && msg.find("last 3 axes") != std::string::npos, msg);
}
