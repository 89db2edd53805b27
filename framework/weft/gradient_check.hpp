#pragma once
// A generic finite-difference gradient checker for layers and losses, usable from any test
// (ours or a plugin author's). A layer is built through the registry inside a one-layer Model
// and run by the real Executor, several shards per batch, so what is checked is what trains.
//
// For a layer, the objective is L = Σ r·y with a fixed random r; backward() from dy = r must
// match central differences (L(θ + h) − L(θ − h)) / 2h for sampled inputs and parameters.
// Points where the function is not smooth within ±h (a kink: ReLU at 0, a max-pool tie) are
// skipped and counted, as Caffe's checker does, and too many skips fail the check.
//
// Beyond the values, the checker holds a layer to the Layer contract (weft/layer.hpp):
// - every buffer a pass must write (output, dx, each parameter gradient) is filled with NaN
//   first, and none may survive the pass;
// - backward runs a second time over buffers filled with finite garbage, and must give the
//   same bits: a layer that adds into its gradients, or reads them before writing, fails;
// - as the first layer (dx empty) it must still write the same parameter gradients.
// A loss is held to the same rules for its d(loss)/d(prediction), shard by shard.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "weft/config.hpp"
#include "weft/tensor.hpp"

namespace weft {

// How hard check_layer_gradients() and check_loss_gradients() look; the defaults are the
// project's standard for every module.
struct GradientCheckOptions {
  std::int64_t batch = 5;        // samples in the batch
  std::int64_t shard_size = 2;   // several shards, the last one smaller
  bool training = true;          // training-mode pass (batch statistics, dropout)
  std::uint64_t seed = 7;        // keys the inputs, parameters and the sampled coordinates
  // h. A power of two, so that x ± h and x ± h/2 are exact in float for |x| < 2^15 and the steps
  // taken are the steps asked for; large enough that float rounding of the outputs, divided by
  // h, stays far below the tolerance; small enough that the central difference's h²·f'''/6 does.
  double step = 1.0 / 64;
  // An element passes when |analytic − numeric| ≤ rel·max(|analytic|, |numeric|) + floor·typical,
  // typical being the root mean square of the tensor's numeric gradient. With these values a 1 %
  // error fails in every element larger than a sixth of typical (0.01·g > 0.004·1.01·g +
  // 0.001·typical); the floor absorbs float noise in elements near zero, whatever the tensor's
  // scale (a layer's order 1, a loss's 0.01). Every built-in case passes with at most a quarter
  // of this tolerance used (layer_norm, in elements near zero, where float rounding dominates).
  double rel_tolerance = 4e-3;
  double floor_tolerance = 1e-3;  // the `floor` of the rule above
  double max_skipped_fraction = 0.2;     // of the points tried: more would leave too little checked
  std::int64_t samples_per_tensor = 60;  // coordinates checked per input/parameter tensor
  double input_scale = 1.0;      // inputs ~ uniform(-scale, scale)
};

// Why a check failed.
enum class GradientFault {
  mismatch,         // an analytic element differs from its finite difference beyond tolerance
  unwritten,        // NaN poison survived a pass in the output, dx or a parameter gradient
  state_dependent,  // backward over differently dirty buffers gave other bits (+= or read before write)
  first_layer,      // with dx empty, parameter gradients left unwritten or different from the dx pass
  too_many_kinks,   // more points skipped as kinks than max_skipped_fraction allows
};
std::string to_string(GradientFault fault);  // the enumerator's name, e.g. "unwritten"

// What a check found; ok is false when any fault was found.
struct GradientCheckResult {
  bool ok = true;            // no fault
  std::int64_t checked = 0;  // coordinates compared with their finite difference
  std::int64_t skipped = 0;  // kinks
  double worst_ratio = 0;    // largest |analytic − numeric| / tolerance over the checked points
  std::vector<GradientFault> faults;  // each fault found, once
  std::string report;        // the failures, one per line (at most 20)

  bool has(GradientFault fault) const;  // whether `fault` is among faults
};

// `layer` is a layer spec ({"type": "dense", "units": 3}); `input` the per-sample input shape.
GradientCheckResult check_layer_gradients(const Json& layer, const Shape& input, const GradientCheckOptions& options = {});
// A layer reading several inputs (add, concat): one per-sample shape per input, in order.
GradientCheckResult check_layer_gradients(const Json& layer, const std::vector<Shape>& inputs,
                                          const GradientCheckOptions& options = {});
// A whole model spec (a graph with fan-out, several inputs): d(Σ r·output) with respect to every
// model input and parameter, under the same rules. Its loss, optimizer and training are ignored.
GradientCheckResult check_model_gradients(const Json& spec, const GradientCheckOptions& options = {});

// `loss` is a loss spec; `prediction` the per-sample prediction shape. `make_targets` fills the
// targets (batch, target...); by default class labels for scalar targets, uniform(0, 1) otherwise.
GradientCheckResult check_loss_gradients(const Json& loss, const Shape& prediction, const GradientCheckOptions& options = {},
                                         const std::function<void(View)>& make_targets = {});

}  // namespace weft
