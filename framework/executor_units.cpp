// Splitting layers by output units (ExecutorOptions::split_units, Layer::unit_count).
//
// Split by samples, every worker reads all of a dense layer's weight in its forward pass, writes
// a full-size gradient of its own, and the fold and the update then move every row between the
// cores' caches: on two cores that traffic, not arithmetic, bounded fashion_mlp's step
// (docs/performance.md). Split by units, worker w computes the units unit_range(l, w) of every
// shard, and their parameter gradient over every shard in shard order: its rows of the weight,
// of the gradient and (the trainer's update follows unit_parameters()) of the optimizer state
// stay on its core.
//
// The bits are those of the split by samples: a unit's output is the same chain whoever
// computes it, and its gradient rows are each shard's gradient added in shard order, as the fold
// adds them. Only within one process: across ranks the exchange folds per-shard gradients.
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>

#include <algorithm>

#include "executor_shard.hpp"
#include "weft/finite.hpp"

namespace weft {

void Executor::plan_unit_split() {
  const std::size_t layers = model_.layer_count();
  unit_split_.assign(layers, false);
  splits_units_ = false;
  unit_parameters_.assign(static_cast<std::size_t>(threads_), {});
  folded_parameters_.clear();
  worker_workspaces_.assign(static_cast<std::size_t>(threads_), std::vector<Workspace>(layers));
  unit_shards_.clear();
  unit_shards_.resize(static_cast<std::size_t>(threads_));
  for (std::size_t l = 0; l < layers; ++l) {
    const Layer& layer = *model_.layer(l).layer;
    const std::int64_t units = layer.unit_count();
    if (!options_.split_units || comm_->size() > 1 || units <= 0 || fused_[l] || absorbed_[l] ||
        layer.forward_stats_size(true) || layer.backward_stats_size(true))
      continue;
    for (const auto p : model_.layer(l).params) {
      const NamedTensor& t = model_.parameter_table()[p];
      if (t.shape.rank() == 0 || t.shape[0] != units)
        throw Error("layer '" + model_.layer(l).name + "' (" + model_.layer(l).type + ") splits by " +
                    std::to_string(units) + " units, but its parameter '" + t.name + "' has shape " + t.shape.str() +
                    "; every parameter's first axis must count the units");
    }
    if (!worth_splitting(l)) continue;
    unit_split_[l] = true;
    splits_units_ = true;
  }
  // Each worker's rows of every split layer's parameters; everything else is folded.
  std::size_t folded_from = 0;
  for (const auto& t : model_.parameter_table()) {
    if (!unit_split_[t.layer]) continue;
    if (folded_from < t.offset) folded_parameters_.emplace_back(folded_from, t.offset);
    folded_from = t.offset + t.size();
    const std::size_t row = t.size() / static_cast<std::size_t>(t.shape[0]);
    for (std::size_t w = 0; w < unit_parameters_.size(); ++w) {
      const auto [u0, u1] = unit_range(t.layer, w);
      if (u0 < u1) unit_parameters_[w].emplace_back(t.offset + static_cast<std::size_t>(u0) * row,
                                                    t.offset + static_cast<std::size_t>(u1) * row);
    }
  }
  if (folded_from < model_.parameter_count()) folded_parameters_.emplace_back(folded_from, model_.parameter_count());
  for (auto& ranges : unit_parameters_) std::sort(ranges.begin(), ranges.end());
  share_folded_parameters();
}

void Executor::share_folded_parameters() {
  // Cut the folded ranges, laid end to end, into even shares at multiples of 16 floats.
  folded_shares_.assign(static_cast<std::size_t>(threads_), {});
  std::size_t total = 0;
  for (const auto& [first, last] : folded_parameters_) total += last - first;
  const auto workers = static_cast<std::size_t>(threads_);
  const auto cut = [&](std::size_t w) { return w == workers ? total : std::min(total, (total * w / workers + 15) / 16 * 16); };
  std::size_t seen = 0;  // folded floats before the current range
  for (const auto& [first, last] : folded_parameters_) {
    for (std::size_t w = 0; w < workers; ++w) {
      const std::size_t from = std::max(cut(w), seen), to = std::min(cut(w + 1), seen + (last - first));
      if (from < to) folded_shares_[w].emplace_back(first + (from - seen), first + (to - seen));
    }
    seen += last - first;
  }
}

bool Executor::worth_splitting(std::size_t l) const {
  // Split by units, a worker reads the other workers' rows of the layer's input and output
  // gradient (shard × (in + units) floats a shard, in forward and in backward); split by samples,
  // it reads all of the weight in forward, and the fold and the update move the weight-sized
  // gradients and state between cores. Measured on fashion_mlp with 2 threads (docs/performance.md),
  // splitting pays when the weight holds at least 4 shards' worth of those activations: its
  // 784 × 512 layer at shards of 32 and 64, its 512 × 256 one at 32 only.
  std::int64_t weights = 0, activations = model_.layer(l).output.numel();
  for (const auto p : model_.layer(l).params) weights += model_.parameter_table()[p].shape.numel();
  for (const auto v : model_.layer(l).sources) activations += model_.value_shape(v).numel();
  return weights >= 4 * options_.shard_size * activations;
}

std::pair<std::int64_t, std::int64_t> Executor::unit_range(std::size_t layer, std::size_t worker) const {
  // Even shares, cut at multiples of 16 units (whole vectors of the GEMM tiles' rows and columns).
  const std::int64_t units = model_.layer(layer).layer->unit_count(), workers = threads_;
  const auto cut = [&](std::int64_t w) { return std::min(units, (units * w / workers + 15) / 16 * 16); };
  const auto w = static_cast<std::int64_t>(worker);
  return {cut(w), w + 1 == workers ? units : cut(w + 1)};
}

void Executor::for_each_worker(FunctionRef<void(std::size_t)> body) {
  if (threads_ == 1) {
    body(0);
    return;
  }
  run([&] {
    // The static partitioner gives item w to the same thread in every call (as for_each_shard's).
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, static_cast<std::size_t>(threads_), 1),
        [&](const tbb::blocked_range<std::size_t>& r) {
          for (std::size_t w = r.begin(); w != r.end(); ++w) body(w);
        },
        tbb::static_partitioner());
  });
}

std::span<const ConstView> Executor::UnitShards::inputs_of(std::size_t i) const {
  return std::span<const ConstView>(inputs).subspan(i * per_shard, per_shard);
}

Executor::UnitShards& Executor::unit_shards(std::size_t w, std::size_t l, const PassInfo& pass_template) {
  // Every shard's input views and pass at once, reserved first so that spans and references into
  // them hold while the worker uses them.
  UnitShards& mine = unit_shards_[w];
  const auto& sources = model_.layer(l).sources;
  const std::size_t shards = own_end_ - own_begin_;
  mine.per_shard = sources.size();
  mine.inputs.clear();
  mine.passes.clear();
  mine.inputs.reserve(shards * sources.size());
  mine.passes.reserve(shards);
  for (std::size_t s = own_begin_; s < own_end_; ++s) {
    const Shard& sh = *shards_[s];
    for (const auto v : sources) mine.inputs.push_back(value_view(sh, v));
    mine.passes.push_back(PassInfo{pass_template.training, pass_template.step, batch_, sh.first, pass_template.rng});
  }
  return mine;
}

void Executor::forward_by_units(std::size_t l, const Layer& runner, const PassInfo& pass_template) {
  if (scribble_)
    for (std::size_t s = own_begin_; s < own_end_; ++s) scribble_(output_view(*shards_[s], l).span());
  for_each_worker([&](std::size_t w) {
    const auto [u0, u1] = unit_range(l, w);
    if (u0 == u1) return;
    UnitShards& mine = unit_shards(w, l, pass_template);
    mine.args.clear();
    mine.args.reserve(own_end_ - own_begin_);
    for (std::size_t s = own_begin_, i = 0; s < own_end_; ++s, ++i) {
      Shard& sh = *shards_[s];
      const std::span<const ConstView> xs = mine.inputs_of(i);
      mine.args.push_back(ForwardArgs{xs[0], output_view(sh, l), params_[l], buffers_[l], forward_stats_[l],
                                      sh.workspaces[l], mine.passes[i], xs});
    }
    runner.forward_units(mine.args, u0, u1, worker_workspaces_[w][l]);
  });
}

void Executor::choose_unit_destination() {
  // The trainer's gradient when gradients_to() named it, else the first shard's buffer (which
  // reduce_gradients() then copies from).
  const std::span<float> into = gradient_target_.size() == model_.parameter_count() && !gradient_target_.empty()
                                    ? gradient_target_
                                    : shards_[own_begin_]->grads.span();
  units_finite_ = true;
  if (into.data() == unit_destination_.data() && into.size() == unit_destination_.size()) return;
  unit_destination_ = into;
  unit_destination_views_.clear();  // a new destination (once, not every step)
  for (std::size_t l = 0; l < model_.layer_count(); ++l) {
    auto views = model_.param_views(l, into.data());
    unit_destination_views_.emplace_back(views.begin(), views.end());
  }
}

void Executor::gradients_by_units(std::size_t l, const Layer& runner, const PassInfo& pass_template) {
  const std::size_t output = model_.input_count() + l;
  const std::span<const View> into = unit_destination_views_[l];
  const std::int64_t units = runner.unit_count();
  for_each_worker([&](std::size_t w) {
    const auto [u0, u1] = unit_range(l, w);
    if (u0 == u1) return;
    const UnitShards& mine = unit_shards(w, l, pass_template);
    for (std::size_t s = own_begin_, i = 0; s < own_end_; ++s, ++i) {
      Shard& sh = *shards_[s];
      const std::span<const ConstView> xs = mine.inputs_of(i);
      runner.unit_gradients(BackwardArgs{xs[0], value_view(sh, output), gradient_view(sh, output), View(), params_[l],
                                         buffers_[l], into, forward_stats_[l], backward_stats_[l], sh.workspaces[l],
                                         mine.passes[i], xs, {}},
                            u0, u1, i > 0, worker_workspaces_[w][l]);
    }
    // The rows are final: checked while they are still in this core's cache.
    for (const View& p : into) {
      const auto row = static_cast<std::int64_t>(p.size()) / units;
      if (!all_finite({p.data() + u0 * row, static_cast<std::size_t>((u1 - u0) * row)}))
        units_finite_.store(false, std::memory_order_relaxed);
    }
  });
}

}  // namespace weft
