#pragma once
// A generic finite-difference gradient checker for layers and losses, usable from any test
// (ours or a plugin author's). A layer is built through the registry inside a one-layer Model
// and run by the real Executor, several shards per batch, so what is checked is what trains.
//
// For a layer, the objective is L = Σ r·y with a fixed random r; backward() from dy = r must
// match central differences (L(θ + h) − L(θ − h)) / 2h for sampled inputs and parameters.
// Points where the one-sided differences disagree (a kink: ReLU at 0, a max-pool tie) are
// skipped and counted, as Caffe's checker does.
#include <cstdint>
#include <functional>
#include <string>

#include "weft/config.hpp"
#include "weft/tensor.hpp"

namespace weft {

struct GradientCheckOptions {
  std::int64_t batch = 5;        // samples in the batch
  std::int64_t shard_size = 2;   // several shards, the last one smaller
  bool training = true;          // training-mode pass (batch statistics, dropout)
  std::uint64_t seed = 7;
  double step = 1e-2;            // h; float arithmetic wants a large one
  double abs_tolerance = 2e-3;
  double rel_tolerance = 2e-2;
  std::int64_t samples_per_tensor = 60;  // coordinates checked per input/parameter tensor
  double input_scale = 1.0;      // inputs ~ uniform(-scale, scale)
};

struct GradientCheckResult {
  bool ok = true;
  std::int64_t checked = 0;
  std::int64_t skipped = 0;  // kinks
  double worst_error = 0;    // |analytic − numeric| − tolerance, at its largest
  std::string report;        // the failures, one per line (at most 20)
};

// `layer` is a layer spec ({"type": "dense", "units": 3}); `input` the per-sample input shape.
GradientCheckResult check_layer_gradients(const Json& layer, const Shape& input, const GradientCheckOptions& options = {});

// `loss` is a loss spec; `prediction` the per-sample prediction shape. `make_targets` fills the
// targets (batch, target...); by default class labels for scalar targets, uniform(0, 1) otherwise.
GradientCheckResult check_loss_gradients(const Json& loss, const Shape& prediction, const GradientCheckOptions& options = {},
                                         const std::function<void(View)>& make_targets = {});

}  // namespace weft
