// cross_entropy: softmax and negative log-likelihood fused on logits, as PyTorch's
// CrossEntropyLoss. Targets are integer class labels ("targets": "labels") or a probability
// (one-hot) vector per sample ("targets": "probabilities"), with optional label smoothing ε and
// per-class weights w. Both cases are one formula over coefficients a_c:
//   loss = −Σ_c a_c·log p_c,   ∂loss/∂z_j = (Σ_c a_c)·p_j − a_j,   p = softmax(z)
//   labels:        a_c = (1 − ε)·w_y·[c = y] + (ε/K)·w_c;  batch mean divides by Σ_i w_{y_i}
//   probabilities: a_c = w_c·((1 − ε)·t_c + ε/K);           batch mean divides by N
// (PyTorch's conventions for both). log p is computed stably as z − max − log Σ exp(z − max).
// Predictions (C, d1, d2, ...) take a label (d1, d2, ...) or a probability vector per position
// (PyTorch's (N, C, d1, ...) layout): every position is a term of the mean, which divides by
// Σ w_y over positions (labels) or N·d1·d2·... (probabilities). With "ignore_index" (labels
// only), positions with that label add nothing to the loss, the gradient or the denominator.
#include <cmath>

#include "losses/class_targets.hpp"

namespace weft::builtin {
namespace {

class CrossEntropy final : public Loss {
 public:
  explicit CrossEntropy(const Config& c)
      : probabilities_(c.choice("targets", {"labels", "probabilities"}) == "probabilities"),
        smoothing_(c.number("label_smoothing", 0.0, 1.0)),
        weights_(c, "cross_entropy"),
        ignore_(c) {
    // As in PyTorch: a probability target has no label to ignore.
    if (probabilities_ && ignore_.active()) c.fail("ignore_index", "\"none\" with \"targets\": \"probabilities\"");
  }

  Shape target_shape(const Shape& prediction) const override {
    if (prediction.rank() < 1 || prediction[0] < 2)
      throw ShapeError("cross_entropy needs one logit per class (C) or per class and position (C, d1, ...), with at "
                       "least 2 classes, got " +
                       prediction.str());
    weights_.check_classes(prediction[0]);
    return probabilities_ ? prediction : prediction.without_batch();
  }

  double batch_weight(ConstView targets) const override {
    // Probabilities (N, C, d1, ...): N·d1·d2·... positions.
    if (probabilities_) return static_cast<double>(targets.size() / static_cast<std::size_t>(targets.shape()[1]));
    return weights_.total(targets, ignore_);
  }

  double evaluate(ConstView pred, ConstView target, View dpred, double batch_weight) const override {
    const ClassLayout layout(pred.shape().without_batch());
    require_target_shape("cross_entropy", pred, target, target_shape(pred.shape().without_batch()),
                         probabilities_ ? "a probability per class and position" : "a class index per position");
    const std::int64_t n = pred.shape()[0], k = layout.classes, positions = layout.positions;
    const double scale = 1.0 / batch_weight, uniform = smoothing_ / static_cast<double>(k);
    double total = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t p = 0; p < positions; ++p) {
        // Class c of this position sits at at + c·positions, in predictions and probability targets.
        const std::int64_t at = i * k * positions + p;
        const float* z = pred.data() + at;
        float* d = dpred.empty() ? nullptr : dpred.data() + at;
        std::int64_t label = -1;
        if (!probabilities_) {
          const float value = target[static_cast<std::size_t>(i * positions + p)];
          if (ignore_(value)) {
            for (std::int64_t c = 0; d && c < k; ++c) d[c * positions] = 0;
            continue;
          }
          label = class_label(value, k, "cross_entropy");
        }
        const float* t = probabilities_ ? target.data() + at : nullptr;
        auto coefficient = [&](std::int64_t c) {
          if (probabilities_) return weights_[c] * ((1 - smoothing_) * t[c * positions] + uniform);
          return (c == label ? (1 - smoothing_) * weights_[label] : 0.0) + uniform * weights_[c];
        };
        float zmax = z[0];
        for (std::int64_t c = 1; c < k; ++c) zmax = std::max(zmax, z[c * positions]);
        double sum = 0;
        for (std::int64_t c = 0; c < k; ++c) sum += std::exp(double(z[c * positions]) - zmax);
        const double log_sum = std::log(sum);
        double a_total = 0;
        for (std::int64_t c = 0; c < k; ++c) {
          const double a = coefficient(c);
          a_total += a;
          if (a != 0) total -= a * (double(z[c * positions]) - zmax - log_sum);
        }
        for (std::int64_t c = 0; d && c < k; ++c)
          d[c * positions] = static_cast<float>(
              (a_total * std::exp(double(z[c * positions]) - zmax - log_sum) - coefficient(c)) * scale);
      }
    }
    return total;
  }

 private:
  bool probabilities_;
  double smoothing_;
  ClassWeights weights_;
  IgnoreIndex ignore_;
};

}  // namespace

void register_cross_entropy(Registries& r) {
  r.losses.add({"cross_entropy",
                "softmax + negative log-likelihood on logits, per sample (C) or per position (C, d1, ...); "
                "integer labels or probability targets, label smoothing, class weights, ignore_index",
                {{"targets", "labels"}, {"label_smoothing", 0.0}, {"weight", Json::array()}, {"ignore_index", "none"}},
                [](const Config& c) { return std::make_unique<CrossEntropy>(c); }});
}

}  // namespace weft::builtin
