// Same bits at 1, 2, 3, 8 and 16 workers on a machine with fewer cores. oneTBB caps the workers
// that run at once at the core count unless told otherwise, so on a 2-core machine an arena of
// 16 would still run 2 at a time and hide any race between shards; a global_control raising that
// cap makes the workers real threads, preempted at arbitrary points by the kernel, for the whole
// suite below. The example models are used as written, batch norm and dropout included.
#include <boost/test/unit_test.hpp>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "weft/trainer.hpp"

constexpr int most_workers = 16;

// Lifts oneTBB's cap on concurrent workers above the core count while it lives. Outside the
// anonymous namespace: the suite's test cases derive from it, and in the unity build (where this
// file is included, not compiled alone) GCC warns about a base with internal linkage.
struct Oversubscribe {
  tbb::global_control control{tbb::global_control::max_allowed_parallelism, most_workers};
};

namespace {

// Two steps of batch 64 in shards of 4: 16 shards a step, so 16 workers all have one.
std::vector<float> train_example(const std::string& name, int threads) {
  weft::Model model(weft::read_spec_file(WEFT_SOURCE_DIR "/examples/models/" + name + ".json"));
  model.initialize(3);
  weft::Trainer trainer(model, {.batch_size = 64, .shard_size = 4, .threads = threads, .seed = 29});
  weft::Dataset d{weft::Tensor(model.input_shape().with_batch(128)), weft::Tensor(weft::Shape{128}), "synthetic"};
  const weft::CounterRng rng(8);
  for (std::size_t i = 0; i < d.x.size(); ++i) d.x[i] = rng.uniform(i);
  for (std::size_t i = 0; i < d.y.size(); ++i) d.y[i] = static_cast<float>(rng.derive(1).below(i, 10));
  trainer.train_epoch(d);
  std::vector<float> out(model.parameters().begin(), model.parameters().end());
  for (std::size_t k = 0; k < trainer.slot_names().size(); ++k) out.insert(out.end(), trainer.slot(k).begin(), trainer.slot(k).end());
  // Batch norm's running statistics are state too (buffers, not parameters).
  out.insert(out.end(), model.buffers().begin(), model.buffers().end());
  return out;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(oversubscribed, Oversubscribe)

// The premise: with the cap lifted, an arena of 16 really runs 16 threads at once here. Each
// task waits (up to a few seconds) until all 16 have arrived; without the cap only as many as
// there are cores would ever arrive.
BOOST_AUTO_TEST_CASE(sixteen_workers_run_at_once_on_any_machine) {
  tbb::task_arena arena(most_workers);
  std::atomic<int> arrived{0};
  std::atomic<bool> gave_up{false};
  arena.execute([&] {
    tbb::parallel_for(0, most_workers, [&](int) {
      ++arrived;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (arrived.load() < most_workers)
        if (std::chrono::steady_clock::now() > deadline) {
          gave_up = true;
          return;
        } else {
          std::this_thread::yield();
        }
    }, tbb::simple_partitioner());
  });
  BOOST_CHECK_MESSAGE(!gave_up.load(), "fewer than " << most_workers << " tasks ran at once");
}

BOOST_AUTO_TEST_CASE(example_models_train_to_the_same_bits_at_1_2_3_8_and_16_workers) {
  for (const std::string name : {"fashion_mlp", "fashion_cnn", "fashion_cnn_bn"}) {
    const auto one = train_example(name, 1);
    for (const int threads : {2, 3, 8, 16}) {
      const auto other = train_example(name, threads);
      BOOST_REQUIRE_EQUAL(one.size(), other.size());
      BOOST_CHECK_MESSAGE(std::memcmp(one.data(), other.data(), one.size() * sizeof(float)) == 0,
                          name << ": " << threads << " workers differ from 1");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
