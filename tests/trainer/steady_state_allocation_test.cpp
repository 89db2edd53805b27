// After warm-up, training steps and inference batches make no heap allocation: every buffer a
// step needs (shard activations, workspaces, gradients, optimizer slots) is sized by the first
// pass and reused. An allocation per step costs time on every step and, with many threads, lock
// contention in malloc; this suite finds the first one and prints where it was made.
//
// Built as its own executable (tests/meson.build): allocation_counter.cpp replaces the program's
// operator new and malloc, which no other suite should inherit.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <optional>
#include <string>

#include "allocation_counter.hpp"
#include "weft/trainer.hpp"

using weft::testing::CountAllocations;

namespace {

constexpr int warm_up_steps = 2, counted_steps = 3;

weft::Model example_model(const std::string& name) {
  weft::Model model(weft::read_spec_file(WEFT_SOURCE_DIR "/examples/models/" + name + ".json"));
  model.initialize(1);
  return model;
}

// n samples of the model's input shape, uniform in [0, 1), with class labels in [0, 10).
weft::Dataset random_images(const weft::Model& model, std::int64_t n) {
  weft::Dataset d{weft::Tensor(model.input_shape().with_batch(n)), weft::Tensor(weft::Shape{n}), "synthetic"};
  const weft::CounterRng rng(5);
  for (std::size_t i = 0; i < d.x.size(); ++i) d.x[i] = rng.uniform(i);
  for (std::size_t i = 0; i < d.y.size(); ++i) d.y[i] = static_cast<float>(rng.derive(1).below(i, 10));
  return d;
}

// `model` and `what` name the case; the message is put together only after the region ends.
void require_none(CountAllocations& counter, const std::string& model, const char* what) {
  counter.stop();
  BOOST_TEST(counter.count() == 0u, model << " " << what << ": " << counter.count() << " heap allocation(s), " << counter.bytes()
                                         << " bytes, after warm-up; the first one from:\n"
                                         << counter.first_allocation_stack());
}

// Batch 80 over shards of 32 leaves a partial last shard, the case most likely to resize.
const weft::TrainOptions two_threads{.batch_size = 80, .shard_size = 32, .threads = 2, .seed = 3};

void check_train_steps(const std::string& name) {
  weft::Model model = example_model(name);
  const weft::Dataset data = random_images(model, two_threads.batch_size);
  weft::Trainer trainer(model, two_threads);
  for (int i = 0; i < warm_up_steps; ++i) trainer.train_step(data.x, data.y);
  CountAllocations counter;
  for (int i = 0; i < counted_steps; ++i) trainer.train_step(data.x, data.y);
  require_none(counter, name, "train_step");
}

// Counts from on_step_begin to on_step_end of every step after the warm-up: the step as
// train_epoch runs it, reading its mini-batch from the data source included.
class CountStepAllocations final : public weft::Callback {
 public:
  void on_step_begin(weft::Trainer&, const weft::StepEvent& e) override {
    if (e.step >= warm_up_steps) counter_.emplace();
  }
  void on_step_end(weft::Trainer&, const weft::StepEvent& e) override {
    if (!counter_) return;
    counter_->stop();
    if (counter_->count() > 0 && total_ == 0)
      where_ = "step " + std::to_string(e.step) + ", first allocation from:\n" + counter_->first_allocation_stack();
    total_ += counter_->count();
    counter_.reset();
    ++counted_;
  }
  std::size_t total() const { return total_; }
  int counted() const { return counted_; }
  const std::string& where() const { return where_; }

 private:
  std::optional<CountAllocations> counter_;
  std::size_t total_ = 0;  // allocations in all counted steps
  int counted_ = 0;
  std::string where_;
};

}  // namespace

BOOST_AUTO_TEST_CASE(the_counter_sees_new_and_malloc) {
  // The replacement is in effect: without it every other case here would pass vacuously.
  // Through volatile pointers: the compiler may otherwise drop a new/delete pair altogether.
  static int* volatile object;
  static void* volatile block;
  CountAllocations counter;
  object = new int(1);
  delete object;
  block = std::malloc(8);
  std::free(block);
  counter.stop();
  BOOST_TEST(counter.count() == 2u);
  BOOST_TEST(counter.first_allocation_stack().find("the_counter_sees_new_and_malloc") != std::string::npos,
             counter.first_allocation_stack());
}

BOOST_AUTO_TEST_CASE(fashion_mlp_train_steps_allocate_nothing) { check_train_steps("fashion_mlp"); }

BOOST_AUTO_TEST_CASE(fashion_cnn_train_steps_allocate_nothing) { check_train_steps("fashion_cnn"); }

BOOST_AUTO_TEST_CASE(batch_norm_and_dropout_train_steps_allocate_nothing) { check_train_steps("fashion_cnn_bn"); }

BOOST_AUTO_TEST_CASE(one_thread_train_steps_allocate_nothing) {
  // One thread takes other paths (one shard runs without a task); one shard per batch too.
  weft::Model model = example_model("fashion_cnn_bn");
  const weft::Dataset data = random_images(model, 32);
  weft::Trainer trainer(model, {.batch_size = 32, .shard_size = 32, .threads = 1, .seed = 3});
  for (int i = 0; i < warm_up_steps; ++i) trainer.train_step(data.x, data.y);
  CountAllocations counter;
  for (int i = 0; i < counted_steps; ++i) trainer.train_step(data.x, data.y);
  require_none(counter, "fashion_cnn_bn", "train_step on one thread");
}

BOOST_AUTO_TEST_CASE(epoch_steps_reading_their_batches_allocate_nothing) {
  weft::Model model = example_model("fashion_cnn_bn");
  const weft::Dataset data = random_images(model, 6 * two_threads.batch_size);
  weft::Trainer trainer(model, two_threads);
  CountStepAllocations steps;
  weft::Callback* callbacks[] = {&steps};
  trainer.train_epoch(data, callbacks);
  BOOST_TEST_REQUIRE(steps.counted() == 6 - warm_up_steps);
  BOOST_TEST(steps.total() == 0u, steps.total() << " heap allocation(s) in " << steps.counted()
                                                << " epoch steps after warm-up; " << steps.where());
}

BOOST_AUTO_TEST_CASE(inference_batches_allocate_nothing) {
  for (const std::string name : {"fashion_mlp", "fashion_cnn", "fashion_cnn_bn"}) {
    weft::Model model = example_model(name);
    const weft::Dataset data = random_images(model, 100);
    weft::Executor executor(model, {32, 2, false});
    weft::Tensor out(model.output_shape().with_batch(100));
    const auto infer = [&] {
      executor.forward(data.x, false, 0, 0);
      executor.copy_output(out);
    };
    for (int i = 0; i < warm_up_steps; ++i) infer();
    CountAllocations counter;
    for (int i = 0; i < counted_steps; ++i) infer();
    require_none(counter, name, "inference");
  }
}
