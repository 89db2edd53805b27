// dense: y = x·Wᵀ + b over a flat input, W of shape (units, in) as PyTorch's Linear.
#include <algorithm>
#include <array>

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

  std::int64_t unit_count() const override { return units_; }

  void forward(const ForwardArgs& a) const override { forward_units({&a, 1}, 0, units_, a.ws); }

  void forward_units(std::span<const ForwardArgs> shards, std::int64_t u0, std::int64_t u1,
                     Workspace& scratch) const override {
    if (shards.empty()) return;
    const int in = static_cast<int>(in_), out = static_cast<int>(units_), width = static_cast<int>(u1 - u0);
    int most = 0;
    for (const ForwardArgs& a : shards) most = std::max(most, static_cast<int>(a.x.shape()[0]));
    float* const gemm = gemm_scratch(scratch, most, width, in);
    // The weight rows are transposed and packed once for a group of shards (on the stack: no
    // allocation), not once per shard: that packing costs about a tenth of a shard's product.
    constexpr std::size_t group = 16;
    std::array<GemmRows, group> rows;
    for (std::size_t first = 0; first < shards.size(); first += group) {
      const std::size_t count = std::min(group, shards.size() - first);
      for (std::size_t s = 0; s < count; ++s) {
        const ForwardArgs& a = shards[first + s];
        const int n = static_cast<int>(a.x.shape()[0]);
        float* y = a.y.data() + u0;
        if (bias_) {
          const float* b = a.params[1].data() + u0;
          for (int i = 0; i < n; ++i) std::copy_n(b, width, y + i * out);
        }
        rows[s] = GemmRows{n, a.x.data(), in, y, out};
      }
      packed_gemm_rows(Trans::no, Trans::yes, {rows.data(), count}, width, in, shards.front().params[0].data() + u0 * in,
                       in, bias_ ? 1.0f : 0.0f, gemm);
      if (activation_ == FusedActivation::relu)
        for (std::size_t s = 0; s < count; ++s) {
          float* y = shards[first + s].y.data() + u0;
          for (std::int64_t i = 0; i < shards[first + s].x.shape()[0]; ++i) apply_relu(y + i * out, static_cast<std::size_t>(width));
        }
    }
  }

  // dW reads x; the fused relu's mask reads y.
  BackwardNeeds backward_needs() const override {
    return {.inputs = true, .output = activation_ == FusedActivation::relu};
  }

  void backward(const BackwardArgs& a) const override {
    // The full range leaves the relu-masked gradient in slot 0, as the product for dx reads it.
    if (!a.grads.empty()) unit_gradients(a, 0, units_, false, a.ws);
    if (a.dx.empty()) return;
    const int n = static_cast<int>(a.x.shape()[0]), in = static_cast<int>(in_), out = static_cast<int>(units_);
    const float* dy = a.dy.data();
    if (activation_ == FusedActivation::relu) {
      float* masked = a.ws.floats(0, a.dy.size()).data();
      if (a.grads.empty()) mask_relu_gradient(a.y.data(), dy, masked, a.dy.size());
      dy = masked;
    }
    // dx = dy·W
    packed_gemm(Trans::no, Trans::no, n, in, out, dy, out, a.params[0].data(), in, 0.0f, a.dx.data(), in,
                gemm_scratch(a.ws, n, in, out));
  }

  void unit_gradients(const BackwardArgs& a, std::int64_t u0, std::int64_t u1, bool add, Workspace& scratch) const override {
    const int n = static_cast<int>(a.x.shape()[0]), in = static_cast<int>(in_), out = static_cast<int>(units_);
    const int width = static_cast<int>(u1 - u0);
    const float* dy = a.dy.data() + u0;
    int dy_stride = out;
    if (activation_ == FusedActivation::relu) {
      float* masked = scratch.floats(0, static_cast<std::size_t>(n) * width).data();
      for (int i = 0; i < n; ++i) mask_relu_gradient(a.y.data() + i * out + u0, dy + i * out, masked + i * width, width);
      dy = masked;
      dy_stride = width;
    }
    // dW = dyᵀ·x, each element one chain over the shard's samples from +0; `add` adds that onto
    // the rows, a block of them at a time through scratch (it stays in L1/L2).
    float* dw = a.grads[0].data() + u0 * in;
    if (!add) {
      packed_gemm(Trans::yes, Trans::no, width, in, n, dy, dy_stride, a.x.data(), in, 0.0f, dw, in,
                  gemm_scratch(scratch, width, in, n));
    } else {
      constexpr int block = 32;
      float* product = scratch.floats(2, static_cast<std::size_t>(block) * in).data();
      for (int r = 0; r < width; r += block) {
        const int rows = std::min(block, width - r);
        packed_gemm(Trans::yes, Trans::no, rows, in, n, dy + r, dy_stride, a.x.data(), in, 0.0f, product, in,
                    gemm_scratch(scratch, rows, in, n));
        float* into = dw + static_cast<std::size_t>(r) * in;
        for (std::size_t k = 0; k < static_cast<std::size_t>(rows) * in; ++k) into[k] += product[k];
      }
    }
    if (!bias_) return;
    float* sum = add ? scratch.floats(3, width).data() : a.grads[1].data() + u0;
    std::fill_n(sum, width, 0.0f);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < width; ++j) sum[j] += dy[i * dy_stride + j];
    if (add) {
      float* db = a.grads[1].data() + u0;
      for (int j = 0; j < width; ++j) db[j] += sum[j];
    }
  }

 private:
  // Workspace slots: 0 the relu-masked gradient, 1 the GEMMs' packed panels, 2 and 3 a shard's
  // weight and bias gradient before they are added on (unit_gradients with add).
  static float* gemm_scratch(Workspace& ws, int m, int n, int k) { return ws.floats(1, packed_gemm_scratch(m, n, k)).data(); }

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
