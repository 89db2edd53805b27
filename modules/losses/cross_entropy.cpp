// cross_entropy: softmax and negative log-likelihood fused on logits (as PyTorch's
// CrossEntropyLoss), with integer class labels. Fusing keeps it stable: log-softmax is computed
// as z - max - log Σ exp(z - max), and the gradient is softmax - onehot.
#include <cmath>

#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

class CrossEntropy final : public Loss {
 public:
  explicit CrossEntropy(const Config&) {}

  Shape target_shape(const Shape& prediction) const override {
    if (prediction.rank() != 1 || prediction[0] < 2)
      throw ShapeError("cross_entropy needs one logit per class, a vector of at least 2, got " + prediction.str());
    return Shape{};
  }

  double evaluate(ConstView pred, ConstView target, View dpred, double batch_weight) const override {
    const std::int64_t n = pred.shape()[0], k = pred.shape()[1];
    const double scale = 1.0 / batch_weight;
    double total = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const float* z = pred.data() + i * k;
      const float label_value = target[static_cast<std::size_t>(i)];
      const auto label = static_cast<std::int64_t>(label_value);
      if (!(label_value >= 0) || label >= k || static_cast<float>(label) != label_value)
        throw Error("cross_entropy: class label " + std::to_string(label_value) + " is not an integer in [0, " +
                    std::to_string(k) + ")");
      float zmax = z[0];
      for (std::int64_t j = 1; j < k; ++j) zmax = std::max(zmax, z[j]);
      double sum = 0;
      for (std::int64_t j = 0; j < k; ++j) sum += std::exp(double(z[j] - zmax));
      const double log_sum = std::log(sum);
      total += log_sum - double(z[label] - zmax);
      if (!dpred.empty()) {
        float* d = dpred.data() + i * k;
        for (std::int64_t j = 0; j < k; ++j) {
          const double p = std::exp(double(z[j] - zmax) - log_sum);
          d[j] = static_cast<float>((p - (j == label ? 1.0 : 0.0)) * scale);
        }
      }
    }
    return total;
  }
};

}  // namespace

void register_cross_entropy(Registries& r) {
  r.losses.add({"cross_entropy", "softmax + negative log-likelihood on logits, integer class labels", Json::object(),
                [](const Config& c) { return std::make_unique<CrossEntropy>(c); }});
}

}  // namespace weft::builtin
