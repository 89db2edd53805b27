// conv1d / conv2d / conv3d / conv ("dims": 1..4): a grouped, strided, dilated, padded convolution
// over N·C·spatial inputs, written once for every number of spatial axes. Weight
// (filters, channels / groups, kernel...) and bias (filters) as PyTorch's ConvNd.
//
// Stride 1 (the usual case) takes the shifted-window path (window_conv.hpp), which reads the
// input in place; other strides unroll the windows of a block of samples into a column matrix
// (vol2col) in the shard's workspace and multiply it by the weight with one GEMM per group
// (conv_ops.hpp), and backward recomputes the columns instead of keeping them from forward.
// A 2-d convolution followed by 2 × 2 max pooling may run fused with it (conv_max_pool.cpp).
#include <algorithm>

#include "layers/conv/conv_ops.hpp"
#include "layers/conv/conv_settings.hpp"
#include "layers/conv/window_conv.hpp"
#include "layers/fused_activation.hpp"

namespace weft::builtin {
namespace {

constexpr std::size_t adjoint_slot = first_free_slot, masked_gradient_slot = first_free_slot + 1;

class Conv final : public Layer {
 public:
  Conv(const Config& c, const std::string& type, std::size_t fixed_dims)
      : s_(read_conv_settings(c, type, fixed_dims, max_spatial_dims, true)), activation_(read_fused_activation(c)) {}

  Shape infer(const Shape& input) override {
    check_conv_input(s_, input);
    shape_ = {slide(s_.window, input, s_.type), input[0], s_.filters, s_.groups};
    check_gemm_limits(shape_, s_.type);
    windowed_ = WindowConv::supports(shape_);
    if (windowed_) window_ = WindowConv(shape_);
    return channels_and(s_.filters, shape_.g.out, s_.window.dims);
  }

  std::vector<ParamDecl> parameters() const override {
    return conv_parameters(s_, s_.filters, shape_.in_channels / s_.groups);
  }

  void forward(const ForwardArgs& a) const override {
    const bool relu = activation_ == FusedActivation::relu;
    if (windowed_)
      return window_.forward(a.params[0].data(), s_.bias ? a.params[1].data() : nullptr, a.x.data(), a.x.shape()[0],
                             relu, a.y.data(), a.ws);
    const auto [n, p, block, cols_scratch, out_scratch, gemm] = conv_blocks(shape_, a.ws, a.x.shape()[0]);
    for (std::int64_t i = 0; i < n; i += block) {
      const std::int64_t nb = std::min(block, n - i);
      float* y = a.y.data() + i * shape_.out_size();
      float* out = nb == 1 ? y : out_scratch;
      if (s_.bias) fill_bias(a.params[1].data(), s_.filters, nb * p, out);
      const float* cols = columns(shape_, a.x.data() + i * shape_.in_size(), nb, cols_scratch);
      apply(shape_, a.params[0].data(), cols, nb, s_.bias ? 1.0f : 0.0f, out, gemm);
      if (nb > 1) from_block(out, s_.filters, p, nb, y);
    }
    if (relu) apply_relu(a.y.data(), a.y.size());
  }

  // dW reads x; the fused relu's mask reads y.
  BackwardNeeds backward_needs() const override {
    return {.inputs = true, .output = activation_ == FusedActivation::relu};
  }

  void backward(const BackwardArgs& a) const override {
    const bool relu = activation_ == FusedActivation::relu;
    if (windowed_)
      return window_.backward(a.params[0].data(), a.x.data(), relu ? a.y.data() : nullptr, a.dy.data(),
                              a.x.shape()[0], a.dx.empty() ? nullptr : a.dx.data(), a.grads[0].data(),
                              s_.bias ? a.grads[1].data() : nullptr, a.ws);
    const float* dy_all = a.dy.data();
    if (relu) {
      float* masked = a.ws.floats(masked_gradient_slot, a.dy.size()).data();
      mask_relu_gradient(a.y.data(), a.dy.data(), masked, a.dy.size());
      dy_all = masked;
    }
    const auto [n, p, block, cols_scratch, dy_scratch, gemm] = conv_blocks(shape_, a.ws, a.x.shape()[0]);
    float* adjoint_scratch =
        a.dx.empty() ? nullptr : a.ws.floats(adjoint_slot, static_cast<std::size_t>(shape_.column_rows() * block * p)).data();
    float* dw = a.grads[0].data();
    std::fill_n(dw, a.grads[0].size(), 0.0f);
    if (s_.bias) std::fill_n(a.grads[1].data(), s_.filters, 0.0f);
    for (std::int64_t i = 0; i < n; i += block) {
      const std::int64_t nb = std::min(block, n - i);
      const float* dy = to_block(dy_all + i * shape_.out_size(), s_.filters, p, nb, dy_scratch);
      add_weight_gradient(shape_, columns(shape_, a.x.data() + i * shape_.in_size(), nb, cols_scratch), dy, nb, dw, gemm);
      if (s_.bias) add_bias_gradient(dy, s_.filters, nb * p, a.grads[1].data());
      if (!a.dx.empty()) {
        float* dx = a.dx.data() + i * shape_.in_size();
        std::fill_n(dx, nb * shape_.in_size(), 0.0f);
        add_adjoint(shape_, a.params[0].data(), dy, nb, dx, adjoint_scratch, gemm);
      }
    }
  }

 private:
  ConvSettings s_;
  FusedActivation activation_;
  ConvShape shape_;
  bool windowed_ = false;  // stride 1: shifted windows (window_conv.hpp), else im2col + GEMM
  WindowConv window_;
};

}  // namespace

void register_conv_max_pool_fusion();  // conv_max_pool.cpp

void register_conv(Registries& r) {
  register_conv_max_pool_fusion();
  register_conv_family(r, "conv", max_spatial_dims, "convolution: weight (filters, channels/groups, kernel...)",
                       {{"activation", "none"}},
                       [](const Config& c, const std::string& type, std::size_t dims) {
                         return std::make_unique<Conv>(c, type, dims);
                       });
}

}  // namespace weft::builtin
