#include "weft/io/checkpoint_callback.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "weft/trainer.hpp"

namespace weft::io {
namespace fs = std::filesystem;

TrainingState training_state(const Trainer& trainer) {
  TrainerState s = trainer.state();
  TrainingState out;
  out.json = std::move(s.json);
  out.tensors = std::move(s.tensors);
  return out;
}

void save_checkpoint(const std::string& path, Trainer& trainer, const DataState& data, const EarlyStopping* early_stopping) {
  TrainingState state = training_state(trainer);
  if (early_stopping) state.early_stopping = early_stopping->state();
  save_checkpoint(path, trainer.model(), state, data);
}

CheckpointCallback::CheckpointCallback(CheckpointSettings settings) : settings_(std::move(settings)) {
  std::error_code ec;
  fs::create_directories(settings_.dir, ec);
  if (ec || !fs::is_directory(settings_.dir))
    throw IoError("cannot create the checkpoint folder '" + settings_.dir + "': " + ec.message());
  const std::string& m = settings_.keep_best;
  lower_is_better_ = m.find("loss") != std::string::npos || m.find("error") != std::string::npos ||
                     m.find("mse") != std::string::npos || m.find("mae") != std::string::npos;
}

std::string CheckpointCallback::periodic_path(std::int64_t step) const {
  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld.h5", static_cast<long long>(step));
  return settings_.dir + "/" + name;
}

void CheckpointCallback::save(Trainer& trainer, const std::string& path) {
  save_checkpoint(path, trainer, settings_.data, settings_.early_stopping);
  last_saved_ = path;
}

void CheckpointCallback::save_periodic(Trainer& trainer) {
  if (trainer.step() == last_saved_step_) return;  // a step and an epoch end may coincide
  save(trainer, periodic_path(trainer.step()));
  last_saved_step_ = trainer.step();
  remove_old();
}

void CheckpointCallback::remove_old() {
  if (settings_.keep_last <= 0) return;
  std::vector<fs::path> periodic;
  for (const auto& entry : fs::directory_iterator(settings_.dir)) {
    const auto name = entry.path().filename().string();
    if (name.starts_with("step-") && name.ends_with(".h5")) periodic.push_back(entry.path());
  }
  // Zero-padded step numbers: name order is step order.
  std::sort(periodic.begin(), periodic.end());
  const auto keep = static_cast<std::size_t>(settings_.keep_last);
  for (std::size_t i = 0; i + keep < periodic.size(); ++i) fs::remove(periodic[i]);
}

void CheckpointCallback::on_fit_begin(Trainer& trainer) {
  // A resumed run keeps the best value seen before the checkpoint.
  if (settings_.keep_best.empty()) return;
  for (const auto& metrics : trainer.history()) consider_best(trainer, metrics, false);
}

bool CheckpointCallback::consider_best(Trainer& trainer, const Metrics& metrics, bool save_when_better) {
  const auto value = metrics.get(settings_.keep_best);
  if (!value) {
    std::string names;
    for (const auto& n : metrics.names()) names += (names.empty() ? "" : ", ") + n;
    throw Error("--keep-best " + settings_.keep_best + ": no such metric; this run reports " + names);
  }
  if (std::isnan(*value)) return false;
  const bool better = std::isnan(best_) || (lower_is_better_ ? *value < best_ : *value > best_);
  if (!better) return false;
  best_ = *value;
  if (save_when_better) save(trainer, best_path());
  return true;
}

void CheckpointCallback::on_step_end(Trainer& trainer, const StepEvent& event) {
  if (settings_.every_steps > 0 && event.step % settings_.every_steps == 0) save_periodic(trainer);
}

void CheckpointCallback::on_epoch_end(Trainer& trainer, const EpochEvent& event) {
  if (settings_.every_epochs > 0 && event.epoch % settings_.every_epochs == 0) save_periodic(trainer);
  if (!settings_.keep_best.empty() && event.metrics) consider_best(trainer, *event.metrics, true);
}

void CheckpointCallback::on_fit_end(Trainer& trainer) { save_periodic(trainer); }

}  // namespace weft::io
