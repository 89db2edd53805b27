// What the trainer hands the optimizer, each against an update worked out by hand on one dense
// unit (y = w0·x0 + w1·x1 + b, MSE): the scheduled rate is the one applied, Adam counts one step
// per accumulated update, weight penalties join the gradient before it is clipped, and the
// non-finite guard restores the optimizer's slots along with the weights.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>

#include "model_helpers.hpp"
#include "weft/trainer.hpp"

using weft::Json;

namespace {

Json unit_spec(const Json& optimizer, const Json& regularizer = nullptr) {
  Json layer = {{"type", "dense"}, {"units", 1}};
  if (!regularizer.is_null()) layer["regularizer"] = regularizer;
  return {{"input", {2}}, {"layers", {layer}}, {"loss", "mse"}, {"optimizer", optimizer}};
}

// n copies of the sample x = (1, 0), y = target.
weft::Dataset copies(std::int64_t n, float target) {
  weft::Dataset d{weft::Tensor(weft::Shape{n, 2}), weft::Tensor(weft::Shape{n, 1}, target), "copies"};
  for (std::int64_t i = 0; i < n; ++i) d.x[2 * i] = 1;
  return d;
}

// The model with w0 = w1 = b = `value`.
weft::Model model_at(const Json& spec, float value) {
  weft::Model model(spec);
  model.initialize(0);
  std::fill(model.parameters().begin(), model.parameters().end(), value);
  return model;
}

float bias_of(weft::Model& model) { return model.parameters()[model.parameter_table()[1].offset]; }

}  // namespace

BOOST_AUTO_TEST_CASE(the_scheduled_rate_is_the_rate_applied) {
  // SGD, lr 0.1 halved every step. From w0 = b = 0 with x0 = 1, y = 100 the prediction is
  // 2w and the gradient 2·(2w − 100) for both:
  //   step 1, lr 0.1:   w = 0  + 0.1 ·200 = 20
  //   step 2, lr 0.05:  w = 20 + 0.05·120 = 26
  //   step 3, lr 0.025: w = 26 + 0.025·96 = 28.4
  // (a constant rate would give 20, 32, ...).
  auto model = model_at(unit_spec({{"type", "sgd"}, {"lr", 0.1}}), 0);
  weft::TrainOptions o;
  o.batch_size = 1;
  o.schedule = {{"type", "step"}, {"step_size", 1}, {"gamma", 0.5}, {"unit", "step"}};
  weft::Trainer trainer(model, o);
  const auto data = copies(1, 100);
  const double expected[] = {20, 26, 28.4};
  for (const double w : expected) {
    trainer.train_epoch(data);
    BOOST_CHECK_CLOSE(model.parameters()[0], w, 1e-4);
    BOOST_CHECK_CLOSE(bias_of(model), w, 1e-4);
  }
  BOOST_CHECK_EQUAL(model.parameters()[1], 0.0f);  // x1 = 0: no gradient
}

BOOST_AUTO_TEST_CASE(adam_counts_one_step_per_accumulated_update) {
  // Adam (lr 0.1, β 0.9/0.999, ε 1e-8) over batches of 1 accumulated 3 at a time: each update
  // is one Adam step. Bias correction at t = 1 makes the first move exactly lr·g/(|g| + ε) = 0.1
  // (with t = 3, as if every batch were a step, it would be 0.1·0.639). The second, from
  // w = b = 0.1 where g = 2·(0.2 − 100) = −199.6, follows Adam's rule at t = 2, by hand below.
  auto model = model_at(unit_spec({{"type", "adam"}, {"lr", 0.1}}), 0);
  weft::TrainOptions o;
  o.batch_size = 1;
  o.accumulate = 3;
  weft::Trainer trainer(model, o);
  const auto data = copies(3, 100);
  trainer.train_epoch(data);
  BOOST_CHECK_EQUAL(trainer.step(), 1);
  BOOST_CHECK_CLOSE(model.parameters()[0], 0.1, 2e-3);  // %: β2 = 0.999 in float is off by 1.3e-8
  trainer.train_epoch(data);
  BOOST_CHECK_EQUAL(trainer.step(), 2);
  const double g1 = -200, g2 = -199.6;
  const double m = 0.9 * (0.1 * g1) + 0.1 * g2, v = 0.999 * (0.001 * g1 * g1) + 0.001 * g2 * g2;
  const double m_hat = m / (1 - 0.9 * 0.9), v_hat = v / (1 - 0.999 * 0.999);
  const double w2 = 0.1 - 0.1 * m_hat / (std::sqrt(v_hat) + 1e-8);
  BOOST_CHECK_CLOSE(model.parameters()[0], w2, 2e-3);
  BOOST_CHECK_CLOSE(bias_of(model), w2, 2e-3);
}

BOOST_AUTO_TEST_CASE(weight_penalties_are_added_before_clipping) {
  // w0 = 1, w1 = b = 0 predicts y = 1 exactly, so the loss gradient is 0 and only the L2
  // penalty pushes: d/dw0 = 2·5·1 = 10. Clipped to 0.5 before SGD (lr 1) that moves w0 to 0.5;
  // a penalty added after clipping would move it to −9.
  auto model = model_at(unit_spec({{"type", "sgd"}, {"lr", 1.0}}, {{"type", "l2"}, {"l2", 5.0}}), 0);
  model.parameters()[0] = 1;
  weft::TrainOptions o;
  o.clip_value = 0.5;
  weft::Trainer trainer(model, o);
  const auto data = copies(1, 1);
  trainer.train_step(data.x, data.y);
  BOOST_CHECK_EQUAL(model.parameters()[0], 0.5f);
  BOOST_CHECK_EQUAL(bias_of(model), 0.0f);  // the penalty leaves the bias alone by default
}

BOOST_AUTO_TEST_CASE(the_non_finite_guard_restores_the_optimizer_slots_too) {
  // Two good Adam steps, then a batch with an infinite input: the weights and both moment
  // slots must be those after step 2, bit for bit.
  auto model = model_at(unit_spec({{"type", "adam"}, {"lr", 0.1}}), 0);
  weft::TrainOptions o;
  o.batch_size = 1;
  o.shuffle = false;
  weft::Trainer trainer(model, o);
  auto data = copies(3, 100);
  data.x[2 * 2] = std::numeric_limits<float>::infinity();
  std::vector<std::vector<float>> slots_after_step;
  struct Record : weft::Callback {
    std::vector<std::vector<float>>* out;
    void on_step_end(weft::Trainer& t, const weft::StepEvent&) override {
      std::vector<float> all(t.model().parameters().begin(), t.model().parameters().end());
      for (std::size_t k = 0; k < t.slot_names().size(); ++k) all.insert(all.end(), t.slot(k).begin(), t.slot(k).end());
      out->push_back(all);
    }
  } record;
  record.out = &slots_after_step;
  weft::FitOptions fit;
  fit.callbacks = {&record};
  const std::string message = weft::testing::error_of([&] { trainer.fit(data, fit); });
  BOOST_CHECK_MESSAGE(message.find("training step 3") != std::string::npos, message);
  BOOST_REQUIRE_EQUAL(slots_after_step.size(), 2u);
  BOOST_REQUIRE_GE(trainer.slot_names().size(), 2u);
  std::vector<float> now(model.parameters().begin(), model.parameters().end());
  for (std::size_t k = 0; k < trainer.slot_names().size(); ++k) now.insert(now.end(), trainer.slot(k).begin(), trainer.slot(k).end());
  BOOST_CHECK(now == slots_after_step[1]);
  BOOST_CHECK(slots_after_step[1] != slots_after_step[0]);  // step 2 did change the slots
}
