// The two passes over all parameters in every training step, both memory-bound:
// - the optimizer update (adam, sgd with momentum, rmsprop) over 1M parameters on one thread,
//   through Optimizer::update as the trainer calls it; GB/s: w and g read, w and the slots
//   read and written (4 bytes a value);
// - the gradient reduction (Executor::reduce_gradients) of fashion_mlp and fashion_cnn after a
//   backward pass over a mini-batch of 128 (4 shards of 32) on 1 and 2 threads, every layer
//   split by samples (the fold is what it measures); GB/s: every shard's gradient read, the sum
//   written;
// - what sharing costs the update: Adam over fashion_mlp's parameter count on two threads, each
//   updating its half, after the other thread read all the weights (arg 1, as every worker's
//   forward pass does when the batch is split by samples) or only its own half (arg 0, as a
//   layer split by units reads them; docs/performance.md). Time per update of both halves.
#include <atomic>
#include <barrier>
#include <chrono>
#include <thread>
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
  weft::Executor exec(model, {.shard_size = shard, .threads = static_cast<int>(state.range(0)), .split_units = false});
  const weft::Tensor x = weft::bench::varied(model.input_shape().with_batch(batch));
  exec.forward(x, true, 0, 0);
  exec.backward(weft::bench::varied(model.output_shape().with_batch(batch), 9));
  weft::Tensor sum(weft::Shape{static_cast<std::int64_t>(model.parameter_count())});
  for (auto _ : state) exec.reduce_gradients(sum.span());
  weft::bench::report_gbytes(state, 4.0 * double(sum.size()) * double(batch / shard + 1));
}

void BM_UpdateHalvesAfterReads(benchmark::State& state) {
  const bool other_read_all = state.range(0) != 0;
  constexpr std::int64_t in = 1024, units = 524;  // 536,576 weights, fashion_mlp's 535,818 or so
  weft::Model model({{"input", {in}},
                     {"layers", {{{"type", "dense"}, {"units", units}, {"bias", false}}}},
                     {"loss", "mse"},
                     {"optimizer", {{"type", "adam"}}}});
  model.initialize(1);
  const weft::Optimizer& adam = model.optimizer();
  const std::span<float> w = model.parameters();
  const weft::Tensor g = weft::bench::varied(weft::Shape{in * units});
  weft::Tensor m(g.shape()), v(g.shape());
  const std::size_t n = w.size();
  std::int64_t step = 0;
  const auto update = [&](std::size_t half) {
    const std::size_t b = half * n / 2, e = (half + 1) * n / 2;
    const std::span<float> slots[] = {m.span().subspan(b, e - b), v.span().subspan(b, e - b)};
    adam.update(w.subspan(b, e - b), g.span().subspan(b, e - b), slots, weft::OptimizerStep{1e-3, step, false});
  };
  const auto read = [&](std::size_t b, std::size_t e) {  // one float of every 64-byte line
    float sum = 0;
    for (std::size_t i = b; i < e; i += 16) sum += w[i];
    benchmark::DoNotOptimize(sum);
  };
  std::barrier sync(2);
  std::atomic<bool> done = false;
  std::thread other([&] {
    for (;;) {
      sync.arrive_and_wait();
      if (done) return;
      other_read_all ? read(0, n) : read(n / 2, n);
      sync.arrive_and_wait();
      update(1);
      sync.arrive_and_wait();
    }
  });
  for (auto _ : state) {
    ++step;
    sync.arrive_and_wait();
    other_read_all ? read(0, n) : read(0, n / 2);
    sync.arrive_and_wait();
    const auto start = std::chrono::steady_clock::now();
    update(0);
    sync.arrive_and_wait();
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  done = true;
  sync.arrive_and_wait();
  other.join();
  weft::bench::report_gbytes(state, 4.0 * double(n) * 7);
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
BENCHMARK(BM_UpdateHalvesAfterReads)->Arg(0)->Arg(1)->UseManualTime();
BENCHMARK_MAIN();
