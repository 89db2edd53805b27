// Splitting dense layers by output units (ExecutorOptions::split_units): each worker computes a
// range of units over every shard, and their weight gradient over every shard in shard order.
// The loss, outputs, parameter gradient and input gradient must be those of the split by
// samples bit for bit, at any thread count, wherever reduce_gradients() writes; and the
// trainer's update, given out by worker, must still update every parameter with its gradient.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "model_helpers.hpp"
#include "weft/executor.hpp"
#include "weft/trainer.hpp"

using weft::Json;
using weft::Shape;
using weft::Tensor;

using weft::testing::random_normal;
using weft::testing::same_bits;

namespace {

// 40 features → dense 48 with a fused relu → dense 37 without bias → tanh → dense 5, mse. At
// shards of 2 the first two dense layers are worth splitting (Executor::worth_splitting), the
// last is folded; 37 units split unevenly over 2 and 3 workers (cuts at multiples of 16).
Json mixed_dense_spec() {
  return {{"input", {40}},
          {"layers",
           {{{"type", "dense"}, {"units", 48}, {"activation", "relu"}},
            {{"type", "dense"}, {"units", 37}, {"bias", false}},
            {{"type", "tanh"}},
            {{"type", "dense"}, {"units", 5}}}},
          {"loss", "mse"},
          {"optimizer", {{"type", "adam"}, {"lr", 0.01}}}};
}

struct Step {
  double loss = 0;
  Tensor output, gradient, input_gradient;
  bool finite = false;
};

enum class Destination { named, other, unnamed };

// One training step over 7 samples (shards of 2, 2, 2 and 1). The gradient goes to the span
// named by gradients_to() (named), to another one (other), or gradients_to() is not called.
Step train_step(weft::Model& model, int threads, bool split, Destination to, const Tensor& x) {
  weft::Executor exec(model, {.shard_size = 2, .threads = threads, .input_gradient = true, .split_units = split});
  BOOST_TEST(exec.unit_parameters(0).empty() == !split);  // the split happens (or not) as asked
  const Tensor targets = random_normal(model.target_shape().with_batch(x.shape()[0]), 6);
  Step s;
  s.gradient = Tensor(Shape{static_cast<std::int64_t>(model.parameter_count())});
  Tensor named(s.gradient.shape());
  exec.forward(x.view(), true, 3, 11);
  s.loss = exec.loss(targets.view(), true);
  if (to != Destination::unnamed) exec.gradients_to(to == Destination::named ? s.gradient.span() : named.span());
  exec.backward();
  exec.reduce_gradients(s.gradient.span());
  s.finite = exec.reduced_gradient_finite();
  s.output = Tensor(model.output_shape().with_batch(x.shape()[0]));
  exec.copy_output(s.output.view());
  s.input_gradient = Tensor(x.shape());
  exec.copy_input_gradient(s.input_gradient.view());
  return s;
}

bool same(const Step& a, const Step& b) {
  return std::memcmp(&a.loss, &b.loss, sizeof a.loss) == 0 && same_bits(a.output, b.output) &&
         same_bits(a.gradient, b.gradient) && same_bits(a.input_gradient, b.input_gradient) && a.finite == b.finite;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(unit_split)

BOOST_AUTO_TEST_CASE(gives_the_bits_of_the_split_by_samples) {
  weft::Model model(mixed_dense_spec());
  model.initialize(4);
  const Tensor x = random_normal(Shape{7, 40}, 5);
  const Step by_samples = train_step(model, 1, false, Destination::named, x);
  BOOST_TEST(by_samples.finite);
  for (const int threads : {1, 2, 3})
    for (const auto to : {Destination::named, Destination::other, Destination::unnamed}) {
      BOOST_TEST_CONTEXT("threads " << threads << ", destination " << static_cast<int>(to)) {
        BOOST_TEST(same(train_step(model, threads, true, to, x), by_samples));
      }
    }
}

BOOST_AUTO_TEST_CASE(reports_a_non_finite_gradient_in_split_rows) {
  // Every layer split: nothing is folded, so only the split rows' own check can see that an
  // infinite input feature made the gradient non-finite.
  weft::Model model(Json{{"input", {40}},
                         {"layers", {{{"type", "dense"}, {"units", 48}, {"activation", "relu"}}, {{"type", "dense"}, {"units", 37}}}},
                         {"loss", "mse"}});
  model.initialize(4);
  const Tensor finite_x = random_normal(Shape{7, 40}, 5);
  Tensor x = finite_x;
  x[3] = std::numeric_limits<float>::infinity();
  for (const int threads : {1, 2}) {
    BOOST_TEST_CONTEXT(threads << " threads") {
      BOOST_TEST(train_step(model, threads, true, Destination::named, finite_x).finite);
      BOOST_TEST(!train_step(model, threads, true, Destination::named, x).finite);
      BOOST_TEST(!train_step(model, threads, true, Destination::unnamed, x).finite);
    }
  }
}

BOOST_AUTO_TEST_CASE(trainer_updates_every_parameter_with_its_gradient) {
  // One Adam step from zero moments moves each weight by lr · g / (|g| + eps) (bias-corrected
  // moments g and g²): compare each parameter with that, from the gradient of an executor that
  // splits by samples, so a range the update skipped or gave the wrong gradient shows.
  const Tensor x = random_normal(Shape{8, 40}, 5);
  const Tensor y = random_normal(Shape{8, 5}, 6);
  weft::Model reference(mixed_dense_spec());
  reference.initialize(4);
  Tensor gradient(Shape{static_cast<std::int64_t>(reference.parameter_count())});
  {
    weft::Executor exec(reference, {.shard_size = 2, .threads = 1, .split_units = false});
    exec.forward(x.view(), true, 0, 0);
    exec.loss(y.view(), true);
    exec.backward();
    exec.reduce_gradients(gradient.span());
  }
  for (const int threads : {1, 2, 3}) {
    weft::Model model(mixed_dense_spec());
    model.initialize(4);
    weft::TrainOptions options;
    options.batch_size = 8;
    options.shard_size = 2;
    options.threads = threads;
    weft::Trainer trainer(model, options);
    trainer.train_step(x.view(), y.view());
    std::size_t wrong = 0;
    for (const auto& t : model.parameter_table())
      for (std::size_t i = t.offset; i < t.offset + t.size(); ++i) {
        const double g = gradient[i];
        const double expected = reference.parameters()[i] - 0.01 * g / (std::abs(g) + 1e-8);
        wrong += std::abs(model.parameters()[i] - expected) > 1e-6;
      }
    BOOST_TEST_CONTEXT(threads << " threads") { BOOST_TEST(wrong == 0u); }
  }
}

BOOST_AUTO_TEST_CASE(every_parameter_belongs_to_one_worker) {
  // The trainer's update follows the workers' unit rows and folded shares: together they must
  // cover every parameter exactly once, and the folded shares be even to within a cut of 16.
  for (const bool split : {false, true})
    for (const int threads : {1, 2, 3}) {
      weft::Model model(mixed_dense_spec());
      model.initialize(4);
      const weft::Executor exec(model, {.shard_size = 2, .threads = threads, .split_units = split});
      std::vector<std::pair<std::size_t, std::size_t>> ranges;
      std::vector<std::size_t> folded(static_cast<std::size_t>(threads), 0);
      for (std::size_t w = 0; w < folded.size(); ++w) {
        for (const auto& r : exec.unit_parameters(w)) ranges.push_back(r);
        for (const auto& r : exec.folded_share(w)) {
          ranges.push_back(r);
          folded[w] += r.second - r.first;
        }
      }
      std::sort(ranges.begin(), ranges.end());
      std::size_t covered = 0;
      bool contiguous = true;
      for (const auto& [first, last] : ranges) {
        contiguous = contiguous && first == covered && first < last;
        covered = last;
      }
      std::size_t total = 0;
      for (const auto f : folded) total += f;
      const auto [fewest, most] = std::minmax_element(folded.begin(), folded.end());
      BOOST_TEST_CONTEXT((split ? "split, " : "by samples, ") << threads << " threads") {
        BOOST_TEST(contiguous);
        BOOST_TEST(covered == model.parameter_count());
        BOOST_TEST(*most - *fewest <= 16u + (total % 16));
      }
    }
}

BOOST_AUTO_TEST_SUITE_END()
