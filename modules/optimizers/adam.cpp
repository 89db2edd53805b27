// adam: Kingma & Ba (2015) with PyTorch's torch.optim.Adam conventions:
//   g ← g + weight_decay·w          (L2 penalty folded into the gradient)
//   m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²
//   v̂max ← max(v̂max, v) with amsgrad
//   w ← w − lr/(1 − β1ᵗ) · m / (√(v / (1 − β2ᵗ)) + eps)
// adamw: the same with decoupled weight decay (Loshchilov & Hutter, 2019), PyTorch's AdamW:
//   w ← w − lr·weight_decay·w first (decay applied to the weight, not folded into the gradient)
#include <algorithm>
#include <cmath>

#include "vector_clones.hpp"
#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

struct AdamConstants {
  float step_size, inv_sqrt_bias2, b1, b2, eps, wd;
};

// The element loops of Adam (not AdamW), in two functions rather than a branch inside one, so
// each vectorises; WEFT_VECTOR_CLONES runs them on the widest vectors the CPU has.
WEFT_VECTOR_CLONES void adam_update(std::size_t n, AdamConstants c, float* __restrict weight,
                                    const float* __restrict gradient, float* __restrict m, float* __restrict v) {
  for (std::size_t i = 0; i < n; ++i) {
    const float grad = gradient[i] + c.wd * weight[i];
    m[i] = c.b1 * m[i] + (1 - c.b1) * grad;
    v[i] = c.b2 * v[i] + (1 - c.b2) * grad * grad;
    weight[i] -= c.step_size * m[i] / (std::sqrt(v[i]) * c.inv_sqrt_bias2 + c.eps);
  }
}

WEFT_VECTOR_CLONES void adam_amsgrad_update(std::size_t n, AdamConstants c, float* __restrict weight,
                                            const float* __restrict gradient, float* __restrict m,
                                            float* __restrict v, float* __restrict vmax) {
  for (std::size_t i = 0; i < n; ++i) {
    const float grad = gradient[i] + c.wd * weight[i];
    m[i] = c.b1 * m[i] + (1 - c.b1) * grad;
    v[i] = c.b2 * v[i] + (1 - c.b2) * grad * grad;
    vmax[i] = std::max(vmax[i], v[i]);
    weight[i] -= c.step_size * m[i] / (std::sqrt(vmax[i]) * c.inv_sqrt_bias2 + c.eps);
  }
}

class Adam final : public Optimizer {
 public:
  Adam(const Config& c, bool decoupled)
      : decoupled_(decoupled),
        lr_(positive_setting(c, "lr")),
        beta1_(coefficient_setting(c, "beta1")),
        beta2_(coefficient_setting(c, "beta2")),
        eps_(positive_setting(c, "eps")),
        weight_decay_(c.number("weight_decay", 0)),
        amsgrad_(c.boolean("amsgrad")) {}

  std::vector<std::string> slots() const override {
    if (amsgrad_) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
    return {"exp_avg", "exp_avg_sq"};
  }
  double learning_rate() const override { return lr_; }

  void update(std::span<float> w, std::span<const float> g, std::span<const std::span<float>> slots,
              const OptimizerStep& step) const override {
    if (decoupled_) return update_decoupled(w, g, slots, step);
    const double t = static_cast<double>(step.t);
    const double bias1 = 1 - std::pow(beta1_, t), bias2 = 1 - std::pow(beta2_, t);
    const float step_size = static_cast<float>(step.lr / bias1);
    const float inv_sqrt_bias2 = static_cast<float>(1 / std::sqrt(bias2));
    const float b1 = static_cast<float>(beta1_), b2 = static_cast<float>(beta2_), eps = static_cast<float>(eps_),
                wd = static_cast<float>(weight_decay_);
    const AdamConstants c{step_size, inv_sqrt_bias2, b1, b2, eps, wd};
    if (!amsgrad_) return adam_update(w.size(), c, w.data(), g.data(), slots[0].data(), slots[1].data());
    adam_amsgrad_update(w.size(), c, w.data(), g.data(), slots[0].data(), slots[1].data(), slots[2].data());
  }

  void update_decoupled(std::span<float> w, std::span<const float> g, std::span<const std::span<float>> slots,
                        const OptimizerStep& step) const {
    // Element arithmetic in double (the stored values stay float): the decoupled decay and the
    // Adam step both rescale w, and float rounding of the two adds up over many steps.
    const double t = static_cast<double>(step.t);
    const double step_size = step.lr / (1 - std::pow(beta1_, t));
    const double inv_sqrt_bias2 = 1 / std::sqrt(1 - std::pow(beta2_, t));
    const double decay = 1 - step.lr * weight_decay_;
    float* __restrict weight = w.data();
    const float* __restrict gradient = g.data();
    float* __restrict m = slots[0].data();
    float* __restrict v = slots[1].data();
    float* __restrict vmax = amsgrad_ ? slots[2].data() : nullptr;
    for (std::size_t i = 0; i < w.size(); ++i) {
      const double grad = gradient[i];
      const double mi = beta1_ * m[i] + (1 - beta1_) * grad;
      const double vi = beta2_ * v[i] + (1 - beta2_) * grad * grad;
      double denominator = vi;
      if (vmax) denominator = std::max(double(vmax[i]), vi);
      weight[i] = static_cast<float>(weight[i] * decay - step_size * mi / (std::sqrt(denominator) * inv_sqrt_bias2 + eps_));
      m[i] = static_cast<float>(mi);
      v[i] = static_cast<float>(vi);
      if (vmax) vmax[i] = static_cast<float>(denominator);
    }
  }

 private:
  bool decoupled_;
  double lr_, beta1_, beta2_, eps_, weight_decay_;
  bool amsgrad_;
};

}  // namespace

void register_adam(Registries& r) {
  r.optimizers.add({"adam", "Adam with optional AMSGrad and L2 weight decay (PyTorch's rule)",
                    {{"lr", 0.001}, {"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-8}, {"weight_decay", 0.0}, {"amsgrad", false}},
                    [](const Config& c) { return std::make_unique<Adam>(c, false); }});
  r.optimizers.add({"adamw", "Adam with decoupled weight decay (PyTorch's AdamW rule)",
                    {{"lr", 0.001}, {"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-8}, {"weight_decay", 0.01}, {"amsgrad", false}},
                    [](const Config& c) { return std::make_unique<Adam>(c, true); }});
}

}  // namespace weft::builtin
