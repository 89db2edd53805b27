#pragma once
// What cross_entropy and nll share: integer class labels stored as floats, and optional
// per-class weights. With weights, PyTorch's mean divides by the total weight of the batch's
// labels, Σ weight[label], rather than by the number of samples: batch_weight() returns it.
#include <cmath>
#include <string>
#include <vector>

#include "weft/registry.hpp"

namespace weft::builtin {

// The class label `value` as an index; throws naming `loss` unless it is an integer in [0, classes).
inline std::int64_t class_label(float value, std::int64_t classes, const std::string& loss) {
  // Range first: converting NaN or a huge float to an integer is undefined behaviour.
  if (!(value >= 0 && value < static_cast<float>(classes)) || value != std::floor(value))
    throw Error(loss + ": class label " + std::to_string(value) + " is not an integer in [0, " +
                std::to_string(classes) + ")");
  return static_cast<std::int64_t>(value);
}

// The "weight" setting: [] (the default: every class weighs 1) or one non-negative number per class.
class ClassWeights {
 public:
  ClassWeights(const Config& c, std::string loss) : loss_(std::move(loss)) {
    const Json& w = c.raw("weight");
    const char* expected = "a list of one non-negative number per class ([] for equal weights)";
    if (!w.is_array()) c.fail("weight", expected);
    for (const auto& v : w) {
      if (!v.is_number() || !(v.get<double>() >= 0) || !std::isfinite(v.get<double>())) c.fail("weight", expected);
      weights_.push_back(v.get<double>());
    }
  }

  bool empty() const { return weights_.empty(); }
  double operator[](std::int64_t c) const { return weights_.empty() ? 1.0 : weights_[static_cast<std::size_t>(c)]; }

  // Throws ShapeError unless there is one weight per class.
  void check_classes(std::int64_t classes) const {
    if (!weights_.empty() && static_cast<std::int64_t>(weights_.size()) != classes)
      throw ShapeError(loss_ + ": 'weight' has " + std::to_string(weights_.size()) + " entries but the model predicts " +
                       std::to_string(classes) + " classes");
  }

  // Σ weight[label] over a batch of labels: the denominator of the weighted mean (the number of
  // labels without weights). Labels are checked against the weights' classes.
  double total(ConstView labels) const {
    if (weights_.empty()) return static_cast<double>(labels.shape()[0]);
    const auto classes = static_cast<std::int64_t>(weights_.size());
    double sum = 0;
    for (std::size_t i = 0; i < labels.size(); ++i) sum += (*this)[class_label(labels[i], classes, loss_)];
    return sum;
  }

 private:
  std::string loss_;
  std::vector<double> weights_;
};

}  // namespace weft::builtin
