// Losses on two or three samples worked out by hand, gradients included, and the class-weighted
// mean over a sharded batch.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "gradient_cases.hpp"
#include "loss_value.hpp"
#include "model_helpers.hpp"
#include "weft/executor.hpp"

using weft::Json;
using weft::Shape;
using weft::Tensor;
using weft::testing::loss_of;

WEFT_GRADIENT_CASES(losses) {
  loss({{"type", "cross_entropy"}, {"targets", "probabilities"}}, Shape{4});
  loss({{"type", "cross_entropy"}, {"label_smoothing", 0.2}}, Shape{3});
  loss({{"type", "cross_entropy"}, {"weight", {0.5, 2.0, 1.0}}}, Shape{3});
  loss({{"type", "cross_entropy"}, {"targets", "probabilities"}, {"label_smoothing", 0.1}, {"weight", {1.0, 3.0}}},
       Shape{2});
  loss({{"type", "nll"}}, Shape{4});
  loss({{"type", "nll"}, {"weight", {2.0, 0.5, 1.0}}}, Shape{3});
  loss({{"type", "mae"}}, Shape{3});
  loss({{"type", "mae"}}, Shape{2, 2});
  loss({{"type", "huber"}}, Shape{5});
  loss({{"type", "huber"}, {"delta", 0.3}}, Shape{2, 3});
  loss({{"type", "binary_cross_entropy"}}, Shape{4});
  weft::GradientCheckOptions wide;
  wide.input_scale = 5;
  loss({{"type", "binary_cross_entropy"}}, Shape{2, 3}, wide);
  loss({{"type", "kl_divergence"}}, Shape{4});
  loss({{"type", "kl_divergence"}, {"log_target", true}}, Shape{3});
}

BOOST_AUTO_TEST_CASE(cross_entropy_takes_probability_targets_smoothing_and_weights) {
  Tensor grad;
  // Logits [0, ln 3] → p = [1/4, 3/4]. Target [1/2, 1/2]: −(½·ln ¼ + ½·ln ¾); gradient p − t.
  const Json probs = {{"type", "cross_entropy"}, {"targets", "probabilities"}};
  BOOST_CHECK_CLOSE(loss_of(probs, Shape{2}, {0, std::log(3.0f)}, {0.5f, 0.5f}, 1, &grad),
                    -(0.5 * std::log(0.25) + 0.5 * std::log(0.75)), 1e-4);
  BOOST_CHECK_CLOSE(grad[0], -0.25f, 1e-3);
  BOOST_CHECK_CLOSE(grad[1], 0.25f, 1e-3);
  // Smoothing ε = 0.1 mixes the target with uniform: t' = 0.9·[0, 1] + 0.05 = [0.05, 0.95].
  BOOST_CHECK_CLOSE(loss_of({{"type", "cross_entropy"}, {"targets", "probabilities"}, {"label_smoothing", 0.1}},
                            Shape{2}, {0, std::log(3.0f)}, {0, 1}, 1),
                    -(0.05 * std::log(0.25) + 0.95 * std::log(0.75)), 1e-4);
  // A one-hot target equals the label: −ln ¾.
  BOOST_CHECK_CLOSE(loss_of(probs, Shape{2}, {0, std::log(3.0f)}, {0, 1}, 1), -std::log(0.75), 1e-4);

  // Smoothing ε = 0.1 over K = 2, label 1: coefficients [0.05, 0.95]; gradient p − a.
  const Json smooth = {{"type", "cross_entropy"}, {"label_smoothing", 0.1}};
  BOOST_CHECK_CLOSE(loss_of(smooth, Shape{2}, {0, std::log(3.0f)}, {1}, 1, &grad),
                    -(0.05 * std::log(0.25) + 0.95 * std::log(0.75)), 1e-4);
  BOOST_CHECK_CLOSE(grad[0], 0.25f - 0.05f, 1e-3);
  BOOST_CHECK_CLOSE(grad[1], 0.75f - 0.95f, 1e-3);

  // Weights [1, 3]. Sample A: logits [0, ln 3], label 1 (w 3): −ln ¾. Sample B: [0, 0], label 0
  // (w 1): ln 2. Weighted mean (3·(−ln ¾) + ln 2)/(3 + 1); ∂/∂z = w·(p − onehot)/4.
  const Json weighted = {{"type", "cross_entropy"}, {"weight", {1.0, 3.0}}};
  BOOST_CHECK_CLOSE(loss_of(weighted, Shape{2}, {0, std::log(3.0f), 0, 0}, {1, 0}, 2, &grad),
                    (-3 * std::log(0.75) + std::log(2.0)) / 4, 1e-4);
  BOOST_CHECK_CLOSE(grad[0], 3 * 0.25f / 4, 1e-3);
  BOOST_CHECK_CLOSE(grad[2], -0.5f / 4, 1e-3);
  BOOST_CHECK_CLOSE(grad[3], 0.5f / 4, 1e-3);
  // Weighted smoothing, label 1, weights [1, 3], ε = 0.2: a = [0.1·1, 0.8·3 + 0.1·3] = [0.1, 2.7];
  // divided by the label's weight 3.
  const Json both = {{"type", "cross_entropy"}, {"weight", {1.0, 3.0}}, {"label_smoothing", 0.2}};
  BOOST_CHECK_CLOSE(loss_of(both, Shape{2}, {0, std::log(3.0f)}, {1}, 1),
                    -(0.1 * std::log(0.25) + 2.7 * std::log(0.75)) / 3, 1e-4);
}

BOOST_AUTO_TEST_CASE(class_weighted_mean_divides_by_the_whole_batch_weight_across_shards) {
  // Five samples of 2 classes on an identity layer, shards of 2: logits all 0 (each −log p = ln 2),
  // labels 0, 1, 1, 0, 1 with weights [1, 4]: Σw = 1 + 4 + 4 + 1 + 4 = 14, Σ w·ln 2 / 14 = ln 2.
  // Gradient for sample 1 (label 1): 4·(½ − 1)/14 = −1/7 on class 1, 4·½/14 = 1/7 on class 0.
  weft::Model model({{"input", {2}},
                     {"layers", {{{"type", "identity"}}}},
                     {"loss", {{"type", "cross_entropy"}, {"weight", {1.0, 4.0}}}}});
  weft::Executor exec(model, {2, 2, true});
  const Tensor x(Shape{5, 2});
  Tensor labels(Shape{5});
  const float values[] = {0, 1, 1, 0, 1};
  std::copy(std::begin(values), std::end(values), labels.data());
  exec.forward(x, true, 0, 1);
  BOOST_CHECK_CLOSE(exec.loss(labels, true), std::log(2.0), 1e-4);
  exec.backward();
  Tensor dx(x.shape());
  exec.copy_input_gradient(dx);
  BOOST_CHECK_CLOSE(dx[2], 1.0f / 7, 1e-3);
  BOOST_CHECK_CLOSE(dx[3], -1.0f / 7, 1e-3);
  BOOST_CHECK_CLOSE(dx[0], -0.5f / 14, 1e-3);
  // All labels of weight 0: no mean exists.
  weft::Model zero({{"input", {2}},
                    {"layers", {{{"type", "identity"}}}},
                    {"loss", {{"type", "cross_entropy"}, {"weight", {0.0, 1.0}}}}});
  weft::Executor e0(zero, {2, 1, false});
  e0.forward(x, true, 0, 1);
  const Tensor zeros(Shape{5});
  const std::string msg = weft::testing::error_of([&] { e0.loss(zeros, false); });
  BOOST_CHECK_MESSAGE(msg.find("total weight") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(nll_reads_log_probabilities) {
  // Sample A: log-probs [ln ¼, ln ¾], label 1 → −ln ¾. Sample B: [−1, −2], label 0 → 1.
  Tensor grad;
  BOOST_CHECK_CLOSE(loss_of("nll", Shape{2}, {std::log(0.25f), std::log(0.75f), -1, -2}, {1, 0}, 2, &grad),
                    (-std::log(0.75) + 1) / 2, 1e-4);
  const float expected[] = {0, -0.5f, -0.5f, 0};
  for (std::size_t i = 0; i < 4; ++i) BOOST_CHECK_EQUAL(grad[i], expected[i]);
  // Weights [2, 1]: (1·(−ln ¾) + 2·1)/(1 + 2).
  BOOST_CHECK_CLOSE(loss_of({{"type", "nll"}, {"weight", {2.0, 1.0}}}, Shape{2},
                            {std::log(0.25f), std::log(0.75f), -1, -2}, {1, 0}, 2),
                    (-std::log(0.75) + 2) / 3, 1e-4);
  BOOST_CHECK_THROW(loss_of("nll", Shape{2}, {0, 0}, {2}, 1), weft::Error);
  BOOST_CHECK_THROW(loss_of("nll", Shape{2}, {0, 0}, {1e30f}, 1), weft::Error);
  BOOST_CHECK_THROW(loss_of("nll", Shape{2}, {0, 0}, {std::numeric_limits<float>::quiet_NaN()}, 1), weft::Error);
}

BOOST_AUTO_TEST_CASE(regression_losses_by_hand) {
  Tensor grad;
  // mae: samples [1, 2] vs [0, 4] and [3, 3] vs [3, 1]: |d| = 1, 2, 0, 2 → mean 5/4;
  // gradient sign(d)/4 with sign(0) = 0.
  BOOST_CHECK_CLOSE(loss_of("mae", Shape{2}, {1, 2, 3, 3}, {0, 4, 3, 1}, 2, &grad), 1.25, 1e-6);
  const float mae_grad[] = {0.25f, -0.25f, 0, 0.25f};
  for (std::size_t i = 0; i < 4; ++i) BOOST_CHECK_EQUAL(grad[i], mae_grad[i]);
  // huber, delta 1: d = 0.5 → ⅛; d = −3 → 1·(3 − ½) = 2.5; d = 1 → ½ (the joint). Mean over 3
  // samples of one element: (0.125 + 2.5 + 0.5)/3; gradient clamp(d, −1, 1)/3.
  BOOST_CHECK_CLOSE(loss_of("huber", Shape{1}, {0.5f, -3, 2}, {0, 0, 1}, 3, &grad), 3.125 / 3, 1e-5);
  BOOST_CHECK_CLOSE(grad[0], 0.5f / 3, 1e-4);
  BOOST_CHECK_CLOSE(grad[1], -1.0f / 3, 1e-4);
  BOOST_CHECK_CLOSE(grad[2], 1.0f / 3, 1e-4);
  // delta 2 on d = −3: 2·(3 − 1) = 4.
  BOOST_CHECK_CLOSE(loss_of({{"type", "huber"}, {"delta", 2.0}}, Shape{1}, {-3}, {0}, 1), 4.0, 1e-5);
}

BOOST_AUTO_TEST_CASE(binary_cross_entropy_on_logits_is_stable) {
  // z = 0, t = 1: −ln σ(0) = ln 2. z = ln 3, t = 0: −ln(1 − ¾) = ln 4. Mean over the 2 elements.
  // Gradient (σ(z) − t)/2 = [−¼, ⅜].
  Tensor grad;
  BOOST_CHECK_CLOSE(loss_of("binary_cross_entropy", Shape{2}, {0, std::log(3.0f)}, {1, 0}, 1, &grad),
                    (std::log(2.0) + std::log(4.0)) / 2, 1e-4);
  BOOST_CHECK_CLOSE(grad[0], -0.25f, 1e-3);
  BOOST_CHECK_CLOSE(grad[1], 0.375f, 1e-3);
  // Soft target ½ at z = ln 3: ½·(−ln ¾) + ½·(−ln ¼).
  BOOST_CHECK_CLOSE(loss_of("binary_cross_entropy", Shape{1}, {std::log(3.0f)}, {0.5f}, 1),
                    -0.5 * (std::log(0.75) + std::log(0.25)), 1e-4);
  // Far out, no overflow and no lost digits: z = 100, t = 0 → 100; z = −100, t = 1 → 100;
  // z = 100, t = 1 → log(1 + e^−100) ≈ e^−100.
  BOOST_CHECK_CLOSE(loss_of("binary_cross_entropy", Shape{2}, {100, -100}, {0, 1}, 1), 100.0, 1e-6);
  const double tiny = loss_of("binary_cross_entropy", Shape{1}, {100}, {1}, 1);
  BOOST_CHECK_CLOSE(tiny, std::exp(-100.0), 1e-3);
}

BOOST_AUTO_TEST_CASE(kl_divergence_is_the_batch_mean_of_per_sample_sums) {
  // Sample A: t = [¼, ¾], x = log [½, ½]: ¼·ln(½) + ¾·ln(3/2). Sample B: t = [1, 0], x = log[½, ½]:
  // 1·ln 2 (the 0 term contributes 0). Batch mean over 2 samples; ∂/∂x = −t/2.
  Tensor grad;
  const float h = std::log(0.5f);
  const double a = 0.25 * std::log(0.5) + 0.75 * std::log(1.5), b = std::log(2.0);
  BOOST_CHECK_CLOSE(loss_of("kl_divergence", Shape{2}, {h, h, h, h}, {0.25f, 0.75f, 1, 0}, 2, &grad), (a + b) / 2, 1e-4);
  BOOST_CHECK_CLOSE(grad[1], -0.375f, 1e-4);
  BOOST_CHECK_EQUAL(grad[3], 0.0f);
  // Targets as log-probabilities give the same value.
  BOOST_CHECK_CLOSE(loss_of({{"type", "kl_divergence"}, {"log_target", true}}, Shape{2}, {h, h},
                            {std::log(0.25f), std::log(0.75f)}, 1),
                    a, 1e-4);
  // Identical distributions: 0.
  BOOST_CHECK_SMALL(loss_of("kl_divergence", Shape{2}, {h, h}, {0.5f, 0.5f}, 1), 1e-7);
}

BOOST_AUTO_TEST_CASE(loss_settings_are_checked_when_the_model_is_built) {
  auto build = [](const Json& loss) {
    return weft::testing::error_of(
        [&] { weft::Model({{"input", {3}}, {"layers", {{{"type", "identity"}}}}, {"loss", loss}}); });
  };
  const std::string count = build({{"type", "cross_entropy"}, {"weight", {1.0, 2.0}}});
  BOOST_CHECK_MESSAGE(count.find("'weight' has 2 entries") != std::string::npos && count.find("3 classes") != std::string::npos, count);
  const std::string negative = build({{"type", "nll"}, {"weight", {1.0, -2.0, 1.0}}});
  BOOST_CHECK_MESSAGE(negative.find("'weight'") != std::string::npos && negative.find("non-negative") != std::string::npos, negative);
  const std::string targets = build({{"type", "cross_entropy"}, {"targets", "onehot"}});
  BOOST_CHECK_MESSAGE(targets.find("'targets'") != std::string::npos && targets.find("probabilities") != std::string::npos, targets);
  const std::string smoothing = build({{"type", "cross_entropy"}, {"label_smoothing", 1.5}});
  BOOST_CHECK_MESSAGE(smoothing.find("'label_smoothing'") != std::string::npos, smoothing);
  const std::string delta = build({{"type", "huber"}, {"delta", 0}});
  BOOST_CHECK_MESSAGE(delta.find("'delta'") != std::string::npos, delta);
}
