// End to end: the trainer learns a small synthetic problem to a stated accuracy.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <numbers>

#include "weft/trainer.hpp"

using weft::Json;

namespace {

// Three interleaved spirals in the plane: not linearly separable, easy for a small MLP.
weft::Dataset spirals(std::int64_t per_class, std::uint64_t seed) {
  const std::int64_t n = 3 * per_class;
  weft::Dataset d{weft::Tensor(weft::Shape{n, 2}), weft::Tensor(weft::Shape{n}), "spirals"};
  const weft::CounterRng rng(seed);
  for (std::int64_t c = 0; c < 3; ++c)
    for (std::int64_t i = 0; i < per_class; ++i) {
      const std::int64_t k = c * per_class + i;
      const double r = double(i) / double(per_class);
      const double angle = 4.0 * r + 2.0 * std::numbers::pi * double(c) / 3.0 + 0.15 * rng.normal(k);
      d.x[2 * k] = static_cast<float>(r * std::cos(angle));
      d.x[2 * k + 1] = static_cast<float>(r * std::sin(angle));
      d.y[k] = static_cast<float>(c);
    }
  return d;
}

}  // namespace

BOOST_AUTO_TEST_CASE(mlp_learns_three_spirals) {
  weft::Model model({{"input", {2}},
                     {"layers", {{{"type", "dense"}, {"units", 64}, {"init", "he_normal"}}, {{"type", "relu"}},
                                 {{"type", "dense"}, {"units", 64}, {"init", "he_normal"}}, {{"type", "relu"}},
                                 {{"type", "dense"}, {"units", 3}}}},
                     {"loss", "cross_entropy"},
                     {"optimizer", {{"type", "adam"}, {"lr", 0.01}}}});
  model.initialize(1);
  weft::TrainOptions o;
  o.batch_size = 32;
  o.seed = 2;
  weft::Trainer trainer(model, o);
  const auto train = spirals(300, 1), test = spirals(100, 2);
  const double initial = trainer.evaluate(test).accuracy;
  for (int e = 0; e < 60; ++e) trainer.train_epoch(train);
  const auto result = trainer.evaluate(test);
  BOOST_TEST_MESSAGE("spirals: accuracy " << initial << " -> " << result.accuracy);
  BOOST_CHECK_LT(initial, 0.5);
  BOOST_CHECK_GE(result.accuracy, 0.95);
}

BOOST_AUTO_TEST_CASE(sgd_fits_a_linear_regression) {
  // y = 2 x0 − 3 x1 + 0.5 exactly; MSE with SGD must recover the coefficients.
  weft::Model model({{"input", {2}}, {"layers", {{{"type", "dense"}, {"units", 1}}}}, {"loss", "mse"},
                     {"optimizer", {{"type", "sgd"}, {"lr", 0.1}, {"momentum", 0.9}}}});
  model.initialize(3);
  weft::Dataset d{weft::Tensor(weft::Shape{256, 2}), weft::Tensor(weft::Shape{256, 1}), "linear"};
  const weft::CounterRng rng(4);
  for (std::int64_t i = 0; i < 256; ++i) {
    d.x[2 * i] = static_cast<float>(rng.normal(2 * i));
    d.x[2 * i + 1] = static_cast<float>(rng.normal(2 * i + 1));
    d.y[i] = 2 * d.x[2 * i] - 3 * d.x[2 * i + 1] + 0.5f;
  }
  weft::TrainOptions o;
  o.batch_size = 64;
  weft::Trainer trainer(model, o);
  for (int e = 0; e < 100; ++e) trainer.train_epoch(d);
  const auto w = model.parameters();
  BOOST_CHECK_CLOSE(w[0], 2.0f, 0.1);
  BOOST_CHECK_CLOSE(w[1], -3.0f, 0.1);
  BOOST_CHECK_CLOSE(w[model.parameter_table()[1].offset], 0.5f, 0.1);
  BOOST_CHECK(std::isnan(trainer.evaluate(d).accuracy));  // regression: no accuracy
}
