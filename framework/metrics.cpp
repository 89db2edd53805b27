#include "weft/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace weft {

void Metrics::set(const std::string& name, double value) {
  for (auto& [n, v] : items_)
    if (n == name) {
      v = value;
      return;
    }
  items_.emplace_back(name, value);
}

std::optional<double> Metrics::get(const std::string& name) const {
  for (const auto& [n, v] : items_)
    if (n == name) return v;
  return std::nullopt;
}

std::vector<std::string> Metrics::names() const {
  std::vector<std::string> out;
  for (const auto& [n, _] : items_) out.push_back(n);
  return out;
}

Json Metrics::to_json() const {
  Json out = Json::array();
  for (const auto& [n, v] : items_) out.push_back(Json::array({n, v}));
  return out;
}

Metrics Metrics::from_json(const Json& j) {
  Metrics m;
  for (const auto& pair : j) m.set(pair.at(0).get<std::string>(), pair.at(1).get<double>());
  return m;
}

MetricAccumulator::MetricAccumulator(std::int64_t classes, std::int64_t top_k) : classes_(classes), top_k_(top_k) {
  if (classes_ > 1) confusion_.assign(static_cast<std::size_t>(classes_), std::vector<std::int64_t>(static_cast<std::size_t>(classes_)));
}

void MetricAccumulator::add(ConstView outputs, ConstView targets) {
  const std::int64_t n = outputs.shape()[0];
  samples_ += n;
  if (classes_ <= 1) {
    if (outputs.size() != targets.size()) return;  // targets of another shape: no regression metrics
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      const double d = double(outputs[i]) - double(targets[i]);
      squared_ += d * d;
      absolute_ += std::abs(d);
    }
    elements_ += static_cast<std::int64_t>(outputs.size());
    return;
  }
  const bool one_hot = targets.shape().rank() > 1;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* row = outputs.data() + i * classes_;
    const auto predicted = std::max_element(row, row + classes_) - row;
    std::int64_t label;
    if (one_hot) {
      const float* t = targets.data() + i * classes_;
      label = std::max_element(t, t + classes_) - t;
    } else {
      label = static_cast<std::int64_t>(targets[static_cast<std::size_t>(i)]);
    }
    if (label < 0 || label >= classes_) throw Error("class label " + std::to_string(label) + " is outside [0, " + std::to_string(classes_) + ")");
    correct_ += predicted == label;
    ++confusion_[static_cast<std::size_t>(label)][static_cast<std::size_t>(predicted)];
    // In the top k when fewer than k classes score strictly higher than the true one.
    const auto higher = std::count_if(row, row + classes_, [&](float s) { return s > row[label]; });
    top_k_correct_ += higher < top_k_;
  }
}

double MetricAccumulator::accuracy() const { return samples_ ? double(correct_) / double(samples_) : std::nan(""); }
double MetricAccumulator::top_k_accuracy() const { return samples_ ? double(top_k_correct_) / double(samples_) : std::nan(""); }
double MetricAccumulator::mse() const { return elements_ ? squared_ / double(elements_) : std::nan(""); }
double MetricAccumulator::mae() const { return elements_ ? absolute_ / double(elements_) : std::nan(""); }

}  // namespace weft
