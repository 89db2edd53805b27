#pragma once
// A layer that applies a scalar function to every element: y = f(x), dx = dy · f'(x).
// `Fn` is built from the layer's Config and provides
//   float value(float x) const;
//   float derivative(float x, float y) const;   // f'(x), given y = f(x) to save recomputation
//   static constexpr BackwardNeeds needs;         // which of x and y derivative() reads
#include <algorithm>

#include "weft/registry.hpp"

namespace weft::builtin {

template <class Fn>
class Elementwise final : public Layer {
 public:
  explicit Elementwise(const Config& c) : fn_(c) {}

  Shape infer(const Shape& input) override { return input; }
  BackwardNeeds backward_needs() const override { return Fn::needs; }

  // The executor never aliases a layer's input, output and gradients: __restrict lets the
  // compiler vectorise without run-time overlap checks.
  void forward(const ForwardArgs& a) const override {
    const float* __restrict x = a.x.data();
    float* __restrict y = a.y.data();
    const std::size_t n = a.x.size();
    for (std::size_t i = 0; i < n; ++i) y[i] = fn_.value(x[i]);
  }

  // dx = dy · f'(x) in two passes over blocks that stay in L1. One fused loop is not vectorised
  // when f' is a select of constants (relu: 1 or 0): GCC folds dy·1 to dy and keeps a branch,
  // because it may not multiply speculatively (-ftrapping-math). Same products, same bits.
  void backward(const BackwardArgs& a) const override {
    if (a.dx.empty()) return;
    const float *__restrict x = a.x.data(), *__restrict y = a.y.data(), *__restrict dy = a.dy.data();
    float* __restrict dx = a.dx.data();
    const std::size_t n = a.dy.size();
    constexpr std::size_t block = 256;
    float derivative[block];
    for (std::size_t begin = 0; begin < n; begin += block) {
      const std::size_t m = std::min(block, n - begin);
      for (std::size_t i = 0; i < m; ++i) derivative[i] = fn_.derivative(x[begin + i], y[begin + i]);
      for (std::size_t i = 0; i < m; ++i) dx[begin + i] = dy[begin + i] * derivative[i];
    }
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
