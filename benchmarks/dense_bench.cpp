// Dense layer forward and backward on one shard, the shapes of fashion_mlp's first layer.
#include <benchmark/benchmark.h>

#include "weft/executor.hpp"

namespace {

void run(benchmark::State& state, bool backward) {
  const std::int64_t batch = state.range(0), in = state.range(1), out = state.range(2);
  weft::Model model({{"input", {in}}, {"layers", {{{"type", "dense"}, {"units", out}}}}, {"loss", "mse"}});
  model.initialize(1);
  weft::Executor exec(model, {batch, 1, false});
  weft::Tensor x(weft::Shape{batch, in}, 0.5f), dy(weft::Shape{batch, out}, 0.1f);
  for (auto _ : state) {
    exec.forward(x, true, 0, 0);
    if (backward) exec.backward(dy);
  }
  const double flops = 2.0 * double(batch * in * out) * (backward ? 2 : 1);  // backward skips dx: first layer
  state.counters["GFLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  state.counters["samples/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_DenseForward(benchmark::State& state) { run(state, false); }
void BM_DenseForwardBackward(benchmark::State& state) { run(state, true); }

}  // namespace

BENCHMARK(BM_DenseForward)->Args({32, 784, 512})->Args({128, 784, 512})->Args({32, 512, 256});
BENCHMARK(BM_DenseForwardBackward)->Args({32, 784, 512})->Args({128, 784, 512})->Args({32, 512, 256});
BENCHMARK_MAIN();
