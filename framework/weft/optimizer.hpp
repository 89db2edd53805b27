#pragma once
// The Optimizer interface. An optimizer is configuration plus an elementwise update rule; its
// state lives in named slots (Adam's "m" and "v"), flat buffers the size of the parameters that
// the trainer owns and a checkpoint can save by parameter name. Because the rule is elementwise,
// the trainer may update disjoint ranges in parallel.
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "weft/config.hpp"

namespace weft {

// What Optimizer::update() knows about the step beyond the tensors.
struct OptimizerStep {
  double lr = 0;       // learning rate for this parameter at this step (schedule × layer multiplier)
  std::int64_t t = 1;  // 1-based count of updates so far, this one included
  // The range belongs to a bias (ParamDecl::is_bias), for an optimizer that treats biases apart
  // (no built-in one does).
  bool is_bias = false;
};

// An update rule; registered by name in Registries::optimizers. update() runs on many threads at
// once over disjoint ranges, so it must not modify the optimizer object.
class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // Names of the per-element state slots, in a fixed order.
  virtual std::vector<std::string> slots() const { return {}; }
  // The value slot k starts from (Adagrad's initial accumulator); 0 for most.
  virtual float slot_initial_value(std::size_t /*k*/) const { return 0.0f; }
  // The configured base learning rate.
  virtual double learning_rate() const = 0;

  // Updates one contiguous range of one parameter: w from g, with slots[k] the same range of
  // slot k. Must not depend on anything outside the range.
  virtual void update(std::span<float> w, std::span<const float> g, std::span<const std::span<float>> slots,
                      const OptimizerStep& step) const = 0;
};

// Readers for the hyper-parameters that optimizers check alike, so each is validated (and its
// error worded) the same way in every optimizer. Errors name the optimizer and the key.
// A step size or a denominator guard ("lr", "eps"): a number > 0.
inline double positive_setting(const Config& c, std::string_view key) {
  return c.number(key, 0, std::numeric_limits<double>::infinity(), true);
}
// A moving-average or momentum coefficient ("beta1", "alpha"): a number in [0, 1).
inline double coefficient_setting(const Config& c, std::string_view key) {
  const double value = c.number(key, 0, 1);
  if (value >= 1) c.fail(key, "a number in [0, 1)");
  return value;
}

}  // namespace weft
