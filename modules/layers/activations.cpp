// Elementwise activations: the classic ones and the piecewise family around relu. The smooth
// modern ones (gelu, silu, softplus) live in smooth_activations.cpp.
#include <algorithm>
#include <cmath>

#include "layers/elementwise.hpp"

namespace weft::builtin {
namespace {

struct Relu {
  explicit Relu(const Config&) {}
  float value(float x) const { return x < 0.0f ? 0.0f : x; }  // NaN passes through, as it must
  // y > 0 exactly where x > 0 (NaN: neither), so only the output is kept for backward.
  float derivative(float, float y) const { return y > 0.0f ? 1.0f : 0.0f; }
  static constexpr BackwardNeeds needs{.inputs = false, .output = true};
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
  static constexpr BackwardNeeds needs{.inputs = false, .output = true};
};

struct Tanh {
  explicit Tanh(const Config&) {}
  float value(float x) const { return std::tanh(x); }
  float derivative(float, float y) const { return 1.0f - y * y; }
  static constexpr BackwardNeeds needs{.inputs = false, .output = true};
};

struct Identity {
  explicit Identity(const Config&) {}
  float value(float x) const { return x; }
  float derivative(float, float) const { return 1.0f; }
  static constexpr BackwardNeeds needs{.inputs = false, .output = false};
};

// x for x >= 0, slope·x below (PyTorch's LeakyReLU, negative_slope).
struct LeakyRelu {
  explicit LeakyRelu(const Config& c) : slope(static_cast<float>(c.number("slope"))) {}
  float value(float x) const { return x < 0.0f ? slope * x : x; }
  float derivative(float x, float) const { return x > 0.0f ? 1.0f : slope; }
  static constexpr BackwardNeeds needs{.inputs = true, .output = false};  // any slope, even 0 or < 0
  float slope;
};

// x for x > 0, alpha·(exp(x) − 1) below; below zero f'(x) = alpha·exp(x) = y + alpha.
struct Elu {
  explicit Elu(const Config& c) : alpha(static_cast<float>(c.number("alpha", 0.0))) {}
  float value(float x) const { return x > 0.0f ? x : alpha * std::expm1(x); }
  float derivative(float x, float y) const { return x > 0.0f ? 1.0f : y + alpha; }
  static constexpr BackwardNeeds needs{};
  float alpha;
};

// scale·elu(x; alpha) with the self-normalising constants of Klambauer et al. (2017).
struct Selu {
  static constexpr float alpha = 1.6732632423543772848f;
  static constexpr float scale = 1.0507009873554804934f;
  explicit Selu(const Config&) {}
  float value(float x) const { return x > 0.0f ? scale * x : scale * alpha * std::expm1(x); }
  float derivative(float x, float y) const { return x > 0.0f ? scale : y + scale * alpha; }
  static constexpr BackwardNeeds needs{};
};

// PyTorch's Hardsigmoid: relu6(x + 3)/6 = clamp(x/6 + 1/2, 0, 1).
struct HardSigmoid {
  explicit HardSigmoid(const Config&) {}
  float value(float x) const { return std::clamp(x / 6.0f + 0.5f, 0.0f, 1.0f); }
  float derivative(float x, float) const { return x > -3.0f && x < 3.0f ? 1.0f / 6.0f : 0.0f; }
  static constexpr BackwardNeeds needs{.inputs = true, .output = false};
};

}  // namespace

void register_activations(Registries& r) {
  add_elementwise<Relu>(r, "relu", "max(x, 0)");
  add_elementwise<Sigmoid>(r, "sigmoid", "1 / (1 + exp(-x))");
  add_elementwise<Tanh>(r, "tanh", "hyperbolic tangent");
  add_elementwise<Identity>(r, "identity", "y = x");
  add_elementwise<LeakyRelu>(r, "leaky_relu", "x for x >= 0, slope·x below", {{"slope", 0.01}});
  add_elementwise<Elu>(r, "elu", "x for x > 0, alpha·(exp(x) − 1) below", {{"alpha", 1.0}});
  add_elementwise<Selu>(r, "selu", "1.0507·(x for x > 0, 1.6733·(exp(x) − 1) below)");
  add_elementwise<HardSigmoid>(r, "hard_sigmoid", "relu6(x + 3)/6 = clamp(x/6 + 1/2, 0, 1) as PyTorch");
}

}  // namespace weft::builtin
