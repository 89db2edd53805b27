// The training loop: non-finite guard, gradient accumulation, full-batch / mini-batch /
// stochastic descent, clipping, per-layer learning-rate multipliers and frozen layers, the
// validation split.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "model_helpers.hpp"
#include "weft/executor.hpp"
#include "weft/trainer.hpp"

using weft::Json;

namespace {

// y = 2 x0 − 3 x1 + 0.5 exactly.
weft::Dataset linear_data(std::int64_t n) {
  weft::Dataset d{weft::Tensor(weft::Shape{n, 2}), weft::Tensor(weft::Shape{n, 1}), "linear"};
  const weft::CounterRng rng(4);
  for (std::int64_t i = 0; i < n; ++i) {
    d.x[2 * i] = static_cast<float>(rng.normal(2 * i));
    d.x[2 * i + 1] = static_cast<float>(rng.normal(2 * i + 1));
    d.y[i] = 2 * d.x[2 * i] - 3 * d.x[2 * i + 1] + 0.5f;
  }
  return d;
}

Json linear_spec(const Json& optimizer) {
  return {{"input", {2}}, {"layers", {{{"type", "dense"}, {"units", 1}}}}, {"loss", "mse"}, {"optimizer", optimizer}};
}

const Json mlp_spec = {{"input", {2}},
                       {"layers", {{{"type", "dense"}, {"units", 5}, {"init", "he_normal"}}, {{"type", "tanh"}}, {{"type", "dense"}, {"units", 1}}}},
                       {"loss", "mse"},
                       {"optimizer", {{"type", "sgd"}, {"lr", 0.05}, {"momentum", 0.5}}}};

struct Snapshots : weft::Callback {
  std::vector<std::vector<float>> params;
  void on_step_end(weft::Trainer& t, const weft::StepEvent&) override {
    params.emplace_back(t.model().parameters().begin(), t.model().parameters().end());
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(non_finite_guard_names_the_step_and_layer_and_keeps_the_last_good_weights) {
  weft::Model model(mlp_spec);
  model.initialize(2);
  auto data = linear_data(16);
  data.x[2 * 9] = std::numeric_limits<float>::infinity();  // sample 9: in the third batch of 4
  weft::TrainOptions o;
  o.batch_size = 4;
  o.shuffle = false;
  weft::Trainer trainer(model, o);
  Snapshots snapshots;
  weft::FitOptions fit;
  fit.callbacks = {&snapshots};
  const std::string message = weft::testing::error_of([&] { trainer.fit(data, fit); });
  // tanh saturates, so the loss stays finite; the first layer's weight gradient (x·dy) does not.
  BOOST_CHECK_MESSAGE(message.find("training step 3: the gradient of 'dense_0/weight' is not finite (layer 0") != std::string::npos,
                      message);
  BOOST_REQUIRE_EQUAL(snapshots.params.size(), 2u);
  const std::vector<float> now(model.parameters().begin(), model.parameters().end());
  BOOST_CHECK(now == snapshots.params[1]);  // the weights after step 2, the last good one
  BOOST_CHECK_EQUAL(trainer.step(), 2);
  BOOST_CHECK_EQUAL(trainer.position(), 2);  // a resumed run would retry the bad step
  for (float v : now) BOOST_CHECK(std::isfinite(v));
}

// The guard above skips its own pass over the gradient when the executor saw every value finite
// while adding the shards up: an infinity in any shard, the first or a later one, must show there.
BOOST_AUTO_TEST_CASE(the_reduced_gradient_is_reported_finite_only_when_every_value_is) {
  weft::Model model(mlp_spec);
  model.initialize(2);
  for (const int bad_sample : {-1, 0, 5}) {  // none; in the first shard; in the last of three
    auto data = linear_data(6);
    if (bad_sample >= 0) data.x[2 * bad_sample] = std::numeric_limits<float>::infinity();
    weft::Executor executor(model, {2, 2, false});
    executor.forward(data.x, true, 0, 1);
    executor.loss(data.y, true);
    executor.backward();
    std::vector<float> g(model.parameter_count());
    executor.reduce_gradients(g);
    const bool all_finite = std::all_of(g.begin(), g.end(), [](float v) { return std::isfinite(v); });
    BOOST_TEST(all_finite == (bad_sample < 0), "bad sample " << bad_sample << ": the setup");
    BOOST_TEST(executor.reduced_gradient_finite() == all_finite, "bad sample " << bad_sample);
  }
}

BOOST_AUTO_TEST_CASE(a_non_finite_gradient_in_a_later_shard_stops_the_step_too) {
  weft::Model model(mlp_spec);
  model.initialize(2);
  auto data = linear_data(8);
  data.x[2 * 7] = std::numeric_limits<float>::infinity();  // the last sample: the second shard
  weft::TrainOptions o;
  o.batch_size = 8;
  o.shard_size = 4;
  o.shuffle = false;
  weft::Trainer trainer(model, o);
  const std::vector<float> before(model.parameters().begin(), model.parameters().end());
  const std::string message = weft::testing::error_of([&] { trainer.fit(data, {}); });
  BOOST_CHECK_MESSAGE(message.find("training step 1: the gradient of 'dense_0/weight' is not finite") != std::string::npos,
                      message);
  BOOST_CHECK(std::vector<float>(model.parameters().begin(), model.parameters().end()) == before);
}

BOOST_AUTO_TEST_CASE(a_non_finite_target_is_reported_as_the_loss_overflowing) {
  weft::Model model(mlp_spec);
  model.initialize(2);
  auto data = linear_data(4);
  data.y[1] = std::numeric_limits<float>::quiet_NaN();
  weft::Trainer trainer(model, {});
  const std::vector<float> before(model.parameters().begin(), model.parameters().end());
  const std::string message = weft::testing::error_of([&] { trainer.train_step(data.x, data.y); });
  BOOST_CHECK_MESSAGE(message.find("training step 1: the loss is") != std::string::npos &&
                          message.find("every layer output was finite") != std::string::npos,
                      message);
  BOOST_CHECK(std::vector<float>(model.parameters().begin(), model.parameters().end()) == before);
}

BOOST_AUTO_TEST_CASE(k_accumulated_batches_of_b_equal_one_batch_of_k_times_b) {
  const auto data = linear_data(36);  // 3 steps of 12 either way
  auto train = [&](std::int64_t batch, std::int64_t accumulate, std::int64_t steps) {
    weft::Model model(mlp_spec);
    model.initialize(5);
    weft::TrainOptions o;
    o.batch_size = batch;
    o.accumulate = accumulate;
    o.shard_size = 3;
    o.seed = 9;
    weft::Trainer trainer(model, o);
    trainer.train_epoch(data);
    trainer.train_epoch(data);  // a second epoch, reshuffled
    BOOST_CHECK_EQUAL(trainer.step(), steps);
    return std::vector<float>(model.parameters().begin(), model.parameters().end());
  };
  const auto accumulated = train(4, 3, 6), whole = train(12, 1, 6), plain = train(4, 1, 18);
  double diff = 0, moved = 0;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    diff = std::max(diff, double(std::abs(accumulated[i] - whole[i])));
    moved = std::max(moved, double(std::abs(plain[i] - whole[i])));
  }
  BOOST_CHECK_SMALL(diff, 1e-5);
  BOOST_CHECK_GT(moved, 1e-3);  // without accumulation the result is really different
}

BOOST_AUTO_TEST_CASE(full_batch_mini_batch_and_stochastic_descent_from_one_trainer) {
  const auto data = linear_data(64);
  struct Mode {
    std::int64_t batch, steps_per_epoch, epochs;
    double lr;
  };
  for (const Mode& m : {Mode{0, 1, 300, 0.2}, Mode{16, 4, 80, 0.1}, Mode{1, 64, 4, 0.02}}) {
    BOOST_TEST_CONTEXT("batch " << m.batch) {
      weft::Model model(linear_spec({{"type", "sgd"}, {"lr", m.lr}}));
      model.initialize(1);
      weft::TrainOptions o;
      o.batch_size = m.batch;
      weft::Trainer trainer(model, o);
      trainer.train_epoch(data);
      BOOST_CHECK_EQUAL(trainer.step(), m.steps_per_epoch);
      for (std::int64_t e = 1; e < m.epochs; ++e) trainer.train_epoch(data);
      const auto w = model.parameters();
      BOOST_CHECK_CLOSE(w[0], 2.0f, 0.1);
      BOOST_CHECK_CLOSE(w[1], -3.0f, 0.1);
      BOOST_CHECK_CLOSE(w[model.parameter_table()[1].offset], 0.5f, 0.1);
    }
  }
}

BOOST_AUTO_TEST_CASE(gradient_clipping_by_global_norm_and_by_value) {
  // One dense unit, w = b = 0, x = 1, y = 100: MSE gradient d/dpred = 2·(0 − 100) = −200, so
  // dw = db = −200, global norm 200·√2 = 282.84. SGD with lr 1:
  //   clip_norm 1: g · 1/(282.84 + 1e-6) → w = b = 1/√2 = 0.7071068
  //   clip_value 0.5: w = b = 0.5
  auto step = [](double clip_norm, double clip_value) {
    weft::Model model(linear_spec({{"type", "sgd"}, {"lr", 1.0}}));
    model.initialize(0);
    std::fill(model.parameters().begin(), model.parameters().end(), 0.0f);
    weft::TrainOptions o;
    o.clip_norm = clip_norm;
    o.clip_value = clip_value;
    weft::Trainer trainer(model, o);
    weft::Tensor x(weft::Shape{1, 2}), y(weft::Shape{1, 1}, 100.0f);
    x[0] = 1;
    trainer.train_step(x, y);
    return std::pair{model.parameters()[0], model.parameters()[model.parameter_table()[1].offset]};
  };
  const auto [wn, bn] = step(1.0, 0);
  BOOST_CHECK_CLOSE(wn, 0.70710678f, 1e-4);
  BOOST_CHECK_CLOSE(bn, 0.70710678f, 1e-4);
  const auto [wv, bv] = step(0, 0.5);
  BOOST_CHECK_EQUAL(wv, 0.5f);
  BOOST_CHECK_EQUAL(bv, 0.5f);
  const auto [w0, b0] = step(0, 0);
  BOOST_CHECK_EQUAL(w0, 200.0f);  // unclipped
  BOOST_CHECK_EQUAL(b0, 200.0f);
}

BOOST_AUTO_TEST_CASE(lr_mult_scales_a_layers_step_and_frozen_layers_do_not_move) {
  auto after_one_step = [](const Json& first_layer_extra) {
    Json spec = mlp_spec;
    spec["optimizer"] = {{"type", "sgd"}, {"lr", 0.1}};
    spec["layers"][0].update(first_layer_extra);
    weft::Model model(spec);
    model.initialize(3);
    const std::vector<float> before(model.parameters().begin(), model.parameters().end());
    weft::Trainer trainer(model, {});
    const auto data = linear_data(8);
    trainer.train_step(data.x, data.y);
    std::vector<float> delta(before.size());
    for (std::size_t i = 0; i < delta.size(); ++i) delta[i] = model.parameters()[i] - before[i];
    return std::pair{delta, model.parameter_table()[2].offset};  // where layer 2's tensors start
  };
  const auto [plain, second] = after_one_step(Json::object());
  const auto [half, second_h] = after_one_step({{"lr_mult", 0.5}});
  const auto [frozen, second_f] = after_one_step({{"frozen", true}});
  for (std::size_t i = 0; i < second; ++i) {
    BOOST_CHECK_CLOSE(double(half[i]) + 1, 0.5 * double(plain[i]) + 1, 1e-4);
    BOOST_CHECK_EQUAL(frozen[i], 0.0f);
  }
  for (std::size_t i = second; i < plain.size(); ++i) {  // the last layer is not affected
    BOOST_CHECK_EQUAL(half[i], plain[i]);
    BOOST_CHECK_EQUAL(frozen[i], plain[i]);
  }
  BOOST_CHECK_GT(std::abs(plain[0]), 1e-6f);
}

BOOST_AUTO_TEST_CASE(validation_split_is_seeded_disjoint_and_complete) {
  auto data = linear_data(50);
  for (std::int64_t i = 0; i < 50; ++i) data.x[2 * i] = float(i);  // tag each sample
  const auto [train, val] = weft::split_validation(data, 0.2, 7);
  BOOST_CHECK_EQUAL(train.size(), 40);
  BOOST_CHECK_EQUAL(val.size(), 10);
  std::vector<int> seen(50, 0);
  for (const auto* part : {&train, &val})
    for (std::int64_t i = 0; i < part->size(); ++i) ++seen[static_cast<std::size_t>(part->x[2 * i])];
  for (int s : seen) BOOST_CHECK_EQUAL(s, 1);
  const auto again = weft::split_validation(data, 0.2, 7).second, other = weft::split_validation(data, 0.2, 8).second;
  BOOST_CHECK(std::equal(val.x.span().begin(), val.x.span().end(), again.x.span().begin()));
  BOOST_CHECK(!std::equal(val.x.span().begin(), val.x.span().end(), other.x.span().begin()));
  BOOST_CHECK(weft::testing::error_of([&] { weft::split_validation(data, 1.0, 1); }).find("validation split") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_non_finite_layer_output_is_named_in_the_loss_message) {
  // Without a saturating activation the infinity reaches the loss: the first layer whose output
  // is not finite is named.
  weft::Model model(linear_spec("sgd"));
  model.initialize(2);
  auto data = linear_data(4);
  data.x[2] = std::numeric_limits<float>::infinity();
  weft::Trainer trainer(model, {});
  const std::string message = weft::testing::error_of([&] { trainer.train_step(data.x, data.y); });
  BOOST_CHECK_MESSAGE(message.find("training step 1: the loss is") != std::string::npos &&
                          message.find("appeared in the output of layer 0 (dense_0)") != std::string::npos,
                      message);
}

BOOST_AUTO_TEST_CASE(labels_for_a_model_without_a_classifier_head_get_a_hint) {
  // conv1d keeps a (channels, positions) output, so cross_entropy reads it per position and
  // wants a label per position; one label per sample means the flatten + dense head is missing.
  weft::Model model(Json{{"input", {1, 6}},
                         {"layers", {{{"type", "conv1d"}, {"filters", 3}, {"kernel", 3}}}},
                         {"loss", "cross_entropy"},
                         {"optimizer", "sgd"}});
  model.initialize(1);
  weft::Trainer trainer(model, {});
  const weft::Tensor x(weft::Shape{2, 1, 6}), labels(weft::Shape{2});
  const std::string message = weft::testing::error_of([&] { trainer.train_step(x, labels); });
  BOOST_CHECK_MESSAGE(message.find("targets must have shape (2, 4), got (2)") != std::string::npos &&
                          message.find("the model outputs (3, 4) per sample") != std::string::npos &&
                          message.find("flatten, then dense") != std::string::npos,
                      message);
}
