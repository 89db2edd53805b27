#pragma once
// Metrics: named numbers in a fixed order ("loss", "accuracy", "val_loss", ...), one set per
// epoch, as the training history, the CSV log and the callbacks see them. And the evaluation
// metrics of a model's outputs against targets: loss aside, accuracy and top-k accuracy for
// classification, MSE and MAE for regression, and a confusion matrix.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "weft/config.hpp"
#include "weft/tensor.hpp"

namespace weft {

// One epoch's named values, in the order they were first set.
class Metrics {
 public:
  // Sets `name` (appended the first time, so columns keep the order they were first set in).
  void set(const std::string& name, double value);
  std::optional<double> get(const std::string& name) const;  // nullopt when `name` was never set
  const std::vector<std::pair<std::string, double>>& items() const { return items_; }  // in order
  std::vector<std::string> names() const;  // the names in order

  // [["loss", 0.31], ["accuracy", 0.9]]: an array of pairs keeps the order through JSON.
  Json to_json() const;
  // The inverse of to_json(); throws nlohmann::json's exception for another layout.
  static Metrics from_json(const Json& j);

 private:
  std::vector<std::pair<std::string, double>> items_;
};

// Accumulates output-vs-target metrics over batches.
class MetricAccumulator {
 public:
  // `classes` > 1: classification over that many classes (targets are labels or one-hot rows);
  // 0: regression (targets have the outputs' shape). `top_k` is the k of top-k accuracy.
  MetricAccumulator(std::int64_t classes, std::int64_t top_k = 5);

  // Adds a batch: outputs (n, classes) scores or (n, ...) regression values, targets as the
  // constructor says. Throws Error for a class label outside [0, classes). In regression,
  // targets shaped unlike the outputs are counted as samples but add no errors.
  void add(ConstView outputs, ConstView targets);

  std::int64_t samples() const { return samples_; }  // samples added so far
  // Fraction of samples whose highest score is the true class (ties: the first); NaN before any.
  double accuracy() const;
  // Fraction whose true class has fewer than k strictly higher scores; NaN before any sample.
  double top_k_accuracy() const;
  std::int64_t top_k() const { return top_k_; }  // the k of top_k_accuracy()
  double mse() const;  // regression: mean squared error over all elements; NaN before any
  double mae() const;  // regression: mean absolute error over all elements; NaN before any
  // confusion()[true class][predicted class] = count.
  const std::vector<std::vector<std::int64_t>>& confusion() const { return confusion_; }

 private:
  std::int64_t classes_, top_k_;
  std::int64_t samples_ = 0, correct_ = 0, top_k_correct_ = 0;
  double squared_ = 0, absolute_ = 0;
  std::int64_t elements_ = 0;
  std::vector<std::vector<std::int64_t>> confusion_;
};

}  // namespace weft
