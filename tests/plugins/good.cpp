// A well-formed plugin: one layer (y = 2x) and one loss-free optimizer, to load for real.
#include <weft/plugin.hpp>

namespace {

class Doubling final : public weft::Layer {
 public:
  weft::Shape infer(const weft::Shape& input) override { return input; }
  void forward(const weft::ForwardArgs& a) const override {
    for (std::int64_t i = 0; i < a.x.numel(); ++i) a.y.data()[i] = 2 * a.x.data()[i];
  }
  void backward(const weft::BackwardArgs& a) const override {
    if (a.dx.empty()) return;
    for (std::int64_t i = 0; i < a.dy.numel(); ++i) a.dx.data()[i] = 2 * a.dy.data()[i];
  }
};

class Still final : public weft::Optimizer {
 public:
  double learning_rate() const override { return 0; }
  void update(std::span<float>, std::span<const float>, std::span<const std::span<float>>,
              const weft::OptimizerStep&) const override {}
};

}  // namespace

WEFT_PLUGIN(registries) {
  registries.layers.add({"test_doubling", "y = 2x", weft::Json::object(),
                         [](const weft::Config&) { return std::make_unique<Doubling>(); }});
  registries.optimizers.add({"test_still", "changes nothing", weft::Json::object(),
                             [](const weft::Config&) { return std::make_unique<Still>(); }});
}
