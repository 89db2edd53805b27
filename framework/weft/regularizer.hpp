#pragma once
// The Regularizer interface, attached per layer in the spec:
//
//   {"type": "dense", "units": 64, "regularizer": {"type": "l2", "l2": 1e-4},
//    "activity_regularizer": {"type": "kl_sparsity", "rho": 0.05, "beta": 3}}
//
// A weight penalty (l1, l2, elastic_net) sees each of the layer's parameters (biases only with
// "include_bias": true); the trainer adds its value to the reported loss and its gradient to the
// parameter gradient before clipping and the optimizer step.
//
// An activity penalty sees the layer's output over the whole mini-batch through one statistic per
// output element: the batch mean m_j of moment(a_ij). The penalty is a function P(m) of those
// means, so it does not depend on how the batch is sharded; the executor adds
//
//   dP/da_ij = dP/dm_j · moment'(a_ij) / batch
// to the layer's output gradient. Activity penalties count in training passes only.
#include <span>

#include "weft/config.hpp"

namespace weft {

// A penalty added to the loss, either on a layer's weights or on its output (see the file
// comment); registered by name in Registries::regularizers.
class Regularizer {
 public:
  virtual ~Regularizer() = default;

  // true: an activity penalty (the spec's "activity_regularizer"); false: a weight penalty
  // ("regularizer"). The model refuses one given in the other's place.
  virtual bool is_activity() const = 0;

  // Weight penalties. Whether biases are penalised too.
  virtual bool includes_bias() const { return false; }
  // Returns the penalty of `w` and adds its gradient to `grad` (same size).
  virtual double weight_penalty(std::span<const float> /*w*/, std::span<float> /*grad*/) const { return 0; }

  // Activity penalties. The per-element statistic averaged over the batch, and its derivative.
  virtual float moment(float /*a*/) const { return 0; }
  virtual float moment_derivative(float /*a*/) const { return 0; }  // d moment(a) / da
  // Returns P(mean) and writes dP/dmean into `dmean` (same size).
  virtual double activity_penalty(std::span<const double> /*mean*/, std::span<double> /*dmean*/) const { return 0; }
};

}  // namespace weft
