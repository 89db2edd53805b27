#pragma once
// Periodic checkpoints during Trainer::fit, as a Callback:
//
//   every N optimizer steps and/or every M epochs, to "<dir>/step-<step, 8 digits>.h5";
//   keep only the newest K of those (0: keep all);
//   keep "<dir>/best.h5", the state at the epoch end where a monitored metric was best
//   (lower is better for names with "loss", "error", "mse" or "mae", higher otherwise);
//   best.h5 is chosen at epoch ends only, also when periodic checkpoints are taken every N
//   steps: the metrics it can monitor (val_*, loss, accuracy) are epoch aggregates, and within
//   an epoch there is only each step's loss on one mini-batch, which would pick the "best" by
//   batch noise (and dropout) and says nothing about validation;
//   and one at the end of fit(), so a finished run can be extended with --resume.
#include <cstdint>
#include <limits>
#include <string>

#include "weft/callback.hpp"
#include "weft/io/checkpoint.hpp"

namespace weft::io {

// When and where CheckpointCallback writes (see the file comment for the files it keeps).
struct CheckpointSettings {
  std::string dir;                // the checkpoints' folder
  std::int64_t every_steps = 0;   // 0: not by steps
  std::int64_t every_epochs = 0;  // 0: not by epochs
  std::int64_t keep_last = 0;     // 0: keep all periodic checkpoints
  std::string keep_best;          // metric to monitor ("val_loss"); empty: none
  DataState data;                 // stored in every checkpoint (normalisation)
  // The run's early stopping, whose state (best value, patience count, best weights) every
  // checkpoint holds; nullptr: none.
  const EarlyStopping* early_stopping = nullptr;
};

// Writes checkpoints during Trainer::fit (see the file comment); every file is written atomically.
class CheckpointCallback final : public Callback {
 public:
  // Creates `dir` when missing; throws IoError when it cannot.
  explicit CheckpointCallback(CheckpointSettings settings);

  void on_fit_begin(Trainer& trainer) override;
  void on_step_end(Trainer& trainer, const StepEvent& event) override;
  void on_epoch_end(Trainer& trainer, const EpochEvent& event) override;
  void on_fit_end(Trainer& trainer) override;

  // `<dir>/step-<step, 8 digits>.h5`, e.g. "run/step-00000120.h5".
  std::string periodic_path(std::int64_t step) const;
  std::string best_path() const { return settings_.dir + "/best.h5"; }  // `<dir>/best.h5`
  // The last checkpoint written (empty before the first).
  const std::string& last_saved() const { return last_saved_; }

 private:
  void save(Trainer& trainer, const std::string& path);
  void save_periodic(Trainer& trainer);
  void remove_old();
  // Updates the best value with the monitored metric of `metrics`; true when it improved.
  bool consider_best(Trainer& trainer, const Metrics& metrics, bool save_when_better);

  CheckpointSettings settings_;
  bool lower_is_better_ = true;
  double best_ = std::numeric_limits<double>::quiet_NaN();
  std::int64_t last_saved_step_ = -1;
  std::string last_saved_;
};

// The trainer's state as a checkpoint holds it.
TrainingState training_state(const Trainer& trainer);
// Saves the trainer's model and whole state (with early stopping's when given).
void save_checkpoint(const std::string& path, Trainer& trainer, const DataState& data = {},
                     const EarlyStopping* early_stopping = nullptr);

}  // namespace weft::io
