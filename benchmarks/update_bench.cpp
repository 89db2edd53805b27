// The two passes over all parameters in every training step, both memory-bound:
// - the optimizer update (adam, sgd with momentum, rmsprop) over 1M parameters on one thread,
//   through Optimizer::update as the trainer calls it; GB/s: w and g read, w and the slots
//   read and written (4 bytes a value);
// - the gradient reduction (Executor::reduce_gradients) of fashion_mlp and fashion_cnn after a
//   backward pass over a mini-batch of 128 (4 shards of 32) on 1 and 2 threads; GB/s: every
//   shard's gradient read, the sum written.
#include <vector>

#include "bench_support.hpp"
#include "weft/optimizer.hpp"

namespace {

constexpr std::int64_t side = 1024;  // a 1024×1024 dense weight: 1M parameters

void BM_OptimizerUpdate(benchmark::State& state, weft::Json optimizer) {
  weft::Model model({{"input", {side}},
                     {"layers", {{{"type", "dense"}, {"units", side}, {"bias", false}}}},
                     {"loss", "mse"},
                     {"optimizer", optimizer}});
  model.initialize(1);
  const weft::Optimizer& opt = model.optimizer();
  const weft::Tensor g = weft::bench::varied(weft::Shape{side * side});
  std::vector<weft::Tensor> slots;
  std::vector<std::span<float>> slot_spans;
  for (std::size_t k = 0; k < opt.slots().size(); ++k) slots.emplace_back(g.shape(), opt.slot_initial_value(k));
  for (auto& s : slots) slot_spans.push_back(s.span());
  std::int64_t t = 0;
  for (auto _ : state) opt.update(model.parameters(), g.span(), slot_spans, weft::OptimizerStep{1e-3, ++t, false});
  weft::bench::report_gbytes(state, 4.0 * double(g.size()) * double(3 + 2 * slots.size()));
}

void BM_ReduceGradients(benchmark::State& state, const char* spec) {
  weft::Model model(weft::read_spec_file(WEFT_SOURCE_DIR "/examples/models/" + std::string(spec) + ".json"));
  model.initialize(1);
  constexpr std::int64_t batch = 128, shard = 32;
  weft::Executor exec(model, {shard, static_cast<int>(state.range(0)), false});
  const weft::Tensor x = weft::bench::varied(model.input_shape().with_batch(batch));
  exec.forward(x, true, 0, 0);
  exec.backward(weft::bench::varied(model.output_shape().with_batch(batch), 9));
  weft::Tensor sum(weft::Shape{static_cast<std::int64_t>(model.parameter_count())});
  for (auto _ : state) exec.reduce_gradients(sum.span());
  weft::bench::report_gbytes(state, 4.0 * double(sum.size()) * double(batch / shard + 1));
}

}  // namespace

BENCHMARK_CAPTURE(BM_OptimizerUpdate, adam, (weft::Json{{"type", "adam"}}));
BENCHMARK_CAPTURE(BM_OptimizerUpdate, sgd_momentum, (weft::Json{{"type", "sgd"}, {"lr", 0.01}, {"momentum", 0.9}}));
BENCHMARK_CAPTURE(BM_OptimizerUpdate, sgd_nesterov, (weft::Json{{"type", "sgd"}, {"lr", 0.01}, {"momentum", 0.9}, {"nesterov", true}}));
BENCHMARK_CAPTURE(BM_OptimizerUpdate, rmsprop, (weft::Json{{"type", "rmsprop"}}));
BENCHMARK_CAPTURE(BM_OptimizerUpdate, rmsprop_centered_momentum,
                  (weft::Json{{"type", "rmsprop"}, {"momentum", 0.9}, {"centered", true}}));
BENCHMARK_CAPTURE(BM_OptimizerUpdate, adagrad, (weft::Json{{"type", "adagrad"}}));
BENCHMARK_CAPTURE(BM_ReduceGradients, fashion_mlp, "fashion_mlp")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_ReduceGradients, fashion_cnn, "fashion_cnn")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_MAIN();
