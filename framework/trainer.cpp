#include "weft/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "weft/finite.hpp"

namespace weft {

Trainer::Trainer(Model& model, TrainOptions options) : model_(model), options_(options) {
  if (options_.batch_size < 1) throw Error("batch size must be at least 1, got " + std::to_string(options_.batch_size));
  executor_ = std::make_unique<Executor>(model_, ExecutorOptions{options_.shard_size, options_.threads, false});
  grad_ = Tensor(Shape{static_cast<std::int64_t>(model_.parameter_count())});
  if (model_.has_optimizer()) {
    slot_names_ = model_.optimizer().slots();
    for (std::size_t k = 0; k < slot_names_.size(); ++k) slots_.emplace_back(grad_.shape());
  }
  constexpr std::size_t chunk = 1 << 14;
  for (const auto& t : model_.parameter_table())
    for (std::size_t b = 0; b < t.size(); b += chunk)
      chunks_.push_back({t.offset + b, t.offset + std::min(t.size(), b + chunk), t.is_bias});
}

Trainer::~Trainer() = default;

bool Trainer::classification() const {
  // Accuracy is meaningful when the model outputs one score per class and targets are labels or
  // one-hot vectors over those classes.
  const Shape out = model_.output_shape();
  const Shape target = model_.target_shape();
  return out.rank() == 1 && out[0] > 1 && (target.rank() == 0 || target == out);
}

double Trainer::train_step(ConstView x, ConstView y) {
  const Optimizer& optimizer = model_.optimizer();
  executor_->forward(x, true, step_, options_.seed);
  const double loss = executor_->loss(y, true);
  if (!std::isfinite(loss)) {
    const auto layer = executor_->first_non_finite_layer();
    throw NumericError("training step " + std::to_string(step_ + 1) + ": the loss is " + std::to_string(loss) +
                       (layer >= 0 ? "; the first non-finite value appeared in the output of layer " +
                                         std::to_string(layer) + " (" + model_.layer(layer).name + ")"
                                   : "; every layer output was finite, so the loss itself overflowed") +
                       ". The parameters of the last good step are kept.");
  }
  last_correct_ = classification() ? executor_->correct(y) : 0;
  executor_->backward();
  executor_->reduce_gradients(grad_.span());
  if (!all_finite(grad_.span()))
    for (const auto& t : model_.parameter_table())
      if (!all_finite({grad_.data() + t.offset, t.size()}))
        throw NumericError("training step " + std::to_string(step_ + 1) + ": the gradient of '" + t.name +
                           "' is not finite. The parameters of the last good step are kept.");
  (void)optimizer;
  ++step_;
  apply_update();
  return loss;
}

void Trainer::apply_update() {
  const Optimizer& optimizer = model_.optimizer();
  const double lr = optimizer.learning_rate();
  float* w = model_.parameters().data();
  executor_->parallel_ranges(chunks_.size(), 1, [&](std::size_t begin, std::size_t end) {
    std::vector<std::span<float>> slot_ranges(slots_.size());
    for (std::size_t c = begin; c < end; ++c) {
      const Chunk& ch = chunks_[c];
      const std::size_t n = ch.end - ch.begin;
      for (std::size_t k = 0; k < slots_.size(); ++k) slot_ranges[k] = {slots_[k].data() + ch.begin, n};
      optimizer.update({w + ch.begin, n}, {grad_.data() + ch.begin, n}, slot_ranges,
                       OptimizerStep{lr, step_, ch.is_bias});
    }
  });
}

EpochResult Trainer::train_epoch(const Dataset& data) {
  if (data.size() == 0) throw Error("cannot train on an empty dataset" + (data.name.empty() ? "" : " '" + data.name + "'"));
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::int64_t> order;
  if (options_.shuffle) {
    order = shuffled_indices(data.size(), options_.seed, epoch_);
  } else {
    order.resize(static_cast<std::size_t>(data.size()));
    for (std::int64_t i = 0; i < data.size(); ++i) order[i] = i;
  }
  double loss_sum = 0;
  std::int64_t correct = 0, steps = 0;
  for (std::int64_t begin = 0; begin < data.size(); begin += options_.batch_size) {
    const std::int64_t n = std::min(options_.batch_size, data.size() - begin);
    gather(data, std::span<const std::int64_t>(order).subspan(begin, n), batch_x_, batch_y_);
    loss_sum += train_step(batch_x_, batch_y_);
    correct += last_correct_;
    ++steps;
  }
  ++epoch_;
  EpochResult r;
  r.epoch = epoch_;
  r.loss = loss_sum / static_cast<double>(steps);
  if (classification()) r.accuracy = static_cast<double>(correct) / static_cast<double>(data.size());
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.samples_per_second = static_cast<double>(data.size()) / std::max(r.seconds, 1e-9);
  return r;
}

Evaluation Trainer::evaluate(const Dataset& data, std::int64_t batch_size) {
  Evaluation e;
  e.samples = data.size();
  if (data.size() == 0) return e;
  double loss_sum = 0;
  std::int64_t correct = 0;
  const bool classes = classification();
  for (std::int64_t begin = 0; begin < data.size(); begin += batch_size) {
    const std::int64_t n = std::min(batch_size, data.size() - begin);
    const ConstView x = ConstView(data.x.view()).slice(begin, n);
    const ConstView y = ConstView(data.y.view()).slice(begin, n);
    executor_->forward(x, false, step_, options_.seed);
    loss_sum += executor_->loss(y, false) * static_cast<double>(n);
    if (classes) correct += executor_->correct(y);
  }
  e.loss = loss_sum / static_cast<double>(data.size());
  if (classes) e.accuracy = static_cast<double>(correct) / static_cast<double>(data.size());
  return e;
}

Tensor Trainer::predict(ConstView x, std::int64_t batch_size) {
  const std::int64_t total = x.shape().rank() ? x.shape()[0] : 0;
  Tensor out(model_.output_shape().with_batch(total));
  const std::int64_t per = model_.output_shape().numel();
  for (std::int64_t begin = 0; begin < total; begin += batch_size) {
    const std::int64_t n = std::min(batch_size, total - begin);
    executor_->forward(x.slice(begin, n), false, step_, options_.seed);
    executor_->copy_output(View(out.data() + begin * per, model_.output_shape().with_batch(n)));
  }
  return out;
}

}  // namespace weft
