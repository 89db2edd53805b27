// Max and average pooling forward and backward at fashion_cnn's first pooling size (32 channels,
// 26×26 → 13×13, kernel 2), plus 1-d and 3-d max pooling of a similar volume, over a mini-batch
// of 128 in shards of 32 on 1 and 2 threads (threads: the benchmark argument). GB/s: see
// bench_support.hpp.
#include "bench_support.hpp"

namespace {

using weft::bench::Pass;

void BM_Pool(benchmark::State& s, const char* type, weft::Json input, Pass p) {
  weft::bench::run_layer_pass(s, {{"type", type}, {"kernel", 2}}, input, p);
}

}  // namespace

#define POOL_CASES(name, pass)                                                                                \
  BENCHMARK_CAPTURE(BM_Pool, max_pool2d_32x26x26_##name, "max_pool2d", (weft::Json{32, 26, 26}), pass)->Arg(1)->Arg(2)->UseRealTime(); \
  BENCHMARK_CAPTURE(BM_Pool, avg_pool2d_32x26x26_##name, "avg_pool2d", (weft::Json{32, 26, 26}), pass)->Arg(1)->Arg(2)->UseRealTime(); \
  BENCHMARK_CAPTURE(BM_Pool, max_pool1d_32x676_##name, "max_pool1d", (weft::Json{32, 676}), pass)->Arg(1)->Arg(2)->UseRealTime();      \
  BENCHMARK_CAPTURE(BM_Pool, max_pool3d_8x12x12x12_##name, "max_pool3d", (weft::Json{8, 12, 12, 12}), pass)->Arg(1)->Arg(2)->UseRealTime()

POOL_CASES(forward, Pass::forward);
POOL_CASES(backward, Pass::backward);
BENCHMARK_MAIN();
