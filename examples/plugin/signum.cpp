// signum: sign descent with momentum (Bernstein et al., 2018):
//   m ← beta·m + (1 − beta)·g        (m = g on the first step)
//   w ← w − lr·sign(m)
// The momentum lives in a named slot the trainer owns (and a checkpoint saves); update() sees
// one contiguous range of one parameter and must not look outside it.
#include "example_plugin.hpp"

namespace example {
namespace {

class Signum final : public weft::Optimizer {
 public:
  explicit Signum(const weft::Config& c)
      : lr_(c.number("lr", 0, std::numeric_limits<double>::infinity(), true)), beta_(c.number("beta", 0, 1)) {}

  std::vector<std::string> slots() const override { return {"momentum"}; }
  double learning_rate() const override { return lr_; }

  void update(std::span<float> w, std::span<const float> g, std::span<const std::span<float>> slots,
              const weft::OptimizerStep& step) const override {
    const float lr = static_cast<float>(step.lr), beta = static_cast<float>(beta_);
    std::span<float> m = slots[0];
    for (std::size_t i = 0; i < w.size(); ++i) {
      m[i] = step.t == 1 ? g[i] : beta * m[i] + (1 - beta) * g[i];
      w[i] -= lr * static_cast<float>((m[i] > 0) - (m[i] < 0));
    }
  }

 private:
  double lr_, beta_;
};

}  // namespace

void register_signum(weft::Registries& registries) {
  registries.optimizers.add({"signum", "sign descent with momentum: w -= lr·sign(m) (example plugin)",
                             {{"lr", 0.001}, {"beta", 0.9}},
                             [](const weft::Config& c) { return std::make_unique<Signum>(c); }});
}

}  // namespace example
