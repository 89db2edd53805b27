// One whole training step (forward, loss, backward, gradient reduction, Adam update) at batch 128,
// with 1 and 2 threads, for examples/models/fashion_mlp.json and fashion_cnn.json.
// Compare the rows of one run: 2 threads against 1 is the parallel speed-up. On a shared machine
// the CPU column (the main thread's time) of the 1-thread rows is the steadiest figure.
#include <benchmark/benchmark.h>

#include "weft/trainer.hpp"

namespace {

void run_steps(benchmark::State& state, const char* spec_file) {
  const int threads = static_cast<int>(state.range(0));
  const std::int64_t batch = 128;
  weft::Model model(weft::read_spec_file(spec_file));
  model.initialize(1);
  weft::TrainOptions o;
  o.threads = threads;
  weft::Trainer trainer(model, o);
  weft::Tensor x(model.input_shape().with_batch(batch)), y(weft::Shape{batch});
  const weft::CounterRng rng(3);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = rng.uniform(i);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<float>(rng.derive(1).below(i, 10));
  for (auto _ : state) benchmark::DoNotOptimize(trainer.train_step(x, y));
  state.counters["samples/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_FashionMlpStep(benchmark::State& state) { run_steps(state, WEFT_SOURCE_DIR "/examples/models/fashion_mlp.json"); }
void BM_FashionCnnStep(benchmark::State& state) { run_steps(state, WEFT_SOURCE_DIR "/examples/models/fashion_cnn.json"); }

}  // namespace

BENCHMARK(BM_FashionMlpStep)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FashionCnnStep)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
