// dropout and spatial_dropout: inverted dropout. In training each unit is zeroed with
// probability `rate` and the survivors are scaled by 1/(1 − rate), so evaluation is the identity.
// dropout drops single elements; spatial_dropout drops whole channels of an N·C·spatial input
// (PyTorch's Dropout2d/3d), which is what helps convolutional features that are correlated in
// space.
//
// The mask is never stored: unit j of sample i is kept when rng.derive(i).uniform(j) >= rate,
// where i is the sample's index in the whole mini-batch and rng the layer's stream for this
// step. Backward recomputes the same mask, and no result depends on how the batch was sharded.
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

  void forward(const ForwardArgs& a) const override { apply(a.x, a.y, a.pass); }

  void backward(const BackwardArgs& a) const override {
    if (!a.dx.empty()) apply(a.dy, a.dx, a.pass);
  }

 private:
  // out = in·mask/(1 − rate) in training, out = in otherwise: the same map forward and backward.
  void apply(ConstView in, View out, const PassInfo& pass) const {
    if (!pass.training || rate_ == 0.0) {
      std::copy_n(in.data(), in.size(), out.data());
      return;
    }
    const std::int64_t n = in.shape()[0], per = in.stride0(), units = per / group_;
    const float keep_scale = static_cast<float>(1.0 / (1.0 - rate_)), rate = static_cast<float>(rate_);
    for (std::int64_t i = 0; i < n; ++i) {
      const CounterRng rng = pass.rng.derive(static_cast<std::uint64_t>(pass.first_sample + i));
      for (std::int64_t u = 0; u < units; ++u) {
        const float scale = rng.uniform(static_cast<std::uint64_t>(u)) >= rate ? keep_scale : 0.0f;
        const std::int64_t at = i * per + u * group_;
        for (std::int64_t k = 0; k < group_; ++k) out[static_cast<std::size_t>(at + k)] = in[static_cast<std::size_t>(at + k)] * scale;
      }
    }
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
