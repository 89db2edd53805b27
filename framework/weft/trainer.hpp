#pragma once
// Trainer: gradient descent over a DataSource (weft/data_source.hpp: a Dataset in memory, or a
// file streamed window by window) with the model's loss and optimizer.
//
// One optimizer step: for each of `accumulate` mini-batches (epoch order from the seed), run the
// Executor's sharded forward and backward and add the mini-batch gradient, weighted by its share
// of the step's samples; zero the gradients of frozen layers; check for non-finite values; add
// the weight penalties; clip (global norm, then value); update the parameters in parallel over
// disjoint ranges at the scheduled learning rate times each layer's "lr_mult".
//
// Full-batch, mini-batch and stochastic gradient descent are the same loop with batch_size
// 0 (or >= the dataset), b, and 1.
//
// ## Training state (for checkpoints)
//
// state() returns everything beyond the model's parameters and buffers that the next step
// depends on; a fresh Trainer on an identically built model (same spec and weights) that calls
// restore(state) continues bit for bit as the original would have:
//
//   TrainerState::tensors  named copies of the optimizer slots, one per (parameter, slot):
//                          `<layer>/<param>/<slot>` (e.g. "dense_0/weight/exp_avg"), shaped like
//                          the parameter. Store them as `/optimizer/<layer>/<param>/<slot>`.
//   TrainerState::json     {"format": 1,
//                           "optimizer": the resolved optimizer spec (type and settings),
//                           "slots": slot names, in order,
//                           "schedule": {"spec": resolved schedule spec or null, "state": {...}},
//                           "step": optimizer steps taken, "epoch": epochs completed,
//                           "position": mini-batches of the current epoch consumed,
//                           "epoch_totals": {"loss_sum", "correct", "samples", "steps"} so far
//                                           in the current epoch,
//                           "rng": {"seed", "shuffle"} (the epoch order is a pure function of
//                                  seed and epoch: this is the whole random state),
//                           "batch_size", "accumulate", "shard_size" (absent before
//                                  version 0.2: those runs used 32),
//                           "lr": the last scheduled learning rate,
//                           "history": [per-epoch metrics as [[name, value], ...]]}
//
// restore() checks the optimizer type and settings, slot names, tensor names and shapes, and
// (mid-epoch) the batch size, and throws Error naming the mismatch; on error the trainer is
// unchanged. It takes the seed and shuffle flag from the state. Take state() between steps:
// from a callback's on_step_end or on_epoch_end, or after fit() returns.
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "weft/callback.hpp"
#include "weft/data_source.hpp"
#include "weft/executor.hpp"
#include "weft/metrics.hpp"
#include "weft/model.hpp"
#include "weft/schedule.hpp"

namespace weft {

// How a Trainer runs: batching, threads, seed and order, accumulation, clipping, the learning-rate
// schedule, processes. train_options() makes one from a spec's "training" object.
struct TrainOptions {
  std::int64_t batch_size = 128;  // 0: the whole dataset (full-batch gradient descent)
  std::int64_t shard_size = 0;    // samples per shard, fixed so results do not depend on threads;
                                  // 0: default_shard_size(batch_size)
  int threads = 0;                // 0: all hardware threads
  std::uint64_t seed = 0;         // keys the epoch order and every random layer (dropout)
  bool shuffle = true;            // false: every epoch reads the samples in stored order
  std::int64_t accumulate = 1;    // mini-batches per optimizer step
  double clip_norm = 0;           // 0: off
  double clip_value = 0;          // 0: off
  Json schedule = nullptr;        // a schedule spec ("unit" included); null: constant rate
  // Data-parallel training (weft/executor.hpp): every rank runs fit() on the same data and ends
  // with the same parameters; null: one process. Must outlive the trainer.
  Communicator* communicator = nullptr;
  bool exact_reduction = true;    // false: MPI_Allreduce for gradients (faster, not the same bits)
  bool overlap_exchange = true;   // exact reduction: exchange during the backward pass (same bits)
};

// The shard size used when none is given: the batch over the machine's hardware threads, within
// [32, 128]. Big shards make dense layers' GEMMs efficient (OpenBLAS reaches about 65 % of its
// large-matrix rate at 32 rows, 90 % at 128) and leave fewer per-shard gradients to add up; at
// least one shard per core keeps every core busy. It depends on the machine, never on the
// `threads` option, so one machine gives the same bits at any thread count; checkpoints record
// it, so a resumed run keeps the shard size it started with (pass one to match another machine).
// Full-batch training (batch 0) takes 128.
std::int64_t default_shard_size(std::int64_t batch_size);

// The shard size of evaluate() and predict(): 256 samples, fewer while one shard's activations
// would pass 64 MiB, never fewer than 32. Without a backward pass there are no per-shard
// gradients to add up, so big shards cost nothing but memory, and each layer's GEMM packs its
// weights once per shard: fashion_mlp inference ran 1.3× faster at 256 than at 32. It depends
// on the model alone, so outputs are the same on every machine and at any thread count.
std::int64_t inference_shard_size(const Model& model);

// TrainOptions from a resolved "training" object (see weft/training_config.hpp); threads, seed
// and shard size keep their defaults.
TrainOptions train_options(const Json& training);

// What one train_epoch() call did (also recorded in the history as Metrics).
struct EpochResult {
  std::int64_t epoch = 0;  // 1-based
  double loss = 0;         // mean training loss over the epoch's steps
  double accuracy = std::numeric_limits<double>::quiet_NaN();  // training accuracy (classification)
  double seconds = 0;             // wall-clock time of the call
  double samples_per_second = 0;  // samples trained in this call per wall-clock second
  bool completed = true;   // false when a callback stopped training in the middle of the epoch
};

// What evaluate() measured over a whole data source; metrics that do not apply stay NaN.
struct Evaluation {
  double loss = 0;  // mean loss per sample, without weight penalties
  double accuracy = std::numeric_limits<double>::quiet_NaN();        // NaN when targets are not classes
  double top_k_accuracy = std::numeric_limits<double>::quiet_NaN();  // classification with > k classes
  std::int64_t top_k = 0;  // the k of top_k_accuracy (0 when it was not measured)
  double mse = std::numeric_limits<double>::quiet_NaN();  // regression only
  double mae = std::numeric_limits<double>::quiet_NaN();  // regression only: mean absolute error
  std::int64_t samples = 0;  // samples evaluated (all of the source)
  std::vector<std::vector<std::int64_t>> confusion;  // [true][predicted], classification only
};

// Trainer::state(), in two parts an HDF5 checkpoint stores differently; see "Training state" above.
struct TrainerState {
  Json json;  // the scalar state: format, optimizer, step and epoch, order, history...
  std::vector<std::pair<std::string, Tensor>> tensors;  // the optimizer slots, by name
};

// What Trainer::fit() runs besides the training data.
struct FitOptions {
  std::int64_t epochs = 1;                // train until this many epochs are completed
  const Dataset* validation = nullptr;    // evaluated after every epoch (val_* metrics)
  const DataSource* validation_source = nullptr;  // the same for any source (instead of validation)
  std::vector<Callback*> callbacks;       // called in this order
};

// Trains one Model (which must outlive it): runs optimizer steps, epochs and fit(), evaluates
// and predicts, and saves or restores its own state for checkpoints. See the file comment for
// what a step does.
class Trainer {
 public:
  // Throws Error for a negative batch size, accumulate < 1 or a negative clipping threshold, and
  // SpecError for an invalid schedule. Sets up the optimizer slots when the model has an
  // optimizer (without one, it can evaluate and predict but not train).
  Trainer(Model& model, TrainOptions options);
  ~Trainer();

  // As given, with the defaults resolved (shard size, schedule).
  const TrainOptions& options() const { return options_; }
  Model& model() { return model_; }  // the model being trained
  // The executor running this trainer's passes on its threads, shards and processes.
  Executor& executor() { return *executor_; }

  // Trains until `epochs` epochs are completed (continuing a restored or stopped run where it
  // left off) or a callback calls request_stop(). Returns the history.
  const std::vector<Metrics>& fit(const DataSource& train, const FitOptions& options);
  const std::vector<Metrics>& fit(const Dataset& train, const FitOptions& options);  // in memory
  // Ends fit() after the current step (or epoch end).
  void request_stop() { stop_requested_ = true; }

  // One optimizer step on the mini-batch (x, y). Returns its mean loss (penalties included).
  // Throws NumericError (parameters and optimizer state untouched) when the loss or a gradient
  // is not finite, naming the step and the first layer where it appeared.
  double train_step(ConstView x, ConstView y);
  // The same for a model with several inputs: one tensor per model input, in the model's order.
  double train_step(std::span<const ConstView> xs, ConstView y);
  // The rest of the current epoch (all of it unless resumed or stopped mid-epoch).
  // The epoch's order comes from the source, a pure function of (seed, epoch).
  EpochResult train_epoch(const DataSource& data, std::span<Callback* const> callbacks = {});
  EpochResult train_epoch(const Dataset& data, std::span<Callback* const> callbacks = {});  // in memory
  // Reads `data` once in stored order, `batch_size` samples at a time.
  Evaluation evaluate(const DataSource& data, std::int64_t batch_size = 1024);
  Evaluation evaluate(const Dataset& data, std::int64_t batch_size = 1024);  // in memory
  // Model outputs for x (n, input...), in inference mode.
  Tensor predict(ConstView x, std::int64_t batch_size = 1024);
  // The same for a model with several inputs: one tensor per model input, in the model's order.
  Tensor predict(std::span<const ConstView> xs, std::int64_t batch_size = 1024);

  std::int64_t step() const { return step_; }    // optimizer steps taken
  std::int64_t epoch() const { return epoch_; }  // epochs completed
  std::int64_t position() const { return position_; }  // mini-batches of the current epoch done
  // The scheduled learning rate of the next step (before per-layer multipliers).
  double learning_rate() const;
  // One Metrics per completed epoch, in order: epoch, loss, accuracy, val_*, lr, seconds...
  const std::vector<Metrics>& history() const { return history_; }

  // Optimizer state: slot k (as named by the optimizer) is laid out like Model::parameters().
  const std::vector<std::string>& slot_names() const { return slot_names_; }
  std::span<float> slot(std::size_t k) { return slots_[k].span(); }  // k < slot_names().size()
  // The last step's gradient as applied: frozen layers zeroed, penalties added, clipped.
  // Laid out like Model::parameters().
  std::span<const float> gradient() const { return grad_.span(); }

  // See "Training state" above.
  TrainerState state() const;
  void restore(const TrainerState& state);  // see "Training state" above

 private:
  bool classification() const;
  std::int64_t batch_size_for(std::int64_t samples) const;
  void accumulate_batch(std::span<const ConstView> xs, ConstView y, double weight, bool first, double& loss);
  // Throws Error naming `data` when it serves another number of inputs than the model takes.
  void check_inputs(const DataSource& data) const;
  std::span<const ConstView> views_of(std::vector<Tensor>& xs);  // into batch_views_
  double finish_step(double loss);
  // Where the first non-finite layer output of the last forward pass is, for the loss message.
  std::string where_non_finite();
  void check_gradient() const;
  double add_weight_penalties();
  void clip_gradient();
  void apply_update();
  // An executor of this trainer's threads and processes (options_.communicator) for `shard_size`;
  // `inference`: it reuses activation buffers (forward passes only).
  std::unique_ptr<Executor> make_executor(std::int64_t shard_size, bool inference = false) const;

  Model& model_;
  TrainOptions options_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<Executor> inference_executor_;  // evaluate() and predict(), made on first use
  Executor& inference_executor();
  bool shard_size_given_ = false;  // options.shard_size was set, not defaulted
  std::unique_ptr<Schedule> schedule_;
  bool schedule_per_step_ = false;
  Tensor grad_, batch_grad_;
  std::vector<std::string> slot_names_;
  std::vector<Tensor> slots_;
  struct Chunk {
    std::size_t begin, end;
    bool is_bias;
    float lr_mult;
  };
  std::vector<Chunk> chunks_;  // parameter ranges updated in parallel, each inside one tensor
  // The same ranges given out by executor worker (plan_worker_chunks) for the update, cut
  // where the workers' unit-split rows begin and end, planned for worker_chunks_for_.
  std::vector<std::vector<Chunk>> worker_chunks_;
  const Executor* worker_chunks_for_ = nullptr;
  void plan_worker_chunks();
  std::vector<double> chunk_sums_;  // clip_gradient's per-chunk squares, kept to not allocate per step
  std::vector<Tensor> batch_xs_;  // one per model input
  Tensor batch_y_;
  std::vector<ConstView> batch_views_;
  std::int64_t step_ = 0;
  std::int64_t epoch_ = 0;
  std::int64_t position_ = 0;
  struct EpochTotals {
    double loss_sum = 0;
    std::int64_t correct = 0, samples = 0, steps = 0;
  } totals_;
  std::int64_t last_correct_ = 0;
  double last_lr_ = 0;
  bool stop_requested_ = false;
  bool gradient_known_finite_ = false;  // the executor saw every value of grad_ finite (check_gradient)
  std::int64_t fit_epochs_ = 0;  // FitOptions::epochs while fit() runs
  std::vector<Metrics> history_;
};

// Splits off a validation set: a seeded random `fraction` of `data` (at least one sample when
// fraction > 0) and the rest, both keeping the original order. Throws Error when nothing would
// be left to train on.
std::pair<Dataset, Dataset> split_validation(const Dataset& data, double fraction, std::uint64_t seed);

}  // namespace weft
