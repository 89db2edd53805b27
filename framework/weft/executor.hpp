#pragma once
// Executor: runs a Model's forward and backward passes over a mini-batch cut into fixed-size
// shards, on a oneTBB arena of `threads` workers.
//
// - Shards have a fixed size (the last may be smaller), independent of the thread count.
// - Each shard owns its activations, gradient buffers, per-layer workspaces and a full-size
//   parameter-gradient buffer, so shards never share anything writable.
// - Execution goes layer by layer in the model's order (a topological order of its graph): one
//   parallel loop over shards per layer. Between two such loops a layer may combine per-shard
//   statistics (batch normalisation).
// - A layer that offers it (Layer::unit_count) and whose weight is large next to its activations
//   runs split by output units instead, in a single process (framework/executor_units.cpp): each
//   worker writes its units' columns of every shard's output and its rows of the parameter
//   gradient, summed over the shards in shard order (the same bits).
// - Backward visits the layers in reverse. A tensor read by several layers gets the sum of their
//   gradients in that fixed order (the latest reader's first), so fan-out keeps the same bits.
//   A tensor's gradient buffer lives from its latest reader's backward to its producer's; buffers
//   whose lives do not overlap share memory (a chain needs two, as a ping-pong would).
// - Activations: an output lives from its layer's forward to its last reader's, and outputs
//   whose lives do not overlap share a buffer. In training an output that a backward reads
//   (Layer::backward_needs: its producer's output, its readers' input) lives to the end of the
//   forward pass instead (backward writes no activation); so does one with an activity penalty.
//   An inference executor (reuse_activations) needs no output after its last reader (a chain
//   needs two buffers).
// - Every cross-shard sum (loss, statistics, gradients) runs in shard order, so results are the
//   same bits with 1 or 64 threads.
// - Across processes (weft/communicator.hpp), every rank is given the whole global mini-batch
//   and runs only its own contiguous block of whole shards. At each fold the running total is
//   handed from rank to rank in rank order (rank r folds its shards onto what rank r - 1 sent),
//   then the last rank broadcasts it: every fold still runs over all shards in global shard
//   order, so K processes give the same bits as one. With exact_reduction = false gradients are
//   summed by MPI_Allreduce instead (faster for many ranks, not bit-identical).
// - The gradient chain runs in buckets (framework/gradient_exchange.hpp). Given where the
//   gradient goes before backward() (gradients_to()), a bucket's fold and transfer start as soon
//   as backward has finished its layers on this rank's shards (all of them: a layer's loop over
//   shards ends before the next layer's starts), while backward goes on with earlier layers:
//   the overlap of PyTorch's DistributedDataParallel, with the same sums in the same order.
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "weft/communicator.hpp"
#include "weft/function_ref.hpp"
#include "weft/model.hpp"

namespace weft {

namespace detail {
class GradientExchange;
}

// How an Executor cuts and runs its passes.
struct ExecutorOptions {
  std::int64_t shard_size = 32;  // samples per shard (at least 1); the results depend on it
  int threads = 0;              // 0: all hardware threads
  bool input_gradient = false;  // also compute d(loss)/d(input) (gradient checks, saliency)
  Communicator* communicator = nullptr;  // the run's processes (must outlive the executor); null: one
  bool exact_reduction = true;           // false: gradients summed by the MPI library's own order
  // Inference only (evaluation, prediction): a layer's output buffer is reused as soon as the
  // last layer reading it has run, so a pass holds only the activations still to be read (the
  // model output is kept). Training passes and backward() are refused on such an executor.
  bool reuse_activations = false;
  // Exact reduction over several ranks: start each bucket's exchange during backward() when
  // gradients_to() named the destination (false: all of it in reduce_gradients(); same bits).
  bool overlap_exchange = true;
  // Run pairs of layers that a registered fusion covers as one layer (weft/layer_fusion.hpp):
  // the same bits, less memory traffic. false runs every layer on its own (to compare).
  bool fuse_layers = true;
  // Training: an output no backward reads gives its buffer away after its last reader's forward
  // (see the top). false keeps every output until backward (to compare: the same bits).
  bool free_unneeded_activations = true;
  // Layers that offer it (Layer::unit_count) and whose weight is large next to their
  // activations (Executor::worth_splitting) run split by output units in a single process:
  // each worker computes a fixed range of their units over every shard in training forward
  // passes, and their parameter gradient over every shard in shard order, straight into the
  // gradient the trainer reads (gradients_to); no fold for those layers. false: split by
  // samples only (to compare: the same bits).
  bool split_units = true;
};

// Runs a Model's passes shard by shard on its own threads (see the file comment). One pass at a
// time: its methods are called from one thread.
class Executor {
 public:
  // Makes the thread arena and the per-shard buffers for `model` (which must outlive it);
  // throws Error for a shard size below 1 or a negative thread count.
  Executor(Model& model, ExecutorOptions options);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  int threads() const { return threads_; }  // worker threads (the hardware's when 0 was asked)
  std::int64_t shard_size() const { return options_.shard_size; }  // samples per shard
  Model& model() { return model_; }  // the model it runs

  // For checkers of the Layer contract (weft/gradient_check.hpp), never for training: `fill` is
  // called on every buffer a pass must overwrite, just before the pass writes it (each shard's
  // layer outputs in forward(); its parameter gradients and each layer's d(loss)/d(input) in
  // backward()), so a checker can poison them and catch a layer that leaves some unwritten or
  // adds into them. Shared activation buffers are also poisoned when their tensor's life ends,
  // so a backward reading an input or output it did not declare (Layer::backward_needs) shows.
  void set_scribble(std::function<void(std::span<float>)> fill) { scribble_ = std::move(fill); }

  // Runs `fn` on the executor's arena: parallel algorithms inside use only its workers.
  void run(FunctionRef<void()> fn);
  // Calls body(begin, end) over [0, n) in parallel chunks of at least `grain` (on the arena).
  void parallel_ranges(std::size_t n, std::size_t grain, FunctionRef<void(std::size_t, std::size_t)> body);
  // Calls body(w) for each worker w in [0, threads()) in parallel, each on the thread that runs
  // worker w of the unit-split passes: work given out by worker stays in that core's caches.
  void for_each_worker(FunctionRef<void(std::size_t)> body);
  // The flat parameter ranges (ascending) whose gradient worker w computes in a backward pass
  // split by units (ExecutorOptions::split_units); empty when no layer is split.
  std::span<const std::pair<std::size_t, std::size_t>> unit_parameters(std::size_t worker) const {
    return worker < unit_parameters_.size() ? std::span(unit_parameters_[worker]) : std::span<const std::pair<std::size_t, std::size_t>>();
  }
  // The flat parameter ranges (ascending) of the rest, the gradients folded over the shards,
  // whose fold worker w runs in a single process: an even share of them, cut at 16 floats.
  std::span<const std::pair<std::size_t, std::size_t>> folded_share(std::size_t worker) const {
    return worker < folded_shares_.size() ? std::span(folded_shares_[worker]) : std::span<const std::pair<std::size_t, std::size_t>>();
  }

  // The samples [first, end) of a mini-batch of `batch` that this process runs (its block of
  // whole shards; all of them in a single process): only their rows of x are read.
  std::pair<std::int64_t, std::int64_t> own_samples(std::int64_t batch) const;

  // Forward pass over x, shape (n, input...). `x` must stay alive until backward() returns.
  // In training mode layers use batch statistics and dropout, and update their buffers.
  void forward(ConstView x, bool training, std::int64_t step, std::uint64_t seed);
  // The same for a model with several inputs: one tensor per model input, in the model's order
  // (Model::input_name), each (n, that input's shape...).
  void forward(std::span<const ConstView> inputs, bool training, std::int64_t step, std::uint64_t seed);
  // Mean loss of the last forward pass over targets (n, target...), plus the activity penalties
  // of a training pass. With `with_gradient`,
  // also sets d(mean loss)/d(output) as the starting point of backward().
  double loss(ConstView targets, bool with_gradient);
  // Number of samples whose arg-max output equals the target class (label or one-hot).
  std::int64_t correct(ConstView targets);
  // Backward pass from the gradient loss() set, or from an explicit d(loss)/d(output).
  void backward();
  void backward(ConstView output_gradient);  // output_gradient: (n, output...) like the output

  // The next backward pass's gradient goes to `out` (the span reduce_gradients() will be given):
  // across ranks its exchange can then start during backward (options.overlap_exchange).
  void gradients_to(std::span<float> out);
  // The mini-batch gradient of the last backward pass: shard gradients added in shard order.
  void reduce_gradients(std::span<float> out);
  // Whether every value the last reduce_gradients() wrote was finite, seen while adding them up
  // (in one process; false when not known): a caller that must check the gradient before using
  // it can skip its own pass over memory.
  bool reduced_gradient_finite() const { return reduced_finite_; }
  // Wall time this rank spent on the gradient exchange so far, in reduce_gradients() and, when
  // overlapped, between backward()'s layers (waiting for slower ranks included): the part of
  // the exchange the step waits for; 0 in a single process.
  double exchange_seconds() const { return exchange_seconds_; }
  // Buckets of the exact exchange so far (framework/gradient_exchange.hpp): how many this rank
  // folded and sent on during backward(), and in all; {0, 0} in a single process.
  std::pair<std::size_t, std::size_t> buckets_overlapped() const;
  // The output of the last forward pass, (n, output...) (gathered from all ranks).
  void copy_output(View out);
  // d(loss)/d(input) of the last backward pass (needs options.input_gradient).
  void copy_input_gradient(View out);
  // The same for model input `input` (Model::input_name) of a model with several.
  void copy_input_gradient(std::size_t input, View out);
  // Floats per sample held by the gradient buffers (after sharing), for memory reports.
  std::int64_t gradient_floats_per_sample() const;
  // Floats per sample held by the activation buffers (after sharing), for memory reports.
  std::int64_t activation_floats_per_sample() const;
  // Whether layer `layer` and the next one run as one fused layer (weft/layer_fusion.hpp), so
  // that `layer`'s output is never stored.
  bool fused_with_next(std::size_t layer) const { return layer < fused_.size() && fused_[layer] != nullptr; }
  // Index of the first layer whose output in the last forward pass holds a NaN or infinity,
  // or -1: names where a non-finite value appeared (on any rank). With reuse_activations only
  // the outputs still held after the pass are checked (the model output among them).
  std::int64_t first_non_finite_layer();
  // The first of the layers just before `layer` whose outputs the last pass did not keep
  // (training frees an output no backward reads once its readers have run, and reuse_activations
  // more): a non-finite value first_non_finite_layer() found in `layer`'s output may have appeared
  // in any of them. `layer` itself when the output before it was kept.
  std::int64_t first_unchecked_before(std::int64_t layer) const;

 private:
  struct Shard;
  void for_each_shard(FunctionRef<void(Shard&)> body);
  // Copies this rank's shards' rows(shard) into out (n, per...), then every rank's.
  void gather_rows(View out, std::int64_t per, FunctionRef<const float*(const Shard&)> rows);
  // This rank's shards' gradients onto out[first, last) in shard order (see GradientExchange).
  // With `finite`, clears it when a value written is not finite.
  void fold_own_gradients(std::span<float> out, bool started, std::size_t first, std::size_t last,
                          std::atomic<bool>* finite = nullptr);
  void fold_own_range(std::span<float> out, bool started, std::size_t first, std::size_t last,
                      std::atomic<bool>* finite) const;  // the same on this thread
  bool exchanging() const;  // an exact exchange across ranks is running (started, not finished)
  void advance_exchange(std::size_t layer);  // after the layer's backward: what is final goes
  void combine_stats(const Layer& layer, std::size_t index, bool backward_phase);
  // Activity regularisers (weft/regularizer.hpp): whole-batch means of the layer's output after
  // its forward pass, and their gradient added to its output gradient before its backward pass.
  void activity_forward(std::size_t layer);
  void activity_backward(std::size_t layer);
  Shard& shard(std::size_t i);
  std::pair<std::size_t, std::size_t> own_shards(std::int64_t batch) const;  // shard indices [begin, end)
  // Folds the shards' values into `total` in global shard order across ranks (see the top):
  // fold_own(started) folds this rank's shards onto total (when !started, total holds nothing
  // yet) and returns whether total holds anything now.
  void fold_in_shard_order(std::span<std::byte> total, FunctionRef<bool(bool)> fold_own);
  template <class T>
  void fold_in_shard_order(std::span<T> total, FunctionRef<bool(bool)> fold_own) {
    fold_in_shard_order(std::as_writable_bytes(total), fold_own);
  }

  Model& model_;
  ExecutorOptions options_;
  int threads_;
  struct Arena;
  std::unique_ptr<Arena> arena_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::size_t active_ = 0;      // shards in the current pass (on all ranks)
  std::size_t own_begin_ = 0, own_end_ = 0;  // this rank's shards: [own_begin_, own_end_)
  Communicator* comm_;
  std::int64_t batch_ = 0;      // samples in the current pass
  std::vector<ConstView> inputs_;  // the model inputs of the current pass
  // Where each layer input's gradient goes: the tensor read (value id, weft/model.hpp), whether
  // anybody needs its gradient, and whether this reader is the first in backward order (writes
  // the sum's buffer) or a later one (writes scratch, then added in).
  struct Edge {
    std::size_t value = 0;
    bool needs_gradient = false;
    bool first = false;
  };
  std::vector<std::vector<Edge>> edges_;   // per layer, per input
  std::vector<std::size_t> grad_slot_;     // per value: its gradient buffer, or npos
  std::vector<std::int64_t> slot_floats_;  // per gradient buffer: floats per sample
  std::int64_t scratch_floats_ = 0;        // per sample, per input position (0: no fan-out)
  std::size_t max_inputs_ = 1;
  void plan_gradient_buffers();
  void plan_activation_buffers();
  void plan_layer_fusions();
  // Splitting by units (framework/executor_units.cpp, ExecutorOptions::split_units).
  void plan_unit_split();
  void share_folded_parameters();
  bool worth_splitting(std::size_t layer) const;
  std::pair<std::int64_t, std::int64_t> unit_range(std::size_t layer, std::size_t worker) const;
  // A worker's view of this rank's shards for a split layer: every shard's inputs and pass
  // (and, in forward, arguments), kept per worker and reserved: no allocation once warm.
  struct UnitShards {
    std::size_t per_shard = 0;  // inputs per shard
    std::vector<ConstView> inputs;
    std::vector<PassInfo> passes;
    std::vector<ForwardArgs> args;
    std::span<const ConstView> inputs_of(std::size_t shard) const;  // the i-th of this rank's shards
  };
  UnitShards& unit_shards(std::size_t worker, std::size_t layer, const PassInfo& pass);
  void forward_by_units(std::size_t layer, const Layer& runner, const PassInfo& pass);
  void gradients_by_units(std::size_t layer, const Layer& runner, const PassInfo& pass);
  void choose_unit_destination();  // where this backward's unit-split gradients go
  std::vector<bool> unit_split_;   // per layer
  bool splits_units_ = false;      // some layer is split
  std::vector<std::vector<std::pair<std::size_t, std::size_t>>> unit_parameters_;  // per worker
  std::vector<std::pair<std::size_t, std::size_t>> folded_parameters_;  // the rest: shards folded
  std::vector<std::vector<std::pair<std::size_t, std::size_t>>> folded_shares_;  // per worker
  std::vector<std::vector<Workspace>> worker_workspaces_;  // per worker, per layer
  std::vector<UnitShards> unit_shards_;                    // per worker
  std::span<float> unit_destination_;                      // the gradient the unit split writes
  std::vector<std::vector<View>> unit_destination_views_;  // per layer, views into it
  std::atomic<bool> units_finite_ = true;  // every value the unit split wrote was finite
  // Per layer: the fused layer standing for it and the next one (null: none), and whether the
  // layer is the second of such a pair (its work is done by the fused layer before it).
  std::vector<std::unique_ptr<Layer>> fused_;
  std::vector<bool> absorbed_;
  std::vector<std::size_t> activation_slot_;    // per layer: its output's buffer
  std::vector<std::int64_t> activation_floats_; // per activation buffer: floats per sample
  std::vector<bool> activation_kept_;           // per layer: its output is still held after a pass
  // Per layer: the last forward time (layer) that reads its output; the layer count when it is
  // held to the end of the pass. A shared buffer is poisoned (scribble) once its tensor is dead.
  std::vector<std::size_t> activation_end_;
  bool output_held(std::size_t layer) const;  // its output, from the last pass, can still be read
  bool sharing_activations() const { return options_.reuse_activations || options_.free_unneeded_activations; }
  void poison_dead_activations(std::size_t time);
  void poison_dead_activations(std::size_t time, Shard& sh);
  // Layer by layer, shard by shard. A layer runs per shard when nothing of it is folded across
  // the shards (batch statistics, activity means) and it is not split by units: consecutive such
  // layers run as one task per shard, with no wait for the other shards between them.
  const Layer& runner(std::size_t layer) const;  // what runs its work: a fused pair's for both
  CounterRng layer_rng(std::size_t layer) const;  // the layer's dropout stream in this pass
  bool forward_per_shard(std::size_t layer) const;
  bool backward_per_shard(std::size_t layer) const;
  void with_forward_args(std::size_t layer, Shard& sh, FunctionRef<void(const ForwardArgs&)> body);
  void forward_on_shard(std::size_t layer, Shard& sh);
  View input_gradient_view(Shard& sh, std::size_t layer, std::size_t input) const;
  void scribble_input_gradients(std::size_t layer, Shard& sh) const;
  void with_backward_args(std::size_t layer, Shard& sh, FunctionRef<void(const BackwardArgs&)> body);
  void backward_on_shard(std::size_t layer, Shard& sh);  // and adds later readers' input gradients
  // Where layer l's output lives in a shard (the first sh.count samples of its buffer).
  float* output_data(const Shard& sh, std::size_t layer) const;
  View output_view(const Shard& sh, std::size_t layer) const;
  ConstView value_view(const Shard& sh, std::size_t value) const;
  View gradient_view(Shard& sh, std::size_t value) const;
  PassInfo pass_template_;
  std::uint64_t seed_ = 0;
  std::vector<std::vector<ConstView>> params_, buffers_;
  std::vector<std::vector<View>> writable_buffers_;  // the same buffers, for Layer::update_buffers
  std::vector<std::vector<double>> forward_stats_, backward_stats_;
  std::vector<std::vector<double>> activity_mean_, activity_dmean_;  // per layer
  double activity_penalty_ = 0;      // sum of the activity penalties of the last training pass
  double exchange_seconds_ = 0;      // see exchange_seconds()
  bool reduced_finite_ = false;      // see reduced_gradient_finite()
  std::unique_ptr<detail::GradientExchange> exchange_;  // across ranks, exact reduction only
  std::vector<std::size_t> gradient_ready_;  // per layer: after its backward, [this, end) is final
  std::span<float> gradient_target_;         // gradients_to(): the next backward's destination
  std::function<void(std::span<float>)> scribble_;  // see set_scribble()
};

}  // namespace weft
