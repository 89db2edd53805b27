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

void EarlyStopping::observe(std::int64_t epoch, double value, const Model* model) {
  epochs_seen_ = epoch;
  if (!improves(value)) {
    ++wait_;
    return;
  }
  best_ = value;
  best_epoch_ = epoch;
  wait_ = 0;
  if (!restore_best_) return;
  best_parameters_.clear();
  best_buffers_.clear();
  if (model) {
    best_parameters_.assign(model->parameters().begin(), model->parameters().end());
    best_buffers_.assign(model->buffers().begin(), model->buffers().end());
  }
}

void EarlyStopping::on_fit_begin(Trainer& trainer) {
  stopped_epoch_ = 0;
  const auto& history = trainer.history();
  for (const auto& m : history) {
    const auto epoch = static_cast<std::int64_t>(m.get("epoch").value_or(0));
    const auto value = m.get(monitor_);
    if (epoch <= epochs_seen_ || !value) continue;
    // A checkpoint written at this epoch's end holds its weights: the model has them now.
    const bool just_finished = &m == &history.back() && trainer.position() == 0 && trainer.epoch() == epoch;
    observe(epoch, *value, just_finished ? &trainer.model() : nullptr);
  }
  // The run being resumed had already decided to stop: stop again, as it did.
  if (patience_exhausted()) {
    stopped_epoch_ = epochs_seen_;
    trainer.request_stop();
  }
}

void EarlyStopping::on_epoch_end(Trainer& trainer, const EpochEvent& event) {
  const auto value = event.metrics->get(monitor_);
  if (!value)
    throw Error("early stopping: the monitored metric '" + monitor_ + "' is not among this epoch's metrics (" +
                join_names(event.metrics->names()) + "); a val_* metric needs validation data");
  observe(event.epoch, *value, &trainer.model());
  if (!patience_exhausted()) return;
  stopped_epoch_ = event.epoch;
  trainer.request_stop();
}

// Restored here rather than when it stops, so that every checkpoint written at an epoch end
// holds that epoch's own weights, whatever the order of the callbacks.
void EarlyStopping::on_fit_end(Trainer& trainer) {
  if (!stopped() || !restore_best_ || best_parameters_.empty()) return;
  Model& model = trainer.model();
  std::copy(best_parameters_.begin(), best_parameters_.end(), model.parameters().begin());
  std::copy(best_buffers_.begin(), best_buffers_.end(), model.buffers().begin());
}

EarlyStoppingState EarlyStopping::state() const {
  return {{{"monitor", monitor_},
           {"best", best_},
           {"best_epoch", best_epoch_},
           {"wait", wait_},
           {"epochs_seen", epochs_seen_}},
          best_parameters_,
          best_buffers_};
}

void EarlyStopping::restore(const EarlyStoppingState& state) {
  const Json& j = state.json;
  auto fail = [](const std::string& what) { throw Error("cannot restore the early-stopping state: " + what); };
  try {
    if (j.at("monitor") != monitor_)
      fail("it monitored " + j.at("monitor").dump() + ", this run monitors \"" + monitor_ + "\"");
    const auto best_epoch = j.at("best_epoch").get<std::int64_t>();
    const auto wait = j.at("wait").get<std::int64_t>();
    const auto seen = j.at("epochs_seen").get<std::int64_t>();
    if (best_epoch < 0 || wait < 0 || best_epoch + wait > seen)
      fail("best_epoch " + std::to_string(best_epoch) + " and wait " + std::to_string(wait) +
           " do not fit in the " + std::to_string(seen) + " epochs seen");
    best_ = j.at("best").get<double>();
    best_epoch_ = best_epoch;
    wait_ = wait;
    epochs_seen_ = seen;
  } catch (const Json::exception& e) {
    fail(std::string("a field is missing or has the wrong type: ") + e.what());
  }
  best_parameters_ = state.best_parameters;
  best_buffers_ = state.best_buffers;
}

}  // namespace weft
