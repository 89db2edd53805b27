// A well-formed plugin with one module of every kind, to load for real (plugins_test.cpp checks
// that each kind received one: a kind added to Registries adds its module here).
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

class Zero final : public weft::Loss {
 public:
  weft::Shape target_shape(const weft::Shape& prediction) const override { return prediction; }
  double evaluate(weft::ConstView, weft::ConstView, weft::View dpred, double) const override {
    if (!dpred.empty()) std::fill_n(dpred.data(), dpred.numel(), 0.0f);
    return 0;
  }
};

class Still final : public weft::Optimizer {
 public:
  double learning_rate() const override { return 0; }
  void update(std::span<float>, std::span<const float>, std::span<const std::span<float>>,
              const weft::OptimizerStep&) const override {}
};

class Sevens final : public weft::Initializer {
 public:
  void fill(weft::View w, const weft::Fans&, const weft::CounterRng&) const override {
    std::fill_n(w.data(), w.numel(), 7.0f);
  }
};

class Halving final : public weft::Schedule {
 public:
  double rate(double base, std::int64_t t) const override { return base / static_cast<double>(1 << std::min<std::int64_t>(t, 30)); }
};

class NoPenalty final : public weft::Regularizer {
 public:
  bool is_activity() const override { return false; }
};

template <class T>
auto make() {
  return [](const weft::Config&) { return std::make_unique<T>(); };
}

}  // namespace

WEFT_PLUGIN(registries) {
  registries.layers.add({"test_doubling", "y = 2x", weft::Json::object(), make<Doubling>()});
  registries.losses.add({"test_zero", "always 0", weft::Json::object(), make<Zero>()});
  registries.optimizers.add({"test_still", "changes nothing", weft::Json::object(), make<Still>()});
  registries.initializers.add({"test_sevens", "all sevens", weft::Json::object(), make<Sevens>()});
  registries.schedules.add({"test_halving", "halves the rate every unit", weft::Json::object(), make<Halving>()});
  registries.regularizers.add({"test_no_penalty", "penalises nothing", weft::Json::object(), make<NoPenalty>()});
}
