#pragma once
// A layer that applies a scalar function to every element: y = f(x), dx = dy · f'(x).
// `Fn` is built from the layer's Config and provides
//   float value(float x) const;
//   float derivative(float x, float y) const;   // f'(x), given y = f(x) to save recomputation
#include "weft/registry.hpp"

namespace weft::builtin {

template <class Fn>
class Elementwise final : public Layer {
 public:
  explicit Elementwise(const Config& c) : fn_(c) {}

  Shape infer(const Shape& input) override { return input; }

  void forward(const ForwardArgs& a) const override {
    const float* x = a.x.data();
    float* y = a.y.data();
    const std::size_t n = a.x.size();
    for (std::size_t i = 0; i < n; ++i) y[i] = fn_.value(x[i]);
  }

  void backward(const BackwardArgs& a) const override {
    if (a.dx.empty()) return;
    const float *x = a.x.data(), *y = a.y.data(), *dy = a.dy.data();
    float* dx = a.dx.data();
    const std::size_t n = a.x.size();
    for (std::size_t i = 0; i < n; ++i) dx[i] = dy[i] * fn_.derivative(x[i], y[i]);
  }

 private:
  Fn fn_;
};

// Registers Elementwise<Fn> as `name` with the settings `defaults`.
template <class Fn>
void add_elementwise(Registries& r, std::string name, std::string summary, Json defaults = Json::object()) {
  r.layers.add({std::move(name), std::move(summary), std::move(defaults),
                [](const Config& c) { return std::make_unique<Elementwise<Fn>>(c); }});
}

}  // namespace weft::builtin
