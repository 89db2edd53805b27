// cross_entropy: softmax and negative log-likelihood fused on logits, as PyTorch's
// CrossEntropyLoss. Targets are integer class labels ("targets": "labels") or a probability
// (one-hot) vector per sample ("targets": "probabilities"), with optional label smoothing ε and
// per-class weights w. Both cases are one formula over coefficients a_c:
//   loss = −Σ_c a_c·log p_c,   ∂loss/∂z_j = (Σ_c a_c)·p_j − a_j,   p = softmax(z)
//   labels:        a_c = (1 − ε)·w_y·[c = y] + (ε/K)·w_c;  batch mean divides by Σ_i w_{y_i}
//   probabilities: a_c = w_c·((1 − ε)·t_c + ε/K);           batch mean divides by N
// (PyTorch's conventions for both). log p is computed stably as z − max − log Σ exp(z − max).
#include <cmath>

#include "losses/class_targets.hpp"

namespace weft::builtin {
namespace {

class CrossEntropy final : public Loss {
 public:
  explicit CrossEntropy(const Config& c)
      : probabilities_(c.choice("targets", {"labels", "probabilities"}) == "probabilities"),
        smoothing_(c.number("label_smoothing", 0.0, 1.0)),
        weights_(c, "cross_entropy") {}

  Shape target_shape(const Shape& prediction) const override {
    if (prediction.rank() != 1 || prediction[0] < 2)
      throw ShapeError("cross_entropy needs one logit per class, a vector of at least 2, got " + prediction.str());
    weights_.check_classes(prediction[0]);
    return probabilities_ ? prediction : Shape{};
  }

  double batch_weight(ConstView targets) const override {
    if (probabilities_) return static_cast<double>(targets.shape()[0]);
    return weights_.total(targets);
  }

  double evaluate(ConstView pred, ConstView target, View dpred, double batch_weight) const override {
    const std::int64_t n = pred.shape()[0], k = pred.shape()[1];
    const double scale = 1.0 / batch_weight, uniform = smoothing_ / static_cast<double>(k);
    double total = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const float* z = pred.data() + i * k;
      const std::int64_t label = probabilities_ ? -1 : class_label(target[static_cast<std::size_t>(i)], k, "cross_entropy");
      const float* t = probabilities_ ? target.data() + i * k : nullptr;
      auto coefficient = [&](std::int64_t c) {
        if (probabilities_) return weights_[c] * ((1 - smoothing_) * t[c] + uniform);
        return (c == label ? (1 - smoothing_) * weights_[label] : 0.0) + uniform * weights_[c];
      };
      float zmax = z[0];
      for (std::int64_t c = 1; c < k; ++c) zmax = std::max(zmax, z[c]);
      double sum = 0;
      for (std::int64_t c = 0; c < k; ++c) sum += std::exp(double(z[c]) - zmax);
      const double log_sum = std::log(sum);
      double a_total = 0;
      for (std::int64_t c = 0; c < k; ++c) {
        const double a = coefficient(c);
        a_total += a;
        if (a != 0) total -= a * (double(z[c]) - zmax - log_sum);
      }
      if (dpred.empty()) continue;
      float* d = dpred.data() + i * k;
      for (std::int64_t c = 0; c < k; ++c)
        d[c] = static_cast<float>((a_total * std::exp(double(z[c]) - zmax - log_sum) - coefficient(c)) * scale);
    }
    return total;
  }

 private:
  bool probabilities_;
  double smoothing_;
  ClassWeights weights_;
};

}  // namespace

void register_cross_entropy(Registries& r) {
  r.losses.add({"cross_entropy",
                "softmax + negative log-likelihood on logits; integer labels or probability targets, label "
                "smoothing, class weights",
                {{"targets", "labels"}, {"label_smoothing", 0.0}, {"weight", Json::array()}},
                [](const Config& c) { return std::make_unique<CrossEntropy>(c); }});
}

}  // namespace weft::builtin
