#pragma once
// A loss that compares prediction and target element by element: the per-sample loss is the mean
// of f(prediction, target) over the sample's elements, so the batch mean is the mean over all
// elements (PyTorch's reduction="mean"). `Fn` is built from the loss's Config and provides
//   double value(double p, double t) const;
//   double derivative(double p, double t) const;   // ∂f/∂p
#include <algorithm>

#include "weft/registry.hpp"

namespace weft::builtin {

template <class Fn>
class ElementwiseLoss final : public Loss {
 public:
  explicit ElementwiseLoss(const Config& c) : fn_(c) {}

  Shape target_shape(const Shape& prediction) const override { return prediction; }

  double evaluate(ConstView pred, ConstView target, View dpred, double batch_weight) const override {
    const std::int64_t n = pred.shape()[0];
    const double inv_per = 1.0 / static_cast<double>(pred.numel() / std::max<std::int64_t>(n, 1));
    const double grad_scale = inv_per / batch_weight;
    double total = 0;
    for (std::size_t i = 0; i < pred.size(); ++i) {
      const double p = pred[i], t = target[i];
      total += fn_.value(p, t) * inv_per;
      if (!dpred.empty()) dpred[i] = static_cast<float>(grad_scale * fn_.derivative(p, t));
    }
    return total;
  }

 private:
  Fn fn_;
};

// Registers ElementwiseLoss<Fn> as `name` with the settings `defaults`.
template <class Fn>
void add_elementwise_loss(Registries& r, std::string name, std::string summary, Json defaults = Json::object()) {
  r.losses.add({std::move(name), std::move(summary), std::move(defaults),
                [](const Config& c) { return std::make_unique<ElementwiseLoss<Fn>>(c); }});
}

}  // namespace weft::builtin
