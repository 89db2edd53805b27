#pragma once
// The Layer interface: the contract every built-in and plugin layer follows.
//
// A layer holds its configuration and the shapes fixed by infer(), never batch state and never
// parameter values. Parameters and gradients are views into flat buffers owned by the Model
// (values) and by each shard (gradients); activations and scratch belong to the shard that runs
// the pass. That is why one Layer object can serve all shards at once from many threads:
// forward() and backward() are const and must not touch anything but their arguments.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "weft/config.hpp"
#include "weft/error.hpp"
#include "weft/onnx_graph.hpp"
#include "weft/rng.hpp"
#include "weft/tensor.hpp"

namespace weft {

// A parameter (or buffer) the layer wants the model to allocate for it.
struct ParamDecl {
  std::string name;  // "weight", "bias", "running_mean": unique within the layer
  Shape shape;       // PyTorch's layout: dense (out, in), conv (out, in/groups, k...)
  Json init;         // initializer: a name ("he_normal") or {"type": ..., options}
  bool is_bias = false;  // weight penalties skip biases unless asked
};

// Scratch that one layer keeps in one shard from forward to backward (masks, argmax indices,
// im2col buffers). Buffers grow on first use and are reused afterwards: no steady-state allocation.
class Workspace {
 public:
  // `count` floats of scratch numbered `slot` (a layer numbers its own from 0). The same slot
  // gives back what was written there, so forward() can leave data for backward(); storage only
  // grows, and the vector's growth zero-fills new elements.
  std::span<float> floats(std::size_t slot, std::size_t count);
  std::span<std::int32_t> ints(std::size_t slot, std::size_t count);  // the same for int32

 private:
  std::vector<std::vector<float>> floats_;
  std::vector<std::vector<std::int32_t>> ints_;
};

// What a pass knows beyond its tensors.
struct PassInfo {
  bool training = false;          // false in evaluation and prediction (dropout off, running stats)
  std::int64_t step = 0;          // optimizer step this pass belongs to (0-based)
  std::int64_t batch_size = 0;    // samples in the whole mini-batch, all shards together
  std::int64_t first_sample = 0;  // index in the mini-batch of this shard's first sample
  CounterRng rng;                 // this layer's stream for this step; derive(first_sample + i)
                                  // gives sample i its own numbers whatever the sharding
};

// Everything forward() reads and writes for one shard.
struct ForwardArgs {
  ConstView x;                          // (n, in...) this shard's input (the first one)
  View y;                               // (n, out...) to be written completely
  std::span<const ConstView> params;    // in the order of parameters()
  std::span<const ConstView> buffers;   // in the order of buffers()
  std::span<const double> stats;        // whole-batch forward statistics (see forward_stats_size)
  Workspace& ws;                        // this layer's scratch in this shard
  const PassInfo& pass;                 // mode, step, batch position, random stream
  std::span<const ConstView> xs = {};   // every input, in the order of the layer's "inputs"
                                        // (xs[0] is x); layers with one input need only x
};

// Everything backward() reads and writes for one shard.
struct BackwardArgs {
  ConstView x;                          // the input forward() saw
  ConstView y;                          // the output forward() wrote
  ConstView dy;                         // d(loss)/dy
  View dx;                              // d(loss)/dx to be written completely; empty when nobody
                                        // needs it (the first layer): skip that work
  std::span<const ConstView> params;    // as forward() saw them
  std::span<const ConstView> buffers;   // as forward() saw them
  std::span<const View> grads;          // d(loss)/d(param), same order as params: write completely
  std::span<const double> stats;          // the forward statistics again
  std::span<const double> backward_stats; // whole-batch backward statistics
  Workspace& ws;                        // the same scratch forward() used, contents kept
  const PassInfo& pass;                 // the same pass information as forward()'s
  std::span<const ConstView> xs = {};   // every input (xs[0] is x)
  std::span<const View> dxs = {};       // d(loss)/d(xs[k]), each written completely or empty
                                        // when nobody needs it (dxs[0] is dx)
};

// Which of the tensors forward() saw backward() reads the values of (Layer::backward_needs()).
// In training the executor gives a tensor's buffer to a later tensor once forward is past its
// last reader and no backward needs it, so backward() may find other values there (the views
// keep their shapes). The default, both, is always correct; a smaller declaration saves memory.
struct BackwardNeeds {
  bool inputs = true;  // the values of x (every input, xs)
  bool output = true;  // the values of y
};

// The interface every layer implements (see the file comment for what it may and may not hold).
// Registered by name in Registries::layers; weft/gradient_check.hpp checks an implementation.
class Layer {
 public:
  virtual ~Layer() = default;

  // Called once when the model is built, with the per-sample input shape (no batch axis).
  // Returns the per-sample output shape; throws ShapeError naming what it needed.
  virtual Shape infer(const Shape& input) = 0;
  // The same for a layer reading several tensors ("inputs" in the spec, weft/model.hpp): one
  // shape per input, in order. The default is for one-input layers: it refuses several.
  virtual Shape infer_many(std::span<const Shape> inputs) {
    if (inputs.size() != 1)
      throw ShapeError("this layer reads one input, but the spec gives it " + std::to_string(inputs.size()));
    return infer(inputs[0]);
  }

  // Trainable parameters and non-trainable buffers; valid after infer().
  virtual std::vector<ParamDecl> parameters() const { return {}; }
  virtual std::vector<ParamDecl> buffers() const { return {}; }  // (running statistics)

  // Writes args.y for the shard's samples. Called from many threads at once (one per shard).
  virtual void forward(const ForwardArgs& args) const = 0;
  // Writes args.dx (unless empty) and every args.grads, the gradients of this shard's samples
  // only: the executor sums the shards. Called from many threads at once. args.grads is empty
  // when unit_gradients() computed them (a layer splitting by units): write the dx only.
  virtual void backward(const BackwardArgs& args) const = 0;

  // Splitting by output units. A layer whose output units each depend on their own rows of the
  // parameters (dense: unit j reads row j of the weight and bias j) returns how many it has, and
  // the executor may then give each worker a fixed range of units over every shard instead of
  // whole shards: the rows of the weight a worker reads, the gradient it writes and the
  // optimizer state it updates stay in that core's caches (docs/performance.md). Every
  // parameter's first axis must have unit_count() entries. 0 (the default): samples only.
  virtual std::int64_t unit_count() const { return 0; }
  // forward() for the units [u0, u1) of every shard's args.y: a worker's whole share of the
  // pass, the shards in batch order (what they share, such as the weight rows, may be prepared
  // once for all). Workers share the shards here: `scratch` is this worker's own, and no args.ws
  // may be written.
  virtual void forward_units(std::span<const ForwardArgs> /*shards*/, std::int64_t /*u0*/, std::int64_t /*u1*/,
                             Workspace& /*scratch*/) const {
    throw Error("a layer with unit_count() > 0 must implement forward_units()");
  }
  // This shard's gradient of the parameter rows of units [u0, u1), written into those rows of
  // args.grads, or added onto them with `add` (the executor runs the shards in order, the first
  // without add, so the sum rounds as the shards' gradients added up would). args.dx is empty;
  // backward() is called for it afterwards, with args.grads empty.
  virtual void unit_gradients(const BackwardArgs& /*args*/, std::int64_t /*u0*/, std::int64_t /*u1*/, bool /*add*/,
                              Workspace& /*scratch*/) const {
    throw Error("a layer with unit_count() > 0 must implement unit_gradients()");
  }

  // What backward() and backward_partial_stats() read beyond dy, parameters, statistics and the
  // workspace (see BackwardNeeds); valid after infer(). Scratch a layer needs (a dropout mask, an
  // argmax) goes in its workspace, which is never shared.
  virtual BackwardNeeds backward_needs() const { return {}; }

  // Layers whose output depends on the whole mini-batch (batch normalisation) split a pass in
  // two phases: each shard writes its partial statistics into `partial` (zeroed, *_stats_size
  // doubles), the executor folds the shards' vectors together in shard order with merge_stats(),
  // and forward()/backward() receive the total in args.stats / args.backward_stats. A size of 0
  // (the default) skips the phase. Doubles, because these are sums over the whole batch.
  virtual std::size_t forward_stats_size(bool /*training*/) const { return 0; }
  // This shard's part of the forward statistics (args.stats does not hold the totals yet).
  virtual void forward_partial_stats(const ForwardArgs& /*args*/, std::span<double> /*partial*/) const {}
  // The same for the backward pass; 0 (the default) skips it.
  virtual std::size_t backward_stats_size(bool /*training*/) const { return 0; }
  // This shard's part of the backward statistics (args.backward_stats: not the totals yet).
  virtual void backward_partial_stats(const BackwardArgs& /*args*/, std::span<double> /*partial*/) const {}
  // Folds the next shard's partial statistics into `total` (which starts as shard 0's). The
  // default adds; a layer may merge otherwise, e.g. Chan's update of counts, means and squared
  // deviations, which stays accurate when |mean| >> standard deviation.
  virtual void merge_stats(std::span<double> total, std::span<const double> shard, bool /*backward_phase*/) const {
    for (std::size_t k = 0; k < total.size(); ++k) total[k] += shard[k];
  }
  // Once per training step, after the forward statistics are known: update buffers such as
  // running means. Called on one thread.
  virtual void update_buffers(std::span<const View> /*buffers*/, std::span<const double> /*stats*/,
                              std::int64_t /*batch_size*/) const {}

  // ONNX export (weft/onnx_graph.hpp): adds the nodes computing this layer's inference-mode
  // output from args.input and returns the output's name. The default, an empty string, means
  // "no ONNX equivalent" and makes the export fail naming the layer. Built-in layers are
  // translated by the exporter; a plugin's layer overrides this to be exportable.
  virtual std::string to_onnx(const OnnxLayerArgs& /*args*/) const { return {}; }
};

}  // namespace weft
