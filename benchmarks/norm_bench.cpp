// batch_norm and dropout forward+backward at fashion_cnn_bn's first batch-norm size
// (32 channels × 26×26), over a mini-batch of 128 in shards of 32 on 1 and 2 threads, next to
// the conv2d layer that feeds it, to show what normalisation costs per training step.
#include <benchmark/benchmark.h>

#include "weft/executor.hpp"

namespace {

void run(benchmark::State& state, const weft::Json& layer, const weft::Json& input) {
  const int threads = static_cast<int>(state.range(0));
  const std::int64_t batch = 128;
  weft::Model model({{"input", input}, {"layers", weft::Json::array({layer})}, {"loss", "mse"}});
  model.initialize(1);
  weft::Executor exec(model, {32, threads, true});
  weft::Tensor x(model.input_shape().with_batch(batch)), dy(model.output_shape().with_batch(batch), 0.1f);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 17) * 0.1f;
  for (auto _ : state) {
    exec.forward(x, true, 0, 0);
    exec.backward(dy);
  }
  state.counters["samples/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}

const weft::Json feature_map = {32, 26, 26};

void BM_BatchNorm(benchmark::State& state) { run(state, {{"type", "batch_norm"}}, feature_map); }
void BM_Dropout(benchmark::State& state) { run(state, {{"type", "dropout"}, {"rate", 0.3}}, feature_map); }
void BM_Relu(benchmark::State& state) { run(state, {{"type", "relu"}}, feature_map); }
void BM_Conv2dBefore(benchmark::State& state) {
  run(state, {{"type", "conv2d"}, {"filters", 32}, {"kernel", 3}}, weft::Json{1, 28, 28});
}

}  // namespace

BENCHMARK(BM_BatchNorm)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_Dropout)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_Relu)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_Conv2dBefore)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_MAIN();
