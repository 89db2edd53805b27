// Activation layers at chosen points, against their formulas written out here independently.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "gradient_cases.hpp"
#include "model_helpers.hpp"
#include "one_layer.hpp"

using weft::Json;
using weft::Shape;

WEFT_GRADIENT_CASES(activations) {
  weft::GradientCheckOptions wide;  // reach the tails and the flat parts
  wide.input_scale = 4;
  layer({{"type", "identity"}}, Shape{3});
  layer({{"type", "leaky_relu"}}, Shape{5});
  layer({{"type", "leaky_relu"}, {"slope", 0.2}}, Shape{2, 3});
  layer({{"type", "elu"}}, Shape{7});
  layer({{"type", "elu"}, {"alpha", 0.5}}, Shape{3, 2}, wide);
  layer({{"type", "selu"}}, Shape{6}, wide);
  layer({{"type", "gelu"}}, Shape{7}, wide);
  layer({{"type", "gelu"}, {"approximate", "tanh"}}, Shape{5}, wide);
  layer({{"type", "silu"}}, Shape{4}, wide);
  layer({{"type", "swish"}}, Shape{3});
  layer({{"type", "softplus"}}, Shape{5}, wide);
  layer({{"type", "softplus"}, {"beta", 2.0}, {"threshold", 30.0}}, Shape{2, 2}, wide);
  layer({{"type", "hard_sigmoid"}}, Shape{9}, wide);
  layer({{"type", "softmax"}}, Shape{5});
  layer({{"type", "softmax"}}, Shape{3, 2, 2});  // over the channel axis at each position
  layer({{"type", "log_softmax"}}, Shape{4}, wide);
  layer({{"type", "log_softmax"}}, Shape{3, 5});
}

namespace {

// The layer's outputs at the points xs (one sample of shape (xs.size(),)).
std::vector<float> at(const Json& layer, const std::vector<float>& xs) {
  weft::testing::OneLayer one(layer, Shape{static_cast<std::int64_t>(xs.size())});
  const weft::Tensor y = one.run(xs);
  return {y.data(), y.data() + y.size()};
}

void check_activation_values(const std::vector<float>& got, const std::vector<double>& expected, double tolerance = 1e-6) {
  BOOST_REQUIRE_EQUAL(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    BOOST_CHECK_MESSAGE(std::abs(got[i] - expected[i]) <= tolerance * (1 + std::abs(expected[i])),
                        "element " << i << ": got " << got[i] << ", expected " << expected[i]);
}

}  // namespace

BOOST_AUTO_TEST_CASE(piecewise_activations_match_their_definitions) {
  check_activation_values(at({{"type", "identity"}}, {-2, 0, 3.5f}), {-2, 0, 3.5});
  check_activation_values(at({{"type", "leaky_relu"}}, {-2, 0, 3}), {-0.02, 0, 3});
  check_activation_values(at({{"type", "leaky_relu"}, {"slope", 0.25}}, {-2, 1}), {-0.5, 1});
  // elu(−1) = e^−1 − 1; with alpha 2: 2·(e^−2 − 1)
  check_activation_values(at({{"type", "elu"}}, {-1, 0, 2}), {std::exp(-1.0) - 1, 0, 2});
  check_activation_values(at({{"type", "elu"}, {"alpha", 2.0}}, {-2}), {2 * (std::exp(-2.0) - 1)});
  const double lambda = 1.0507009873554805, alpha = 1.6732632423543772;
  check_activation_values(at({{"type", "selu"}}, {-1, 2}), {lambda * alpha * (std::exp(-1.0) - 1), lambda * 2});
  // relu6(x + 3)/6: −4 → 0, −3 → 0, 0 → 1/2, 1.5 → 3/4, 3 → 1, 5 → 1
  check_activation_values(at({{"type", "hard_sigmoid"}}, {-4, -3, 0, 1.5f, 3, 5}), {0, 0, 0.5, 0.75, 1, 1});
}

BOOST_AUTO_TEST_CASE(smooth_activations_match_their_definitions) {
  // gelu(x) = x·Φ(x); Φ(1) = 0.8413447460685429, Φ(−1) = 1 − Φ(1), Φ(2) = 0.9772498680518208.
  check_activation_values(at({{"type", "gelu"}}, {1, -1, 2, 0}), {0.8413447460685429, -0.15865525393145707, 2 * 0.9772498680518208, 0});
  // tanh form at 1: 0.5·(1 + tanh(0.7978845608·1.044715)) = 0.8411919906
  check_activation_values(at({{"type", "gelu"}, {"approximate", "tanh"}}, {1}), {0.5 * (1 + std::tanh(0.7978845608028654 * 1.044715))});
  // silu(x) = x/(1 + e^−x): silu(1) = 0.7310585786, silu(−2) = −2/(1 + e²)
  const std::vector<double> silu = {1 / (1 + std::exp(-1.0)), -2 / (1 + std::exp(2.0))};
  check_activation_values(at({{"type", "silu"}}, {1, -2}), silu);
  check_activation_values(at({{"type", "swish"}}, {1, -2}), silu);
  // softplus(0) = ln 2; softplus(−30) = ln(1 + e^−30) ≈ e^−30; above the threshold, x itself.
  check_activation_values(at({{"type", "softplus"}}, {0, -30, 25}), {std::log(2.0), std::exp(-30.0), 25});
  // beta 2 at x = 1: ln(1 + e²)/2 = 1.0634640055
  check_activation_values(at({{"type", "softplus"}, {"beta", 2.0}}, {1}), {std::log(1 + std::exp(2.0)) / 2});
}

BOOST_AUTO_TEST_CASE(softmax_and_log_softmax_over_features_and_channels) {
  // [0, ln 3] → [1/4, 3/4]; huge logits do not overflow.
  check_activation_values(at({{"type", "softmax"}}, {0, std::log(3.0f)}), {0.25, 0.75});
  check_activation_values(at({{"type", "softmax"}}, {1000, 1000, 1000, 1000}), {0.25, 0.25, 0.25, 0.25});
  check_activation_values(at({{"type", "log_softmax"}}, {0, std::log(3.0f), 1000}), {-1000, std::log(3.0) - 1000, 0}, 1e-6);
  check_activation_values(at({{"type", "log_softmax"}}, {0, std::log(3.0f)}), {std::log(0.25), std::log(0.75)});
  // N·C·spatial: 2 channels × 2 positions; position 0 holds (0, ln 3), position 1 holds (ln 4, 0).
  weft::testing::OneLayer one({{"type", "softmax"}}, Shape{2, 2});
  const weft::Tensor y = one.run(std::vector<float>{0, std::log(4.0f), std::log(3.0f), 0});
  check_activation_values({y.data(), y.data() + 4}, {0.25, 0.8, 0.75, 0.2});
}

BOOST_AUTO_TEST_CASE(activation_settings_are_checked) {
  auto build = [](const Json& layer) {
    return weft::testing::error_of([&] { weft::testing::OneLayer one(layer, Shape{2}); });
  };
  const std::string gelu = build({{"type", "gelu"}, {"approximate", "fast"}});
  BOOST_CHECK_MESSAGE(gelu.find("'approximate'") != std::string::npos && gelu.find("tanh") != std::string::npos, gelu);
  const std::string softplus = build({{"type", "softplus"}, {"beta", 0}});
  BOOST_CHECK_MESSAGE(softplus.find("'beta'") != std::string::npos, softplus);
  const std::string elu = build({{"type", "elu"}, {"slope", 1}});
  BOOST_CHECK_MESSAGE(elu.find("'slope'") != std::string::npos && elu.find("alpha") != std::string::npos, elu);
}
