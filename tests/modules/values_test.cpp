// Forward values of the built-in modules against small cases worked out by hand.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "loss_value.hpp"
#include "model_helpers.hpp"
#include "weft/registry.hpp"
#include "weft/trainer.hpp"

using weft::Json;
using weft::Shape;
using weft::Tensor;
using weft::testing::loss_of;

namespace {

// Runs one layer on one sample and returns its output.
Tensor run_layer(const Json& layer, const Shape& input, std::initializer_list<float> x,
                 const std::function<void(weft::Model&)>& set_params = {}) {
  weft::Model model({{"input", input.to_vector()}, {"layers", Json::array({layer})}, {"loss", "mse"}});
  if (set_params) set_params(model);
  weft::Trainer trainer(model, {});
  Tensor in(input.with_batch(1));
  std::copy(x.begin(), x.end(), in.data());
  return trainer.predict(in);
}

}  // namespace

BOOST_AUTO_TEST_CASE(dense_computes_x_times_w_transposed_plus_b) {
  // W (3×2) = [[1, −1], [0.5, 2], [3, 0]], b = [0.1, 0.2, 0.3], x = [1, 2]
  // y = [1 − 2 + 0.1, 0.5 + 4 + 0.2, 3 + 0.3] = [−0.9, 4.7, 3.3]
  const Tensor y = run_layer({{"type", "dense"}, {"units", 3}}, Shape{2}, {1, 2}, [](weft::Model& m) {
    weft::testing::set_parameter(m, "dense_0/weight", {1, -1, 0.5f, 2, 3, 0});
    weft::testing::set_parameter(m, "dense_0/bias", {0.1f, 0.2f, 0.3f});
  });
  BOOST_CHECK_CLOSE(y[0], -0.9f, 1e-4);
  BOOST_CHECK_CLOSE(y[1], 4.7f, 1e-4);
  BOOST_CHECK_CLOSE(y[2], 3.3f, 1e-4);
}

BOOST_AUTO_TEST_CASE(activations_match_their_definitions) {
  const Tensor relu = run_layer({{"type", "relu"}}, Shape{3}, {-1, 0, 2});
  BOOST_CHECK_EQUAL(relu[0], 0.0f);
  BOOST_CHECK_EQUAL(relu[1], 0.0f);
  BOOST_CHECK_EQUAL(relu[2], 2.0f);
  // sigmoid(0) = 1/2, sigmoid(ln 3) = 3/4, sigmoid(−ln 3) = 1/4; no overflow far out.
  const Tensor sig = run_layer({{"type", "sigmoid"}}, Shape{4}, {0, std::log(3.0f), -std::log(3.0f), -200});
  BOOST_CHECK_CLOSE(sig[0], 0.5f, 1e-4);
  BOOST_CHECK_CLOSE(sig[1], 0.75f, 1e-4);
  BOOST_CHECK_CLOSE(sig[2], 0.25f, 1e-4);
  BOOST_CHECK(std::isfinite(sig[3]) && sig[3] >= 0 && sig[3] < 1e-30);
  // tanh(ln 2) = (2 − 1/2) / (2 + 1/2) = 0.6
  const Tensor th = run_layer({{"type", "tanh"}}, Shape{1}, {std::log(2.0f)});
  BOOST_CHECK_CLOSE(th[0], 0.6f, 1e-4);
}

BOOST_AUTO_TEST_CASE(cross_entropy_is_stable_and_correct) {
  // logits [0, ln 3]: softmax = [1/4, 3/4]; label 1 → −ln(3/4); gradient = (p − onehot) / n.
  Tensor grad;
  BOOST_CHECK_CLOSE(loss_of("cross_entropy", Shape{2}, {0, std::log(3.0f)}, {1}, 1, &grad), -std::log(0.75), 1e-4);
  BOOST_CHECK_CLOSE(grad[0], 0.25f, 1e-3);
  BOOST_CHECK_CLOSE(grad[1], -0.25f, 1e-3);
  // Two samples: the mean, and the gradient divided by the batch size.
  BOOST_CHECK_CLOSE(loss_of("cross_entropy", Shape{2}, {0, std::log(3.0f), 0, 0}, {1, 0}, 2, &grad),
                    (-std::log(0.75) + std::log(2.0)) / 2, 1e-4);
  BOOST_CHECK_CLOSE(grad[2], -0.25f, 1e-3);
  // Huge logits neither overflow nor lose the answer: loss ≈ 0 and ≈ 1000.
  BOOST_CHECK_SMALL(loss_of("cross_entropy", Shape{2}, {1000, 0}, {0}, 1), 1e-6);
  BOOST_CHECK_CLOSE(loss_of("cross_entropy", Shape{2}, {1000, 0}, {1}, 1), 1000.0, 1e-4);
}

BOOST_AUTO_TEST_CASE(cross_entropy_rejects_bad_labels) {
  BOOST_CHECK_EXCEPTION(loss_of("cross_entropy", Shape{3}, {0, 0, 0}, {3}, 1), weft::Error, [](const weft::Error& e) {
    return std::string(e.what()).find("not an integer in [0, 3)") != std::string::npos;
  });
  BOOST_CHECK_THROW(loss_of("cross_entropy", Shape{3}, {0, 0, 0}, {1.5f}, 1), weft::Error);
}

BOOST_AUTO_TEST_CASE(mse_is_the_mean_over_all_elements) {
  // ((1 − 0)² + (2 − 4)²) / 2 = 2.5; d/dpred = 2 (pred − target) / 2 = [1, −2]
  Tensor grad;
  BOOST_CHECK_CLOSE(loss_of("mse", Shape{2}, {1, 2}, {0, 4}, 1, &grad), 2.5, 1e-6);
  BOOST_CHECK_CLOSE(grad[0], 1.0f, 1e-5);
  BOOST_CHECK_CLOSE(grad[1], -2.0f, 1e-5);
}

BOOST_AUTO_TEST_CASE(initializers_have_the_documented_spread) {
  // he_normal on a (400, 100) weight: std = sqrt(2 / 100); glorot_uniform: bound sqrt(6 / 500).
  weft::Model model({{"input", {100}},
                     {"layers", {{{"type", "dense"}, {"units", 400}, {"init", "he_normal"}},
                                 {{"type", "dense"}, {"units", 100}, {"init", "glorot_uniform"}}}},
                     {"loss", "mse"}});
  model.initialize(3);
  const auto& w0 = model.parameter_table()[0];
  double sum = 0, sq = 0;
  for (std::size_t i = 0; i < w0.size(); ++i) {
    const double v = model.parameters()[w0.offset + i];
    sum += v;
    sq += v * v;
  }
  const double n = static_cast<double>(w0.size());
  BOOST_CHECK_SMALL(sum / n, 0.01);
  BOOST_CHECK_CLOSE(std::sqrt(sq / n), std::sqrt(2.0 / 100), 3.0);
  const auto& w1 = model.parameter_table()[2];
  const double bound = std::sqrt(6.0 / 500);
  float lo = 1, hi = -1;
  for (std::size_t i = 0; i < w1.size(); ++i) {
    lo = std::min(lo, model.parameters()[w1.offset + i]);
    hi = std::max(hi, model.parameters()[w1.offset + i]);
  }
  BOOST_CHECK(lo >= -bound && hi <= bound);
  BOOST_CHECK(lo < -0.95 * bound && hi > 0.95 * bound);
  // Biases start at zero.
  BOOST_CHECK_EQUAL(model.parameters()[model.parameter_table()[1].offset], 0.0f);
}
