// Smooth activations of the transformer era: gelu, silu (swish) and softplus.
#include <cmath>
#include <numbers>

#include "layers/elementwise.hpp"

namespace weft::builtin {
namespace {

// σ(x) without overflow for large |x|.
double logistic(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

// gelu(x) = x·Φ(x) with Φ the standard normal CDF (exact: Φ(x) = (1 + erf(x/√2))/2), or with
// "approximate": "tanh", 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), both as PyTorch's GELU.
struct Gelu {
  explicit Gelu(const Config& c) : tanh_form(c.choice("approximate", {"none", "tanh"}) == "tanh") {}
  static constexpr double k = 0.044715;
  static double inner_scale() { return std::sqrt(2.0 / std::numbers::pi); }

  float value(float xf) const {
    const double x = xf;
    if (tanh_form) return static_cast<float>(0.5 * x * (1 + std::tanh(inner_scale() * (x + k * x * x * x))));
    return static_cast<float>(0.5 * x * (1 + std::erf(x / std::numbers::sqrt2)));
  }
  float derivative(float xf, float) const {
    const double x = xf;
    if (tanh_form) {
      const double t = std::tanh(inner_scale() * (x + k * x * x * x));
      return static_cast<float>(0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner_scale() * (1 + 3 * k * x * x));
    }
    // Φ(x) + x·φ(x)
    const double pdf = std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi);
    return static_cast<float>(0.5 * (1 + std::erf(x / std::numbers::sqrt2)) + x * pdf);
  }
  static constexpr BackwardNeeds needs{.inputs = true, .output = false};
  bool tanh_form;
};

// silu(x) = x·σ(x); f'(x) = σ(x)·(1 + x·(1 − σ(x))).
struct Silu {
  explicit Silu(const Config&) {}
  float value(float x) const { return static_cast<float>(x * logistic(x)); }
  float derivative(float x, float) const {
    const double s = logistic(x);
    return static_cast<float>(s * (1 + x * (1 - s)));
  }
  static constexpr BackwardNeeds needs{.inputs = true, .output = false};
};

// softplus(x) = log(1 + exp(β·x))/β, and x itself where β·x > threshold (PyTorch's Softplus);
// f'(x) = σ(β·x).
struct Softplus {
  explicit Softplus(const Config& c)
      : beta(c.number("beta", 0.0, std::numeric_limits<double>::infinity(), true)), threshold(c.number("threshold")) {}
  float value(float x) const {
    const double bx = beta * x;
    if (bx > threshold) return x;
    // log(1 + e^z) = max(z, 0) + log1p(e^−|z|): no overflow, no lost digits for z ≪ 0.
    return static_cast<float>((std::max(bx, 0.0) + std::log1p(std::exp(-std::abs(bx)))) / beta);
  }
  float derivative(float x, float) const {
    const double bx = beta * x;
    return bx > threshold ? 1.0f : static_cast<float>(logistic(bx));
  }
  static constexpr BackwardNeeds needs{.inputs = true, .output = false};
  double beta, threshold;
};

}  // namespace

void register_smooth_activations(Registries& r) {
  add_elementwise<Gelu>(r, "gelu", "x·Φ(x), Φ the normal CDF (erf form; \"approximate\": \"tanh\" for the tanh form)",
                        {{"approximate", "none"}});
  add_elementwise<Silu>(r, "silu", "x·sigmoid(x)");
  add_elementwise<Silu>(r, "swish", "x·sigmoid(x) (the same as silu)");
  add_elementwise<Softplus>(r, "softplus", "log(1 + exp(beta·x))/beta; x where beta·x > threshold",
                            {{"beta", 1.0}, {"threshold", 20.0}});
}

}  // namespace weft::builtin
