// conv_transpose1d/2d/3d and conv_transpose ("dims": 1..3): the adjoint of a convolution
// ("deconvolution"), as PyTorch's ConvTransposeNd. Weight (channels, filters / groups, kernel...),
// bias (filters). Output extent per axis:
//   (in − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1
//
// It is written as the convolution it transposes — input = this layer's output, output = this
// layer's input — so its forward is that convolution's input gradient and its input gradient is
// that convolution's forward (see conv_ops.hpp).
#include <algorithm>

#include "layers/conv/conv_ops.hpp"
#include "layers/conv/conv_settings.hpp"

namespace weft::builtin {
namespace {

class ConvTranspose final : public Layer {
 public:
  ConvTranspose(const Config& c, const std::string& type, std::size_t fixed_dims)
      : s_(read_conv_settings(c, type, fixed_dims, 3, false)) {
    const auto op = c.integers("output_padding", s_.window.dims, 0);
    for (std::size_t d = 0; d < s_.window.dims; ++d) {
      output_padding_[d] = op[d];
      if (op[d] >= s_.window.stride[d] && op[d] >= s_.window.dilation[d])
        c.fail("output_padding", "smaller than the stride or the dilation on every axis");
    }
  }

  Shape infer(const Shape& input) override {
    check_conv_input(s_, input);
    WindowGeometry g;
    g.dims = s_.window.dims;
    g.kernel = s_.window.kernel;
    g.stride = s_.window.stride;
    g.dilation = s_.window.dilation;
    g.pad_before = s_.window.padding;
    for (std::size_t d = 0; d < g.dims; ++d) {
      g.out[d] = input[d + 1];
      g.in[d] = (g.out[d] - 1) * g.stride[d] - 2 * s_.window.padding[d] + g.dilation[d] * (g.kernel[d] - 1) +
                output_padding_[d] + 1;
      if (g.in[d] < 1)
        throw ShapeError(s_.type + " would produce an empty output on spatial axis " + std::to_string(d + 1) + " (" +
                         std::to_string(g.in[d]) + "): padding " + std::to_string(s_.window.padding[d]) +
                         " is too large for an input extent of " + std::to_string(g.out[d]));
    }
    shape_ = {g, s_.filters, input[0], s_.groups};
    check_gemm_limits(shape_, s_.type);
    return channels_and(s_.filters, g.in, g.dims);
  }

  std::vector<ParamDecl> parameters() const override {
    return conv_parameters(s_, shape_.out_channels, s_.filters / s_.groups);
  }

  // In the convolution's terms this layer's input x is the "output" side (shape_.out_channels ×
  // P positions) and its output y the "input" side (filters × g.in).
  void forward(const ForwardArgs& a) const override {
    const auto [n, p, block, cols_scratch, x_scratch, gemm] = conv_blocks(shape_, a.ws, a.x.shape()[0]);
    for (std::int64_t i = 0; i < n; i += block) {
      const std::int64_t nb = std::min(block, n - i);
      float* y = a.y.data() + i * shape_.in_size();
      for (std::int64_t j = 0; j < nb; ++j) {
        if (s_.bias) {
          fill_bias(a.params[1].data(), s_.filters, shape_.g.in_count(), y + j * shape_.in_size());
        } else {
          std::fill_n(y + j * shape_.in_size(), shape_.in_size(), 0.0f);
        }
      }
      const float* x = to_block(a.x.data() + i * shape_.out_size(), shape_.out_channels, p, nb, x_scratch);
      add_adjoint(shape_, a.params[0].data(), x, nb, y, cols_scratch, gemm);
    }
  }

  // dW reads x (no fused activation here).
  BackwardNeeds backward_needs() const override { return {.inputs = true, .output = false}; }

  void backward(const BackwardArgs& a) const override {
    const auto [n, p, block, cols_scratch, block_scratch, gemm] = conv_blocks(shape_, a.ws, a.x.shape()[0]);
    float* dw = a.grads[0].data();
    std::fill_n(dw, a.grads[0].size(), 0.0f);
    if (s_.bias) std::fill_n(a.grads[1].data(), s_.filters, 0.0f);
    for (std::int64_t i = 0; i < n; i += block) {
      const std::int64_t nb = std::min(block, n - i);
      const float* dy = a.dy.data() + i * shape_.in_size();
      const float* cols = columns(shape_, dy, nb, cols_scratch);
      add_weight_gradient(shape_, cols, to_block(a.x.data() + i * shape_.out_size(), shape_.out_channels, p, nb, block_scratch),
                          nb, dw, gemm);
      if (s_.bias)
        for (std::int64_t j = 0; j < nb; ++j)
          add_bias_gradient(dy + j * shape_.in_size(), s_.filters, shape_.g.in_count(), a.grads[1].data());
      if (a.dx.empty()) continue;
      float* dx = a.dx.data() + i * shape_.out_size();
      // The block scratch is free again: the weight gradient has consumed x's block.
      apply(shape_, a.params[0].data(), cols, nb, 0.0f, nb == 1 ? dx : block_scratch, gemm);
      if (nb > 1) from_block(block_scratch, shape_.out_channels, p, nb, dx);
    }
  }

 private:
  ConvSettings s_;
  WindowGeometry::Extents output_padding_{};
  ConvShape shape_;  // the convolution this layer transposes
};

}  // namespace

void register_conv_transpose(Registries& r) {
  register_conv_family(r, "conv_transpose", 3, "transposed convolution: weight (channels, filters/groups, kernel...)",
                       {{"output_padding", 0}}, [](const Config& c, const std::string& type, std::size_t dims) {
                         return std::make_unique<ConvTranspose>(c, type, dims);
                       });
}

}  // namespace weft::builtin
