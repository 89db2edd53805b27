// Elementwise activations.
#include <cmath>

#include "layers/elementwise.hpp"

namespace weft::builtin {
namespace {

struct Relu {
  explicit Relu(const Config&) {}
  float value(float x) const { return x < 0.0f ? 0.0f : x; }  // NaN passes through, as it must
  float derivative(float x, float) const { return x > 0.0f ? 1.0f : 0.0f; }
};

struct Sigmoid {
  explicit Sigmoid(const Config&) {}
  float value(float x) const {
    // Two branches keep exp() from overflowing for large |x|.
    if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
    const float e = std::exp(x);
    return e / (1.0f + e);
  }
  float derivative(float, float y) const { return y * (1.0f - y); }
};

struct Tanh {
  explicit Tanh(const Config&) {}
  float value(float x) const { return std::tanh(x); }
  float derivative(float, float y) const { return 1.0f - y * y; }
};

}  // namespace

void register_activations(Registries& r) {
  add_elementwise<Relu>(r, "relu", "max(x, 0)");
  add_elementwise<Sigmoid>(r, "sigmoid", "1 / (1 + exp(-x))");
  add_elementwise<Tanh>(r, "tanh", "hyperbolic tangent");
}

}  // namespace weft::builtin
