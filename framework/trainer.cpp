#include "weft/trainer.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <numeric>
#include <optional>
#include <thread>

#include "weft/finite.hpp"
#include "weft/registry.hpp"
#include "weft/training_config.hpp"

namespace weft {
namespace {

constexpr std::array<std::string_view, 1> schedule_extra_keys = {"unit"};

std::unique_ptr<Schedule> build_schedule(const Json& resolved) {
  if (resolved.is_null()) return nullptr;
  return registry().schedules.create(resolved, "training: schedule", schedule_extra_keys).module;
}

}  // namespace

TrainOptions train_options(const Json& training) {
  const Json t = resolve_training(training.is_null() ? Json::object() : training);
  TrainOptions o;
  o.batch_size = t["batch"].is_string() ? 0 : t["batch"].get<std::int64_t>();
  o.shuffle = t["shuffle"];
  o.accumulate = t["accumulate"];
  o.clip_norm = t["clip_norm"].is_null() ? 0.0 : t["clip_norm"].get<double>();
  o.clip_value = t["clip_value"].is_null() ? 0.0 : t["clip_value"].get<double>();
  o.schedule = t["schedule"];
  return o;
}

std::int64_t default_shard_size(std::int64_t batch_size) {
  constexpr std::int64_t smallest = 32, largest = 128;
  if (batch_size <= 0) return largest;
  const auto cores = static_cast<std::int64_t>(std::max(1u, std::thread::hardware_concurrency()));
  return std::clamp(batch_size / cores, smallest, largest);
}

std::int64_t inference_shard_size(const Model& model) {
  constexpr std::int64_t smallest = 32, largest = 256, budget_bytes = std::int64_t{64} << 20;
  std::int64_t activation_bytes = 0;
  for (std::size_t i = 0; i < model.layer_count(); ++i)
    activation_bytes += model.layer(i).output.numel() * static_cast<std::int64_t>(sizeof(float));
  return std::clamp(budget_bytes / std::max<std::int64_t>(activation_bytes, 1), smallest, largest);
}

Trainer::Trainer(Model& model, TrainOptions options) : model_(model), options_(std::move(options)) {
  if (options_.batch_size < 0)
    throw Error("batch size must be at least 1 (or 0 for the full batch), got " + std::to_string(options_.batch_size));
  if (options_.accumulate < 1)
    throw Error("gradient accumulation must span at least 1 mini-batch, got " + std::to_string(options_.accumulate));
  if (!(options_.clip_norm >= 0) || !(options_.clip_value >= 0))
    throw Error("gradient clipping thresholds must be positive (or 0 for off)");
  shard_size_given_ = options_.shard_size != 0;
  if (!shard_size_given_) {
    options_.shard_size = default_shard_size(options_.batch_size);
    // The default follows the machine's cores, which may differ between hosts: rank 0's holds.
    if (options_.communicator) options_.communicator->broadcast(std::as_writable_bytes(std::span(&options_.shard_size, 1)), 0);
  }
  options_.schedule = resolve_schedule(options_.schedule);
  schedule_ = build_schedule(options_.schedule);
  schedule_per_step_ = !options_.schedule.is_null() && options_.schedule["unit"] == "step";
  executor_ = make_executor(options_.shard_size);
  grad_ = Tensor(Shape{static_cast<std::int64_t>(model_.parameter_count())});
  if (model_.has_optimizer()) {
    const Optimizer& optimizer = model_.optimizer();
    slot_names_ = optimizer.slots();
    for (std::size_t k = 0; k < slot_names_.size(); ++k) slots_.emplace_back(grad_.shape(), optimizer.slot_initial_value(k));
  }
  constexpr std::size_t chunk = 1 << 14;
  for (const auto& t : model_.parameter_table()) {
    const LayerSlot& layer = model_.layer(t.layer);
    if (layer.frozen) continue;  // never updated; its gradient is zeroed
    for (std::size_t b = 0; b < t.size(); b += chunk)
      chunks_.push_back({t.offset + b, t.offset + std::min(t.size(), b + chunk), t.is_bias, static_cast<float>(layer.lr_mult)});
  }
  chunk_sums_.resize(chunks_.size());
}

Trainer::~Trainer() = default;

Executor& Trainer::inference_executor() {
  if (!inference_executor_) inference_executor_ = make_executor(inference_shard_size(model_), true);
  return *inference_executor_;
}

std::unique_ptr<Executor> Trainer::make_executor(std::int64_t shard_size, bool inference) const {
  return std::make_unique<Executor>(model_, ExecutorOptions{shard_size, options_.threads, false, options_.communicator,
                                                            options_.exact_reduction, inference,
                                                            options_.overlap_exchange});
}

bool Trainer::classification() const {
  // Accuracy is meaningful when the model outputs one score per class and targets are labels or
  // one-hot vectors over those classes.
  const Shape out = model_.output_shape();
  const Shape target = model_.target_shape();
  return out.rank() == 1 && out[0] > 1 && (target.rank() == 0 || target == out);
}

double Trainer::learning_rate() const {
  const double base = model_.optimizer().learning_rate();
  if (!schedule_) return base;
  return schedule_->rate(base, schedule_per_step_ ? step_ : epoch_);
}

std::int64_t Trainer::batch_size_for(std::int64_t samples) const {
  return options_.batch_size == 0 ? samples : std::min(options_.batch_size, samples);
}

void Trainer::check_inputs(const DataSource& data) const {
  const std::size_t want = model_.input_count(), have = data.input_count();
  if (have == want) return;
  std::string names;
  for (std::size_t i = 0; i < want; ++i) names += (i ? ", " : "") + model_.input_name(i);
  throw Error("'" + data.name() + "' has " + std::to_string(have) + " input" + (have == 1 ? "" : "s") +
              " per sample; the model takes " + std::to_string(want) + " (" + names + ")");
}

std::span<const ConstView> Trainer::views_of(std::vector<Tensor>& xs) {
  batch_views_.clear();
  for (auto& x : xs) batch_views_.emplace_back(x.view());
  return batch_views_;
}

void Trainer::accumulate_batch(std::span<const ConstView> xs, ConstView y, double weight, bool first, double& loss) {
  executor_->forward(xs, true, step_, options_.seed);
  const double batch_loss = executor_->loss(y, true);
  if (!std::isfinite(batch_loss)) {
    throw NumericError("training step " + std::to_string(step_ + 1) + ": the loss is " + std::to_string(batch_loss) +
                       where_non_finite() + ". The parameters of the last good step are kept.");
  }
  last_correct_ = classification() ? executor_->correct(y) : 0;
  // Accumulation: grad += weight · (this mini-batch's mean gradient), weight = its share of the
  // step's samples, so k mini-batches of b give the gradient of one batch of k·b. The first
  // mini-batch of a step overwrites what the previous step left.
  if (weight != 1.0 && batch_grad_.size() != grad_.size()) batch_grad_ = Tensor(grad_.shape());
  const std::span<float> target = weight == 1.0 ? grad_.span() : batch_grad_.span();
  executor_->gradients_to(target);  // across ranks, the exchange starts during backward
  executor_->backward();
  loss += weight * batch_loss;
  executor_->reduce_gradients(target);
  gradient_known_finite_ = weight == 1.0 && executor_->reduced_gradient_finite();
  if (weight == 1.0) return;
  const float w = static_cast<float>(weight);
  float* g = grad_.data();
  const float* b = batch_grad_.data();
  executor_->parallel_ranges(grad_.size(), 1 << 14, [&](std::size_t begin, std::size_t end) {
    if (first)
      for (std::size_t i = begin; i < end; ++i) g[i] = w * b[i];
    else
      for (std::size_t i = begin; i < end; ++i) g[i] += w * b[i];
  });
}

std::string Trainer::where_non_finite() {
  const auto layer = executor_->first_non_finite_layer();
  const auto name = [&](std::int64_t l) { return "layer " + std::to_string(l) + " (" + model_.layer(l).name + ")"; };
  if (layer < 0) return "; every layer output was finite, so the loss itself overflowed";
  const auto from = executor_->first_unchecked_before(layer);
  if (from == layer) return "; the first non-finite value appeared in the output of " + name(layer);
  // Training does not keep an output no backward reads: the value may have begun there.
  return "; the first non-finite layer output still held is " + name(layer) + ", so it appeared there or in " +
         (from + 1 == layer ? name(from) + ", whose output" : "layers " + std::to_string(from) + " to " +
                                                                    std::to_string(layer - 1) + ", whose outputs") +
         " training does not keep";
}

void Trainer::check_gradient() const {
  // Every value finite is the common case. The executor saw it while adding the shards up (a
  // step of one mini-batch in one process; zeroing frozen layers since keeps it so); otherwise
  // checked in parallel over the update chunks (frozen layers, outside them, have zero
  // gradients). Only a failure looks for the tensor to name.
  if (gradient_known_finite_) return;
  std::atomic<bool> finite = true;
  executor_->parallel_ranges(chunks_.size(), 1, [&](std::size_t begin, std::size_t end) {
    for (std::size_t c = begin; c < end && finite.load(std::memory_order_relaxed); ++c)
      if (!all_finite({grad_.data() + chunks_[c].begin, chunks_[c].end - chunks_[c].begin})) finite = false;
  });
  if (finite) return;
  // Backward runs from the output to the input, so the non-finite tensor nearest the output is
  // where the problem appeared; earlier layers only inherited it.
  const auto& table = model_.parameter_table();
  for (auto t = table.rbegin(); t != table.rend(); ++t)
    if (!all_finite({grad_.data() + t->offset, t->size()}))
      throw NumericError("training step " + std::to_string(step_ + 1) + ": the gradient of '" + t->name +
                         "' is not finite (layer " + std::to_string(t->layer) + ", the first one reached by the "
                         "backward pass). The parameters of the last good step are kept.");
}

double Trainer::add_weight_penalties() {
  double penalty = 0;
  for (const auto& t : model_.parameter_table()) {
    const LayerSlot& layer = model_.layer(t.layer);
    if (!layer.regularizer || layer.frozen || (t.is_bias && !layer.regularizer->includes_bias())) continue;
    penalty += layer.regularizer->weight_penalty({model_.parameters().data() + t.offset, t.size()},
                                                 {grad_.data() + t.offset, t.size()});
  }
  return penalty;
}

void Trainer::clip_gradient() {
  float* g = grad_.data();
  if (options_.clip_norm > 0) {
    // Per-chunk sums in parallel, added in chunk order: the same bits for any thread count.
    executor_->parallel_ranges(chunks_.size(), 1, [&](std::size_t begin, std::size_t end) {
      for (std::size_t c = begin; c < end; ++c) {
        double s = 0;
        for (std::size_t i = chunks_[c].begin; i < chunks_[c].end; ++i) s += double(g[i]) * double(g[i]);
        chunk_sums_[c] = s;
      }
    });
    const double norm = std::sqrt(std::accumulate(chunk_sums_.begin(), chunk_sums_.end(), 0.0));
    if (norm > options_.clip_norm) {
      const auto scale = static_cast<float>(options_.clip_norm / (norm + 1e-6));  // PyTorch's clip_grad_norm_
      for (const Chunk& c : chunks_)
        for (std::size_t i = c.begin; i < c.end; ++i) g[i] *= scale;
    }
  }
  if (options_.clip_value > 0) {
    const auto v = static_cast<float>(options_.clip_value);
    for (const Chunk& c : chunks_)
      for (std::size_t i = c.begin; i < c.end; ++i) g[i] = std::clamp(g[i], -v, v);
  }
}

double Trainer::train_step(ConstView x, ConstView y) { return train_step(std::span<const ConstView>(&x, 1), y); }

double Trainer::train_step(std::span<const ConstView> xs, ConstView y) {
  double loss = 0;
  last_lr_ = learning_rate();
  accumulate_batch(xs, y, 1.0, true, loss);
  return finish_step(loss);
}

double Trainer::finish_step(double loss) {
  for (const auto& t : model_.parameter_table())
    if (model_.layer(t.layer).frozen) std::fill_n(grad_.data() + t.offset, t.size(), 0.0f);
  check_gradient();
  loss += add_weight_penalties();
  clip_gradient();
  ++step_;
  apply_update();
  return loss;
}

void Trainer::plan_worker_chunks() {
  // Each worker updates the rows whose gradient it computed (Executor::unit_parameters) and the
  // share of the folded gradients it folded (Executor::folded_share), which together cover every
  // parameter once, so their weights, gradient and optimizer state stay in its core's caches.
  // The update is elementwise: any partition gives the same bits.
  const auto workers = static_cast<std::size_t>(executor_->threads());
  worker_chunks_.assign(workers, {});
  for (const Chunk& c : chunks_)
    for (std::size_t w = 0; w < workers; ++w)
      for (const auto& ranges : {executor_->unit_parameters(w), executor_->folded_share(w)})
        for (const auto& [first, last] : ranges) {
          const std::size_t begin = std::max(c.begin, first), end = std::min(c.end, last);
          if (begin < end) worker_chunks_[w].push_back({begin, end, c.is_bias, c.lr_mult});
        }
  worker_chunks_for_ = executor_.get();
}

void Trainer::apply_update() {
  const Optimizer& optimizer = model_.optimizer();
  const double lr = last_lr_;
  float* w = model_.parameters().data();
  if (worker_chunks_for_ != executor_.get()) plan_worker_chunks();
  executor_->for_each_worker([&](std::size_t worker) {
    // The slots' ranges on the stack (a vector here allocated once per task and step); a plugin
    // optimizer with more slots than that gets a vector.
    constexpr std::size_t stack_slots = 8;
    std::array<std::span<float>, stack_slots> on_stack;
    std::vector<std::span<float>> on_heap(slots_.size() > stack_slots ? slots_.size() : 0);
    const std::span<std::span<float>> slot_ranges =
        on_heap.empty() ? std::span(on_stack).first(slots_.size()) : std::span(on_heap);
    for (const Chunk& ch : worker_chunks_[worker]) {
      const std::size_t n = ch.end - ch.begin;
      for (std::size_t k = 0; k < slots_.size(); ++k) slot_ranges[k] = {slots_[k].data() + ch.begin, n};
      optimizer.update({w + ch.begin, n}, {grad_.data() + ch.begin, n}, slot_ranges,
                       OptimizerStep{lr * ch.lr_mult, step_, ch.is_bias});
    }
  });
}

EpochResult Trainer::train_epoch(const Dataset& data, std::span<Callback* const> callbacks) {
  return train_epoch(InMemorySource(data), callbacks);
}

EpochResult Trainer::train_epoch(const DataSource& data, std::span<Callback* const> callbacks) {
  if (data.size() == 0) throw Error("cannot train on an empty dataset" + (data.name().empty() ? "" : " '" + data.name() + "'"));
  check_inputs(data);
  batch_xs_.resize(model_.input_count());
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t n = data.size(), b = batch_size_for(n);
  const std::int64_t batches = (n + b - 1) / b;
  const std::int64_t first_sample = position_ * b;
  const auto reader = data.open({options_.shuffle, options_.seed, epoch_}, first_sample);
  EpochResult r;
  r.epoch = epoch_ + 1;
  while (position_ < batches) {
    const std::int64_t group = std::min(options_.accumulate, batches - position_);
    const std::int64_t begin = position_ * b, end = std::min(n, (position_ + group) * b);
    StepEvent event{step_, epoch_ + 1, position_, batches, fit_epochs_, end - begin, 0, learning_rate()};
    for (Callback* c : callbacks) c->on_step_begin(*this, event);
    last_lr_ = event.lr;
    double loss = 0;
    std::int64_t correct = 0;
    for (std::int64_t at = begin; at < end; at += b) {
      const std::int64_t count = std::min(b, end - at);
      const auto [first, end_of_part] = executor_->own_samples(count);
      if (reader->read_inputs(count, first, end_of_part, batch_xs_, batch_y_) != count)
        throw Error("'" + data.name() + "' ended after " + std::to_string(at) + " of its " + std::to_string(n) +
                    " samples in epoch " + std::to_string(epoch_ + 1));
      accumulate_batch(views_of(batch_xs_), batch_y_, group == 1 ? 1.0 : double(count) / double(end - begin), at == begin, loss);
      correct += last_correct_;
    }
    loss = finish_step(loss);
    position_ += group;
    totals_.loss_sum += loss;
    totals_.correct += correct;
    totals_.samples += end - begin;
    totals_.steps += 1;
    event.step = step_;
    event.batch = position_;
    event.loss = loss;
    for (Callback* c : callbacks) c->on_step_end(*this, event);
    if (stop_requested_ && position_ < batches) {
      r.completed = false;
      return r;
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.samples_per_second = static_cast<double>(n - first_sample) / std::max(r.seconds, 1e-9);
  r.loss = totals_.loss_sum / static_cast<double>(std::max<std::int64_t>(totals_.steps, 1));
  if (classification()) r.accuracy = static_cast<double>(totals_.correct) / static_cast<double>(totals_.samples);
  ++epoch_;
  position_ = 0;
  totals_ = {};
  return r;
}

const std::vector<Metrics>& Trainer::fit(const Dataset& train, const FitOptions& o) {
  return fit(InMemorySource(train), o);
}

const std::vector<Metrics>& Trainer::fit(const DataSource& train, const FitOptions& o) {
  const std::optional<InMemorySource> in_memory_validation =
      o.validation ? std::optional<InMemorySource>(*o.validation) : std::nullopt;
  const DataSource* validation = in_memory_validation ? &*in_memory_validation : o.validation_source;
  stop_requested_ = false;
  fit_epochs_ = o.epochs;
  for (Callback* c : o.callbacks) c->on_fit_begin(*this);
  while (epoch_ < o.epochs && !stop_requested_) {
    EpochEvent event{epoch_ + 1, o.epochs, nullptr};
    if (position_ == 0)
      for (Callback* c : o.callbacks) c->on_epoch_begin(*this, event);
    const EpochResult r = train_epoch(train, o.callbacks);
    if (!r.completed) break;
    Metrics m;
    m.set("epoch", static_cast<double>(r.epoch));
    m.set("loss", r.loss);
    if (!std::isnan(r.accuracy)) m.set("accuracy", r.accuracy);
    if (validation) {
      const Evaluation v = evaluate(*validation);
      m.set("val_loss", v.loss);
      if (!std::isnan(v.accuracy)) m.set("val_accuracy", v.accuracy);
      if (!std::isnan(v.top_k_accuracy)) m.set("val_top" + std::to_string(v.top_k) + "_accuracy", v.top_k_accuracy);
      if (!std::isnan(v.mse)) m.set("val_mse", v.mse);
      if (!std::isnan(v.mae)) m.set("val_mae", v.mae);
    }
    m.set("lr", last_lr_);
    m.set("seconds", r.seconds);
    m.set("samples_per_second", r.samples_per_second);
    if (schedule_) schedule_->end_epoch(m);
    history_.push_back(m);
    event.metrics = &history_.back();
    for (Callback* c : o.callbacks) c->on_epoch_end(*this, event);
  }
  for (Callback* c : o.callbacks) c->on_fit_end(*this);
  fit_epochs_ = 0;
  return history_;
}

Evaluation Trainer::evaluate(const Dataset& data, std::int64_t batch_size) {
  return evaluate(InMemorySource(data), batch_size);
}

Evaluation Trainer::evaluate(const DataSource& data, std::int64_t batch_size) {
  Evaluation e;
  e.samples = data.size();
  if (data.size() == 0) return e;
  check_inputs(data);
  const bool classes = classification();
  MetricAccumulator metrics(classes ? model_.output_shape().numel() : 0);
  Tensor outputs, y;
  std::vector<Tensor> xs(model_.input_count());
  double loss_sum = 0;
  const auto reader = data.open({}, 0);
  for (std::int64_t begin = 0; begin < data.size(); begin += batch_size) {
    const std::int64_t n = std::min(batch_size, data.size() - begin);
    Executor& executor = inference_executor();
    const auto [first, end_of_part] = executor.own_samples(n);  // its shards, not training's
    if (reader->read_inputs(n, first, end_of_part, xs, y) != n)
      throw Error("'" + data.name() + "' ended after " + std::to_string(begin) + " of its " +
                  std::to_string(data.size()) + " samples during evaluation");
    executor.forward(views_of(xs), false, step_, options_.seed);
    loss_sum += executor.loss(y, false) * static_cast<double>(n);
    const Shape out_shape = model_.output_shape().with_batch(n);
    if (!(outputs.shape() == out_shape)) outputs.resize(out_shape);
    executor.copy_output(outputs.view());
    metrics.add(outputs, y);
  }
  e.loss = loss_sum / static_cast<double>(data.size());
  if (classes) {
    e.accuracy = metrics.accuracy();
    if (model_.output_shape().numel() > metrics.top_k()) {
      e.top_k = metrics.top_k();
      e.top_k_accuracy = metrics.top_k_accuracy();
    }
    e.confusion = metrics.confusion();
  } else if (model_.target_shape() == model_.output_shape()) {
    e.mse = metrics.mse();
    e.mae = metrics.mae();
  }
  return e;
}

Tensor Trainer::predict(ConstView x, std::int64_t batch_size) { return predict(std::span<const ConstView>(&x, 1), batch_size); }

Tensor Trainer::predict(std::span<const ConstView> xs, std::int64_t batch_size) {
  if (xs.empty()) throw Error("predict() needs one features tensor per model input, got none");
  const std::int64_t total = xs[0].shape().rank() ? xs[0].shape()[0] : 0;
  Tensor out(model_.output_shape().with_batch(total));
  const std::int64_t per = model_.output_shape().numel();
  std::vector<ConstView> part(xs.size());
  for (std::int64_t begin = 0; begin < total; begin += batch_size) {
    const std::int64_t n = std::min(batch_size, total - begin);
    // Executor::forward checks every input's shape, so a short one fails there, not here.
    for (std::size_t i = 0; i < xs.size(); ++i)
      part[i] = xs[i].shape().rank() && xs[i].shape()[0] >= begin + n ? xs[i].slice(begin, n) : xs[i];
    inference_executor().forward(part, false, step_, options_.seed);
    inference_executor().copy_output(View(out.data() + begin * per, model_.output_shape().with_batch(n)));
  }
  return out;
}

std::pair<Dataset, Dataset> split_validation(const Dataset& data, double fraction, std::uint64_t seed) {
  if (!(fraction > 0 && fraction < 1)) throw Error("the validation split must be a fraction in (0, 1), got " + std::to_string(fraction));
  const std::int64_t n = data.size();
  const auto held = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::llround(fraction * double(n))));
  if (held >= n)
    throw Error("a validation split of " + std::to_string(fraction) + " leaves nothing to train on in " +
                std::to_string(n) + " samples");
  // A seeded choice of `held` samples (the first ones of a permutation), each part in data order.
  auto order = shuffled_indices(n, CounterRng(seed).derive(rng_stream::split).key(), 0);
  std::vector<std::int64_t> val(order.begin(), order.begin() + held), train(order.begin() + held, order.end());
  std::sort(val.begin(), val.end());
  std::sort(train.begin(), train.end());
  const auto part = [&](const std::vector<std::int64_t>& rows) {
    Dataset d;
    std::vector<Tensor> xs(data.input_count());
    gather(data, rows, xs, d.y);
    d.x = std::move(xs[0]);
    d.more_x.assign(std::make_move_iterator(xs.begin() + 1), std::make_move_iterator(xs.end()));
    return d;
  };
  Dataset t = part(train), v = part(val);
  t.name = data.name + " (training part)";
  v.name = data.name + " (validation part)";
  return {std::move(t), std::move(v)};
}

}  // namespace weft
