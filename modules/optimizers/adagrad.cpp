// adagrad: Duchi, Hazan & Singer (2011) as PyTorch's torch.optim.Adagrad:
//   g ← g + weight_decay·w
//   clr = lr / (1 + (t − 1)·lr_decay)
//   s ← s + g²            (s starts at initial_accumulator_value)
//   w ← w − clr · g / (√s + eps)
#include <cmath>

#include "vector_clones.hpp"
#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

// The element loop on the widest vectors the CPU has (vector_clones.hpp).
WEFT_VECTOR_CLONES void adagrad_update(std::size_t n, float clr, float wd, float eps, float* __restrict w,
                                       const float* __restrict g, float* __restrict sum) {
  for (std::size_t i = 0; i < n; ++i) {
    const float grad = g[i] + wd * w[i];
    sum[i] += grad * grad;
    w[i] -= clr * grad / (std::sqrt(sum[i]) + eps);
  }
}

class Adagrad final : public Optimizer {
 public:
  explicit Adagrad(const Config& c)
      : lr_(positive_setting(c, "lr")),
        lr_decay_(c.number("lr_decay", 0)),
        weight_decay_(c.number("weight_decay", 0)),
        initial_(c.number("initial_accumulator_value", 0)),
        eps_(positive_setting(c, "eps")) {}

  std::vector<std::string> slots() const override { return {"sum"}; }
  float slot_initial_value(std::size_t) const override { return static_cast<float>(initial_); }
  double learning_rate() const override { return lr_; }

  void update(std::span<float> w, std::span<const float> g, std::span<const std::span<float>> slots,
              const OptimizerStep& step) const override {
    const float clr = static_cast<float>(step.lr / (1 + double(step.t - 1) * lr_decay_));
    const float wd = static_cast<float>(weight_decay_), eps = static_cast<float>(eps_);
    adagrad_update(w.size(), clr, wd, eps, w.data(), g.data(), slots[0].data());
  }

 private:
  double lr_, lr_decay_, weight_decay_, initial_, eps_;
};

}  // namespace

void register_adagrad(Registries& r) {
  r.optimizers.add({"adagrad", "Adagrad with learning-rate decay and an initial accumulator (PyTorch's rule)",
                    {{"lr", 0.01}, {"lr_decay", 0.0}, {"weight_decay", 0.0}, {"initial_accumulator_value", 0.0}, {"eps", 1e-10}},
                    [](const Config& c) { return std::make_unique<Adagrad>(c); }});
}

}  // namespace weft::builtin
