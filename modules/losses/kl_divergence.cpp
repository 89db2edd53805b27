// kl_divergence: KL(target ‖ prediction) for predictions given as log-probabilities (the output
// of a log_softmax layer) and targets as probabilities, as PyTorch's KLDivLoss with
// reduction="batchmean" (the mathematically meaningful mean: per sample, summed over its
// elements):  loss_i = Σ_c t_c·(log t_c − x_c),  ∂/∂x_c = −t_c.
// Terms with t_c = 0 contribute 0 (the limit of t·log t). With "log_target": true the targets
// are log-probabilities too: loss_i = Σ_c exp(t_c)·(t_c − x_c).
#include <cmath>

#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

class KlDivergence final : public Loss {
 public:
  explicit KlDivergence(const Config& c) : log_target_(c.boolean("log_target")) {}

  Shape target_shape(const Shape& prediction) const override { return prediction; }

  double evaluate(ConstView pred, ConstView target, View dpred, double batch_weight) const override {
    double total = 0;
    for (std::size_t i = 0; i < pred.size(); ++i) {
      const double t = log_target_ ? std::exp(double(target[i])) : double(target[i]);
      const double log_t = log_target_ ? double(target[i]) : (t > 0 ? std::log(t) : 0.0);
      if (t != 0) total += t * (log_t - pred[i]);
      if (!dpred.empty()) dpred[i] = static_cast<float>(-t / batch_weight);
    }
    return total;
  }

 private:
  bool log_target_;
};

}  // namespace

void register_kl_divergence(Registries& r) {
  r.losses.add({"kl_divergence",
                "KL(target ‖ prediction) on log-probability predictions and probability targets, summed per "
                "sample, batch mean (PyTorch's KLDivLoss batchmean)",
                {{"log_target", false}}, [](const Config& c) { return std::make_unique<KlDivergence>(c); }});
}

}  // namespace weft::builtin
