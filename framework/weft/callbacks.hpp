#pragma once
// Built-in callbacks (weft/callback.hpp): early stopping and the progress display. The per-epoch
// CSV log is io::CsvLog (weft/io/metrics_csv.hpp).
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "weft/callback.hpp"
#include "weft/config.hpp"

namespace weft {

class Model;

// What a checkpoint keeps of an EarlyStopping (io::save_checkpoint stores it under
// /early_stopping): the JSON {"monitor", "best", "best_epoch", "wait", "epochs_seen"} and, with
// restore_best, the best epoch's parameters and buffers laid out like Model::parameters() and
// Model::buffers() (both empty when no epoch improved yet).
struct EarlyStoppingState {
  Json json = Json::object();  // monitor, best, best_epoch, wait, epochs_seen
  // The best epoch's parameters, laid out like Model::parameters() (restore_best only).
  std::vector<float> best_parameters, best_buffers;  // the same for Model::buffers()
};

// Stops fit() at the end of the `patience`-th epoch in a row whose monitored metric did not
// improve on the best by more than min_delta (Keras's rule; patience 0 behaves as 1). With
// restore_best, the parameters and buffers of the best epoch are put back at the end of fit()
// when it stopped (the optimizer state is left as it is). "mode": "min", "max", or "auto" (max
// for names containing "acc", else min).
//
// Resuming: restore() takes back the state a checkpoint holds (best value, epochs without
// improvement, best weights), so a resumed run stops at the same epoch with the same weights as
// a straight one. On fit begin, epochs of trainer.history() this object has not seen (all of
// them for a fresh object without restore(); the checkpoint's last epoch when the checkpoint
// callback ran before this one) are replayed; the weights of a replayed best epoch are known
// only when it is the epoch the model has just finished, else restore_best has none to put back.
class EarlyStopping final : public Callback {
 public:
  // `settings` as resolve_early_stopping() returns them (weft/training_config.hpp).
  explicit EarlyStopping(const Json& settings);

  void on_fit_begin(Trainer& trainer) override;
  void on_epoch_end(Trainer& trainer, const EpochEvent& event) override;
  void on_fit_end(Trainer& trainer) override;

  EarlyStoppingState state() const;  // for a checkpoint; a copy, taken at any time
  // Throws Error naming the problem when the state is malformed or monitors another metric.
  void restore(const EarlyStoppingState& state);

  bool stopped() const { return stopped_epoch_ > 0; }  // whether it ended a fit() early
  std::int64_t stopped_epoch() const { return stopped_epoch_; }  // 0 when it did not stop
  std::int64_t best_epoch() const { return best_epoch_; }  // 1-based; 0 before any epoch was seen
  double best() const { return best_; }  // the monitored metric's best value (meaningless at best_epoch() 0)

 private:
  bool improves(double value) const;
  // Takes the monitored value of `epoch`; `model` holds that epoch's weights (nullptr: unknown).
  void observe(std::int64_t epoch, double value, const Model* model);
  bool patience_exhausted() const { return best_epoch_ > 0 && wait_ > 0 && wait_ >= patience_; }

  std::string monitor_;
  std::int64_t patience_;
  double min_delta_;
  bool maximize_, restore_best_;
  double best_ = 0;
  std::int64_t best_epoch_ = 0, wait_ = 0, epochs_seen_ = 0, stopped_epoch_ = 0;
  std::vector<float> best_parameters_, best_buffers_;
};

// Progress on `out`. Live (a terminal): one line redrawn at most ten times a second with the
// epoch, a bar, step/total, ETA, the running mean loss and samples/s, finished by the epoch's
// summary. Not live (a file, a pipe): only the summary, one plain line per epoch.
class ProgressDisplay final : public Callback {
 public:
  // Writes to `out` (not owned; must outlive the callback), redrawing one line when `live`.
  ProgressDisplay(std::FILE* out, bool live);
  // Live when `out` is a terminal.
  static bool is_terminal(std::FILE* out);

  void on_fit_begin(Trainer& trainer) override;  // also starts the clock of a resumed epoch
  void on_epoch_begin(Trainer& trainer, const EpochEvent& event) override;
  void on_step_begin(Trainer& trainer, const StepEvent& event) override;
  void on_step_end(Trainer& trainer, const StepEvent& event) override;
  void on_epoch_end(Trainer& trainer, const EpochEvent& event) override;

 private:
  using Clock = std::chrono::steady_clock;
  std::FILE* out_;
  bool live_;
  Clock::time_point epoch_start_, last_draw_;
  double loss_sum_ = 0;
  std::int64_t steps_ = 0, samples_ = 0;
  std::int64_t first_batch_ = -1;  // where this process started in the epoch (resumed runs: > 0)
};

// "epoch 3/10  loss 0.4123  accuracy 0.8791  val_loss ...  5230 samples/s  4.1 s"
std::string epoch_summary(const Metrics& metrics, std::int64_t epochs);

}  // namespace weft
