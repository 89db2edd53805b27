#pragma once
// The Schedule interface: the learning rate as a function of the position in training.
//
// A schedule is built from the "schedule" object of the spec's "training" settings through
// registry().schedules. Its position is counted in "unit"s — "epoch" (default) or "step" (one
// optimizer update) — and handed in by the trainer, so a pure schedule needs no state of its own;
// one that reacts to metrics (reduce_on_plateau) keeps it in state()/restore(), which the
// trainer's state carries into a checkpoint.
#include <cstdint>

#include "weft/config.hpp"
#include "weft/metrics.hpp"

namespace weft {

// A learning-rate schedule; registered by name in Registries::schedules (see the file comment).
class Schedule {
 public:
  virtual ~Schedule() = default;

  // The learning rate for the next update, after `t` completed units (t = 0 for the first
  // update), given the optimizer's configured rate `base`. Must be a pure function of its
  // arguments and of state().
  virtual double rate(double base, std::int64_t t) const = 0;

  // Called once at the end of every epoch with its metrics (reduce_on_plateau reads its monitor).
  virtual void end_epoch(const Metrics& /*epoch*/) {}

  // Whatever end_epoch() changed; restore() takes what state() returned.
  virtual Json state() const { return Json::object(); }
  virtual void restore(const Json& /*state*/) {}  // takes back what state() returned
};

}  // namespace weft
