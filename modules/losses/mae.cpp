// mae: mean over all elements of |prediction − target|, as PyTorch's L1Loss. Its gradient at
// prediction = target is taken as 0 (the subgradient PyTorch uses).
#include <cmath>

#include "losses/elementwise_loss.hpp"

namespace weft::builtin {
namespace {

struct AbsoluteError {
  explicit AbsoluteError(const Config&) {}
  double value(double p, double t) const { return std::abs(p - t); }
  double derivative(double p, double t) const { return p > t ? 1.0 : p < t ? -1.0 : 0.0; }
};

}  // namespace

void register_mae(Registries& r) {
  add_elementwise_loss<AbsoluteError>(r, "mae", "mean absolute error over all output elements");
}

}  // namespace weft::builtin
