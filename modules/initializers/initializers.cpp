// Parameter initialisers. Each element i draws from counter i of the parameter's own stream, so
// initial weights depend on the seed and the parameter's name only.
#include <cmath>

#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

// Fills from a distribution fixed by the fans: normal(0, std) or uniform(-bound, bound).
class ScaledRandom final : public Initializer {
 public:
  enum class Kind { normal, uniform };
  using Scale = double (*)(const Fans&);
  ScaledRandom(Kind kind, Scale scale) : kind_(kind), scale_(scale) {}

  void fill(View w, const Fans& fans, const CounterRng& rng) const override {
    const double s = scale_(fans);
    for (std::size_t i = 0; i < w.size(); ++i)
      w[i] = static_cast<float>(kind_ == Kind::normal ? s * rng.normal(i) : s * (2 * rng.uniform_double(i) - 1));
  }

 private:
  Kind kind_;
  Scale scale_;
};

class Constant final : public Initializer {
 public:
  explicit Constant(float value) : value_(value) {}
  void fill(View w, const Fans&, const CounterRng&) const override { std::fill_n(w.data(), w.size(), value_); }

 private:
  float value_;
};

class Distribution final : public Initializer {
 public:
  Distribution(bool normal, double a, double b) : normal_(normal), a_(a), b_(b) {}
  void fill(View w, const Fans&, const CounterRng& rng) const override {
    for (std::size_t i = 0; i < w.size(); ++i)
      w[i] = static_cast<float>(normal_ ? a_ + b_ * rng.normal(i) : a_ + (b_ - a_) * rng.uniform_double(i));
  }

 private:
  bool normal_;
  double a_, b_;
};

void add_scaled(Registries& r, std::initializer_list<const char*> names, const char* summary, ScaledRandom::Kind kind,
                ScaledRandom::Scale scale) {
  for (const char* name : names)
    r.initializers.add({name, summary, Json::object(),
                        [kind, scale](const Config&) { return std::make_unique<ScaledRandom>(kind, scale); }});
}

}  // namespace

void register_initializers(Registries& r) {
  using K = ScaledRandom::Kind;
  add_scaled(r, {"he_normal", "kaiming_normal"}, "normal, std = sqrt(2 / fan_in)", K::normal,
             [](const Fans& f) { return std::sqrt(2.0 / f.fan_in); });
  add_scaled(r, {"he_uniform", "kaiming_uniform"}, "uniform, bound = sqrt(6 / fan_in)", K::uniform,
             [](const Fans& f) { return std::sqrt(6.0 / f.fan_in); });
  add_scaled(r, {"glorot_normal", "xavier_normal"}, "normal, std = sqrt(2 / (fan_in + fan_out))", K::normal,
             [](const Fans& f) { return std::sqrt(2.0 / (f.fan_in + f.fan_out)); });
  add_scaled(r, {"glorot_uniform", "xavier_uniform"}, "uniform, bound = sqrt(6 / (fan_in + fan_out))", K::uniform,
             [](const Fans& f) { return std::sqrt(6.0 / (f.fan_in + f.fan_out)); });
  add_scaled(r, {"lecun_normal"}, "normal, std = sqrt(1 / fan_in)", K::normal,
             [](const Fans& f) { return std::sqrt(1.0 / f.fan_in); });
  add_scaled(r, {"lecun_uniform"}, "uniform, bound = sqrt(3 / fan_in)", K::uniform,
             [](const Fans& f) { return std::sqrt(3.0 / f.fan_in); });
  r.initializers.add({"zeros", "all zeros", Json::object(), [](const Config&) { return std::make_unique<Constant>(0.0f); }});
  r.initializers.add({"ones", "all ones", Json::object(), [](const Config&) { return std::make_unique<Constant>(1.0f); }});
  r.initializers.add({"constant", "every element = value", {{"value", 0.0}},
                      [](const Config& c) { return std::make_unique<Constant>(static_cast<float>(c.number("value"))); }});
  r.initializers.add({"uniform", "uniform in [low, high)", {{"low", -0.05}, {"high", 0.05}},
                      [](const Config& c) {
                        const double lo = c.number("low"), hi = c.number("high", lo);
                        return std::make_unique<Distribution>(false, lo, hi);
                      }});
  r.initializers.add({"normal", "normal(mean, std)", {{"mean", 0.0}, {"std", 0.05}},
                      [](const Config& c) { return std::make_unique<Distribution>(true, c.number("mean"), c.number("std", 0)); }});
}

}  // namespace weft::builtin
