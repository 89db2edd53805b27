#pragma once
// Helpers shared by the trainer tests: a callback that stops training after a given step.
#include <cstdint>

#include "weft/callback.hpp"
#include "weft/trainer.hpp"

namespace weft::testing {

// Asks the trainer to stop once `at` optimizer steps are taken.
struct StopAtStep : Callback {
  std::int64_t at;
  explicit StopAtStep(std::int64_t n) : at(n) {}
  void on_step_end(Trainer& t, const StepEvent& e) override {
    if (e.step == at) t.request_stop();
  }
};

}  // namespace weft::testing
