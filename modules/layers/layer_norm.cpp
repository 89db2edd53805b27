// layer_norm: normalises each sample over its own features (PyTorch's LayerNorm), so unlike
// batch_norm it needs no batch statistics and behaves the same in training and evaluation.
// "axes": k normalises over the last k per-sample axes (PyTorch's normalized_shape = those axes);
// 0, the default, over all of them. With "affine", a scale γ and shift β of the normalised shape:
//   y = γ·x̂ + β,  x̂ = (x − mean)/sqrt(var + ε)   (mean, biased var over the row)
//   dx = (g − mean(g) − x̂·mean(g·x̂))/sqrt(var + ε),  g = dy·γ;  dγ = Σ dy·x̂,  dβ = Σ dy
#include <cmath>

#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

class LayerNorm final : public Layer {
 public:
  explicit LayerNorm(const Config& c)
      : eps_(c.number("eps", 0.0, 1.0, true)), affine_(c.boolean("affine")), axes_(c.integer("axes", 0, Shape::max_rank)) {}

  Shape infer(const Shape& input) override {
    const std::size_t axes = axes_ == 0 ? input.rank() : static_cast<std::size_t>(axes_);
    if (input.rank() == 0 || axes > input.rank())
      throw ShapeError("layer_norm over the last " + std::to_string(axes) + " axes needs a per-sample input of at least " +
                       "that rank");
    normalized_ = Shape(input.dims().subspan(input.rank() - axes));
    row_ = normalized_.numel();
    if (row_ < 1) throw ShapeError("layer_norm needs at least one value to normalise");
    return input;
  }

  std::vector<ParamDecl> parameters() const override {
    if (!affine_) return {};
    return {{"weight", normalized_, "ones", false}, {"bias", normalized_, "zeros", true}};
  }

  void forward(const ForwardArgs& a) const override {
    const float* gamma = affine_ ? a.params[0].data() : nullptr;
    const float* beta = affine_ ? a.params[1].data() : nullptr;
    for (std::int64_t r = 0; r < rows(a.x); ++r) {
      const float* x = a.x.data() + r * row_;
      float* y = a.y.data() + r * row_;
      const Moments m = moments(x);
      for (std::int64_t j = 0; j < row_; ++j) {
        const float xhat = (x[j] - m.mean) * m.inv_std;
        y[j] = affine_ ? xhat * gamma[j] + beta[j] : xhat;
      }
    }
  }

  // The row moments and x̂ are recomputed from x.
  BackwardNeeds backward_needs() const override { return {.inputs = true, .output = false}; }

  void backward(const BackwardArgs& a) const override {
    const float* gamma = affine_ ? a.params[0].data() : nullptr;
    float* dgamma = affine_ ? a.grads[0].data() : nullptr;
    float* dbeta = affine_ ? a.grads[1].data() : nullptr;
    if (affine_) {
      std::fill_n(dgamma, row_, 0.0f);
      std::fill_n(dbeta, row_, 0.0f);
    }
    for (std::int64_t r = 0; r < rows(a.x); ++r) {
      const float *x = a.x.data() + r * row_, *dy = a.dy.data() + r * row_;
      const Moments m = moments(x);
      double sum_g = 0, sum_gx = 0;
      for (std::int64_t j = 0; j < row_; ++j) {
        const float xhat = (x[j] - m.mean) * m.inv_std;
        const float g = affine_ ? dy[j] * gamma[j] : dy[j];
        sum_g += g;
        sum_gx += double(g) * xhat;
        if (affine_) {
          dgamma[j] += dy[j] * xhat;
          dbeta[j] += dy[j];
        }
      }
      if (a.dx.empty()) continue;
      const auto mean_g = static_cast<float>(sum_g / static_cast<double>(row_)),
                 mean_gx = static_cast<float>(sum_gx / static_cast<double>(row_));
      float* dx = a.dx.data() + r * row_;
      for (std::int64_t j = 0; j < row_; ++j) {
        const float xhat = (x[j] - m.mean) * m.inv_std;
        const float g = affine_ ? dy[j] * gamma[j] : dy[j];
        dx[j] = (g - mean_g - xhat * mean_gx) * m.inv_std;
      }
    }
  }

 private:
  struct Moments {
    float mean, inv_std;
  };

  std::int64_t rows(ConstView x) const { return x.numel() / row_; }

  // Mean and 1/sqrt(biased variance + ε) of one row, two passes in double.
  Moments moments(const float* x) const {
    double sum = 0;
    for (std::int64_t j = 0; j < row_; ++j) sum += x[j];
    const double mean = sum / static_cast<double>(row_);
    double m2 = 0;
    for (std::int64_t j = 0; j < row_; ++j) m2 += (x[j] - mean) * (x[j] - mean);
    return {static_cast<float>(mean), static_cast<float>(1.0 / std::sqrt(m2 / static_cast<double>(row_) + eps_))};
  }

  double eps_;
  bool affine_;
  std::int64_t axes_;
  Shape normalized_;
  std::int64_t row_ = 1;
};

}  // namespace

void register_layer_norm(Registries& r) {
  r.layers.add({"layer_norm",
                "normalise each sample over its last `axes` axes (0: all), then scale and shift (PyTorch's LayerNorm)",
                {{"eps", 1e-5}, {"affine", true}, {"axes", 0}},
                [](const Config& c) { return std::make_unique<LayerNorm>(c); }});
}

}  // namespace weft::builtin
