#include <algorithm>

#include "weft/callbacks.hpp"
#include "weft/registry.hpp"
#include "weft/trainer.hpp"

namespace weft {

EarlyStopping::EarlyStopping(const Json& settings) {
  const Config c("early_stopping", settings);
  monitor_ = c.string("monitor");
  patience_ = c.integer("patience", 0);
  min_delta_ = c.number("min_delta", 0);
  const std::string mode = c.choice("mode", {"auto", "min", "max"});
  maximize_ = mode == "max" || (mode == "auto" && monitor_.find("acc") != std::string::npos);
  restore_best_ = c.boolean("restore_best");
}

bool EarlyStopping::improves(double value) const {
  if (best_epoch_ == 0) return true;
  return maximize_ ? value > best_ + min_delta_ : value < best_ - min_delta_;
}

void EarlyStopping::on_fit_begin(Trainer& trainer) {
  stopped_epoch_ = 0;
  if (best_epoch_ > 0) return;  // this object already follows the run
  for (const auto& m : trainer.history()) {
    const auto value = m.get(monitor_);
    if (!value) continue;
    if (improves(*value)) {
      best_ = *value;
      best_epoch_ = static_cast<std::int64_t>(*m.get("epoch"));
      wait_ = 0;
    } else {
      ++wait_;
    }
  }
}

void EarlyStopping::on_epoch_end(Trainer& trainer, const EpochEvent& event) {
  const auto value = event.metrics->get(monitor_);
  if (!value)
    throw Error("early stopping: the monitored metric '" + monitor_ + "' is not among this epoch's metrics (" +
                join_names(event.metrics->names()) + "); a val_* metric needs validation data");
  if (improves(*value)) {
    best_ = *value;
    best_epoch_ = event.epoch;
    wait_ = 0;
    if (restore_best_) {
      const Model& model = trainer.model();
      best_parameters_.assign(model.parameters().begin(), model.parameters().end());
      best_buffers_.assign(model.buffers().begin(), model.buffers().end());
    }
    return;
  }
  if (++wait_ < patience_) return;
  stopped_epoch_ = event.epoch;
  trainer.request_stop();
  if (restore_best_ && !best_parameters_.empty()) {
    Model& model = trainer.model();
    std::copy(best_parameters_.begin(), best_parameters_.end(), model.parameters().begin());
    std::copy(best_buffers_.begin(), best_buffers_.end(), model.buffers().begin());
  }
}

}  // namespace weft
