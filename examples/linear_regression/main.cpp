// The textbook case: fit y = w·x + b with the mean squared error by full-batch gradient descent,
// and compare with the closed-form least-squares solution of the normal equations
// (XᵀX) θ = Xᵀy, solved here in double precision. Exits non-zero when the two differ by more
// than 1e-3 (Euclidean distance over the weights and the bias), so it doubles as a test.
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#include "weft/trainer.hpp"

namespace {

constexpr std::int64_t samples = 500, features = 3;

// y = 1.5 x0 − 2 x1 + 0.7 x2 + 0.3 + noise(σ = 0.1), x ~ N(0, 1): a noisy problem, so the
// least-squares solution is not simply the generating coefficients.
weft::Dataset generate() {
  weft::Dataset d{weft::Tensor(weft::Shape{samples, features}), weft::Tensor(weft::Shape{samples, 1}), "generated"};
  const double truth[features] = {1.5, -2.0, 0.7};
  const weft::CounterRng rng(2024);
  for (std::int64_t i = 0; i < samples; ++i) {
    double y = 0.3 + 0.1 * rng.derive(1).normal(static_cast<std::uint64_t>(i));
    for (std::int64_t j = 0; j < features; ++j) {
      const auto x = static_cast<float>(rng.normal(static_cast<std::uint64_t>(i * features + j)));
      d.x[static_cast<std::size_t>(i * features + j)] = x;
      y += truth[j] * x;
    }
    d.y[static_cast<std::size_t>(i)] = static_cast<float>(y);
  }
  return d;
}

// Least squares over [x, 1] by the normal equations, Gaussian elimination with partial pivoting.
std::vector<double> closed_form(const weft::Dataset& d) {
  constexpr std::size_t k = features + 1;
  std::vector<std::vector<double>> a(k, std::vector<double>(k + 1, 0.0));  // [XᵀX | Xᵀy]
  for (std::int64_t i = 0; i < samples; ++i) {
    double row[k];
    for (std::size_t j = 0; j < features; ++j) row[j] = d.x[static_cast<std::size_t>(i * features) + j];
    row[features] = 1.0;
    for (std::size_t r = 0; r < k; ++r) {
      for (std::size_t c = 0; c < k; ++c) a[r][c] += row[r] * row[c];
      a[r][k] += row[r] * d.y[static_cast<std::size_t>(i)];
    }
  }
  for (std::size_t col = 0; col < k; ++col) {
    std::size_t pivot = col;
    for (std::size_t r = col + 1; r < k; ++r)
      if (std::abs(a[r][col]) > std::abs(a[pivot][col])) pivot = r;
    std::swap(a[col], a[pivot]);
    for (std::size_t r = 0; r < k; ++r) {
      if (r == col) continue;
      const double f = a[r][col] / a[col][col];
      for (std::size_t c = col; c <= k; ++c) a[r][c] -= f * a[col][c];
    }
  }
  std::vector<double> theta(k);
  for (std::size_t r = 0; r < k; ++r) theta[r] = a[r][k] / a[r][r];
  return theta;
}

}  // namespace

int main() {
  try {
    const weft::Dataset data = generate();
    weft::Model model({{"input", {features}},
                       {"layers", {{{"type", "dense"}, {"units", 1}, {"init", "zeros"}}}},
                       {"loss", "mse"},
                       {"optimizer", {{"type", "sgd"}, {"lr", 0.1}}},
                       {"training", {{"batch", "full"}, {"epochs", 300}, {"shuffle", false}}}});
    model.initialize(0);
    weft::TrainOptions options = weft::train_options(model.spec()["training"]);
    options.threads = 1;
    weft::Trainer trainer(model, options);
    weft::FitOptions fit;
    fit.epochs = model.spec()["training"]["epochs"];
    const auto& history = trainer.fit(data, fit);

    const std::vector<double> exact = closed_form(data);
    const auto w = model.parameters();
    std::vector<double> learned(w.begin(), w.begin() + features);
    learned.push_back(w[model.parameter_table()[1].offset]);
    std::printf("full-batch gradient descent: %lld steps, final MSE %.6f\n", static_cast<long long>(trainer.step()),
                *history.back().get("loss"));
    std::printf("%-10s %14s %14s\n", "", "learned", "least squares");
    double distance = 0;
    for (std::size_t j = 0; j < exact.size(); ++j) {
      char name[16];
      if (j < features) std::snprintf(name, sizeof name, "w%zu", j);
      else std::snprintf(name, sizeof name, "b");
      std::printf("%-10s %14.7f %14.7f\n", name, learned[j], exact[j]);
      distance += (learned[j] - exact[j]) * (learned[j] - exact[j]);
    }
    distance = std::sqrt(distance);
    std::printf("distance %.3g (must be below 1e-3)\n", distance);
    return distance < 1e-3 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "linear_regression: error: %s\n", e.what());
    return 1;
  }
}
