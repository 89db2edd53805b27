// Optimizer updates against reference values computed in the test from the published rules
// (a plain double-precision loop written from the papers, not from our code).
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "weft/registry.hpp"

using weft::Json;

namespace {

// Applies `steps` updates of `spec` to w, one gradient vector per step; returns the final w.
std::vector<float> run_optimizer(const Json& spec, std::vector<float> w, const std::vector<std::vector<float>>& grads) {
  auto opt = weft::registry().optimizers.create(spec, "optimizer").module;
  std::vector<std::vector<float>> slot_storage;
  for (std::size_t k = 0; k < opt->slots().size(); ++k) slot_storage.emplace_back(w.size(), opt->slot_initial_value(k));
  std::vector<std::span<float>> slots;
  for (auto& s : slot_storage) slots.emplace_back(s);
  for (std::size_t t = 0; t < grads.size(); ++t)
    opt->update(w, grads[t], slots, {opt->learning_rate(), static_cast<std::int64_t>(t + 1), false});
  return w;
}

const std::vector<std::vector<float>> gradients = {{1.0f, -0.5f}, {2.0f, 0.25f}, {-1.0f, 3.0f}, {0.5f, -2.0f}};
const std::vector<float> start = {1.0f, -2.0f};

void check_close(const std::vector<float>& got, const std::vector<double>& want) {
  BOOST_REQUIRE_EQUAL(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) BOOST_CHECK_CLOSE(double(got[i]), want[i], 1e-4);  // percent: 1e-6 relative
}

// Adam, Algorithm 1 of Kingma & Ba in double: m̂ = m / (1 − β1ᵗ), v̂ = v / (1 − β2ᵗ),
// w −= lr m̂ / (√v̂ + ε); `l2` folds λw into the gradient (Adam), `decoupled` first decays
// w −= lr·λ·w (AdamW, Loshchilov & Hutter's Algorithm 2 in PyTorch's ordering).
std::vector<double> adam_reference(double lr, double b1, double b2, double eps, double l2, double decoupled, bool amsgrad) {
  std::vector<double> w(start.begin(), start.end()), m(2, 0), v(2, 0), vmax(2, 0);
  for (std::size_t t = 1; t <= gradients.size(); ++t)
    for (std::size_t i = 0; i < 2; ++i) {
      const double g = gradients[t - 1][i] + l2 * w[i];
      w[i] -= lr * decoupled * w[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      vmax[i] = std::max(vmax[i], v[i]);
      const double mhat = m[i] / (1 - std::pow(b1, double(t)));
      const double vhat = (amsgrad ? vmax[i] : v[i]) / (1 - std::pow(b2, double(t)));
      w[i] -= lr * mhat / (std::sqrt(vhat) + eps);
    }
  return w;
}

}  // namespace

BOOST_AUTO_TEST_CASE(sgd_plain_momentum_nesterov_and_weight_decay) {
  // Hand-worked, one element: w0 = 1, g = 1, 2, −1, lr = 0.1.
  // momentum 0.9: b = 1, 2.9, 1.61 → w = 0.9, 0.61, 0.449
  check_close(run_optimizer({{"type", "sgd"}, {"lr", 0.1}, {"momentum", 0.9}}, {1}, {{1}, {2}, {-1}}), {0.449});
  // Nesterov: g' = g + 0.9 b = 1.9, 4.61, 0.449 → w = 0.81, 0.349, 0.3041
  check_close(run_optimizer({{"type", "sgd"}, {"lr", 0.1}, {"momentum", 0.9}, {"nesterov", true}}, {1}, {{1}, {2}, {-1}}),
              {0.3041});
  // weight decay 0.1, no momentum: g' = 1.1, 2.089, −0.93189 → w = 0.89, 0.6811, 0.774289
  check_close(run_optimizer({{"type", "sgd"}, {"lr", 0.1}, {"weight_decay", 0.1}}, {1}, {{1}, {2}, {-1}}), {0.774289});
  // dampening 0.5 with momentum 0.5: b = 1, 0.5 + 1 = 1.5, 0.75 − 0.5 = 0.25 → w = 0.9, 0.75, 0.725
  check_close(run_optimizer({{"type", "sgd"}, {"lr", 0.1}, {"momentum", 0.5}, {"dampening", 0.5}}, {1}, {{1}, {2}, {-1}}),
              {0.725});
}

BOOST_AUTO_TEST_CASE(adam_follows_kingma_and_ba) {
  check_close(run_optimizer({{"type", "adam"}}, start, gradients), adam_reference(1e-3, 0.9, 0.999, 1e-8, 0, 0, false));
  check_close(run_optimizer({{"type", "adam"}, {"lr", 0.05}, {"beta1", 0.8}, {"beta2", 0.99}, {"eps", 1e-3}}, start, gradients),
              adam_reference(0.05, 0.8, 0.99, 1e-3, 0, 0, false));
  check_close(run_optimizer({{"type", "adam"}, {"lr", 0.01}, {"weight_decay", 0.1}, {"amsgrad", true}}, start, gradients),
              adam_reference(0.01, 0.9, 0.999, 1e-8, 0.1, 0, true));
}

BOOST_AUTO_TEST_CASE(invalid_hyper_parameters_are_rejected_when_read) {
  auto& opts = weft::registry().optimizers;
  auto fails_with = [&](const Json& spec, const std::string& text) {
    try {
      opts.create(spec, "optimizer");
    } catch (const weft::SpecError& e) {
      return std::string(e.what()).find(text) != std::string::npos;
    }
    return false;
  };
  BOOST_CHECK(fails_with({{"type", "adam"}, {"lr", -0.1}}, "'lr' must be a number > 0"));
  BOOST_CHECK(fails_with({{"type", "adam"}, {"beta1", 1.0}}, "'beta1' must be a number in [0, 1)"));
  BOOST_CHECK(fails_with({{"type", "sgd"}, {"nesterov", true}}, "nesterov"));
  BOOST_CHECK(fails_with({{"type", "sgd"}, {"momentun", 0.9}}, "unknown setting 'momentun'"));
  BOOST_CHECK(fails_with({{"type", "adamw"}, {"beta2", -0.1}}, "optimizer (adamw): 'beta2' must be"));
  BOOST_CHECK(fails_with({{"type", "adamw"}, {"lr", 0}}, "'lr' must be a number > 0"));
  BOOST_CHECK(fails_with({{"type", "rmsprop"}, {"alpha", 1.0}}, "'alpha' must be a number in [0, 1)"));
  BOOST_CHECK(fails_with({{"type", "rmsprop"}, {"momentum", -1}}, "'momentum' must be"));
  BOOST_CHECK(fails_with({{"type", "adagrad"}, {"lr_decay", -0.5}}, "optimizer (adagrad): 'lr_decay' must be a number >= 0"));
  BOOST_CHECK(fails_with({{"type", "adagrad"}, {"initial_accumulator_value", -1}}, "'initial_accumulator_value' must be"));
  BOOST_CHECK(fails_with({{"type", "adamw2"}}, "unknown optimizer type 'adamw2'; known optimizers: adagrad, adam, adamw, rmsprop, sgd"));
}

BOOST_AUTO_TEST_CASE(adamw_decouples_weight_decay) {
  check_close(run_optimizer({{"type", "adamw"}}, start, gradients), adam_reference(1e-3, 0.9, 0.999, 1e-8, 0, 0.01, false));
  check_close(run_optimizer({{"type", "adamw"}, {"lr", 0.1}, {"beta1", 0.5}, {"beta2", 0.9}, {"weight_decay", 0.5}}, start, gradients),
              adam_reference(0.1, 0.5, 0.9, 1e-8, 0, 0.5, false));
  check_close(run_optimizer({{"type", "adamw"}, {"lr", 0.05}, {"weight_decay", 0.2}, {"amsgrad", true}, {"eps", 1e-4}}, start, gradients),
              adam_reference(0.05, 0.9, 0.999, 1e-4, 0, 0.2, true));
}

BOOST_AUTO_TEST_CASE(rmsprop_plain_centered_and_with_momentum) {
  auto reference = [](double lr, double alpha, double eps, double wd, double momentum, bool centered) {
    std::vector<double> w(start.begin(), start.end()), v(2, 0), avg(2, 0), buf(2, 0);
    for (std::size_t t = 1; t <= gradients.size(); ++t)
      for (std::size_t i = 0; i < 2; ++i) {
        const double g = gradients[t - 1][i] + wd * w[i];
        v[i] = alpha * v[i] + (1 - alpha) * g * g;
        double denominator = std::sqrt(v[i]) + eps;
        if (centered) {
          avg[i] = alpha * avg[i] + (1 - alpha) * g;
          denominator = std::sqrt(v[i] - avg[i] * avg[i]) + eps;
        }
        if (momentum > 0) {
          buf[i] = momentum * buf[i] + g / denominator;
          w[i] -= lr * buf[i];
        } else {
          w[i] -= lr * g / denominator;
        }
      }
    return w;
  };
  check_close(run_optimizer({{"type", "rmsprop"}}, start, gradients), reference(0.01, 0.99, 1e-8, 0, 0, false));
  check_close(run_optimizer({{"type", "rmsprop"}, {"lr", 0.05}, {"alpha", 0.8}, {"momentum", 0.9}, {"weight_decay", 0.1}}, start, gradients),
              reference(0.05, 0.8, 1e-8, 0.1, 0.9, false));
  check_close(run_optimizer({{"type", "rmsprop"}, {"lr", 0.02}, {"alpha", 0.9}, {"centered", true}, {"eps", 1e-3}}, start, gradients),
              reference(0.02, 0.9, 1e-3, 0, 0, true));
  check_close(run_optimizer({{"type", "rmsprop"}, {"lr", 0.02}, {"alpha", 0.9}, {"centered", true}, {"momentum", 0.5}}, start, gradients),
              reference(0.02, 0.9, 1e-8, 0, 0.5, true));
}

BOOST_AUTO_TEST_CASE(adagrad_with_decay_and_initial_accumulator) {
  auto reference = [](double lr, double lr_decay, double wd, double initial, double eps) {
    std::vector<double> w(start.begin(), start.end()), s(2, initial);
    for (std::size_t t = 1; t <= gradients.size(); ++t)
      for (std::size_t i = 0; i < 2; ++i) {
        const double g = gradients[t - 1][i] + wd * w[i];
        s[i] += g * g;
        w[i] -= lr / (1 + double(t - 1) * lr_decay) * g / (std::sqrt(s[i]) + eps);
      }
    return w;
  };
  check_close(run_optimizer({{"type", "adagrad"}}, start, gradients), reference(0.01, 0, 0, 0, 1e-10));
  check_close(run_optimizer({{"type", "adagrad"}, {"lr", 0.5}, {"lr_decay", 0.1}, {"initial_accumulator_value", 0.3},
                             {"weight_decay", 0.05}, {"eps", 1e-6}},
                            start, gradients),
              reference(0.5, 0.1, 0.05, 0.3, 1e-6));
}
