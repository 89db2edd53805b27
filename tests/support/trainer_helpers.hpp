#pragma once
// Helpers shared by the trainer tests: synthetic classification data and a callback that stops
// training after a given step.
#include <cstdint>

#include "weft/callback.hpp"
#include "weft/dataset.hpp"
#include "weft/rng.hpp"
#include "weft/trainer.hpp"

namespace weft::testing {

// n samples of `features` standard-normal values and a label drawn uniformly from [0, classes),
// all keyed by `seed`.
inline Dataset random_classes(std::int64_t n, std::int64_t features, std::uint64_t classes, std::uint64_t seed) {
  Dataset d{Tensor(Shape{n, features}), Tensor(Shape{n}), "synthetic"};
  const CounterRng rng(seed);
  for (std::size_t i = 0; i < d.x.size(); ++i) d.x[i] = static_cast<float>(rng.normal(i));
  for (std::int64_t i = 0; i < n; ++i) d.y[i] = static_cast<float>(rng.derive(1).below(static_cast<std::uint64_t>(i), classes));
  return d;
}

// Asks the trainer to stop once `at` optimizer steps are taken.
struct StopAtStep : Callback {
  std::int64_t at;
  explicit StopAtStep(std::int64_t n) : at(n) {}
  void on_step_end(Trainer& t, const StepEvent& e) override {
    if (e.step == at) t.request_stop();
  }
};

}  // namespace weft::testing
