// huber: quadratic near the target, linear far from it (PyTorch's HuberLoss), mean over elements:
//   d = prediction − target;  ½·d² where |d| <= delta, delta·(|d| − ½·delta) beyond.
// Outliers pull with a bounded force delta instead of mse's 2·d.
#include <algorithm>
#include <cmath>

#include "losses/elementwise_loss.hpp"

namespace weft::builtin {
namespace {

struct Huber {
  explicit Huber(const Config& c) : delta(c.number("delta", 0.0, std::numeric_limits<double>::infinity(), true)) {}
  double value(double p, double t) const {
    const double d = std::abs(p - t);
    return d <= delta ? 0.5 * d * d : delta * (d - 0.5 * delta);
  }
  double derivative(double p, double t) const { return std::clamp(p - t, -delta, delta); }
  double delta;
};

}  // namespace

void register_huber(Registries& r) {
  add_elementwise_loss<Huber>(r, "huber", "½·d² for |d| <= delta, delta·(|d| − ½·delta) beyond; mean over elements",
                              {{"delta", 1.0}});
}

}  // namespace weft::builtin
