// conv2d forward and forward+backward on one shard at fashion_cnn's sizes:
// layer 0 (1×28×28 → 32, 3×3; no input gradient, as the first layer) and
// layer 3 (32×13×13 → 64, 3×3; with the input gradient, as inside the network); and a deep,
// narrow layer (64×6×6 → 128) where several samples share one GEMM.
#include <benchmark/benchmark.h>

#include "weft/executor.hpp"

namespace {

void run(benchmark::State& state, bool backward) {
  const std::int64_t batch = state.range(0), channels = state.range(1), size = state.range(2), filters = state.range(3);
  const bool input_gradient = state.range(4) != 0;
  weft::Model model({{"input", {channels, size, size}},
                     {"layers", {{{"type", "conv2d"}, {"filters", filters}, {"kernel", 3}}}},
                     {"loss", "mse"}});
  model.initialize(1);
  weft::Executor exec(model, {batch, 1, input_gradient});
  weft::Tensor x(model.input_shape().with_batch(batch), 0.5f), dy(model.output_shape().with_batch(batch), 0.1f);
  for (auto _ : state) {
    exec.forward(x, true, 0, 0);
    if (backward) exec.backward(dy);
  }
  const double out = double(size - 2) * double(size - 2);
  const double flops = 2.0 * double(batch) * out * double(filters * channels * 9) * (backward ? (input_gradient ? 3 : 2) : 1);
  state.counters["GFLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  state.counters["samples/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Conv2dForward(benchmark::State& state) { run(state, false); }
void BM_Conv2dForwardBackward(benchmark::State& state) { run(state, true); }

}  // namespace

// batch (one shard), channels, input size, filters, input gradient
BENCHMARK(BM_Conv2dForward)->Args({32, 1, 28, 32, 0})->Args({32, 32, 13, 64, 1})->Args({32, 64, 6, 128, 1});
BENCHMARK(BM_Conv2dForwardBackward)->Args({32, 1, 28, 32, 0})->Args({32, 32, 13, 64, 1})->Args({32, 64, 6, 128, 1});
BENCHMARK_MAIN();
