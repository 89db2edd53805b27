// cross_entropy and nll on per-position predictions (N, C, d1, d2, ...) with class-index targets
// (N, d1, d2, ...), PyTorch's layout for segmentation: a tiny (2, 3, 2) batch worked by hand
// (plain, weighted, smoothed, ignore_index), equality with the same positions flattened to
// (N·d, C), gradient checks, shape errors, and a Trainer run on such outputs.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <random>

#include "gradient_cases.hpp"
#include "loss_value.hpp"
#include "model_helpers.hpp"
#include "weft/trainer.hpp"

using weft::Json;
using weft::Shape;
using weft::Tensor;
using weft::testing::loss_of;

// Probability targets per position take the generic checker's random targets; label targets
// are checked below with labels made for them.
WEFT_GRADIENT_CASES(per_position_losses) {
  loss({{"type", "cross_entropy"}, {"targets", "probabilities"}}, Shape{3, 2, 2});
  loss({{"type", "cross_entropy"}, {"targets", "probabilities"}, {"label_smoothing", 0.1}, {"weight", {1.0, 2.0}}},
       Shape{2, 3});
}

namespace {

// The tiny batch, predictions (2 samples, 3 classes, 2 positions) in class-major order
// z[i][c][p], chosen so that the softmax of every position is a simple fraction:
//   sample 0, position 0: z = (0, 0, 0)          → p = (1/3, 1/3, 1/3)
//   sample 0, position 1: z = (0, ln 2, ln 3)     → p = (1/6, 2/6, 3/6)
//   sample 1, position 0: z = (ln 3, 0, ln 2)     → p = (3/6, 1/6, 2/6)
//   sample 1, position 1: z = (ln 4, 0, 0)        → p = (4/6, 1/6, 1/6)
// Labels (2, 2) and (0, 1): −log p_y = ln 3, ln 2, ln 2, ln 6.
const float ln2 = std::log(2.0f), ln3 = std::log(3.0f), ln4 = std::log(4.0f);
const std::initializer_list<float> logits = {0, 0, 0, ln2, 0, ln3,  //
                                             ln3, ln4, 0, 0, ln2, 0};
const std::initializer_list<float> labels = {2, 2, 0, 1};
const Shape per_sample{3, 2};

void check_losses(const Tensor& got, const std::vector<double>& expected) {
  BOOST_REQUIRE_EQUAL(got.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) BOOST_CHECK_SMALL(double(got[i]) - expected[i], 1e-6);
}

Json ce(Json settings = Json::object()) {
  settings["type"] = "cross_entropy";
  return settings;
}

}  // namespace

BOOST_AUTO_TEST_CASE(cross_entropy_per_position_by_hand) {
  Tensor grad;
  // Mean over the 4 positions: (ln 3 + ln 2 + ln 2 + ln 6) / 4 = ln 72 / 4. Gradient (p − onehot) / 4,
  // in the class-major layout [sample][class][position]:
  //   s0p0 (1/3, 1/3, −2/3)/4, s0p1 (1/6, 2/6, −3/6)/4, s1p0 (−3/6, 1/6, 2/6)/4, s1p1 (4/6, −5/6, 1/6)/4
  BOOST_CHECK_CLOSE(loss_of(ce(), per_sample, logits, labels, 2, &grad), std::log(72.0) / 4, 1e-4);
  check_losses(grad, {1.0 / 12, 1.0 / 24, 1.0 / 12, 1.0 / 12, -1.0 / 6, -1.0 / 8,  //
                     -1.0 / 8, 1.0 / 6, 1.0 / 24, -5.0 / 24, 1.0 / 12, 1.0 / 24});
  // Class weights (1, 2, 3): labels 2, 2, 0, 1 weigh 3, 3, 1, 2 (Σ 9):
  //   (3·ln 3 + 3·ln 2 + 1·ln 2 + 2·ln 6) / 9 = (5·ln 3 + 6·ln 2) / 9.
  BOOST_CHECK_CLOSE(loss_of(ce({{"weight", {1.0, 2.0, 3.0}}}), per_sample, logits, labels, 2),
                    (5 * std::log(3.0) + 6 * std::log(2.0)) / 9, 1e-4);
  // Label smoothing 0.3 over K = 3: each position 0.7·(−log p_y) + 0.1·Σ_c (−log p_c):
  //   s0p0 0.7 ln 3 + 0.1·3 ln 3 = ln 3;   s0p1 0.7 ln 2 + 0.1·ln 36 = 0.9 ln 2 + 0.2 ln 3;
  //   s1p0 the same as s0p1;                s1p1 0.7 ln 6 + 0.1·(ln 1.5 + 2 ln 6) = 0.8 ln 2 + ln 3.
  //   Mean: (2.6 ln 2 + 2.4 ln 3) / 4 = 0.65 ln 2 + 0.6 ln 3.
  BOOST_CHECK_CLOSE(loss_of(ce({{"label_smoothing", 0.3}}), per_sample, logits, labels, 2),
                    0.65 * std::log(2.0) + 0.6 * std::log(3.0), 1e-4);
  // ignore_index 2 drops both positions of sample 0: (ln 2 + ln 6) / 2; no gradient reaches them,
  // the others divide by 2: s1p0 (−3/6, 1/6, 2/6)/2.
  BOOST_CHECK_CLOSE(loss_of(ce({{"ignore_index", 2}}), per_sample, logits, labels, 2, &grad),
                    (std::log(2.0) + std::log(6.0)) / 2, 1e-4);
  check_losses(grad, {0, 0, 0, 0, 0, 0, -0.25, 1.0 / 3, 1.0 / 12, -5.0 / 12, 1.0 / 6, 1.0 / 12});
  // PyTorch's −100 convention, with weights: s0p1 ignored, Σw = 3 + 1 + 2 = 6:
  //   (3·ln 3 + 1·ln 2 + 2·ln 6) / 6 = (5·ln 3 + 3·ln 2) / 6.
  BOOST_CHECK_CLOSE(loss_of(ce({{"ignore_index", -100}, {"weight", {1.0, 2.0, 3.0}}}), per_sample, logits,
                            {2, -100, 0, 1}, 2),
                    (5 * std::log(3.0) + 3 * std::log(2.0)) / 6, 1e-4);
  // All three: 0.7·(weighted NLL) + 0.1·Σ_c w_c·(−log p_c), both over the kept positions, / Σw = 6:
  //   NLL 3·ln 3 + 1·ln 2 + 2·ln 6 = 3 ln 2 + 5 ln 3;
  //   Σ_c w_c·(−log p_c): s0p0 6 ln 3, s1p0 ln 2 + 2 ln 6 + 3 ln 3, s1p1 ln 1.5 + 5 ln 6 → 7 ln 2 + 17 ln 3;
  //   (0.7·(3 ln 2 + 5 ln 3) + 0.1·(7 ln 2 + 17 ln 3)) / 6 = (2.8 ln 2 + 5.2 ln 3) / 6.
  BOOST_CHECK_CLOSE(loss_of(ce({{"ignore_index", -100}, {"weight", {1.0, 2.0, 3.0}}, {"label_smoothing", 0.3}}),
                            per_sample, logits, {2, -100, 0, 1}, 2),
                    (2.8 * std::log(2.0) + 5.2 * std::log(3.0)) / 6, 1e-4);
  // (torch 1.13's F.cross_entropy gave every value of this test case to 1e-7.)
  // Without ignore_index, −100 is a bad label, not a silent skip.
  BOOST_CHECK_THROW(loss_of(ce(), per_sample, logits, {2, -100, 0, 1}, 2), weft::Error);
}

BOOST_AUTO_TEST_CASE(nll_per_position_by_hand) {
  // The same positions as log-probabilities: −log p_y = ln 3, ln 2, ln 2, ln 6 → ln 72 / 4;
  // gradient −1/4 on each label's log-probability, 0 elsewhere.
  const float l2 = std::log(1.0f / 2), l3 = std::log(1.0f / 3), l6 = std::log(1.0f / 6), l23 = std::log(2.0f / 3);
  Tensor grad;
  const std::initializer_list<float> log_p = {l3, l6, l3, l3, l3, l2,  //
                                              l2, l23, l6, l6, l3, l6};
  BOOST_CHECK_CLOSE(loss_of("nll", per_sample, log_p, labels, 2, &grad), std::log(72.0) / 4, 1e-4);
  check_losses(grad, {0, 0, 0, 0, -0.25, -0.25, -0.25, 0, 0, -0.25, 0, 0});
  // Weights (1, 2, 3) and ignore_index 0 (s1p0): (3·ln 3 + 3·ln 2 + 2·ln 6) / (3 + 3 + 2).
  BOOST_CHECK_CLOSE(loss_of({{"type", "nll"}, {"weight", {1.0, 2.0, 3.0}}, {"ignore_index", 0}}, per_sample, log_p,
                            labels, 2),
                    (5 * std::log(3.0) + 5 * std::log(2.0)) / 8, 1e-4);
}

BOOST_AUTO_TEST_CASE(per_position_losses_equal_the_flattened_batch) {
  // Predictions (N, C, d1, d2) and the same positions as N·d1·d2 samples of C classes: the same
  // mean and, position by position, the same gradient.
  const std::int64_t n = 3, k = 4, d1 = 2, d2 = 3, positions = d1 * d2;
  std::mt19937 gen(11);
  std::uniform_real_distribution<float> uniform(-2, 2);
  std::uniform_int_distribution<int> label(0, int(k) - 1);
  Tensor spatial(Shape{n, k, d1, d2}), spatial_labels(Shape{n, d1, d2});
  Tensor flat(Shape{n * positions, k}), flat_labels(Shape{n * positions});
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t p = 0; p < positions; ++p) {
      for (std::int64_t c = 0; c < k; ++c)
        flat[std::size_t((i * positions + p) * k + c)] = spatial[std::size_t((i * k + c) * positions + p)] = uniform(gen);
      // Every 5th position carries the ignored label 7.
      const float y = (i * positions + p) % 5 == 0 ? 7.0f : float(label(gen));
      flat_labels[std::size_t(i * positions + p)] = spatial_labels[std::size_t(i * positions + p)] = y;
    }
  const Json specs[] = {
      ce({{"ignore_index", 7}}),
      ce({{"ignore_index", 7}, {"weight", {0.5, 1.0, 2.0, 3.0}}, {"label_smoothing", 0.2}}),
      {{"type", "nll"}, {"ignore_index", 7}, {"weight", {1.0, 0.0, 2.0, 1.5}}},
  };
  for (const Json& spec : specs) {
    BOOST_TEST_CONTEXT(spec.dump()) {
      auto loss = weft::registry().losses.create(spec, "loss").module;
      Tensor spatial_grad(spatial.shape()), flat_grad(flat.shape());
      const double spatial_weight = loss->batch_weight(spatial_labels), flat_weight = loss->batch_weight(flat_labels);
      BOOST_CHECK_CLOSE(spatial_weight, flat_weight, 1e-9);
      BOOST_CHECK_CLOSE(loss->evaluate(spatial, spatial_labels, spatial_grad, spatial_weight) / spatial_weight,
                        loss->evaluate(flat, flat_labels, flat_grad, flat_weight) / flat_weight, 1e-4);
      for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t p = 0; p < positions; ++p)
          for (std::int64_t c = 0; c < k; ++c)
            BOOST_CHECK_SMALL(spatial_grad[std::size_t((i * k + c) * positions + p)] -
                                  flat_grad[std::size_t((i * positions + p) * k + c)],
                              1e-7f);
    }
  }
}

BOOST_AUTO_TEST_CASE(per_position_label_gradients_match_finite_differences) {
  // Labels for every position (the generic cases draw random floats for non-scalar targets);
  // with ignore_index, every 4th position is ignored.
  const auto make_labels = [](std::int64_t classes, bool with_ignored) {
    return [classes, with_ignored](weft::View t) {
      for (std::size_t i = 0; i < t.size(); ++i)
        t[i] = with_ignored && i % 4 == 1 ? -100.0f : static_cast<float>((i * 7 + 3) % std::size_t(classes));
    };
  };
  struct Case {
    Json spec;
    Shape prediction;
    bool ignored;
  };
  const Case cases[] = {
      {ce(), Shape{3, 2, 2}, false},
      {ce({{"weight", {0.5, 2.0, 1.0}}, {"label_smoothing", 0.2}, {"ignore_index", -100}}), Shape{3, 4}, true},
      {ce({{"ignore_index", -100}}), Shape{4, 1, 2, 3}, true},
      {{{"type", "nll"}, {"weight", {2.0, 0.5, 1.0}}, {"ignore_index", -100}}, Shape{3, 2, 3}, true},
  };
  for (const Case& c : cases) {
    const auto r = weft::check_loss_gradients(c.spec, c.prediction, {}, make_labels(c.prediction[0], c.ignored));
    BOOST_TEST_CONTEXT(c.spec.dump() << " on " << c.prediction.str()) {
      BOOST_CHECK_MESSAGE(r.ok, r.report);
      BOOST_CHECK_GT(r.checked, 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(per_position_target_errors_name_both_shapes) {
  using weft::testing::error_of;
  auto loss = weft::registry().losses.create(ce(), "loss").module;
  BOOST_CHECK(loss->target_shape(Shape{3, 2}) == (Shape{2}));
  BOOST_CHECK(loss->target_shape(Shape{3}) == Shape{});
  // Targets (2, 3) for predictions (2, 3, 2): one label per sample and class instead of per position.
  const Tensor pred(Shape{2, 3, 2}), wrong(Shape{2, 3});
  const std::string msg = error_of([&] { loss->evaluate(pred, wrong, weft::View(), 1.0); });
  BOOST_CHECK_MESSAGE(msg.find("cross_entropy") != std::string::npos && msg.find("(2, 3)") != std::string::npos &&
                          msg.find("(2, 3, 2)") != std::string::npos && msg.find("expected (2, 2)") != std::string::npos,
                      msg);
  auto nll = weft::registry().losses.create(Json{{"type", "nll"}}, "loss").module;
  const std::string nll_msg = error_of([&] { nll->evaluate(pred, Tensor(Shape{2, 2, 3}), weft::View(), 1.0); });
  BOOST_CHECK_MESSAGE(nll_msg.find("nll") != std::string::npos && nll_msg.find("(2, 2, 3)") != std::string::npos &&
                          nll_msg.find("(2, 3, 2)") != std::string::npos,
                      nll_msg);
  // ignore_index: an integer, and not with probability targets (no label to ignore).
  const std::string fractional = error_of([] { weft::registry().losses.create(ce({{"ignore_index", 0.5}}), "loss"); });
  BOOST_CHECK_MESSAGE(fractional.find("'ignore_index'") != std::string::npos, fractional);
  const std::string probs = error_of(
      [] { weft::registry().losses.create(ce({{"targets", "probabilities"}, {"ignore_index", 1}}), "loss"); });
  BOOST_CHECK_MESSAGE(probs.find("'ignore_index'") != std::string::npos, probs);
}

BOOST_AUTO_TEST_CASE(trainer_runs_per_position_outputs_without_accuracy) {
  // The tiny batch through an identity model: Trainer::evaluate reports the hand-worked mean
  // ln 72 / 4; its accuracy counts rank-1 class outputs only, so it stays NaN here. One epoch of
  // a 1×1 convolution trains on such targets without error.
  weft::Dataset data{Tensor(Shape{2, 3, 2}), Tensor(Shape{2, 2}), "tiny"};
  std::copy(logits.begin(), logits.end(), data.x.data());
  std::copy(labels.begin(), labels.end(), data.y.data());
  weft::Model identity({{"input", {3, 2}}, {"layers", {{{"type", "identity"}}}}, {"loss", "cross_entropy"}});
  weft::Trainer evaluator(identity, {});
  const weft::Evaluation e = evaluator.evaluate(data, 2);
  BOOST_CHECK_CLOSE(e.loss, std::log(72.0) / 4, 1e-4);
  BOOST_CHECK(std::isnan(e.accuracy));
  weft::Model conv({{"input", {3, 2}},
                    {"layers", {{{"type", "conv1d"}, {"filters", 3}, {"kernel", 1}}}},
                    {"loss", {{"type", "cross_entropy"}, {"ignore_index", 255}}},
                    {"optimizer", {{"type", "sgd"}, {"lr", 0.1}}}});
  conv.initialize(1);
  weft::Trainer trainer(conv, {});
  const auto& history = trainer.fit(data, {});
  BOOST_REQUIRE_EQUAL(history.size(), 1u);
  BOOST_CHECK(std::isfinite(history[0].get("loss").value_or(std::nan(""))));
}
