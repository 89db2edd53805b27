#include "weft/executor.hpp"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>
#include <tuple>

#include "executor_shard.hpp"
#include "gradient_exchange.hpp"
#include "weft/blas.hpp"
#include "weft/finite.hpp"
#include "weft/layer_fusion.hpp"

namespace weft {

struct Executor::Arena {
  explicit Arena(int threads) : arena(threads) {}
  tbb::task_arena arena;
};

namespace {
SingleProcess one_process;

// A tensor's life in a pass (start and end: the times of its first and last use, inclusive)
// and its floats per sample.
struct Lifetime {
  std::int64_t start, end, floats;
};

// Buffers for tensors given in order of start time, by greedy interval colouring: a tensor takes
// the first buffer whose last tensor's life ended before its own starts, else a new one (always
// a new one without `share`). Deterministic; a chain gets two buffers.
struct BufferPlan {
  std::vector<std::size_t> slot;     // per tensor
  std::vector<std::int64_t> floats;  // per buffer: the most any of its tensors needs
};
BufferPlan share_buffers(const std::vector<Lifetime>& tensors, bool share) {
  BufferPlan plan;
  std::vector<std::int64_t> busy_until;  // per buffer: its latest tensor's end
  for (const Lifetime& t : tensors) {
    std::size_t slot = share ? 0 : busy_until.size();
    while (slot < busy_until.size() && busy_until[slot] >= t.start) ++slot;
    if (slot == busy_until.size()) {
      busy_until.push_back(0);
      plan.floats.push_back(0);
    }
    busy_until[slot] = t.end;
    plan.floats[slot] = std::max(plan.floats[slot], t.floats);
    plan.slot.push_back(slot);
  }
  return plan;
}
}  // namespace

Executor::Executor(Model& model, ExecutorOptions options)
    : model_(model), options_(options), comm_(options.communicator ? options.communicator : &one_process) {
  if (options_.shard_size < 1) throw Error("shard size must be at least 1, got " + std::to_string(options_.shard_size));
  if (options_.threads < 0) throw Error("thread count must be 0 (all) or positive, got " + std::to_string(options_.threads));
  threads_ = options_.threads ? options_.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  arena_ = std::make_unique<Arena>(threads_);
  use_single_threaded_blas();
  const std::size_t layers = model_.layer_count();
  for (std::size_t l = 0; l < layers; ++l) {
    auto p = model_.param_views(l, model_.parameters().data());
    auto b = model_.buffer_views(l, model_.buffers().data());
    params_.emplace_back(p.begin(), p.end());
    buffers_.emplace_back(b.begin(), b.end());
    writable_buffers_.push_back(std::move(b));
  }
  forward_stats_.resize(layers);
  backward_stats_.resize(layers);
  activity_mean_.resize(layers);
  activity_dmean_.resize(layers);
  plan_layer_fusions();
  plan_gradient_buffers();
  plan_activation_buffers();
  plan_unit_split();
  if (comm_->size() > 1) {
    // After layer l's backward every layer from l on is done: the gradient is final above the
    // end of the earlier layers' parameters.
    gradient_ready_.assign(layers, 0);
    std::size_t below = 0;
    for (std::size_t l = 0; l < layers; ++l) {
      gradient_ready_[l] = below;
      for (const auto p : model_.layer(l).params) {
        const NamedTensor& t = model_.parameter_table()[p];
        below = std::max(below, t.offset + t.size());
      }
    }
    // At least K buckets (within 16 KiB to 1 MiB): the K hops that fill the rank-to-rank
    // pipeline then cost about one gradient's transfer (docs/distributed.md, cost model).
    const auto ranks = static_cast<std::size_t>(comm_->size()), total = model_.parameter_count();
    const std::size_t most = std::clamp<std::size_t>((total + ranks - 1) / ranks, std::size_t{1} << 12, std::size_t{1} << 18);
    exchange_ = std::make_unique<detail::GradientExchange>(
        *comm_, detail::plan_gradient_buckets(gradient_ready_, total, most, std::size_t{1} << 12));
  }
}

void Executor::plan_layer_fusions() {
  // Layer l and l + 1 run as one (weft/layer_fusion.hpp) when l + 1 alone reads l's output and
  // nothing else looks at that output: it is not the model output, has no activity penalty, and
  // neither layer folds batch statistics between shards.
  const std::size_t layers = model_.layer_count(), inputs = model_.input_count();
  fused_.clear();
  fused_.resize(layers);
  absorbed_.assign(layers, false);
  if (!options_.fuse_layers) return;
  std::vector<std::size_t> readers(layers, 0);
  for (std::size_t l = 0; l < layers; ++l)
    for (const auto v : model_.layer(l).sources)
      if (v >= inputs) ++readers[v - inputs];
  const auto has_stats = [](const Layer& layer) {
    return layer.forward_stats_size(true) || layer.forward_stats_size(false) || layer.backward_stats_size(true) ||
           layer.backward_stats_size(false);
  };
  for (std::size_t l = 0; l + 1 < layers; ++l) {
    const LayerSlot &a = model_.layer(l), &b = model_.layer(l + 1);
    if (absorbed_[l] || a.sources.size() != 1 || readers[l] != 1 || b.sources.size() != 1 ||
        b.sources[0] != inputs + l || l == model_.output_layer() || a.activity_regularizer || has_stats(*a.layer) ||
        has_stats(*b.layer))
      continue;
    auto fused = fuse_layers(a.type, Config(a.name, a.config), b.type, Config(b.name, b.config), a.input);
    if (!fused) continue;
    const auto mine = a.layer->parameters(), theirs = fused->parameters();
    bool same = mine.size() == theirs.size();
    for (std::size_t p = 0; same && p < mine.size(); ++p)
      same = mine[p].name == theirs[p].name && mine[p].shape == theirs[p].shape;
    if (!same)
      throw Error("the fusion of " + a.type + " and " + b.type + " declares other parameters than " + a.type +
                  " (a bug in the fusion)");
    fused_[l] = std::move(fused);
    absorbed_[l + 1] = true;
  }
}

void Executor::plan_activation_buffers() {
  // Layer l's output lives from time l (its forward) to its last reader's forward, inclusive: a
  // reader never writes the buffer it reads. The model output lives to the end of the pass
  // (loss, metrics, copy_output read it), and so, on an executor that may train, does an output
  // some backward reads (backward_needs) or an activity penalty reads again in backward. Without
  // reuse (free_unneeded_activations off), one buffer per layer.
  const std::size_t layers = model_.layer_count(), inputs = model_.input_count();
  const bool may_train = !options_.reuse_activations;

  std::vector<std::size_t> last_read(layers);
  for (std::size_t l = 0; l < layers; ++l) {
    last_read[l] = l;
    if (may_train && !fused_[l] && (runner(l).backward_needs().output || model_.layer(l).activity_regularizer))
      last_read[l] = layers;
    const bool input_needed = may_train && !absorbed_[l] && runner(l).backward_needs().inputs;
    for (const auto v : model_.layer(l).sources)
      if (v >= inputs) last_read[v - inputs] = std::max(last_read[v - inputs], input_needed ? layers : l);
  }
  last_read[model_.output_layer()] = layers;
  for (std::size_t l = 0; l + 1 < layers; ++l)  // a fused pair reads its input while it writes l + 1
    if (fused_[l])
      for (const auto v : model_.layer(l).sources)
        if (v >= inputs) last_read[v - inputs] = std::max(last_read[v - inputs], l + 1);
  std::vector<Lifetime> outputs;
  for (std::size_t l = 0; l < layers; ++l)  // a fused pair's first output is never written: no floats
    outputs.push_back({static_cast<std::int64_t>(l), static_cast<std::int64_t>(last_read[l]),
                       fused_[l] ? 0 : model_.layer(l).output.numel()});
  BufferPlan plan = share_buffers(outputs, sharing_activations());
  activation_slot_ = std::move(plan.slot);
  activation_floats_ = std::move(plan.floats);
  activation_end_ = last_read;
  // An output is still held after the pass when no later output took its buffer.
  activation_kept_.assign(layers, true);
  std::vector<std::size_t> holder(activation_floats_.size(), layers);
  for (std::size_t l = 0; l < layers; ++l) {
    if (holder[activation_slot_[l]] < layers) activation_kept_[holder[activation_slot_[l]]] = false;
    holder[activation_slot_[l]] = l;
  }
}

void Executor::poison_dead_activations(std::size_t time) {
  for (std::size_t s = own_begin_; s < own_end_; ++s) poison_dead_activations(time, *shards_[s]);
}

void Executor::poison_dead_activations(std::size_t time, Shard& sh) {
  // Its buffer holds no live tensor until a later layer writes it (its next tensor starts later).
  if (!scribble_ || !sharing_activations()) return;
  for (std::size_t l = 0; l <= time; ++l)
    if (activation_end_[l] == time && !fused_[l]) scribble_(output_view(sh, l).span());
}

std::int64_t Executor::activation_floats_per_sample() const {
  std::int64_t total = 0;
  for (auto f : activation_floats_) total += f;
  return total;
}

float* Executor::output_data(const Shard& sh, std::size_t layer) const {
  return const_cast<float*>(sh.activations[activation_slot_[layer]].data());
}

View Executor::output_view(const Shard& sh, std::size_t layer) const {
  return View(output_data(sh, layer), model_.layer(layer).output.with_batch(sh.count));
}

void Executor::plan_gradient_buffers() {
  // Backward runs layer L-1 first; call that time 0 and layer l's backward time L-1-l, the loss
  // (which writes the output's gradient) time -1. A tensor's gradient lives from its latest
  // reader's backward to its producer's; a model input's, when wanted, to the end of the pass.
  // A fused pair (plan_layer_fusions) is one layer at its first's time: it reads the second's
  // output gradient then, and the first's output needs none.
  const std::size_t inputs = model_.input_count(), layers = model_.layer_count(), values = model_.value_count();
  const auto time_of = [&](std::size_t l) { return static_cast<std::int64_t>(layers - 1 - (absorbed_[l] ? l - 1 : l)); };
  std::vector<std::int64_t> start(values, -2), end(values, -2);  // -2: no gradient
  edges_.assign(layers, {});
  for (std::size_t l = layers; l-- > 0;) {
    const auto& sources = model_.layer(l).sources;
    max_inputs_ = std::max(max_inputs_, sources.size());
    for (const auto v : sources) {
      Edge e{v, !absorbed_[l] && (v >= inputs || options_.input_gradient), false};
      if (e.needs_gradient && start[v] == -2) {
        e.first = true;
        start[v] = time_of(l);
        end[v] = v < inputs ? static_cast<std::int64_t>(layers) : time_of(v - inputs);
      } else if (e.needs_gradient) {
        scratch_floats_ = std::max(scratch_floats_, model_.value_shape(v).numel());
      }
      edges_[l].push_back(e);
    }
  }
  const std::size_t out = inputs + model_.output_layer();
  start[out] = -1;
  end[out] = time_of(model_.output_layer());
  std::vector<std::size_t> order;
  for (std::size_t v = 0; v < values; ++v)
    if (start[v] != -2) order.push_back(v);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return start[a] < start[b]; });
  std::vector<Lifetime> gradients;
  for (const auto v : order) gradients.push_back({start[v], end[v], model_.value_shape(v).numel()});
  BufferPlan plan = share_buffers(gradients, true);
  grad_slot_.assign(values, static_cast<std::size_t>(-1));
  for (std::size_t i = 0; i < order.size(); ++i) grad_slot_[order[i]] = plan.slot[i];
  slot_floats_ = std::move(plan.floats);
}

std::int64_t Executor::gradient_floats_per_sample() const {
  std::int64_t total = scratch_floats_ * static_cast<std::int64_t>(max_inputs_);
  for (auto f : slot_floats_) total += f;
  return total;
}

ConstView Executor::value_view(const Shard& sh, std::size_t value) const {
  if (value < inputs_.size()) return inputs_[value].slice(sh.first, sh.count);
  return output_view(sh, value - inputs_.size());
}

View Executor::gradient_view(Shard& sh, std::size_t value) const {
  return View(sh.grad_slots[grad_slot_[value]].data(), model_.value_shape(value).with_batch(sh.count));
}

Executor::~Executor() = default;

void Executor::run(FunctionRef<void()> fn) { arena_->arena.execute(fn); }

void Executor::parallel_ranges(std::size_t n, std::size_t grain, FunctionRef<void(std::size_t, std::size_t)> body) {
  run([&] {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, std::max<std::size_t>(grain, 1)),
                      [&](const tbb::blocked_range<std::size_t>& r) { body(r.begin(), r.end()); });
  });
}

Executor::Shard& Executor::shard(std::size_t i) {
  // Only this rank's shards get buffers.
  if (shards_.size() <= i) shards_.resize(i + 1);
  if (!shards_[i]) {
    auto s = std::make_unique<Shard>();
    const std::int64_t n = options_.shard_size;
    for (const auto floats : activation_floats_) s->activations.emplace_back(Shape{n * floats});
    for (const auto floats : slot_floats_) s->grad_slots.emplace_back(Shape{n * floats});
    if (scratch_floats_ > 0)
      for (std::size_t k = 0; k < max_inputs_; ++k) s->scratch.emplace_back(Shape{n * scratch_floats_});
    s->xs.reserve(max_inputs_);
    s->dxs.reserve(max_inputs_);
    s->workspaces.resize(model_.layer_count());
    s->grads = Tensor(Shape{static_cast<std::int64_t>(model_.parameter_count())});
    for (std::size_t l = 0; l < model_.layer_count(); ++l) s->grad_views.push_back(model_.param_views(l, s->grads.data()));
    shards_[i] = std::move(s);
  }
  return *shards_[i];
}

std::pair<std::size_t, std::size_t> Executor::own_shards(std::int64_t batch) const {
  // Contiguous blocks of whole shards, as even as they can be.
  const auto active = static_cast<std::size_t>((batch + options_.shard_size - 1) / options_.shard_size);
  const auto ranks = static_cast<std::size_t>(comm_->size()), rank = static_cast<std::size_t>(comm_->rank());
  return {active * rank / ranks, active * (rank + 1) / ranks};
}

std::pair<std::int64_t, std::int64_t> Executor::own_samples(std::int64_t batch) const {
  const auto [begin, end] = own_shards(batch);
  return {std::min(batch, static_cast<std::int64_t>(begin) * options_.shard_size),
          std::min(batch, static_cast<std::int64_t>(end) * options_.shard_size)};
}

void Executor::for_each_shard(FunctionRef<void(Shard&)> body) {
  if (own_end_ == own_begin_) return;  // more ranks than shards in this batch
  if (own_end_ - own_begin_ == 1) {  // no task overhead for a single shard
    body(*shards_[own_begin_]);
    return;
  }
  run([&] {
    // Static partitioning keeps shard s on the same worker from layer to layer (warm caches).
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(own_begin_, own_end_, 1),
        [&](const tbb::blocked_range<std::size_t>& r) {
          for (std::size_t s = r.begin(); s != r.end(); ++s) body(*shards_[s]);
        },
        tbb::static_partitioner());
  });
}

void Executor::fold_in_shard_order(std::span<std::byte> total, FunctionRef<bool(bool)> fold_own) {
  const int rank = comm_->rank(), size = comm_->size();
  if (size == 1) {
    fold_own(false);
    return;
  }
  // The message: whether the total holds anything yet (ranks before may have had no shards), then it.
  std::vector<std::byte> message(total.size() + 1);
  bool started = false;
  if (rank > 0) {
    comm_->receive_from_previous(message);
    started = message[0] != std::byte{0};
    std::memcpy(total.data(), message.data() + 1, total.size());
  }
  started = fold_own(started);
  if (rank + 1 < size) {
    message[0] = std::byte{started};
    std::memcpy(message.data() + 1, total.data(), total.size());
    comm_->send_to_next(message);
  }
  comm_->broadcast(total, size - 1);
}

void Executor::combine_stats(const Layer& layer, std::size_t index, bool backward_phase) {
  // Shards' partial statistics folded in shard order: the same bits whatever the thread count.
  auto& total = backward_phase ? backward_stats_[index] : forward_stats_[index];
  fold_in_shard_order(std::span<double>(total), [&](bool started) {
    for (std::size_t s = own_begin_; s < own_end_; ++s, started = true) {
      if (started) layer.merge_stats(total, shards_[s]->partial, backward_phase);
      else std::copy(shards_[s]->partial.begin(), shards_[s]->partial.end(), total.begin());
    }
    return started;
  });
}

void Executor::forward(ConstView x, bool training, std::int64_t step, std::uint64_t seed) {
  forward(std::span<const ConstView>(&x, 1), training, step, seed);
}

void Executor::forward(std::span<const ConstView> inputs, bool training, std::int64_t step, std::uint64_t seed) {
  if (training && options_.reuse_activations)
    throw Error("this executor reuses activation buffers (inference only): a training pass needs one without reuse");
  if (inputs.size() != model_.input_count())
    throw ShapeError("the model has " + std::to_string(model_.input_count()) + " inputs, the pass was given " +
                     std::to_string(inputs.size()));
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const ConstView& x = inputs[k];
    const Shape expected = model_.input_shape(k).with_batch(x.shape().rank() ? x.shape()[0] : 0);
    const std::string which = inputs.size() > 1 ? "model input '" + model_.input_name(k) + "'" : "model input";
    if (!(x.shape() == expected))
      throw ShapeError(which + " must have shape " + expected.str() + " (batch, " +
                       model_.input_shape(k).str().substr(1) + ", got " + x.shape().str());
    if (x.shape()[0] != inputs[0].shape()[0])
      throw ShapeError(which + " has " + std::to_string(x.shape()[0]) + " samples, model input '" +
                       model_.input_name(0) + "' " + std::to_string(inputs[0].shape()[0]));
  }
  inputs_.assign(inputs.begin(), inputs.end());
  batch_ = inputs[0].shape()[0];
  if (batch_ == 0) throw ShapeError("cannot run a pass over an empty batch");
  active_ = static_cast<std::size_t>((batch_ + options_.shard_size - 1) / options_.shard_size);
  std::tie(own_begin_, own_end_) = own_shards(batch_);
  for (std::size_t s = own_begin_; s < own_end_; ++s) {
    Shard& sh = shard(s);
    sh.first = static_cast<std::int64_t>(s) * options_.shard_size;
    sh.count = std::min(options_.shard_size, batch_ - sh.first);
  }
  if (scribble_)
    for (std::size_t s = own_begin_; s < own_end_; ++s)
      for (auto& buffer : shards_[s]->activations) scribble_(buffer.span());
  seed_ = seed;
  pass_template_ = PassInfo{training, step, batch_, 0, CounterRng(seed)};
  activity_penalty_ = 0;

  const std::size_t layers = model_.layer_count();
  for (std::size_t l = 0; l < layers;) {
    if (forward_per_shard(l)) {
      // A run of such layers is one task per shard: no wait for the other shards between them.
      std::size_t end = l + 1;
      while (end < layers && forward_per_shard(end)) ++end;
      for (std::size_t m = l; m < end; ++m) forward_stats_[m].clear();
      for_each_shard([&](Shard& sh) {
        for (std::size_t m = l; m < end; ++m) {
          if (!absorbed_[m]) forward_on_shard(m, sh);
          poison_dead_activations(m, sh);
        }
      });
      l = end;
      continue;
    }
    if (absorbed_[l]) {  // computed by the fused layer before it; here for its activity penalty
      if (training && model_.layer(l).activity_regularizer) activity_forward(l);
      poison_dead_activations(l);
      ++l;
      continue;
    }
    const Layer& layer = runner(l);
    const std::size_t stats = layer.forward_stats_size(training);
    forward_stats_[l].assign(stats, 0.0);
    if (stats) {
      for_each_shard([&](Shard& sh) {
        sh.partial.assign(stats, 0.0);
        with_forward_args(l, sh, [&](const ForwardArgs& args) { layer.forward_partial_stats(args, sh.partial); });
      });
      combine_stats(layer, l, false);
      if (training) layer.update_buffers(writable_buffers_[l], forward_stats_[l], batch_);
    }
    if (training && unit_split_[l]) forward_by_units(l, layer, PassInfo{training, step, batch_, 0, layer_rng(l)});
    else for_each_shard([&](Shard& sh) { forward_on_shard(l, sh); });
    if (training && model_.layer(l).activity_regularizer) activity_forward(l);
    poison_dead_activations(l);
    ++l;
  }
}

bool Executor::forward_per_shard(std::size_t l) const {
  // Nothing to fold across the shards before or after the layer (batch statistics, activity
  // means) and no split by units: each shard may run it as soon as its inputs are there.
  const bool training = pass_template_.training;
  if (training && model_.layer(l).activity_regularizer) return false;
  if (absorbed_[l]) return true;
  return runner(l).forward_stats_size(training) == 0 && !(training && unit_split_[l]);
}

const Layer& Executor::runner(std::size_t l) const {
  if (fused_[l]) return *fused_[l];
  return absorbed_[l] ? *fused_[l - 1] : *model_.layer(l).layer;
}

CounterRng Executor::layer_rng(std::size_t l) const {
  return CounterRng(seed_).derive(rng_stream::dropout).derive(l).derive(static_cast<std::uint64_t>(pass_template_.step));
}

void Executor::with_forward_args(std::size_t l, Shard& sh, FunctionRef<void(const ForwardArgs&)> body) {
  // A fused pair runs as its first layer with the second's output (see plan_layer_fusions).
  sh.xs.clear();
  for (const auto v : model_.layer(l).sources) sh.xs.push_back(value_view(sh, v));
  const PassInfo pass{pass_template_.training, pass_template_.step, batch_, sh.first, layer_rng(l)};
  body(ForwardArgs{sh.xs[0], output_view(sh, fused_[l] ? l + 1 : l), params_[l], buffers_[l], forward_stats_[l],
                   sh.workspaces[l], pass, sh.xs});
}

void Executor::forward_on_shard(std::size_t l, Shard& sh) {
  // A shared buffer holds an earlier tensor: poisoned here, a layer reading a dead tensor shows.
  if (scribble_) scribble_(output_view(sh, fused_[l] ? l + 1 : l).span());
  const Layer& layer = runner(l);
  with_forward_args(l, sh, [&](const ForwardArgs& args) { layer.forward(args); });
}

void Executor::activity_forward(std::size_t l) {
  const Regularizer& r = *model_.layer(l).activity_regularizer;
  const auto per = static_cast<std::size_t>(model_.layer(l).output.numel());
  for_each_shard([&](Shard& sh) {
    sh.activity_partial.assign(per, 0.0);
    const float* a = output_data(sh, l);
    for (std::int64_t i = 0; i < sh.count; ++i)
      for (std::size_t j = 0; j < per; ++j) sh.activity_partial[j] += r.moment(a[static_cast<std::size_t>(i) * per + j]);
  });
  auto& mean = activity_mean_[l];
  mean.assign(per, 0.0);
  fold_in_shard_order(std::span<double>(mean), [&](bool) {
    for (std::size_t s = own_begin_; s < own_end_; ++s)  // shard order: the same bits for any thread count
      for (std::size_t j = 0; j < per; ++j) mean[j] += shards_[s]->activity_partial[j];
    return true;
  });
  for (auto& m : mean) m /= static_cast<double>(batch_);
  activity_dmean_[l].assign(per, 0.0);
  activity_penalty_ += r.activity_penalty(mean, activity_dmean_[l]);
}

void Executor::activity_backward(std::size_t l) {
  const Regularizer& r = *model_.layer(l).activity_regularizer;
  const auto per = static_cast<std::size_t>(model_.layer(l).output.numel());
  const auto& dmean = activity_dmean_[l];
  const double inv_batch = 1.0 / static_cast<double>(batch_);
  for_each_shard([&](Shard& sh) {
    float* dy = gradient_view(sh, model_.input_count() + l).data();
    const float* a = output_data(sh, l);
    for (std::int64_t i = 0; i < sh.count; ++i)
      for (std::size_t j = 0; j < per; ++j) {
        const std::size_t k = static_cast<std::size_t>(i) * per + j;
        dy[k] += static_cast<float>(dmean[j] * inv_batch * r.moment_derivative(a[k]));
      }
  });
}

double Executor::loss(ConstView targets, bool with_gradient) {
  const Shape expected = model_.target_shape().with_batch(batch_);
  if (!(targets.shape() == expected)) {
    // One label per sample against a per-position loss (cross_entropy over (C, d...)) is the
    // usual sign of a model that forgot to flatten before its classifier.
    const bool labels_for_maps = targets.shape().rank() == 1 && expected.rank() > 1;
    throw ShapeError("targets must have shape " + expected.str() + ", got " + targets.shape().str() +
                     (labels_for_maps ? "; the model outputs " + model_.output_shape().str() +
                                            " per sample: for one class label per sample, end it with one score "
                                            "per class (e.g. flatten, then dense)"
                                      : ""));
  }
  const Loss& loss = model_.loss();
  const std::size_t last = model_.output_layer();
  const double weight = loss.batch_weight(targets);
  if (!(weight > 0))
    throw Error("the loss's total weight over this batch's targets is " + std::to_string(weight) +
                "; a batch mean needs a positive total (are all class weights 0?)");
  for_each_shard([&](Shard& sh) {
    ConstView pred = output_view(sh, last);
    View dpred;
    if (with_gradient) {
      dpred = gradient_view(sh, model_.input_count() + last);
      sh.has_output_grad = true;
    }
    sh.loss_sum = loss.evaluate(pred, targets.slice(sh.first, sh.count), dpred, weight);
  });
  double total = 0;
  fold_in_shard_order(std::span<double>(&total, 1), [&](bool) {
    for (std::size_t s = own_begin_; s < own_end_; ++s) total += shards_[s]->loss_sum;
    return true;
  });
  return total / weight + (pass_template_.training ? activity_penalty_ : 0.0);
}

std::int64_t Executor::correct(ConstView targets) {
  const std::size_t last = model_.output_layer();
  const std::int64_t classes = model_.output_shape().numel();
  const bool one_hot = targets.shape().rank() > 1;
  std::int64_t hits = 0;
  for (std::size_t s = own_begin_; s < own_end_; ++s) {
    const Shard& sh = *shards_[s];
    const float* out = output_data(sh, last);
    for (std::int64_t i = 0; i < sh.count; ++i) {
      const float* row = out + i * classes;
      const auto predicted = std::max_element(row, row + classes) - row;
      std::int64_t label;
      if (one_hot) {
        const float* t = targets.data() + (sh.first + i) * classes;
        label = std::max_element(t, t + classes) - t;
      } else {
        label = static_cast<std::int64_t>(targets[static_cast<std::size_t>(sh.first + i)]);
      }
      hits += predicted == label;
    }
  }
  comm_->sum(std::span<std::int64_t>(&hits, 1));  // integers: any order gives the same count
  return hits;
}

void Executor::backward(ConstView output_gradient) {
  const Shape expected = model_.output_shape().with_batch(batch_);
  if (!(output_gradient.shape() == expected))
    throw ShapeError("output gradient must have shape " + expected.str() + ", got " + output_gradient.shape().str());
  for (std::size_t s = own_begin_; s < own_end_; ++s) {
    Shard& sh = *shards_[s];
    const auto src = output_gradient.slice(sh.first, sh.count);
    std::copy_n(src.data(), src.size(), gradient_view(sh, model_.input_count() + model_.output_layer()).data());
    sh.has_output_grad = true;
  }
  backward();
}

void Executor::backward() {
  const std::size_t layers = model_.layer_count();
  if (options_.reuse_activations)
    throw Error("this executor reuses activation buffers (inference only): backward() needs one without reuse");
  for (std::size_t s = own_begin_; s < own_end_; ++s)
    if (!shards_[s]->has_output_grad) throw Error("backward() needs loss(targets, true) or an output gradient first");
  if (exchanging()) {  // the previous pass's gradient, which nobody took, before it is overwritten
    const std::span<float> target = gradient_target_;
    reduce_gradients(exchange_->output());
    gradient_target_ = target;
  }
  if (scribble_)
    for (std::size_t s = own_begin_; s < own_end_; ++s) scribble_(shards_[s]->grads.span());
  if (exchange_ && options_.exact_reduction && options_.overlap_exchange && !gradient_target_.empty())
    exchange_->start(gradient_target_, own_begin_ > 0, comm_->rank() + 1 < comm_->size() && own_end_ > 0);
  if (splits_units_) choose_unit_destination();
  const bool training = pass_template_.training;
  // While an exchange runs it advances after each layer, on this thread: one layer at a time.
  const bool layer_by_layer = exchanging();
  for (std::size_t l = layers; l-- > 0;) {
    if (!layer_by_layer && backward_per_shard(l)) {
      // A run of such layers is one task per shard, as in forward().
      std::size_t first = l;
      while (first > 0 && backward_per_shard(first - 1)) --first;
      for (std::size_t m = first; m <= l; ++m) backward_stats_[m].clear();
      for_each_shard([&](Shard& sh) {
        for (std::size_t m = l + 1; m-- > first;)
          if (!absorbed_[m]) {
            scribble_input_gradients(m, sh);
            backward_on_shard(m, sh);
          }
      });
      l = first;
      continue;
    }
    if (absorbed_[l]) {  // the fused layer before it computes its backward
      if (training && model_.layer(l).activity_regularizer) activity_backward(l);
      if (exchanging() && l > 0) advance_exchange(l);
      continue;
    }
    const Layer& layer = runner(l);
    if (training && model_.layer(l).activity_regularizer) activity_backward(l);
    for (std::size_t s = own_begin_; s < own_end_; ++s) scribble_input_gradients(l, *shards_[s]);
    const std::size_t stats = layer.backward_stats_size(training);
    backward_stats_[l].assign(stats, 0.0);
    if (stats) {
      for_each_shard([&](Shard& sh) {
        sh.partial.assign(stats, 0.0);
        with_backward_args(l, sh, [&](const BackwardArgs& args) { layer.backward_partial_stats(args, sh.partial); });
      });
      combine_stats(layer, l, true);
    }
    // A layer split by units has its parameter gradients from gradients_by_units(): its
    // backward() computes the input gradients only (none wanted: not called).
    const bool by_units = unit_split_[l];
    const bool wants_dx = std::any_of(edges_[l].begin(), edges_[l].end(), [](const Edge& e) { return e.needs_gradient; });
    if (by_units) gradients_by_units(l, layer, PassInfo{training, pass_template_.step, batch_, 0, layer_rng(l)});
    if (!by_units || wants_dx) for_each_shard([&](Shard& sh) { backward_on_shard(l, sh); });
    if (exchanging() && l > 0) advance_exchange(l);  // after the first layer: reduce_gradients()
  }
  for (std::size_t s = own_begin_; s < own_end_; ++s) {
    shards_[s]->has_input_grad = true;
    shards_[s]->has_output_grad = false;
  }
}

bool Executor::backward_per_shard(std::size_t l) const {
  // As forward_per_shard: nothing folded across the shards, no split by units.
  const bool training = pass_template_.training;
  if (training && model_.layer(l).activity_regularizer) return false;
  if (absorbed_[l]) return true;
  return runner(l).backward_stats_size(training) == 0 && !unit_split_[l];
}

View Executor::input_gradient_view(Shard& sh, std::size_t l, std::size_t k) const {
  // The tensor's sum buffer for its first reader in backward order, the scratch of position k
  // for a later one (added to the sum after the layer's backward).
  const Edge& e = edges_[l][k];
  if (!e.needs_gradient) return View();
  if (e.first) return gradient_view(sh, e.value);
  return View(sh.scratch[k].data(), model_.value_shape(e.value).with_batch(sh.count));
}

void Executor::scribble_input_gradients(std::size_t l, Shard& sh) const {
  if (!scribble_) return;
  for (std::size_t k = 0; k < edges_[l].size(); ++k)
    if (edges_[l][k].needs_gradient) scribble_(input_gradient_view(sh, l, k).span());
}

void Executor::with_backward_args(std::size_t l, Shard& sh, FunctionRef<void(const BackwardArgs&)> body) {
  const auto& edges = edges_[l];
  const std::size_t output = model_.input_count() + (fused_[l] ? l + 1 : l);
  sh.xs.clear();
  sh.dxs.clear();
  for (std::size_t k = 0; k < edges.size(); ++k) {
    sh.xs.push_back(value_view(sh, edges[k].value));
    sh.dxs.push_back(input_gradient_view(sh, l, k));
  }
  const PassInfo pass{pass_template_.training, pass_template_.step, batch_, sh.first, layer_rng(l)};
  body(BackwardArgs{sh.xs[0], value_view(sh, output), gradient_view(sh, output), sh.dxs[0], params_[l], buffers_[l],
                    unit_split_[l] ? std::span<const View>() : std::span<const View>(sh.grad_views[l]), forward_stats_[l],
                    backward_stats_[l], sh.workspaces[l], pass, sh.xs, sh.dxs});
}

void Executor::backward_on_shard(std::size_t l, Shard& sh) {
  const Layer& layer = runner(l);
  with_backward_args(l, sh, [&](const BackwardArgs& args) { layer.backward(args); });
  const auto& edges = edges_[l];
  for (std::size_t k = 0; k < edges.size(); ++k) {  // later readers' shares, in input order
    if (!edges[k].needs_gradient || edges[k].first) continue;
    const View share = input_gradient_view(sh, l, k), sum = gradient_view(sh, edges[k].value);
    for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += share[i];
  }
}

void Executor::gradients_to(std::span<float> out) {
  if (out.size() != model_.parameter_count()) throw Error("gradient buffer has the wrong size");
  gradient_target_ = out;
}

std::pair<std::size_t, std::size_t> Executor::buckets_overlapped() const {
  if (!exchange_) return {0, 0};
  return {exchange_->buckets_folded_early(), exchange_->buckets_exchanged()};
}

bool Executor::exchanging() const { return exchange_ && exchange_->active(); }

void Executor::fold_own_gradients(std::span<float> out, bool started, std::size_t first, std::size_t last,
                                  std::atomic<bool>* finite) {
  // Parallel over elements, each summed over this rank's shards in shard order.
  parallel_ranges(last - first, 1 << 14, [&](std::size_t b, std::size_t e) {
    fold_own_range(out, started, first + b, first + e, finite);
  });
}

void Executor::fold_own_range(std::span<float> out, bool started, std::size_t first, std::size_t last,
                              std::atomic<bool>* finite) const {
  // When !started, the first own shard is copied: out holds nothing yet.
  if (own_begin_ == own_end_) return;
  // In blocks that stay in L1 while every shard is added: out is read and written once per
  // block rather than once per shard (the memory traffic of this fold is what limits it).
  constexpr std::size_t block = 2048;
  for (std::size_t begin = first; begin < last; begin += block) {
    const std::size_t end = std::min(last, begin + block);
    std::size_t s = own_begin_;
    if (!started) std::copy(shards_[s]->grads.data() + begin, shards_[s]->grads.data() + end, out.data() + begin);
    for (s += started ? 0 : 1; s < own_end_; ++s) {
      const float* g = shards_[s]->grads.data();
      for (std::size_t i = begin; i < end; ++i) out[i] += g[i];
    }
    // Checked while the block is still in L1: a separate pass would read it all again.
    if (finite && !all_finite({out.data() + begin, end - begin})) finite->store(false, std::memory_order_relaxed);
  }
}

void Executor::advance_exchange(std::size_t layer) {
  const auto start = std::chrono::steady_clock::now();
  const std::span<float> out = exchange_->output();
  exchange_->advance(gradient_ready_[layer],
                     [&](bool started, std::size_t first, std::size_t last) { fold_own_gradients(out, started, first, last); });
  exchange_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Executor::reduce_gradients(std::span<float> out) {
  if (out.size() != model_.parameter_count()) throw Error("gradient buffer has the wrong size");
  gradient_target_ = {};  // taken: the next backward needs gradients_to() again to overlap
  reduced_finite_ = false;
  if (out.empty()) return;
  if (comm_->size() == 1) {
    std::atomic<bool> finite = own_begin_ < own_end_;
    // Each worker folds its share, which the trainer's update then reads on the same core, and
    // copies the unit-split rows it wrote when they went elsewhere.
    const bool copy_units = splits_units_ && unit_destination_.data() != out.data();
    for_each_worker([&](std::size_t w) {
      for (const auto& [first, last] : folded_shares_[w]) fold_own_range(out, false, first, last, &finite);
      if (copy_units)
        for (const auto& [first, last] : unit_parameters_[w])
          std::copy(unit_destination_.begin() + first, unit_destination_.begin() + last, out.begin() + first);
    });
    if (splits_units_ && !units_finite_) finite = false;
    reduced_finite_ = finite;
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  if (options_.exact_reduction) {
    // Not started during backward: the whole exchange now, the same buckets and sums.
    if (!exchanging()) exchange_->start(out, own_begin_ > 0, comm_->rank() + 1 < comm_->size() && own_end_ > 0);
    const std::span<float> into = exchange_->output();
    exchange_->finish([&](bool started, std::size_t first, std::size_t last) { fold_own_gradients(into, started, first, last); });
    if (into.data() != out.data()) std::copy(into.begin(), into.end(), out.begin());
  } else {
    fold_own_gradients(out, false, 0, out.size());
    if (own_begin_ == own_end_) std::fill(out.begin(), out.end(), 0.0f);
    comm_->sum(out);
  }
  exchange_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Executor::gather_rows(View out, std::int64_t per, FunctionRef<const float*(const Shard&)> rows) {
  // Own shards are contiguous and so are their rows in `out`; all_gather concatenates the
  // ranks' blocks in rank order, which is shard order.
  const std::int64_t first = own_begin_ < own_end_ ? shards_[own_begin_]->first : 0;
  for (std::size_t s = own_begin_; s < own_end_; ++s) {
    const Shard& sh = *shards_[s];
    std::copy_n(rows(sh), sh.count * per, out.data() + sh.first * per);
  }
  if (comm_->size() == 1) return;
  std::int64_t own_rows = 0;
  for (std::size_t s = own_begin_; s < own_end_; ++s) own_rows += shards_[s]->count;
  const auto mine = std::as_bytes(std::span<const float>(out.data() + first * per, static_cast<std::size_t>(own_rows * per)));
  const auto all = comm_->all_gather(mine);
  if (all.size() != out.size() * sizeof(float)) throw Error("gathered outputs do not cover the batch");
  std::memcpy(out.data(), all.data(), all.size());
}

void Executor::copy_output(View out) {
  const std::size_t last = model_.output_layer();
  const Shape expected = model_.output_shape().with_batch(batch_);
  if (!(out.shape() == expected)) throw ShapeError("output buffer must have shape " + expected.str());
  gather_rows(out, model_.output_shape().numel(), [&](const Shard& sh) -> const float* { return output_data(sh, last); });
}

void Executor::copy_input_gradient(View out) { copy_input_gradient(0, out); }

void Executor::copy_input_gradient(std::size_t input, View out) {
  if (!options_.input_gradient) throw Error("the executor was not asked for input gradients");
  if (input >= model_.input_count()) throw Error("the model has no input " + std::to_string(input));
  for (std::size_t s = own_begin_; s < own_end_; ++s)
    if (!shards_[s]->has_input_grad) throw Error("copy_input_gradient() needs a backward pass first");
  const Shape expected = model_.input_shape(input).with_batch(batch_);
  if (static_cast<std::int64_t>(out.size()) != expected.numel()) throw ShapeError("input gradient buffer must have shape " + expected.str());
  gather_rows(out, model_.input_shape(input).numel(),
              [&](const Shard& sh) -> const float* { return sh.grad_slots[grad_slot_[input]].data(); });
}

bool Executor::output_held(std::size_t layer) const {
  // Outputs whose buffer another took, or that the scribble poisoned when they died, are gone; a
  // fused pair's first output is never written.
  const bool poisoned = scribble_ && sharing_activations() && activation_end_[layer] < model_.layer_count();
  return activation_kept_[layer] && !fused_[layer] && !poisoned;
}

std::int64_t Executor::first_unchecked_before(std::int64_t layer) const {
  // A fused pair's first layer is checked through the pair's output (first_non_finite_layer).
  const auto checked = [&](std::size_t l) { return output_held(fused_[l] ? l + 1 : l); };
  while (layer > 0 && !checked(static_cast<std::size_t>(layer - 1))) --layer;
  return layer;
}

std::int64_t Executor::first_non_finite_layer() {
  // Per rank, then the smallest over ranks (-1, none, counted as the layer count).
  const auto layers = static_cast<std::int64_t>(model_.layer_count());
  std::int64_t first = layers;
  for (std::size_t l = 0; l < model_.layer_count() && first == layers; ++l)
    for (std::size_t s = own_begin_; s < own_end_ && first == layers && output_held(l); ++s) {
      const Shard& sh = *shards_[s];
      const float* y = output_data(sh, l);
      const std::int64_t n = sh.count * model_.layer(l).output.numel();
      for (std::int64_t i = 0; i < n; ++i)
        if (!std::isfinite(y[i])) {
          // A fused pair's output is the second layer's; its first layer's output was not
          // written. The second (a pool) passes values on, so the first is where it appeared.
          first = static_cast<std::int64_t>(absorbed_[l] ? l - 1 : l);
          break;
        }
    }
  first = comm_->min(first);
  return first == layers ? -1 : first;
}

}  // namespace weft
