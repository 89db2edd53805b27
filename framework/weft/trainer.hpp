#pragma once
// Trainer: mini-batch gradient descent over a Dataset with the model's loss and optimizer.
// One step: gather the mini-batch (epoch order from the seed), run the Executor's sharded
// forward and backward, reduce shard gradients in a fixed order, check for non-finite values,
// then update the parameters in parallel over disjoint ranges.
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "weft/dataset.hpp"
#include "weft/executor.hpp"
#include "weft/model.hpp"

namespace weft {

struct TrainOptions {
  std::int64_t batch_size = 128;
  std::int64_t shard_size = 32;  // samples per shard; fixed, so results do not depend on threads
  int threads = 0;               // 0: all hardware threads
  std::uint64_t seed = 0;
  bool shuffle = true;
};

struct EpochResult {
  std::int64_t epoch = 0;  // 1-based
  double loss = 0;         // mean training loss over the epoch's steps
  double accuracy = std::numeric_limits<double>::quiet_NaN();  // training accuracy (classification)
  double seconds = 0;
  double samples_per_second = 0;
};

struct Evaluation {
  double loss = 0;
  double accuracy = std::numeric_limits<double>::quiet_NaN();  // NaN when targets are not classes
  std::int64_t samples = 0;
};

class Trainer {
 public:
  Trainer(Model& model, TrainOptions options);
  ~Trainer();

  const TrainOptions& options() const { return options_; }
  Model& model() { return model_; }
  Executor& executor() { return *executor_; }

  // One optimizer step on the mini-batch (x, y). Returns its mean loss. Throws NumericError
  // (parameters untouched) when the loss or a gradient is not finite.
  double train_step(ConstView x, ConstView y);
  // One pass over `data` in mini-batches.
  EpochResult train_epoch(const Dataset& data);
  Evaluation evaluate(const Dataset& data, std::int64_t batch_size = 1024);
  // Model outputs for x (n, input...), in inference mode.
  Tensor predict(ConstView x, std::int64_t batch_size = 1024);

  std::int64_t step() const { return step_; }    // optimizer steps taken
  std::int64_t epoch() const { return epoch_; }  // epochs completed

  // Optimizer state: slot k (as named by the optimizer) is laid out like Model::parameters().
  const std::vector<std::string>& slot_names() const { return slot_names_; }
  std::span<float> slot(std::size_t k) { return slots_[k].span(); }
  std::span<const float> gradient() const { return grad_.span(); }

 private:
  bool classification() const;
  void apply_update();

  Model& model_;
  TrainOptions options_;
  std::unique_ptr<Executor> executor_;
  Tensor grad_;
  std::vector<std::string> slot_names_;
  std::vector<Tensor> slots_;
  struct Chunk {
    std::size_t begin, end;
    bool is_bias;
  };
  std::vector<Chunk> chunks_;  // parameter ranges updated in parallel, each inside one tensor
  Tensor batch_x_, batch_y_;
  std::int64_t step_ = 0;
  std::int64_t epoch_ = 0;
  std::int64_t last_correct_ = 0;
};

}  // namespace weft
