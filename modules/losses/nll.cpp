// nll: negative log-likelihood of integer class labels given log-probabilities (the output of a
// log_softmax layer), as PyTorch's NLLLoss: loss_i = −w_{y_i}·x_{i, y_i}, batch mean divided by
// Σ_i w_{y_i} (N without weights). Predictions (C, d1, ...) take a label per position (d1, ...),
// every position a term of the mean; positions labelled "ignore_index" count in neither sum.
#include "losses/class_targets.hpp"

namespace weft::builtin {
namespace {

class NegativeLogLikelihood final : public Loss {
 public:
  explicit NegativeLogLikelihood(const Config& c) : weights_(c, "nll"), ignore_(c) {}

  Shape target_shape(const Shape& prediction) const override {
    if (prediction.rank() < 1 || prediction[0] < 1)
      throw ShapeError("nll needs one log-probability per class (C) or per class and position (C, d1, ...), got " +
                       prediction.str());
    weights_.check_classes(prediction[0]);
    return prediction.without_batch();
  }

  double batch_weight(ConstView targets) const override { return weights_.total(targets, ignore_); }

  double evaluate(ConstView pred, ConstView target, View dpred, double batch_weight) const override {
    const ClassLayout layout(pred.shape().without_batch());
    require_target_shape("nll", pred, target, target_shape(pred.shape().without_batch()), "a class index per position");
    const std::int64_t n = pred.shape()[0], k = layout.classes, positions = layout.positions;
    if (!dpred.empty()) std::fill_n(dpred.data(), dpred.size(), 0.0f);
    double total = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t p = 0; p < positions; ++p) {
        const float value = target[static_cast<std::size_t>(i * positions + p)];
        if (ignore_(value)) continue;
        const std::int64_t label = class_label(value, k, "nll");
        const double w = weights_[label];
        const std::int64_t at = (i * k + label) * positions + p;  // class `label` of position p
        total -= w * pred.data()[at];
        if (!dpred.empty()) dpred.data()[at] = static_cast<float>(-w / batch_weight);
      }
    }
    return total;
  }

 private:
  ClassWeights weights_;
  IgnoreIndex ignore_;
};

}  // namespace

void register_nll(Registries& r) {
  r.losses.add({"nll",
                "negative log-likelihood of integer labels on log-probabilities (after log_softmax), per sample "
                "(C) or per position (C, d1, ...), class weights, ignore_index",
                {{"weight", Json::array()}, {"ignore_index", "none"}}, [](const Config& c) { return std::make_unique<NegativeLogLikelihood>(c); }});
}

}  // namespace weft::builtin
