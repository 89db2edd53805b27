#pragma once
// Evaluates a loss on a small batch written out by hand: the batch mean, and its gradient.
#include <algorithm>
#include <initializer_list>

#include "weft/registry.hpp"

namespace weft::testing {

// `pred` holds n samples of shape pred_shape, `target` the matching targets; the mean divides by
// the loss's batch_weight() as the executor does. With `grad`, also d(mean)/d(pred).
inline double loss_of(const Json& spec, const Shape& pred_shape, std::initializer_list<float> pred,
                      std::initializer_list<float> target, std::int64_t n, Tensor* grad = nullptr) {
  auto loss = registry().losses.create(spec, "loss").module;
  Tensor p(pred_shape.with_batch(n)), t(loss->target_shape(pred_shape).with_batch(n));
  if (pred.size() != p.size() || target.size() != t.size()) throw Error("loss_of: wrong element count");
  std::copy(pred.begin(), pred.end(), p.data());
  std::copy(target.begin(), target.end(), t.data());
  if (grad) *grad = Tensor(p.shape());
  const double weight = loss->batch_weight(t);
  return loss->evaluate(p, t, grad ? grad->view() : View(), weight) / weight;
}

}  // namespace weft::testing
