#pragma once
// The Initializer interface: fills a freshly allocated parameter from the counter-based RNG.
#include "weft/config.hpp"
#include "weft/rng.hpp"
#include "weft/tensor.hpp"

namespace weft {

// PyTorch's convention: for a shape (out, in, k...) fan_in = in·k..., fan_out = out·k...;
// a vector (a bias) has fan_in = fan_out = its length.
struct Fans {
  double fan_in = 1;   // inputs feeding one output element
  double fan_out = 1;  // outputs fed by one input element
};
Fans fans_of(const Shape& shape);  // the convention above; a scalar shape has fans 1

// Fills one parameter or buffer; registered by name in Registries::initializers and chosen per
// tensor by the layer's ParamDecl::init or the spec.
class Initializer {
 public:
  virtual ~Initializer() = default;
  // Element i must come from rng's counter i (and following), never from hidden state.
  virtual void fill(View w, const Fans& fans, const CounterRng& rng) const = 0;
};

}  // namespace weft
