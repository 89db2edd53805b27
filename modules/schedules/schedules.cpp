// The pure learning-rate schedules: the rate is a function of the base rate and the position t
// (completed steps or epochs, per the schedule's "unit"). t = 0 is the first update.
//   constant     lr
//   step         lr · gamma^⌊t / step_size⌋
//   multistep    lr · gamma^(number of milestones <= t)
//   exponential  lr · gamma^t
//   cosine       linear warm-up for t < warmup: lr · (t + 1) / warmup; then, with
//                u = t − warmup, T = total − warmup:  min_lr + (lr − min_lr)·(1 + cos(π·min(u, T)/T))/2
//   one_cycle    Smith's 1cycle as PyTorch's OneCycleLR (cosine annealing, two phases), peaking at
//                lr: from lr/div_factor up to lr over the first pct_start·total − 1 units, then down
//                to lr/(div_factor·final_div_factor) at t = total − 1 (and there after).
#include <cmath>
#include <numbers>

#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

class Constant final : public Schedule {
 public:
  explicit Constant(const Config&) {}
  double rate(double base, std::int64_t) const override { return base; }
};

class StepDecay final : public Schedule {
 public:
  explicit StepDecay(const Config& c) : step_size_(c.integer("step_size", 1)), gamma_(c.number("gamma", 0, inf, true)) {}
  double rate(double base, std::int64_t t) const override { return base * std::pow(gamma_, double(t / step_size_)); }

 private:
  std::int64_t step_size_;
  double gamma_;
};

class MultiStep final : public Schedule {
 public:
  explicit MultiStep(const Config& c) : gamma_(c.number("gamma", 0, inf, true)) {
    const Json& m = c.raw("milestones");
    const char* expected = "a list of increasing integers >= 1";
    if (!m.is_array() || m.empty()) c.fail("milestones", expected);
    for (const auto& v : m) {
      if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || (!milestones_.empty() && v.get<std::int64_t>() <= milestones_.back()))
        c.fail("milestones", expected);
      milestones_.push_back(v.get<std::int64_t>());
    }
  }
  double rate(double base, std::int64_t t) const override {
    double lr = base;
    for (auto m : milestones_)
      if (t >= m) lr *= gamma_;
    return lr;
  }

 private:
  double gamma_;
  std::vector<std::int64_t> milestones_;
};

class Exponential final : public Schedule {
 public:
  explicit Exponential(const Config& c) : gamma_(c.number("gamma", 0, inf, true)) {}
  double rate(double base, std::int64_t t) const override { return base * std::pow(gamma_, double(t)); }

 private:
  double gamma_;
};

class Cosine final : public Schedule {
 public:
  explicit Cosine(const Config& c)
      : total_(c.integer("total", 1)), warmup_(c.integer("warmup", 0)), min_lr_(c.number("min_lr", 0)) {
    if (warmup_ >= total_) c.fail("warmup", "an integer smaller than 'total' (" + std::to_string(total_) + ")");
  }
  double rate(double base, std::int64_t t) const override {
    if (t < warmup_) return base * double(t + 1) / double(warmup_);
    const double span = double(total_ - warmup_);
    const double u = std::min(double(t - warmup_), span);
    return min_lr_ + (base - min_lr_) * (1 + std::cos(std::numbers::pi * u / span)) / 2;
  }

 private:
  std::int64_t total_, warmup_;
  double min_lr_;
};

class OneCycle final : public Schedule {
 public:
  explicit OneCycle(const Config& c)
      : total_(c.integer("total", 2)),
        pct_start_(c.number("pct_start", 0, 1, true)),
        div_(c.number("div_factor", 0, inf, true)),
        final_div_(c.number("final_div_factor", 0, inf, true)) {
    if (pct_start_ >= 1) c.fail("pct_start", "a number in (0, 1)");
  }
  double rate(double base, std::int64_t t) const override {
    const double initial = base / div_, final = initial / final_div_;
    const double peak_at = pct_start_ * double(total_) - 1, end_at = double(total_) - 1;
    const double s = std::min(double(t), end_at);
    // Cosine from `from` to `to` as `pct` goes from 0 to 1.
    auto anneal = [](double from, double to, double pct) { return to + (from - to) / 2 * (std::cos(std::numbers::pi * pct) + 1); };
    if (s <= peak_at) return anneal(initial, base, peak_at > 0 ? s / peak_at : 1.0);
    return anneal(base, final, (s - peak_at) / (end_at - peak_at));
  }

 private:
  std::int64_t total_;
  double pct_start_, div_, final_div_;
};

}  // namespace

void register_schedules(Registries& r) {
  r.schedules.add({"constant", "the optimizer's learning rate throughout", Json::object(),
                   [](const Config& c) { return std::make_unique<Constant>(c); }});
  r.schedules.add({"step", "multiply by gamma every step_size units", {{"step_size", nullptr}, {"gamma", 0.1}},
                   [](const Config& c) { return std::make_unique<StepDecay>(c); }});
  r.schedules.add({"multistep", "multiply by gamma at each milestone", {{"milestones", nullptr}, {"gamma", 0.1}},
                   [](const Config& c) { return std::make_unique<MultiStep>(c); }});
  r.schedules.add({"exponential", "multiply by gamma every unit", {{"gamma", nullptr}},
                   [](const Config& c) { return std::make_unique<Exponential>(c); }});
  r.schedules.add({"cosine", "cosine annealing to min_lr over total units, after an optional linear warm-up",
                   {{"total", nullptr}, {"warmup", 0}, {"min_lr", 0.0}},
                   [](const Config& c) { return std::make_unique<Cosine>(c); }});
  r.schedules.add({"one_cycle", "1cycle: cosine up to the optimizer's rate, then down (PyTorch's OneCycleLR)",
                   {{"total", nullptr}, {"pct_start", 0.3}, {"div_factor", 25.0}, {"final_div_factor", 1e4}},
                   [](const Config& c) { return std::make_unique<OneCycle>(c); }});
}

}  // namespace weft::builtin
