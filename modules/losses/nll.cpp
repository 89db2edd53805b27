// nll: negative log-likelihood of integer class labels given log-probabilities (the output of a
// log_softmax layer), as PyTorch's NLLLoss: loss_i = −w_{y_i}·x_{i, y_i}, batch mean divided by
// Σ_i w_{y_i} (N without weights).
#include "losses/class_targets.hpp"

namespace weft::builtin {
namespace {

class NegativeLogLikelihood final : public Loss {
 public:
  explicit NegativeLogLikelihood(const Config& c) : weights_(c, "nll") {}

  Shape target_shape(const Shape& prediction) const override {
    if (prediction.rank() != 1 || prediction[0] < 1)
      throw ShapeError("nll needs one log-probability per class, a vector, got " + prediction.str());
    weights_.check_classes(prediction[0]);
    return Shape{};
  }

  double batch_weight(ConstView targets) const override { return weights_.total(targets); }

  double evaluate(ConstView pred, ConstView target, View dpred, double batch_weight) const override {
    const std::int64_t n = pred.shape()[0], k = pred.shape()[1];
    if (!dpred.empty()) std::fill_n(dpred.data(), dpred.size(), 0.0f);
    double total = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t label = class_label(target[static_cast<std::size_t>(i)], k, "nll");
      const double w = weights_[label];
      total -= w * pred.data()[i * k + label];
      if (!dpred.empty()) dpred.data()[i * k + label] = static_cast<float>(-w / batch_weight);
    }
    return total;
  }

 private:
  ClassWeights weights_;
};

}  // namespace

void register_nll(Registries& r) {
  r.losses.add({"nll", "negative log-likelihood of integer labels on log-probabilities (after log_softmax)",
                {{"weight", Json::array()}}, [](const Config& c) { return std::make_unique<NegativeLogLikelihood>(c); }});
}

}  // namespace weft::builtin
