// mse: mean over all elements of (prediction − target)², as PyTorch's MSELoss(reduction="mean").
#include "losses/elementwise_loss.hpp"

namespace weft::builtin {
namespace {

struct SquaredError {
  explicit SquaredError(const Config&) {}
  double value(double p, double t) const { return (p - t) * (p - t); }
  double derivative(double p, double t) const { return 2 * (p - t); }
};

}  // namespace

void register_mse(Registries& r) {
  add_elementwise_loss<SquaredError>(r, "mse", "mean squared error over all output elements");
}

}  // namespace weft::builtin
