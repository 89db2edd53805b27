// binary_cross_entropy: the sigmoid and the binary cross-entropy fused on logits z, as PyTorch's
// BCEWithLogitsLoss, for targets t in [0, 1], mean over all elements:
//   −t·log σ(z) − (1 − t)·log(1 − σ(z)) = max(z, 0) − z·t + log(1 + exp(−|z|))
// The right-hand form never overflows and keeps the digits that log(σ(z)) would lose; the
// gradient is σ(z) − t.
#include <cmath>

#include "losses/elementwise_loss.hpp"

namespace weft::builtin {
namespace {

struct LogitBinaryCrossEntropy {
  explicit LogitBinaryCrossEntropy(const Config&) {}
  double value(double z, double t) const { return std::max(z, 0.0) - z * t + std::log1p(std::exp(-std::abs(z))); }
  double derivative(double z, double t) const {
    const double sigma = z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z));
    return sigma - t;
  }
};

}  // namespace

void register_binary_cross_entropy(Registries& r) {
  add_elementwise_loss<LogitBinaryCrossEntropy>(
      r, "binary_cross_entropy", "sigmoid + binary cross-entropy on logits, targets in [0, 1], mean over elements");
}

}  // namespace weft::builtin
