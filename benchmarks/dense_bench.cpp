// Dense layer forward and backward on one shard, one thread, at fashion_mlp's shapes: the first
// layer (784 → 512; backward without the input gradient, as the first layer) at shards of 32 and
// 128, and the second (512 → 256, with the input gradient, as inside the network).
// Backward is timed alone, repeated after one forward pass. BM_DenseForwardShards: a batch of
// 128 in shards of 64 through the first layer on one thread, split by units (the worker packs its
// rows of the weight once a pass for all its shards, packed_gemm_rows) or by samples (once a shard).
#include "bench_support.hpp"

namespace {

void run(benchmark::State& state, bool backward) {
  const std::int64_t batch = state.range(0), in = state.range(1), out = state.range(2);
  const bool input_gradient = state.range(3) != 0;
  weft::Model model = weft::bench::one_layer_model({{"type", "dense"}, {"units", out}}, {in});
  weft::Executor exec(model, {batch, 1, input_gradient});
  const weft::Tensor x = weft::bench::varied(weft::Shape{batch, in}), dy = weft::bench::varied(weft::Shape{batch, out}, 9);
  exec.forward(x, true, 0, 0);
  for (auto _ : state) {
    if (backward) exec.backward(dy);
    else exec.forward(x, true, 0, 0);
  }
  const double forward = 2.0 * double(batch * in * out);
  weft::bench::report_gflops(state, backward ? forward * (input_gradient ? 2 : 1) : forward);
  weft::bench::report_samples(state, double(batch));
}

void BM_DenseForward(benchmark::State& state) { run(state, false); }

void BM_DenseForwardShards(benchmark::State& state) {
  const std::int64_t batch = 128, in = 784, out = 512;
  weft::Model model = weft::bench::one_layer_model({{"type", "dense"}, {"units", out}}, {in});
  weft::Executor exec(model, {.shard_size = 64, .threads = 1, .split_units = state.range(0) != 0});
  const weft::Tensor x = weft::bench::varied(weft::Shape{batch, in});
  for (auto _ : state) exec.forward(x, true, 0, 0);
  weft::bench::report_gflops(state, 2.0 * double(batch * in * out));
  weft::bench::report_samples(state, double(batch));
}
void BM_DenseBackward(benchmark::State& state) { run(state, true); }

}  // namespace

// batch (one shard), inputs, outputs, input gradient
BENCHMARK(BM_DenseForward)->Args({32, 784, 512, 0})->Args({128, 784, 512, 0})->Args({32, 512, 256, 1});
BENCHMARK(BM_DenseBackward)->Args({32, 784, 512, 0})->Args({128, 784, 512, 0})->Args({32, 512, 256, 1});
BENCHMARK(BM_DenseForwardShards)->ArgName("split_units")->Arg(0)->Arg(1);
BENCHMARK_MAIN();
