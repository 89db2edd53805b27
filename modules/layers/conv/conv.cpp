// conv1d / conv2d / conv3d / conv ("dims": 1..4): a grouped, strided, dilated, padded convolution
// over N·C·spatial inputs, written once for every number of spatial axes. Weight
// (filters, channels / groups, kernel...) and bias (filters) as PyTorch's ConvNd.
//
// Each sample's windows are unrolled into a column matrix (vol2col) in the shard's workspace and
// multiplied by the weight with one GEMM per group; backward recomputes the columns instead of
// keeping them from forward, which costs one cheap copy and saves a shard-sized buffer.
#include "layers/conv/conv_ops.hpp"
#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

enum WorkspaceSlot : std::size_t { columns_slot = 0, adjoint_slot = 1 };

class Conv final : public Layer {
 public:
  Conv(const Config& c, std::string type, std::size_t fixed_dims)
      : type_(std::move(type)),
        settings_(read_window_settings(c, read_dims(c, fixed_dims, max_spatial_dims), true, false)),
        filters_(c.integer("filters", 1)),
        groups_(c.integer("groups", 1)),
        bias_(c.boolean("bias")),
        init_(c.raw("init")),
        bias_init_(c.raw("bias_init")) {
    if (filters_ % groups_ != 0)
      c.fail("groups", "a divisor of filters (" + std::to_string(filters_) + ")");
  }

  Shape infer(const Shape& input) override {
    require_channels_first(input, settings_.dims, type_);
    if (input[0] % groups_ != 0)
      throw ShapeError(type_ + " with groups = " + std::to_string(groups_) +
                       " needs input channels divisible by " + std::to_string(groups_) + ", got " +
                       std::to_string(input[0]) + " channels");
    shape_ = {slide(settings_, input, type_), input[0], filters_, groups_};
    return channels_and(filters_, shape_.g.out, settings_.dims);
  }

  std::vector<ParamDecl> parameters() const override {
    std::vector<ParamDecl> p{
        {"weight", kernel_shape(filters_, shape_.in_channels / groups_, settings_.kernel, settings_.dims), init_, false}};
    if (bias_) p.push_back({"bias", Shape{filters_}, bias_init_, true});
    return p;
  }

  void forward(const ForwardArgs& a) const override {
    const std::int64_t n = a.x.shape()[0], positions = shape_.g.out_count();
    float* scratch = a.ws.floats(columns_slot, scratch_size()).data();
    for (std::int64_t i = 0; i < n; ++i) {
      float* y = a.y.data() + i * shape_.out_size();
      if (bias_) fill_bias(a.params[1].data(), filters_, positions, y);
      apply(shape_, a.params[0].data(), columns(shape_, a.x.data() + i * shape_.in_size(), scratch), bias_ ? 1.0f : 0.0f, y);
    }
  }

  void backward(const BackwardArgs& a) const override {
    const std::int64_t n = a.x.shape()[0], positions = shape_.g.out_count();
    float* scratch = a.ws.floats(columns_slot, scratch_size()).data();
    float* adjoint_scratch = a.ws.floats(adjoint_slot, scratch_size()).data();
    float* dw = a.grads[0].data();
    std::fill_n(dw, a.grads[0].size(), 0.0f);
    if (bias_) std::fill_n(a.grads[1].data(), filters_, 0.0f);
    for (std::int64_t i = 0; i < n; ++i) {
      const float* dy = a.dy.data() + i * shape_.out_size();
      add_weight_gradient(shape_, columns(shape_, a.x.data() + i * shape_.in_size(), scratch), dy, dw);
      if (bias_) add_bias_gradient(dy, filters_, positions, a.grads[1].data());
      if (!a.dx.empty()) {
        float* dx = a.dx.data() + i * shape_.in_size();
        std::fill_n(dx, shape_.in_size(), 0.0f);
        add_adjoint(shape_, a.params[0].data(), dy, dx, adjoint_scratch);
      }
    }
  }

 private:
  std::size_t scratch_size() const {
    return shape_.g.is_pointwise() ? 0 : static_cast<std::size_t>(shape_.columns_size());
  }

  std::string type_;
  WindowSettings settings_;
  std::int64_t filters_, groups_;
  bool bias_;
  Json init_, bias_init_;
  ConvShape shape_;
};

Json conv_defaults(bool with_dims) {
  Json d = {{"filters", nullptr}, {"kernel", nullptr}, {"stride", 1},     {"padding", 0},
            {"dilation", 1},      {"groups", 1},       {"bias", true},    {"init", "he_uniform"},
            {"bias_init", "zeros"}};
  if (with_dims) d["dims"] = nullptr;
  return d;
}

}  // namespace

void register_conv(Registries& r) {
  for (std::size_t dims = 1; dims <= 3; ++dims) {
    const std::string name = "conv" + std::to_string(dims) + "d";
    r.layers.add({name, std::to_string(dims) + "-d convolution: weight (filters, channels/groups, kernel...)",
                  conv_defaults(false),
                  [name, dims](const Config& c) { return std::make_unique<Conv>(c, name, dims); }});
  }
  r.layers.add({"conv", "convolution over \"dims\" (1..4) spatial axes: weight (filters, channels/groups, kernel...)",
                conv_defaults(true), [](const Config& c) { return std::make_unique<Conv>(c, "conv", 0); }});
}

}  // namespace weft::builtin
