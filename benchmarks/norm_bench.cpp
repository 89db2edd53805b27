// batch_norm, layer_norm and dropout forward and backward at fashion_cnn_bn's first batch-norm
// size (32 channels × 26×26), over a mini-batch of 128 in shards of 32 on 1 and 2 threads, next to
// the conv2d layer that feeds it, to show what normalisation costs per training step.
#include "bench_support.hpp"

namespace {

using weft::bench::Pass;
const weft::Json feature_map = {32, 26, 26};

void BM_BatchNorm(benchmark::State& s, Pass p) { weft::bench::run_layer_pass(s, {{"type", "batch_norm"}}, feature_map, p); }
void BM_LayerNorm(benchmark::State& s, Pass p) { weft::bench::run_layer_pass(s, {{"type", "layer_norm"}}, feature_map, p); }
void BM_Dropout(benchmark::State& s, Pass p) {
  weft::bench::run_layer_pass(s, {{"type", "dropout"}, {"rate", 0.3}}, feature_map, p);
}
void BM_Conv2dBefore(benchmark::State& s, Pass p) {
  weft::bench::run_layer_pass(s, {{"type", "conv2d"}, {"filters", 32}, {"kernel", 3}}, weft::Json{1, 28, 28}, p);
}

}  // namespace

BENCHMARK_CAPTURE(BM_BatchNorm, forward, Pass::forward)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_BatchNorm, backward, Pass::backward)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_LayerNorm, forward, Pass::forward)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_LayerNorm, backward, Pass::backward)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_Dropout, forward, Pass::forward)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_Dropout, backward, Pass::backward)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_Conv2dBefore, forward, Pass::forward)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_Conv2dBefore, backward, Pass::backward)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_MAIN();
