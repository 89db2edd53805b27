// conv1d, conv2d and conv3d forward and backward on one 32-sample shard, one thread.
// conv2d at fashion_cnn's sizes: layer 0 (1×28×28 → 32, 3×3; no input gradient, as the first
// layer) and layer 3 (32×13×13 → 64, 3×3; with the input gradient, as inside the network), and a
// deep, narrow layer (64×6×6 → 128); a first layer on RGB images (3×32×32 → 32, as CIFAR-10). conv1d and conv3d at sizes of the same order of work. A
// stride-2 conv2d (32×28×28 → 64) takes the other path: a column matrix and packed_gemm.
// Backward is timed alone, repeated after one forward pass (it only reads what forward left).
// GFLOP/s: 2 per multiply-add; backward does the weight gradient (1× forward) and, when asked,
// the input gradient (another 1×).
#include "bench_support.hpp"
#include "model_work.hpp"

namespace {

constexpr std::int64_t shard = 32;

void run(benchmark::State& state, const char* type, const weft::Json& input, std::int64_t filters, bool input_gradient,
         bool backward, std::int64_t stride) {
  weft::Model model = weft::bench::one_layer_model(
      {{"type", type}, {"filters", filters}, {"kernel", 3}, {"stride", stride}}, input);
  weft::Executor exec(model, {shard, 1, input_gradient});
  const weft::Tensor x = weft::bench::varied(model.input_shape().with_batch(shard));
  const weft::Tensor dy = weft::bench::varied(model.output_shape().with_batch(shard), 9);
  exec.forward(x, true, 0, 0);
  for (auto _ : state) {
    if (backward) exec.backward(dy);
    else exec.forward(x, true, 0, 0);
  }
  const double forward = weft::bench::model_work(model, shard).forward_flops * double(shard);
  weft::bench::report_gflops(state, backward ? forward * (input_gradient ? 2 : 1) : forward);
  weft::bench::report_samples(state, double(shard));
}

void BM_ConvForward(benchmark::State& s, const char* type, weft::Json in, std::int64_t filters, bool dx,
                    std::int64_t stride = 1) {
  run(s, type, in, filters, dx, false, stride);
}
void BM_ConvBackward(benchmark::State& s, const char* type, weft::Json in, std::int64_t filters, bool dx,
                     std::int64_t stride = 1) {
  run(s, type, in, filters, dx, true, stride);
}

}  // namespace

#define CONV_CASES(BM)                                                                       \
  BENCHMARK_CAPTURE(BM, conv1d_16x256_to_32_dx, "conv1d", (weft::Json{16, 256}), 32, true);  \
  BENCHMARK_CAPTURE(BM, conv2d_1x28x28_to_32, "conv2d", (weft::Json{1, 28, 28}), 32, false); \
  BENCHMARK_CAPTURE(BM, conv2d_3x32x32_to_32, "conv2d", (weft::Json{3, 32, 32}), 32, false); \
  BENCHMARK_CAPTURE(BM, conv2d_32x13x13_to_64_dx, "conv2d", (weft::Json{32, 13, 13}), 64, true); \
  BENCHMARK_CAPTURE(BM, conv2d_64x6x6_to_128_dx, "conv2d", (weft::Json{64, 6, 6}), 128, true);  \
  BENCHMARK_CAPTURE(BM, conv3d_8x12x12x12_to_16_dx, "conv3d", (weft::Json{8, 12, 12, 12}), 16, true); \
  BENCHMARK_CAPTURE(BM, conv2d_32x28x28_to_64_stride2_dx, "conv2d", (weft::Json{32, 28, 28}), 64, true, 2)

CONV_CASES(BM_ConvForward);
CONV_CASES(BM_ConvBackward);
BENCHMARK_MAIN();
