// reduce_on_plateau: multiply the rate by `factor` when the monitored metric has not improved by
// more than `min_delta` for more than `patience` epochs (then wait `cooldown` epochs before
// counting again); never below min_lr. Keras's ReduceLROnPlateau with an absolute min_delta.
// Its state (scale, best, bad epochs, cooldown left) is what a checkpoint keeps.
#include <cmath>

#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

class ReduceOnPlateau final : public Schedule {
 public:
  explicit ReduceOnPlateau(const Config& c)
      : monitor_(c.string("monitor")),
        maximize_(c.choice("mode", {"min", "max"}) == "max"),
        factor_(c.number("factor", 0, 1, true)),
        patience_(c.integer("patience", 0)),
        min_delta_(c.number("min_delta", 0)),
        cooldown_(c.integer("cooldown", 0)),
        min_lr_(c.number("min_lr", 0)),
        context_(c.context()) {
    if (factor_ >= 1) c.fail("factor", "a number in (0, 1)");
  }

  double rate(double base, std::int64_t) const override { return std::max(base * scale_, std::min(base, min_lr_)); }

  void end_epoch(const Metrics& epoch) override {
    const auto value = epoch.get(monitor_);
    if (!value)
      throw Error(context_ + ": the monitored metric '" + monitor_ + "' is not among this epoch's metrics (" +
                  join_names(epoch.names()) + "); a val_* metric needs validation data");
    const double v = maximize_ ? -*value : *value;
    if (cooldown_left_ > 0) --cooldown_left_;
    if (v < best_ - min_delta_) {
      best_ = v;
      bad_ = 0;
    } else if (cooldown_left_ == 0 && ++bad_ > patience_) {
      scale_ *= factor_;
      cooldown_left_ = cooldown_;
      bad_ = 0;
    }
  }

  Json state() const override {
    return {{"scale", scale_}, {"best", std::isinf(best_) ? Json() : Json(best_)}, {"bad_epochs", bad_}, {"cooldown_left", cooldown_left_}};
  }
  void restore(const Json& s) override {
    scale_ = s.at("scale").get<double>();
    best_ = s.at("best").is_null() ? std::numeric_limits<double>::infinity() : s.at("best").get<double>();
    bad_ = s.at("bad_epochs").get<std::int64_t>();
    cooldown_left_ = s.at("cooldown_left").get<std::int64_t>();
  }

 private:
  std::string monitor_;
  bool maximize_;
  double factor_;
  std::int64_t patience_;
  double min_delta_;
  std::int64_t cooldown_;
  double min_lr_;
  std::string context_;
  double scale_ = 1;
  double best_ = std::numeric_limits<double>::infinity();  // of the value as minimised
  std::int64_t bad_ = 0, cooldown_left_ = 0;
};

}  // namespace

void register_reduce_on_plateau(Registries& r) {
  r.schedules.add({"reduce_on_plateau", "multiply by factor when a monitored metric stops improving (per epoch)",
                   {{"monitor", "val_loss"}, {"mode", "min"}, {"factor", 0.1}, {"patience", 10}, {"min_delta", 1e-4},
                    {"cooldown", 0}, {"min_lr", 0.0}},
                   [](const Config& c) { return std::make_unique<ReduceOnPlateau>(c); }});
}

}  // namespace weft::builtin
