// Same seed, same bits, whatever the thread count; sharding does not change the mathematics.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>

#include "model_helpers.hpp"
#include "weft/trainer.hpp"

using weft::Json;

namespace {

const Json spec = {{"input", {12}},
                   {"layers", {{{"type", "dense"}, {"units", 16}, {"init", "he_normal"}}, {{"type", "relu"}},
                               {{"type", "dense"}, {"units", 8}}, {{"type", "sigmoid"}}, {{"type", "dense"}, {"units", 4}}}},
                   {"loss", "cross_entropy"},
                   {"optimizer", {{"type", "adam"}, {"lr", 0.01}}}};

weft::Dataset make_data(std::int64_t n) { return weft::testing::random_classification(n, 12, 4, 99); }

// Trains 2 epochs (several steps each, last batch short) and returns parameters and Adam state.
std::vector<float> train(int threads) {
  weft::Model model(spec);
  model.initialize(5);
  weft::TrainOptions o;
  o.batch_size = 50;
  o.shard_size = 8;
  o.threads = threads;
  o.seed = 17;
  weft::Trainer trainer(model, o);
  const auto data = make_data(230);
  trainer.train_epoch(data);
  trainer.train_epoch(data);
  std::vector<float> out(model.parameters().begin(), model.parameters().end());
  for (std::size_t k = 0; k < trainer.slot_names().size(); ++k) out.insert(out.end(), trainer.slot(k).begin(), trainer.slot(k).end());
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(one_two_and_three_threads_give_identical_bits) {
  const auto one = train(1), two = train(2), three = train(3);
  BOOST_REQUIRE_EQUAL(one.size(), two.size());
  BOOST_CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
  BOOST_CHECK(std::memcmp(one.data(), three.data(), one.size() * sizeof(float)) == 0);
  // And training did change the weights.
  weft::Model fresh(spec);
  fresh.initialize(5);
  BOOST_CHECK(std::memcmp(one.data(), fresh.parameters().data(), fresh.parameter_count() * sizeof(float)) != 0);
}

BOOST_AUTO_TEST_CASE(sharded_gradient_equals_the_whole_batch_gradient) {
  // The mini-batch gradient is the mean over samples however the batch is cut.
  const auto data = make_data(37);
  auto gradient_with_shard = [&](std::int64_t shard) {
    weft::Model model(spec);
    model.initialize(8);
    weft::Executor exec(model, {shard, 2, false});
    exec.forward(data.x, true, 0, 1);
    exec.loss(data.y, true);
    exec.backward();
    std::vector<float> g(model.parameter_count());
    exec.reduce_gradients(g);
    return g;
  };
  const auto whole = gradient_with_shard(37), sharded = gradient_with_shard(5);
  double max_diff = 0, max_abs = 0;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    max_diff = std::max(max_diff, double(std::abs(whole[i] - sharded[i])));
    max_abs = std::max(max_abs, double(std::abs(whole[i])));
  }
  BOOST_CHECK_GT(max_abs, 1e-3);
  BOOST_CHECK_SMALL(max_diff, 1e-5 * max_abs + 1e-7);
}

BOOST_AUTO_TEST_CASE(a_non_finite_loss_stops_training_and_keeps_the_weights) {
  weft::Model model(spec);
  model.initialize(5);
  weft::Trainer trainer(model, {});
  auto data = make_data(20);
  data.x[7] = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> before(model.parameters().begin(), model.parameters().end());
  try {
    trainer.train_epoch(data);
    BOOST_FAIL("expected a NumericError");
  } catch (const weft::NumericError& e) {
    const std::string msg = e.what();
    BOOST_CHECK_MESSAGE(msg.find("training step 1") != std::string::npos, msg);
    BOOST_CHECK_MESSAGE(msg.find("layer 0 (dense_0)") != std::string::npos, msg);
  }
  BOOST_CHECK(std::memcmp(before.data(), model.parameters().data(), before.size() * sizeof(float)) == 0);
}
