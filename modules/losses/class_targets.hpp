#pragma once
// What cross_entropy and nll share: integer class labels stored as floats, optional per-class
// weights, an optional ignore_index, and PyTorch's layouts: per-sample predictions (C) with a
// label per sample, or (C, d1, d2, ...) with a label per position (d1, d2, ...), as for
// segmentation. Every position is one term of the mean; with weights, PyTorch's mean divides by
// the total weight of the labels, Σ weight[label], rather than by their number: batch_weight()
// returns it. Ignored positions count in neither.
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weft/registry.hpp"

namespace weft::builtin {

// The class label `value` as an index; throws naming `loss` unless it is an integer in [0, classes).
// Names are string_views: this runs per label, and a std::string argument would be built each time.
inline std::int64_t class_label(float value, std::int64_t classes, std::string_view loss) {
  // Range first: converting NaN or a huge float to an integer is undefined behaviour.
  if (!(value >= 0 && value < static_cast<float>(classes)) || value != std::floor(value))
    throw Error(std::string(loss) + ": class label " + std::to_string(value) + " is not an integer in [0, " +
                std::to_string(classes) + ")");
  return static_cast<std::int64_t>(value);
}

// Per-sample predictions (C) or (C, d1, d2, ...): class c of position p sits at c·positions + p.
struct ClassLayout {
  std::int64_t classes = 0, positions = 1;
  explicit ClassLayout(const Shape& per_sample) : classes(per_sample[0]), positions(per_sample.numel() / per_sample[0]) {}
};

// Throws ShapeError naming both shapes unless a batch of targets has the per-sample shape
// `per_sample` that the loss asks of predictions `pred`.
inline void require_target_shape(std::string_view loss, ConstView pred, ConstView target, const Shape& per_sample,
                                 std::string_view what) {
  const Shape expected = per_sample.with_batch(pred.shape()[0]);
  if (!(target.shape() == expected))
    throw ShapeError(std::string(loss) + ": targets of shape " + target.shape().str() +
                     " do not fit predictions of shape " + pred.shape().str() + "; expected " + expected.str() + " (" +
                     std::string(what) + ")");
}

// The "ignore_index" setting: "none" (the default: every label counts) or an integer label value
// whose positions add no loss, no gradient and no weight (PyTorch's ignore_index, e.g. -100 or 255).
class IgnoreIndex {
 public:
  explicit IgnoreIndex(const Config& c) {
    const Json& v = c.raw("ignore_index");
    if (v == Json("none")) return;
    // Within ±2^24 every integer is exact as a float label.
    constexpr std::int64_t exact = std::int64_t{1} << 24;
    if (!v.is_number_integer() || v.get<std::int64_t>() < -exact || v.get<std::int64_t>() > exact)
      c.fail("ignore_index", "\"none\" or an integer label value within ±2^24 (-100 as in PyTorch, 255, ...)");
    value_ = static_cast<float>(v.get<std::int64_t>());
  }
  bool active() const { return value_.has_value(); }
  bool operator()(float label) const { return value_ && label == *value_; }

 private:
  std::optional<float> value_;
};

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

  // Σ weight[label] over a batch of labels, every position of every sample, ignored ones left
  // out: the denominator of the weighted mean (the number of labels without weights). Labels are
  // checked against the weights' classes.
  double total(ConstView labels, const IgnoreIndex& ignore) const {
    const auto classes = static_cast<std::int64_t>(weights_.size());
    double sum = 0;
    for (std::size_t i = 0; i < labels.size(); ++i)
      if (!ignore(labels[i])) sum += weights_.empty() ? 1.0 : (*this)[class_label(labels[i], classes, loss_)];
    return sum;
  }

 private:
  std::string loss_;
  std::vector<double> weights_;
};

}  // namespace weft::builtin
