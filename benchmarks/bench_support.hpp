#pragma once
// What the kernel benchmarks share: a model of one layer behind the public API (so a benchmark
// times whatever kernel the layer runs today), inputs filled with varied values, and the rate
// counters every case reports (GFLOP/s for arithmetic-bound kernels, GB/s for memory-bound ones).
#include <benchmark/benchmark.h>

#include "weft/executor.hpp"
#include "weft/rng.hpp"

namespace weft::bench {

// A model of the single layer `layer` on per-sample input `input`, initialised, with `loss`.
inline Model one_layer_model(const Json& layer, const Json& input, const char* loss = "mse") {
  Model model({{"input", input}, {"layers", Json::array({layer})}, {"loss", loss}});
  model.initialize(1);
  return model;
}

// Uniform values in [-1, 1): varied enough that no branch (relu, max-pool) is always taken.
inline Tensor varied(const Shape& shape, std::uint64_t seed = 7) {
  Tensor t(shape);
  const CounterRng rng(seed);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = 2 * rng.uniform(i) - 1;
  return t;
}

inline void report_gflops(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops_per_iteration, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

inline void report_gbytes(benchmark::State& state, double bytes_per_iteration) {
  state.counters["GB/s"] =
      benchmark::Counter(bytes_per_iteration, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

inline void report_samples(benchmark::State& state, double samples_per_iteration) {
  state.counters["samples/s"] = benchmark::Counter(samples_per_iteration, benchmark::Counter::kIsIterationInvariantRate);
}

enum class Pass { forward, backward };

// `layer` on per-sample `input`, in training mode, over a mini-batch of 128 in shards of 32 on
// state.range(0) threads: the forward pass, or the backward pass repeated after one forward.
// GB/s counts the bytes the pass must move at the least: forward reads x and writes y, backward
// reads x and dy and writes dx (4 bytes a value). For memory-bound layers: pooling, normalisation,
// activations, dropout.
inline void run_layer_pass(benchmark::State& state, const Json& layer, const Json& input, Pass pass) {
  constexpr std::int64_t batch = 128, shard = 32;
  const int threads = static_cast<int>(state.range(0));
  Model model = one_layer_model(layer, input);
  Executor exec(model, {shard, threads, true});
  const Tensor x = varied(model.input_shape().with_batch(batch));
  const Tensor dy = varied(model.output_shape().with_batch(batch), 9);
  exec.forward(x, true, 0, 0);
  for (auto _ : state) {
    if (pass == Pass::backward) exec.backward(dy);
    else exec.forward(x, true, 0, 0);
  }
  const double in = double(model.input_shape().numel()), out = double(model.output_shape().numel());
  report_gbytes(state, 4.0 * double(batch) * (pass == Pass::forward ? in + out : 2 * in + out));
  report_samples(state, double(batch));
}

}  // namespace weft::bench
