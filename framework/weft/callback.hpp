#pragma once
// The Callback interface: hooks into Trainer::fit. The built-in features — progress display,
// the CSV metrics log, early stopping — are callbacks too (weft/callbacks.hpp).
//
// Order of calls: on_fit_begin; per epoch: on_epoch_begin, then per optimizer step (with
// gradient accumulation a step spans several mini-batches) on_step_begin / on_step_end, then the
// validation pass, then on_epoch_end with the epoch's metrics (already in trainer.history());
// finally on_fit_end (also after request_stop()). A fit resumed from a trainer state in the middle
// of an epoch does not call on_epoch_begin for that epoch again.
#include <cstdint>

#include "weft/metrics.hpp"

namespace weft {

class Trainer;

// What on_step_begin / on_step_end are told about one optimizer step.
struct StepEvent {
  std::int64_t step = 0;     // optimizer steps completed (at on_step_end: this one included)
  std::int64_t epoch = 0;    // 1-based epoch this step belongs to
  std::int64_t batch = 0;    // mini-batches of this epoch consumed (at on_step_end: this step's included)
  std::int64_t batches = 0;  // mini-batches in the epoch
  std::int64_t epochs = 0;   // the fit's last epoch (0 outside fit())
  std::int64_t samples = 0;  // samples in this step
  double loss = 0;           // this step's mean loss (at on_step_end), regularisers included
  double lr = 0;             // the scheduled learning rate of this step (before per-layer multipliers)
};

// What on_epoch_begin / on_epoch_end are told about one epoch.
struct EpochEvent {
  std::int64_t epoch = 0;   // 1-based
  std::int64_t epochs = 0;  // the fit's last epoch
  const Metrics* metrics = nullptr;  // on_epoch_end only: loss, accuracy, val_*, lr, seconds...
};

// Override the hooks you need; each default does nothing. Hooks run on the thread that called
// fit(), one callback after another in FitOptions::callbacks order; an exception thrown by a
// hook ends fit() and reaches its caller.
class Callback {
 public:
  virtual ~Callback() = default;
  // Once, before the first step of this fit() call (trainer.history() holds earlier epochs).
  virtual void on_fit_begin(Trainer& /*trainer*/) {}
  // Before the epoch's first step (not for an epoch resumed in its middle).
  virtual void on_epoch_begin(Trainer& /*trainer*/, const EpochEvent& /*event*/) {}
  // Before the step reads its mini-batches; event.loss is not known yet (0).
  virtual void on_step_begin(Trainer& /*trainer*/, const StepEvent& /*event*/) {}
  // After the parameters were updated: a consistent point for trainer.state().
  virtual void on_step_end(Trainer& /*trainer*/, const StepEvent& /*event*/) {}
  // After the epoch and its validation pass; event.metrics is the history's last entry.
  virtual void on_epoch_end(Trainer& /*trainer*/, const EpochEvent& /*event*/) {}
  // Once at the end of fit(), also when a callback asked to stop.
  virtual void on_fit_end(Trainer& /*trainer*/) {}
};

}  // namespace weft
