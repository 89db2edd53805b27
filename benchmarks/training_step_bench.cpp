// One whole training step of examples/models/fashion_mlp.json at batch 128, with 1 and 2 threads.
// Compare the two rows of one run: the ratio is the parallel speed-up.
#include <benchmark/benchmark.h>

#include "weft/trainer.hpp"

namespace {

void BM_FashionMlpStep(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  weft::Model model(weft::read_spec_file(WEFT_SOURCE_DIR "/examples/models/fashion_mlp.json"));
  model.initialize(1);
  weft::TrainOptions o;
  o.threads = threads;
  weft::Trainer trainer(model, o);
  weft::Tensor x(weft::Shape{128, 784}), y(weft::Shape{128});
  const weft::CounterRng rng(3);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = rng.uniform(i);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<float>(rng.derive(1).below(i, 10));
  for (auto _ : state) benchmark::DoNotOptimize(trainer.train_step(x, y));
  state.counters["samples/s"] = benchmark::Counter(128.0, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(BM_FashionMlpStep)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
