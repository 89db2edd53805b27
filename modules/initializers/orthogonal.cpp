// orthogonal: a (semi-)orthogonal matrix scaled by `gain` (Saxe et al. 2014; PyTorch's
// orthogonal_). The tensor is viewed as rows = shape[0] by cols = the rest; a normal matrix of
// max(rows, cols) × min(rows, cols) is orthonormalised column by column (modified Gram–Schmidt in
// double, run twice so the columns stay orthogonal to rounding), and transposed when rows < cols.
// Gram–Schmidt's R has a positive diagonal, which is the sign convention that makes Q uniformly
// (Haar) distributed, as PyTorch's sign correction after QR does.
#include <cmath>
#include <vector>

#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

class Orthogonal final : public Initializer {
 public:
  explicit Orthogonal(const Config& c) : gain_(c.number("gain")) {}

  void fill(View w, const Fans&, const CounterRng& rng) const override {
    if (w.shape().rank() < 2)
      throw Error("orthogonal initialisation needs a tensor of rank 2 or more, (out, in, ...), got " + w.shape().str());
    const std::size_t rows = static_cast<std::size_t>(w.shape()[0]), cols = w.size() / rows;
    const std::size_t tall = std::max(rows, cols), narrow = std::min(rows, cols);
    // q holds `narrow` columns of length `tall`, column-major: q[j·tall + i].
    std::vector<double> q(tall * narrow);
    for (std::size_t k = 0; k < q.size(); ++k) q[k] = rng.normal(k);
    for (std::size_t j = 0; j < narrow; ++j) {
      double* col = &q[j * tall];
      for (int pass = 0; pass < 2; ++pass)
        for (std::size_t p = 0; p < j; ++p) {
          const double* prev = &q[p * tall];
          double dot = 0;
          for (std::size_t i = 0; i < tall; ++i) dot += prev[i] * col[i];
          for (std::size_t i = 0; i < tall; ++i) col[i] -= dot * prev[i];
        }
      double norm = 0;
      for (std::size_t i = 0; i < tall; ++i) norm += col[i] * col[i];
      norm = std::sqrt(norm);
      for (std::size_t i = 0; i < tall; ++i) col[i] /= norm;
    }
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) {
        const double v = rows >= cols ? q[c * tall + r] : q[r * tall + c];
        w[r * cols + c] = static_cast<float>(gain_ * v);
      }
  }

 private:
  double gain_;
};

}  // namespace

void register_orthogonal(Registries& r) {
  r.initializers.add({"orthogonal", "a (semi-)orthogonal matrix over (out, in·k...) times gain", {{"gain", 1.0}},
                      [](const Config& c) { return std::make_unique<Orthogonal>(c); }});
}

}  // namespace weft::builtin
