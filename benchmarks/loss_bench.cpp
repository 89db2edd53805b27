// The loss and its gradient over a mini-batch of 128 in shards of 32 on 1 and 2 threads (the
// benchmark argument): cross_entropy on 10 logits with class labels (fashion's head), and mse on
// 10 outputs. Timed alone, repeated after one forward pass. GB/s: predictions and targets read,
// the gradient written (4 bytes a value).
#include "bench_support.hpp"

namespace {

constexpr std::int64_t batch = 128, classes = 10;

void run(benchmark::State& state, const char* loss, bool labels) {
  weft::Model model = weft::bench::one_layer_model({{"type", "identity"}}, {classes}, loss);
  weft::Executor exec(model, {32, static_cast<int>(state.range(0)), false});
  const weft::Tensor x = weft::bench::varied(weft::Shape{batch, classes});
  weft::Tensor targets = labels ? weft::Tensor(weft::Shape{batch}) : weft::bench::varied(weft::Shape{batch, classes}, 5);
  if (labels)
    for (std::int64_t i = 0; i < batch; ++i) targets[static_cast<std::size_t>(i)] = static_cast<float>(i % classes);
  exec.forward(x, true, 0, 0);
  for (auto _ : state) benchmark::DoNotOptimize(exec.loss(targets, true));
  weft::bench::report_gbytes(state, 4.0 * double(2 * x.size() + targets.size()));
  weft::bench::report_samples(state, double(batch));
}

void BM_CrossEntropy(benchmark::State& state) { run(state, "cross_entropy", true); }
void BM_Mse(benchmark::State& state) { run(state, "mse", false); }

}  // namespace

BENCHMARK(BM_CrossEntropy)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_Mse)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_MAIN();
