#pragma once
// The Loss interface. A loss sees one shard's predictions and targets; the executor adds the
// shards' sums in a fixed order and divides by batch_weight() (the mini-batch size unless the
// loss weighs its samples), so the reported loss is the batch mean however the batch was cut.
#include <cstdint>

#include "weft/config.hpp"
#include "weft/tensor.hpp"

namespace weft {

// A training objective; registered by name in Registries::losses. Called from many threads at
// once (one per shard), so evaluate() must not modify the loss object.
class Loss {
 public:
  virtual ~Loss() = default;

  // Per-sample target shape for per-sample predictions of shape `prediction` (a class label is
  // the scalar shape ()). Throws ShapeError when the loss cannot apply to such predictions.
  virtual Shape target_shape(const Shape& prediction) const = 0;

  // The denominator of the batch mean over the whole mini-batch's `targets`: the number of
  // samples by default. A class-weighted loss returns the sum of its samples' weights (PyTorch's
  // weighted mean), which one shard alone cannot know; the executor asks once per batch.
  virtual double batch_weight(ConstView targets) const { return static_cast<double>(targets.shape()[0]); }

  // Returns the sum over the shard's samples of the (weighted) per-sample loss. When `dpred` is
  // not empty, writes d(sum over the whole mini-batch / batch_weight)/d(pred) for this shard's
  // predictions. Throws Error for a target it cannot use (a class label out of range).
  virtual double evaluate(ConstView pred, ConstView target, View dpred, double batch_weight) const = 0;
};

}  // namespace weft
