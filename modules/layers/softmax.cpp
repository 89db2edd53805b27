// softmax and log_softmax over the feature axis of an N·C input, or over the channel axis at
// each position of an N·C·spatial input (PyTorch's Softmax(dim=1)).
//   softmax:     y_c = exp(x_c − max) / Σ_k exp(x_k − max)        dx_c = y_c·(dy_c − Σ_k dy_k·y_k)
//   log_softmax: y_c = x_c − max − log Σ_k exp(x_k − max)         dx_c = dy_c − exp(y_c)·Σ_k dy_k
// Subtracting the maximum keeps exp() from overflowing; the sums run in double.
#include <cmath>

#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

class Softmax final : public Layer {
 public:
  explicit Softmax(bool log) : log_(log) {}

  Shape infer(const Shape& input) override {
    if (input.rank() < 1 || input[0] < 1) throw ShapeError("softmax needs (features,) or (channels, spatial...) per sample");
    channels_ = input[0];
    stride_ = input.numel() / channels_;
    return input;
  }

  void forward(const ForwardArgs& a) const override {
    for_each_row(a.x.shape()[0], [&](std::int64_t base) {
      const float* x = a.x.data() + base;
      float* y = a.y.data() + base;
      float top = x[0];
      for (std::int64_t c = 1; c < channels_; ++c) top = std::max(top, x[c * stride_]);
      double sum = 0;
      for (std::int64_t c = 0; c < channels_; ++c) sum += std::exp(double(x[c * stride_]) - top);
      const double log_sum = std::log(sum);
      for (std::int64_t c = 0; c < channels_; ++c) {
        const double shifted = double(x[c * stride_]) - top;
        y[c * stride_] = static_cast<float>(log_ ? shifted - log_sum : std::exp(shifted - log_sum));
      }
    });
  }

  // The Jacobian is written with y alone (softmax: y·(dy − Σdy·y); log_softmax: dy − exp(y)·Σdy).
  BackwardNeeds backward_needs() const override { return {.inputs = false, .output = true}; }

  void backward(const BackwardArgs& a) const override {
    if (a.dx.empty()) return;
    for_each_row(a.x.shape()[0], [&](std::int64_t base) {
      const float *y = a.y.data() + base, *dy = a.dy.data() + base;
      float* dx = a.dx.data() + base;
      double dot = 0;  // Σ dy·y (softmax) or Σ dy (log_softmax)
      for (std::int64_t c = 0; c < channels_; ++c) dot += log_ ? double(dy[c * stride_]) : double(dy[c * stride_]) * y[c * stride_];
      for (std::int64_t c = 0; c < channels_; ++c) {
        const std::int64_t k = c * stride_;
        dx[k] = static_cast<float>(log_ ? dy[k] - std::exp(double(y[k])) * dot : y[k] * (dy[k] - dot));
      }
    });
  }

 private:
  // Calls f(offset of element (sample i, channel 0, position s)) for every sample and position.
  template <class F>
  void for_each_row(std::int64_t n, F&& f) const {
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t s = 0; s < stride_; ++s) f(i * channels_ * stride_ + s);
  }

  bool log_;
  std::int64_t channels_ = 0, stride_ = 1;
};

}  // namespace

void register_softmax(Registries& r) {
  r.layers.add({"softmax", "exp(x) normalised to sum 1 over the features (the channel axis of N·C·spatial)",
                Json::object(), [](const Config&) { return std::make_unique<Softmax>(false); }});
  r.layers.add({"log_softmax", "log of softmax, computed stably (x − max − log Σ exp(x − max))", Json::object(),
                [](const Config&) { return std::make_unique<Softmax>(true); }});
}

}  // namespace weft::builtin
