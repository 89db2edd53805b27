// dense: y = x·Wᵀ + b over a flat input, W of shape (units, in) as PyTorch's Linear.
#include "layers/fused_activation.hpp"
#include "layers/packed_gemm.hpp"
#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

class Dense final : public Layer {
 public:
  explicit Dense(const Config& c)
      : units_(c.integer("units", 1)),
        bias_(c.boolean("bias")),
        activation_(read_fused_activation(c)),
        init_(c.raw("init")),
        bias_init_(c.raw("bias_init")) {}

  Shape infer(const Shape& input) override {
    if (input.rank() != 1)
      throw ShapeError("dense needs a flat input (features,); add a \"flatten\" layer before it");
    in_ = input[0];
    return Shape{units_};
  }

  std::vector<ParamDecl> parameters() const override {
    std::vector<ParamDecl> p{{"weight", Shape{units_, in_}, init_, false}};
    if (bias_) p.push_back({"bias", Shape{units_}, bias_init_, true});
    return p;
  }

  void forward(const ForwardArgs& a) const override {
    const int n = static_cast<int>(a.x.shape()[0]), in = static_cast<int>(in_), out = static_cast<int>(units_);
    float* y = a.y.data();
    if (bias_) {
      const float* b = a.params[1].data();
      for (int i = 0; i < n; ++i) std::copy_n(b, out, y + i * out);
    }
    packed_gemm(Trans::no, Trans::yes, n, out, in, a.x.data(), in, a.params[0].data(), in, bias_ ? 1.0f : 0.0f, y, out,
                scratch(a.ws, n, out, in));
    if (activation_ == FusedActivation::relu) apply_relu(y, a.y.size());
  }

  // dW reads x; the fused relu's mask reads y.
  BackwardNeeds backward_needs() const override {
    return {.inputs = true, .output = activation_ == FusedActivation::relu};
  }

  void backward(const BackwardArgs& a) const override {
    const int n = static_cast<int>(a.x.shape()[0]), in = static_cast<int>(in_), out = static_cast<int>(units_);
    const float* dy = a.dy.data();
    if (activation_ == FusedActivation::relu) {
      float* masked = a.ws.floats(0, a.dy.size()).data();
      mask_relu_gradient(a.y.data(), dy, masked, a.dy.size());
      dy = masked;
    }
    // dW = dyᵀ·x
    packed_gemm(Trans::yes, Trans::no, out, in, n, dy, out, a.x.data(), in, 0.0f, a.grads[0].data(), in,
                scratch(a.ws, out, in, n));
    if (bias_) {
      float* db = a.grads[1].data();
      std::fill_n(db, out, 0.0f);
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < out; ++j) db[j] += dy[i * out + j];
    }
    // dx = dy·W
    if (!a.dx.empty())
      packed_gemm(Trans::no, Trans::no, n, in, out, dy, out, a.params[0].data(), in, 0.0f, a.dx.data(), in,
                  scratch(a.ws, n, in, out));
  }

 private:
  // The GEMMs' packed panels, in workspace slot 1 (slot 0 holds the relu-masked gradient).
  static float* scratch(Workspace& ws, int m, int n, int k) { return ws.floats(1, packed_gemm_scratch(m, n, k)).data(); }

  std::int64_t units_;
  bool bias_;
  FusedActivation activation_;
  Json init_, bias_init_;
  std::int64_t in_ = 0;
};

}  // namespace

void register_dense(Registries& r) {
  r.layers.add({"dense", "fully connected: y = x·Wᵀ + b, W of shape (units, in)",
                {{"units", nullptr}, {"bias", true}, {"activation", "none"}, {"init", "glorot_uniform"}, {"bias_init", "zeros"}},
                [](const Config& c) { return std::make_unique<Dense>(c); }});
}

}  // namespace weft::builtin
