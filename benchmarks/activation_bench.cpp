// Elementwise activations forward and backward on fashion_cnn's first feature map (32 × 26×26)
// over a mini-batch of 128 in shards of 32 on 1 and 2 threads (the benchmark argument).
// relu is the cheap case (a compare and a select), tanh, sigmoid and gelu pay for exp/erf.
// GB/s: see bench_support.hpp.
#include "bench_support.hpp"

namespace {

using weft::bench::Pass;

void BM_Activation(benchmark::State& s, const char* type, Pass p) {
  weft::bench::run_layer_pass(s, {{"type", type}}, weft::Json{32, 26, 26}, p);
}

}  // namespace

#define ACTIVATION(type)                                                                                  \
  BENCHMARK_CAPTURE(BM_Activation, type##_forward, #type, Pass::forward)->Arg(1)->Arg(2)->UseRealTime(); \
  BENCHMARK_CAPTURE(BM_Activation, type##_backward, #type, Pass::backward)->Arg(1)->Arg(2)->UseRealTime()

ACTIVATION(relu);
ACTIVATION(sigmoid);
ACTIVATION(tanh);
ACTIVATION(gelu);
ACTIVATION(silu);
BENCHMARK_MAIN();
