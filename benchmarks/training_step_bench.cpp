// Whole training steps (forward, loss, backward, gradient reduction, Adam update) and inference
// passes (forward and copying the outputs out) of examples/models/fashion_mlp.json and
// fashion_cnn.json, on 1 and 2 threads, at the batch sizes benchmarks/compare uses:
//   train/<model>/batch:B/threads:T   one optimizer step on a mini-batch of B
//   infer/<model>/batch:1000/threads:T
//   halves/<model>/batch:B/threads:2  two 1-thread trainers at B/2 sharing nothing (train_halves)
// GFLOP/s counts the model's dense and convolution work (model_work.hpp). Each case takes a few
// untimed warm-up steps first, so the timed ones are the steady state.
// --steps=N (read here, not by Google Benchmark) times exactly N steps per case: benchmarks/compare
// runs the same fixed step count in weft and PyTorch.
// Compare rows of one run: 2 threads against 1 is the parallel speed-up.
#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "model_work.hpp"
#include "weft/optimizer.hpp"
#include "weft/trainer.hpp"

namespace {

constexpr int warm_up_steps = 3;

struct Workload {
  const char* model;
  std::int64_t batch;
};

weft::Model example_model(const std::string& name) {
  weft::Model model(weft::read_spec_file(WEFT_SOURCE_DIR "/examples/models/" + name + ".json"));
  model.initialize(1);
  return model;
}

// Uniform inputs in [0, 1) like scaled pixels, labels in [0, 10).
std::pair<weft::Tensor, weft::Tensor> batch_of(const weft::Model& model, std::int64_t n) {
  weft::Tensor x(model.input_shape().with_batch(n)), y(weft::Shape{n});
  const weft::CounterRng rng(3);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = rng.uniform(i);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<float>(rng.derive(1).below(i, 10));
  return {std::move(x), std::move(y)};
}

void train(benchmark::State& state, Workload w, int threads) {
  weft::Model model = example_model(w.model);
  weft::TrainOptions o;
  o.batch_size = w.batch;
  o.threads = threads;
  weft::Trainer trainer(model, o);
  const auto [x, y] = batch_of(model, w.batch);
  for (int i = 0; i < warm_up_steps; ++i) trainer.train_step(x, y);
  for (auto _ : state) benchmark::DoNotOptimize(trainer.train_step(x, y));
  const weft::bench::ModelWork work = weft::bench::model_work(model, trainer.options().shard_size);
  weft::bench::report_gflops(state, work.training_flops * double(w.batch));
  weft::bench::report_samples(state, double(w.batch));
}

// The model's optimizer update over all its parameters on this thread, as the trainer calls it:
// the median of a few, in microseconds.
double whole_update_microseconds(weft::Model& model) {
  const weft::Optimizer& optimizer = model.optimizer();
  const weft::Tensor gradient = weft::bench::varied(weft::Shape{static_cast<std::int64_t>(model.parameter_count())});
  std::vector<weft::Tensor> slots;
  std::vector<std::span<float>> slot_spans;
  for (std::size_t k = 0; k < optimizer.slots().size(); ++k) slots.emplace_back(gradient.shape(), optimizer.slot_initial_value(k));
  for (auto& slot : slots) slot_spans.push_back(slot.span());
  std::vector<double> times;
  for (std::int64_t step = 1; step <= 15; ++step) {
    const auto start = std::chrono::steady_clock::now();
    optimizer.update(model.parameters(), gradient.span(), slot_spans, weft::OptimizerStep{1e-3, step, false});
    times.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

// What splitting a batch over two cores could gain on this machine if it communicated nothing:
// two 1-thread trainers, each with its own copy of the model, half the batch and the shards one
// worker of the 2-thread trainer runs, step together (a barrier after every step, as synchronous
// training must) and share nothing. Their rate over train/<model>/batch:B/threads:1 is that
// reference speed-up; the 2-thread trainer's distance from it is what its sharing (the exchange
// of activations and gradients, the update of weights both cores read, the barriers between
// layers) costs. Each half also runs the optimizer update of the whole model, which a split
// divides, so the case reports update_us, that update alone on one thread (median of a few).
void train_halves(benchmark::State& state, Workload w, int) {
  struct Half {
    explicit Half(Workload w) : model(example_model(w.model)), data(batch_of(model, w.batch / 2)) {
      weft::TrainOptions o;
      o.batch_size = w.batch / 2;
      // The shards one worker of the whole batch's trainer runs (the default for half the batch is smaller).
      o.shard_size = std::min(weft::default_shard_size(w.batch), w.batch / 2);
      o.threads = 1;
      trainer = std::make_unique<weft::Trainer>(model, o);
    }
    void step() { benchmark::DoNotOptimize(trainer->train_step(data.first, data.second)); }
    weft::Model model;
    std::pair<weft::Tensor, weft::Tensor> data;
    std::unique_ptr<weft::Trainer> trainer;
  };
  Half mine(w), other(w);
  std::barrier sync(2);
  std::atomic<bool> done = false;
  std::thread helper([&] {
    for (;;) {
      sync.arrive_and_wait();  // a step starts
      if (done) return;
      other.step();
      sync.arrive_and_wait();  // both halves finished it
    }
  });
  const auto step_both = [&] {
    sync.arrive_and_wait();
    mine.step();
    sync.arrive_and_wait();
  };
  for (int i = 0; i < warm_up_steps; ++i) step_both();
  for (auto _ : state) step_both();
  done = true;
  sync.arrive_and_wait();
  helper.join();
  state.counters["update_us"] = whole_update_microseconds(mine.model);
  const weft::bench::ModelWork work = weft::bench::model_work(mine.model, mine.trainer->options().shard_size);
  weft::bench::report_gflops(state, work.training_flops * double(w.batch / 2 * 2));
  weft::bench::report_samples(state, double(w.batch / 2 * 2));
}

void infer(benchmark::State& state, Workload w, int threads) {
  weft::Model model = example_model(w.model);
  const std::int64_t shard = weft::inference_shard_size(model);  // as Trainer::predict
  weft::Executor executor(model, {shard, threads, false});
  const weft::Tensor x = batch_of(model, w.batch).first;
  weft::Tensor out(model.output_shape().with_batch(w.batch));
  const auto pass = [&] {
    executor.forward(x, false, 0, 0);
    executor.copy_output(out);
  };
  for (int i = 0; i < warm_up_steps; ++i) pass();
  for (auto _ : state) pass();
  benchmark::DoNotOptimize(out.data());
  weft::bench::report_gflops(state, weft::bench::model_work(model, shard).forward_flops * double(w.batch));
  weft::bench::report_samples(state, double(w.batch));
}

// Removes --steps=N from the arguments; Google Benchmark rejects flags it does not know.
std::optional<std::int64_t> take_steps(int& argc, char** argv) {
  std::optional<std::int64_t> steps;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--steps=", 8) == 0) steps = std::stoll(argv[i] + 8);
    else argv[kept++] = argv[i];
  }
  argc = kept;
  return steps;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<std::int64_t> steps = take_steps(argc, argv);
  const Workload training[] = {{"fashion_mlp", 32}, {"fashion_mlp", 128}, {"fashion_mlp", 512}, {"fashion_cnn", 128}};
  const Workload inference[] = {{"fashion_mlp", 1000}, {"fashion_cnn", 1000}};
  const auto add = [&](const char* kind, void (*fn)(benchmark::State&, Workload, int), Workload w, int threads) {
    const std::string name = std::string(kind) + "/" + w.model + "/batch:" + std::to_string(w.batch) +
                             "/threads:" + std::to_string(threads);
    auto* b = benchmark::RegisterBenchmark(name.c_str(), fn, w, threads)->UseRealTime()->Unit(benchmark::kMillisecond);
    if (steps) b->Iterations(*steps);
  };
  for (int threads : {1, 2}) {
    for (const Workload& w : training) add("train", train, w, threads);
    for (const Workload& w : inference) add("infer", infer, w, threads);
  }
  for (const Workload& w : training) add("halves", train_halves, w, 2);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
