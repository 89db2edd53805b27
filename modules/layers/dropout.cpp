// dropout and spatial_dropout: inverted dropout. In training each unit is zeroed with
// probability `rate` and the survivors are scaled by 1/(1 − rate), so evaluation is the identity.
// dropout drops single elements; spatial_dropout drops whole channels of an N·C·spatial input
// (PyTorch's Dropout2d/3d), which is what helps convolutional features that are correlated in
// space.
//
// Unit j of sample i is kept when rng.derive(i).uniform(j) >= rate, where i is the sample's
// index in the whole mini-batch and rng the layer's stream for this step, so no result depends
// on how the batch was sharded. Forward keeps each unit's factor (0 or 1/(1 − rate)) in the
// shard's workspace (layers hold no batch state) and backward reuses it: drawing the numbers
// again cost as much as the rest of the layer (benchmarks/norm_bench).
#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

class Dropout final : public Layer {
 public:
  Dropout(const Config& c, bool spatial) : rate_(c.number("rate", 0.0, 1.0)), spatial_(spatial) {
    if (rate_ >= 1.0) c.fail("rate", "a drop probability in [0, 1)");
  }

  Shape infer(const Shape& input) override {
    if (spatial_ && input.rank() < 2)
      throw ShapeError("spatial_dropout needs (channels, spatial...) per sample to drop whole channels; use "
                       "\"dropout\" on a flat input");
    // One random draw per channel (spatial) or per element.
    group_ = spatial_ ? input.numel() / input[0] : 1;
    return input;
  }

  void forward(const ForwardArgs& a) const override {
    if (!active(a.pass)) {
      std::copy_n(a.x.data(), a.x.size(), a.y.data());
      return;
    }
    const std::int64_t n = a.x.shape()[0], units = a.x.stride0() / group_;
    const std::span<float> scales = a.ws.floats(0, static_cast<std::size_t>(n * units));
    const float keep_scale = static_cast<float>(1.0 / (1.0 - rate_)), rate = static_cast<float>(rate_);
    const std::int64_t per = a.x.stride0();
    const float* __restrict in = a.x.data();
    float* __restrict out = a.y.data();
    float* __restrict factor = scales.data();
    // Drawing, storing and applying in one loop measured a third faster (norm_bench) than a
    // loop that only fills the mask followed by scale(), which GCC compiled poorly.
    for (std::int64_t i = 0; i < n; ++i) {
      const CounterRng rng = a.pass.rng.derive(static_cast<std::uint64_t>(a.pass.first_sample + i));
      for (std::int64_t u = 0; u < units; ++u) {
        const float f = rng.uniform(static_cast<std::uint64_t>(u)) >= rate ? keep_scale : 0.0f;
        factor[i * units + u] = f;
        const std::int64_t at = i * per + u * group_;
        for (std::int64_t k = 0; k < group_; ++k) out[at + k] = in[at + k] * f;
      }
    }
  }

  // Needs the forward pass of the same shard just before (the executor's order).
  // backward scales dy by the mask forward left in the workspace.
  BackwardNeeds backward_needs() const override { return {.inputs = false, .output = false}; }

  void backward(const BackwardArgs& a) const override {
    if (a.dx.empty()) return;
    if (!active(a.pass)) {
      std::copy_n(a.dy.data(), a.dy.size(), a.dx.data());
      return;
    }
    const std::size_t units = static_cast<std::size_t>(a.dy.size()) / static_cast<std::size_t>(group_);
    scale(a.dy, a.ws.floats(0, units), a.dx);
  }

 private:
  bool active(const PassInfo& pass) const { return pass.training && rate_ != 0.0; }

  // out = in · (the factor of each element's unit): the same map forward and backward.
  void scale(ConstView in, std::span<const float> scales, View out) const {
    const float* __restrict src = in.data();
    const float* __restrict factor = scales.data();
    float* __restrict dst = out.data();
    const std::size_t units = scales.size(), group = static_cast<std::size_t>(group_);
    if (group == 1) {
      for (std::size_t k = 0; k < units; ++k) dst[k] = src[k] * factor[k];
      return;
    }
    for (std::size_t u = 0; u < units; ++u)
      for (std::size_t k = 0; k < group; ++k) dst[u * group + k] = src[u * group + k] * factor[u];
  }

  double rate_;
  bool spatial_;
  std::int64_t group_ = 1;
};

}  // namespace

void register_dropout(Registries& r) {
  r.layers.add({"dropout", "inverted dropout: zero each element with probability rate, scale the rest by 1/(1 - rate)",
                {{"rate", 0.5}},
                [](const Config& c) { return std::make_unique<Dropout>(c, false); }});
  r.layers.add({"spatial_dropout",
                "inverted dropout of whole channels of an N·C·spatial input (PyTorch's Dropout2d/3d)",
                {{"rate", 0.5}},
                [](const Config& c) { return std::make_unique<Dropout>(c, true); }});
}

}  // namespace weft::builtin
