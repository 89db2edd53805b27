// scaled_tanh: y = alpha ⊙ tanh(x), with alpha a learned per-element scale of the sample's shape.
//
// The Layer contract in practice: the layer object keeps only its configuration and the shapes
// infer() fixed; alpha's values and its gradient are views the model and the shard hand in
// (args.params, args.grads), activations belong to the shard. forward() and backward() are
// const and touch nothing else, so one object serves every shard on every thread.
#include <cmath>

#include "example_plugin.hpp"

namespace example {
namespace {

class ScaledTanh final : public weft::Layer {
 public:
  explicit ScaledTanh(const weft::Config& c) : alpha_init_(c.raw("alpha_init")) {}

  weft::Shape infer(const weft::Shape& input) override {
    sample_ = input;
    return input;  // elementwise: the output shape is the input shape
  }

  std::vector<weft::ParamDecl> parameters() const override { return {{"alpha", sample_, alpha_init_, false}}; }

  void forward(const weft::ForwardArgs& a) const override {
    const std::int64_t n = a.x.shape()[0], d = sample_.numel();
    const float* x = a.x.data();
    const float* alpha = a.params[0].data();
    float* y = a.y.data();
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < d; ++j) y[i * d + j] = alpha[j] * std::tanh(x[i * d + j]);
  }

  // dL/dalpha_j = Σ_i dy_ij · tanh(x_ij);  dL/dx_ij = dy_ij · alpha_j · (1 − tanh²(x_ij)).
  // The parameter gradient is this shard's alone (the executor sums shards in a fixed order),
  // so it is written completely, not accumulated into.
  void backward(const weft::BackwardArgs& a) const override {
    const std::int64_t n = a.x.shape()[0], d = sample_.numel();
    const float* x = a.x.data();
    const float* dy = a.dy.data();
    const float* alpha = a.params[0].data();
    float* dalpha = a.grads[0].data();
    std::fill_n(dalpha, d, 0.0f);
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < d; ++j) {
        const float t = std::tanh(x[i * d + j]);
        dalpha[j] += dy[i * d + j] * t;
        if (!a.dx.empty()) a.dx.data()[i * d + j] = dy[i * d + j] * alpha[j] * (1 - t * t);
      }
  }

  // ONNX export (weft export --onnx): the same function as two standard nodes, Tanh then Mul by
  // alpha (of the sample's shape, so it broadcasts over the batch axis).
  std::string to_onnx(const weft::OnnxLayerArgs& a) const override {
    const std::string alpha = a.graph.constant(a.name + "/alpha", a.params[0]);
    return a.graph.node("Mul", {alpha, a.graph.node("Tanh", {a.input})});
  }

 private:
  weft::Json alpha_init_;
  weft::Shape sample_;
};

}  // namespace

void register_scaled_tanh(weft::Registries& registries) {
  registries.layers.add({"scaled_tanh", "y = alpha ⊙ tanh(x), alpha learned per element (example plugin)",
                         {{"alpha_init", "ones"}},
                         [](const weft::Config& c) { return std::make_unique<ScaledTanh>(c); }});
}

}  // namespace example
