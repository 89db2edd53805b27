// Activity penalties on a layer's output a (batch B, elements j), as functions of batch means:
//   activity_l1   l1 · Σ_j mean_i |a_ij|  (= l1/B · Σ_ij |a_ij|, Keras's activity L1 per sample)
//   kl_sparsity   beta · Σ_j KL(rho ‖ m_j), m_j = mean_i a_ij, the sparse-autoencoder penalty:
//                 KL(rho ‖ m) = rho·log(rho/m) + (1 − rho)·log((1 − rho)/(1 − m)),
//                 dKL/dm = −rho/m + (1 − rho)/(1 − m). Activations must lie in (0, 1) (a sigmoid
//                 layer); m is clamped to [1e-6, 1 − 1e-6] to keep the logarithms finite.
#include <algorithm>
#include <cmath>

#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

class ActivityL1 final : public Regularizer {
 public:
  explicit ActivityL1(const Config& c) : l1_(c.number("l1", 0)) {}
  bool is_activity() const override { return true; }
  float moment(float a) const override { return std::abs(a); }
  float moment_derivative(float a) const override { return a > 0 ? 1.0f : (a < 0 ? -1.0f : 0.0f); }
  double activity_penalty(std::span<const double> mean, std::span<double> dmean) const override {
    double sum = 0;
    for (std::size_t j = 0; j < mean.size(); ++j) {
      sum += mean[j];
      dmean[j] = l1_;
    }
    return l1_ * sum;
  }

 private:
  double l1_;
};

class KlSparsity final : public Regularizer {
 public:
  explicit KlSparsity(const Config& c) : rho_(c.number("rho", 0, 1, true)), beta_(c.number("beta", 0)) {
    if (rho_ >= 1) c.fail("rho", "a number in (0, 1)");
  }
  bool is_activity() const override { return true; }
  float moment(float a) const override { return a; }
  float moment_derivative(float) const override { return 1.0f; }
  double activity_penalty(std::span<const double> mean, std::span<double> dmean) const override {
    double sum = 0;
    for (std::size_t j = 0; j < mean.size(); ++j) {
      const double m = std::clamp(mean[j], 1e-6, 1 - 1e-6);
      sum += rho_ * std::log(rho_ / m) + (1 - rho_) * std::log((1 - rho_) / (1 - m));
      dmean[j] = beta_ * (-rho_ / m + (1 - rho_) / (1 - m));
    }
    return beta_ * sum;
  }

 private:
  double rho_, beta_;
};

}  // namespace

void register_activity_penalties(Registries& r) {
  r.regularizers.add({"activity_l1", "activity penalty l1 · mean over the batch of Σ|a| (sparse activations)",
                      {{"l1", 0.01}}, [](const Config& c) { return std::make_unique<ActivityL1>(c); }});
  r.regularizers.add({"kl_sparsity", "sparse-autoencoder penalty beta·Σ KL(rho ‖ mean activation)",
                      {{"rho", 0.05}, {"beta", 3.0}}, [](const Config& c) { return std::make_unique<KlSparsity>(c); }});
}

}  // namespace weft::builtin
