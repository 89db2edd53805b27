// The fusion of a 2-d convolution (relu or no activation, stride 1: the shifted-window path)
// with the 2 × 2, stride-2 max pooling that alone reads its output (weft/layer_fusion.hpp):
// window_conv.hpp pools straight from each sample's product grid while it is in cache, and the
// backward pass routes the pooled gradient straight into the grid the gradient products read.
// The convolution's output and its gradient, four times the pooled size, are never written.
// On fashion_cnn they were a third of a training step's memory traffic.

#include "layers/conv/conv_settings.hpp"
#include "layers/conv/window_conv.hpp"
#include "layers/fused_activation.hpp"
#include "weft/layer_fusion.hpp"

namespace weft::builtin {
namespace {

// Each window's argmax (a position in the convolution's input grid) goes to the workspace's
// first int slot, which forward fills for backward.
constexpr std::size_t argmax_slot = 0;

class ConvMaxPool final : public Layer {
 public:
  ConvMaxPool(ConvSettings conv, bool relu, WindowSettings pool) : s_(std::move(conv)), relu_(relu), pool_(pool) {}

  Shape infer(const Shape& input) override {
    check_conv_input(s_, input);
    shape_ = {slide(s_.window, input, s_.type), input[0], s_.filters, s_.groups};
    if (WindowConv::supports(shape_)) window_ = WindowConv(shape_);
    pool_geometry_ = slide(pool_, channels_and(s_.filters, shape_.g.out, 2), "max_pool2d");
    return channels_and(s_.filters, pool_geometry_.out, 2);
  }

  // Whether infer() found a shape this fusion covers: stride-1 convolution, whole 2 × 2 windows.
  bool fuses(const Shape& input) const {
    if (input.rank() != 3 || !WindowConv::supports(shape_)) return false;
    const WindowGeometry& g = pool_geometry_;
    for (std::size_t d = 0; d < 2; ++d)
      if (g.kernel[d] != 2 || g.stride[d] != 2 || g.dilation[d] != 1 || g.pad_before[d] != 0 ||
          g.out[d] != shape_.g.out[d] / 2)
        return false;
    return true;
  }

  std::vector<ParamDecl> parameters() const override {
    return conv_parameters(s_, s_.filters, shape_.in_channels / s_.groups);
  }

  void forward(const ForwardArgs& a) const override {
    window_.forward_max_pool_2x2(a.params[0].data(), s_.bias ? a.params[1].data() : nullptr, a.x.data(),
                                 a.x.shape()[0], relu_, a.y.data(), argmax(a.ws, a.y.size()), a.ws);
  }

  // dW reads x; the argmax is in the workspace; the fused relu's mask reads y, the pooled
  // output (which equals the convolution's output at the argmax).
  BackwardNeeds backward_needs() const override { return {.inputs = true, .output = relu_}; }

  // Needs the forward pass of the same shard just before (the executor's order).
  void backward(const BackwardArgs& a) const override {
    window_.backward_max_pool_2x2(a.params[0].data(), a.x.data(), a.y.data(), argmax(a.ws, a.y.size()), a.dy.data(),
                                  a.x.shape()[0], relu_, a.dx.empty() ? nullptr : a.dx.data(), a.grads[0].data(),
                                  s_.bias ? a.grads[1].data() : nullptr, a.ws);
  }

 private:
  static std::int32_t* argmax(Workspace& ws, std::size_t count) { return ws.ints(argmax_slot, count).data(); }

  ConvSettings s_;
  bool relu_;
  WindowSettings pool_;
  ConvShape shape_;
  WindowGeometry pool_geometry_;  // the pooling's windows over the convolution's output
  WindowConv window_;
};

// Spatial axes of a conv or max_pool layer: fixed by a "<name>2d" type, else its "dims".
std::size_t dims_of(const std::string& type, const Config& c) {
  return type.ends_with("2d") ? 2 : static_cast<std::size_t>(c.integer("dims"));
}

std::unique_ptr<Layer> fuse(const std::string& conv_type, const Config& conv, const std::string& pool_type,
                            const Config& pool, const Shape& input) {
  if (dims_of(conv_type, conv) != 2 || dims_of(pool_type, pool) != 2) return nullptr;
  auto layer = std::make_unique<ConvMaxPool>(read_conv_settings(conv, conv_type, 2, 2, true),
                                             read_fused_activation(conv) == FusedActivation::relu,
                                             read_window_settings(pool, 2, false, true));
  layer->infer(input);
  if (!layer->fuses(input)) return nullptr;
  return layer;
}

}  // namespace

void register_conv_max_pool_fusion() {
  for (const std::string conv : {"conv2d", "conv"})
    for (const std::string pool : {"max_pool2d", "max_pool"})
      add_layer_fusion({conv, pool, [conv, pool](const Config& c, const Config& p, const Shape& input) {
                          return fuse(conv, c, pool, p, input);
                        }});
}

}  // namespace weft::builtin
