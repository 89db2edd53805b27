// A tiny CNN trains to the same bits with 1 and 2 threads: convolution and pooling keep every
// per-shard sum in a fixed order, whatever worker runs the shard.
#include <boost/test/unit_test.hpp>

#include <cstring>

#include "weft/trainer.hpp"

using weft::Json;

namespace {

const Json cnn_spec = {
    {"input", {2, 9, 8}},
    {"layers",
     {{{"type", "conv2d"}, {"filters", 4}, {"kernel", 3}, {"padding", 1}},
      {{"type", "relu"}},
      {{"type", "max_pool2d"}, {"kernel", 2}},
      {{"type", "conv2d"}, {"filters", 4}, {"kernel", 2}, {"groups", 2}, {"stride", 2}},
      {{"type", "avg_pool2d"}, {"kernel", 2}, {"stride", 1}, {"padding", 1}},
      {{"type", "flatten"}},
      {{"type", "dense"}, {"units", 3}}}},
    {"loss", "cross_entropy"},
    {"optimizer", {{"type", "adam"}, {"lr", 0.01}}}};

std::vector<float> train_cnn(int threads) {
  weft::Model model(cnn_spec);
  model.initialize(4);
  weft::Trainer trainer(model, {.batch_size = 20, .shard_size = 3, .threads = threads, .seed = 11});
  weft::Dataset d{weft::Tensor(weft::Shape{50, 2, 9, 8}), weft::Tensor(weft::Shape{50}), "synthetic"};
  const weft::CounterRng rng(21);
  for (std::size_t i = 0; i < d.x.size(); ++i) d.x[i] = static_cast<float>(rng.normal(i));
  for (std::int64_t i = 0; i < 50; ++i) d.y[i] = static_cast<float>(rng.derive(1).below(i, 3));
  trainer.train_epoch(d);
  trainer.train_epoch(d);
  return {model.parameters().begin(), model.parameters().end()};
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_cnn_trains_to_identical_bits_with_one_and_two_threads) {
  const auto one = train_cnn(1), two = train_cnn(2);
  BOOST_REQUIRE_EQUAL(one.size(), two.size());
  BOOST_CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
  weft::Model fresh(cnn_spec);
  fresh.initialize(4);
  BOOST_CHECK(std::memcmp(one.data(), fresh.parameters().data(), one.size() * sizeof(float)) != 0);
}
