// sgd: stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight
// decay, following PyTorch's torch.optim.SGD:
//   g ← g + weight_decay·w
//   b ← g on the first step, else momentum·b + (1 − dampening)·g
//   g ← g + momentum·b with nesterov, else b
//   w ← w − lr·g
#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

class Sgd final : public Optimizer {
 public:
  explicit Sgd(const Config& c)
      : lr_(positive_setting(c, "lr")),
        momentum_(c.number("momentum", 0, 1)),
        dampening_(c.number("dampening", 0, 1)),
        weight_decay_(c.number("weight_decay", 0)),
        nesterov_(c.boolean("nesterov")) {
    if (nesterov_ && (momentum_ == 0 || dampening_ != 0))
      throw SpecError(c.context() + ": 'nesterov' needs a momentum > 0 and dampening 0");
  }

  std::vector<std::string> slots() const override {
    if (momentum_ == 0) return {};
    return {"momentum_buffer"};
  }
  double learning_rate() const override { return lr_; }

  void update(std::span<float> w, std::span<const float> g, std::span<const std::span<float>> slots,
              const OptimizerStep& step) const override {
    const float lr = static_cast<float>(step.lr), mu = static_cast<float>(momentum_),
                damp = static_cast<float>(1 - dampening_), wd = static_cast<float>(weight_decay_);
    for (std::size_t i = 0; i < w.size(); ++i) {
      float grad = g[i] + wd * w[i];
      if (mu != 0) {
        float& b = slots[0][i];
        b = step.t == 1 ? grad : mu * b + damp * grad;
        grad = nesterov_ ? grad + mu * b : b;
      }
      w[i] -= lr * grad;
    }
  }

 private:
  double lr_, momentum_, dampening_, weight_decay_;
  bool nesterov_;
};

}  // namespace

void register_sgd(Registries& r) {
  r.optimizers.add({"sgd", "gradient descent with momentum, dampening, Nesterov and weight decay (PyTorch's rule)",
                    {{"lr", 0.01}, {"momentum", 0.0}, {"dampening", 0.0}, {"weight_decay", 0.0}, {"nesterov", false}},
                    [](const Config& c) { return std::make_unique<Sgd>(c); }});
}

}  // namespace weft::builtin
