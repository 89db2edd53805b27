// Weight and activity penalties: values and gradients worked out by hand, their effect on a
// training step, a finite-difference check of the activity gradients through the executor, and
// spec errors.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "model_helpers.hpp"
#include "weft/registry.hpp"
#include "weft/trainer.hpp"

using weft::Json;

namespace {

// Penalty and gradient of a weight regulariser on w = (1, −2, 0, 0.5).
std::pair<double, std::vector<float>> weight_penalty(const Json& spec) {
  auto r = weft::registry().regularizers.create(spec, "regularizer").module;
  const std::vector<float> w = {1.0f, -2.0f, 0.0f, 0.5f};
  std::vector<float> g(4, 0.0f);
  const double p = r->weight_penalty(w, g);
  return {p, g};
}

void check_gradient_values(const std::vector<float>& got, const std::vector<double>& want) {
  BOOST_REQUIRE_EQUAL(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) BOOST_CHECK_CLOSE(double(got[i]) + 1.0, want[i] + 1.0, 1e-4);
}

}  // namespace

BOOST_AUTO_TEST_CASE(weight_penalties_by_hand) {
  // l1 0.1: 0.1·(1 + 2 + 0 + 0.5) = 0.35; gradient 0.1·sign(w) = 0.1, −0.1, 0, 0.1
  auto [p1, g1] = weight_penalty({{"type", "l1"}, {"l1", 0.1}});
  BOOST_CHECK_CLOSE(p1, 0.35, 1e-6);
  check_gradient_values(g1, {0.1, -0.1, 0, 0.1});
  // l2 0.1: 0.1·(1 + 4 + 0 + 0.25) = 0.525; gradient 0.2·w = 0.2, −0.4, 0, 0.1
  auto [p2, g2] = weight_penalty({{"type", "l2"}, {"l2", 0.1}});
  BOOST_CHECK_CLOSE(p2, 0.525, 1e-6);
  check_gradient_values(g2, {0.2, -0.4, 0, 0.1});
  // elastic net l1 0.1, l2 0.01: 0.35 + 0.0525 = 0.4025; gradient 0.1·sign(w) + 0.02·w
  auto [p3, g3] = weight_penalty({{"type", "elastic_net"}, {"l1", 0.1}, {"l2", 0.01}});
  BOOST_CHECK_CLOSE(p3, 0.4025, 1e-6);
  check_gradient_values(g3, {0.12, -0.14, 0, 0.11});
}

BOOST_AUTO_TEST_CASE(l2_on_a_layer_changes_weights_not_biases_and_adds_to_the_loss) {
  auto make = [](bool regularized, bool include_bias) {
    Json layer = {{"type", "dense"}, {"units", 1}};
    if (regularized) layer["regularizer"] = {{"type", "l2"}, {"l2", 0.25}, {"include_bias", include_bias}};
    weft::Model m({{"input", {2}}, {"layers", {layer}}, {"loss", "mse"}, {"optimizer", {{"type", "sgd"}, {"lr", 0.1}}}});
    weft::testing::set_parameter(m, "dense_0/weight", {1.0f, -2.0f});
    weft::testing::set_parameter(m, "dense_0/bias", {0.5f});
    return m;
  };
  const weft::Tensor x(weft::Shape{1, 2}, 1.0f), y(weft::Shape{1, 1}, 0.0f);
  weft::Model plain = make(false, false), l2 = make(true, false), with_bias = make(true, true);
  weft::Trainer tp(plain, {}), tl(l2, {}), tb(with_bias, {});
  const double loss_plain = tp.train_step(x, y), loss_l2 = tl.train_step(x, y), loss_bias = tb.train_step(x, y);
  // Penalty 0.25·(1 + 4) = 1.25 (+ 0.25·0.25 with the bias); gradient 0.5·w, so the weights move
  // by a further −lr·0.5·w = −0.05·(1, −2) and the bias by −0.05·0.5 only when included.
  BOOST_CHECK_CLOSE(loss_l2 - loss_plain, 1.25, 1e-4);
  BOOST_CHECK_CLOSE(loss_bias - loss_plain, 1.3125, 1e-4);
  BOOST_CHECK_CLOSE(l2.parameters()[0] - plain.parameters()[0], -0.05f, 1e-3);
  BOOST_CHECK_CLOSE(l2.parameters()[1] - plain.parameters()[1], 0.1f, 1e-3);
  const std::size_t bias = l2.parameter_table()[1].offset;
  BOOST_CHECK_EQUAL(l2.parameters()[bias], plain.parameters()[bias]);
  BOOST_CHECK_CLOSE(with_bias.parameters()[bias] - plain.parameters()[bias], -0.025f, 1e-3);
}

BOOST_AUTO_TEST_CASE(activity_penalties_by_hand) {
  // activity_l1 0.5 on outputs a = [[1, −2], [3, 0]] (batch 2): 0.5·(mean|a_0| + mean|a_1|) = 0.5·(2 + 1) = 1.5
  weft::Model m({{"input", {2}}, {"layers", {{{"type", "dense"}, {"units", 2}, {"activity_regularizer", {{"type", "activity_l1"}, {"l1", 0.5}}}}}},
                 {"loss", "mse"}});
  weft::testing::set_parameter(m, "dense_0/weight", {1, 0, 0, 1});
  weft::testing::set_parameter(m, "dense_0/bias", {0, 0});
  weft::Executor exec(m, {1, 1, false});
  weft::Tensor x(weft::Shape{2, 2});
  x[0] = 1; x[1] = -2; x[2] = 3; x[3] = 0;
  const weft::Tensor targets = x;  // data loss 0
  exec.forward(x, true, 0, 0);
  BOOST_CHECK_CLOSE(exec.loss(targets, true), 1.5, 1e-5);
  exec.forward(x, false, 0, 0);
  BOOST_CHECK_SMALL(exec.loss(targets, false), 1e-9);  // evaluation reports the data loss only

  // kl_sparsity rho 0.2, beta 2 on means m = (0.5, 0.1):
  // KL(0.2‖0.5) = 0.2 ln 0.4 + 0.8 ln 1.6 = 0.192745; KL(0.2‖0.1) = 0.2 ln 2 + 0.8 ln(8/9) = 0.044398
  // penalty 2·(0.192745 + 0.044398) = 0.474286
  auto kl = weft::registry().regularizers.create({{"type", "kl_sparsity"}, {"rho", 0.2}, {"beta", 2.0}}, "r").module;
  std::vector<double> mean = {0.5, 0.1}, dmean(2);
  BOOST_CHECK_CLOSE(kl->activity_penalty(mean, dmean), 2 * (0.2 * std::log(0.4) + 0.8 * std::log(1.6) + 0.2 * std::log(2.0) + 0.8 * std::log(8.0 / 9)), 1e-9);
  // dKL/dm = −rho/m + (1 − rho)/(1 − m): −0.4 + 1.6 = 1.2 and −2 + 0.888889 = −1.111111, times beta
  BOOST_CHECK_CLOSE(dmean[0], 2.4, 1e-9);
  BOOST_CHECK_CLOSE(dmean[1], 2 * (-2 + 0.8 / 0.9), 1e-9);
}

BOOST_AUTO_TEST_CASE(activity_gradients_match_finite_differences_and_sharding) {
  const Json spec = {{"input", {3}},
                     {"layers", {{{"type", "dense"}, {"units", 4}},
                                 {{"type", "sigmoid"}, {"activity_regularizer", {{"type", "kl_sparsity"}, {"rho", 0.1}, {"beta", 0.5}}}},
                                 {{"type", "dense"}, {"units", 2}, {"activity_regularizer", {{"type", "activity_l1"}, {"l1", 0.05}}}}}},
                     {"loss", "mse"}};
  weft::Model model(spec);
  model.initialize(4);
  weft::Tensor x(weft::Shape{7, 3}), y(weft::Shape{7, 2});
  const weft::CounterRng rng(5);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(rng.normal(i));
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<float>(rng.normal(100 + i));
  auto loss_and_gradient = [&](std::int64_t shard, std::vector<float>* grad) {
    weft::Executor exec(model, {shard, 2, false});
    exec.forward(x, true, 0, 0);
    const double loss = exec.loss(y, grad != nullptr);
    if (grad) {
      exec.backward();
      grad->resize(model.parameter_count());
      exec.reduce_gradients(*grad);
    }
    return loss;
  };
  std::vector<float> g3, g7;
  const double l3 = loss_and_gradient(3, &g3), l7 = loss_and_gradient(7, &g7);
  BOOST_CHECK_CLOSE(l3, l7, 1e-4);  // whole-batch means whatever the sharding
  const auto params = model.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    BOOST_CHECK_SMALL(double(g3[i] - g7[i]), 1e-5);
    const float saved = params[i];
    const float h = 1e-2f;
    params[i] = saved + h;
    const double up = loss_and_gradient(3, nullptr);
    params[i] = saved - h;
    const double down = loss_and_gradient(3, nullptr);
    params[i] = saved;
    const double numeric = (up - down) / (2 * double(h));
    BOOST_TEST_CONTEXT("parameter " << i) { BOOST_CHECK_SMALL(double(g3[i]) - numeric, 2e-3 + 2e-2 * std::abs(numeric)); }
  }
}

BOOST_AUTO_TEST_CASE(regularizers_in_the_wrong_place_are_spec_errors) {
  using weft::testing::error_of;
  auto model_error = [](const Json& layer) {
    return error_of([&] { weft::Model({{"input", {2}}, {"layers", {layer}}, {"loss", "mse"}}); });
  };
  BOOST_CHECK(model_error({{"type", "dense"}, {"units", 1}, {"regularizer", "kl_sparsity"}})
                  .find("layer 0 (dense): 'regularizer' takes a weight penalty") != std::string::npos);
  BOOST_CHECK(model_error({{"type", "dense"}, {"units", 1}, {"activity_regularizer", "l2"}})
                  .find("'activity_regularizer' takes an activity penalty") != std::string::npos);
  BOOST_CHECK(model_error({{"type", "dense"}, {"units", 1}, {"regularizer", {{"type", "l2"}, {"l2", -1}}}})
                  .find("'l2' must be a number >= 0") != std::string::npos);
  BOOST_CHECK(model_error({{"type", "dense"}, {"units", 1}, {"activity_regularizer", {{"type", "kl_sparsity"}, {"rho", 1.5}}}})
                  .find("'rho' must be") != std::string::npos);
  BOOST_CHECK(model_error({{"type", "dense"}, {"units", 1}, {"lr_mult", -1}}).find("'lr_mult' must be a number >= 0") !=
              std::string::npos);
}
