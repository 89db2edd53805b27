// Graph models train with the chain's guarantees: fashion_resnet (fan-out into residual
// branches, batch norm, projection shortcuts) gives the same bits with 1 and 2 threads, and a
// graph model resumed from a trainer state equals the straight run.
#include <boost/test/unit_test.hpp>

#include <cstring>

#include "model_helpers.hpp"
#include "trainer_helpers.hpp"
#include "weft/trainer.hpp"

using weft::Json;

namespace {

weft::Dataset images(std::int64_t n, std::uint64_t seed) {
  weft::Dataset d{weft::Tensor(weft::Shape{n, 1, 28, 28}), weft::Tensor(weft::Shape{n}), "synthetic"};
  const weft::CounterRng rng(seed);
  for (std::size_t i = 0; i < d.x.size(); ++i) d.x[i] = rng.uniform(i);
  for (std::int64_t i = 0; i < n; ++i) d.y[i] = static_cast<float>(rng.derive(1).below(i, 10));
  return d;
}

std::vector<float> train_resnet(int threads) {
  weft::Model model(weft::read_spec_file(WEFT_SOURCE_DIR "/examples/models/fashion_resnet.json"));
  model.initialize(5);
  weft::Trainer trainer(model, {.batch_size = 24, .shard_size = 8, .threads = threads, .seed = 3});
  trainer.train_epoch(images(48, 9));  // two steps, three shards each
  return {model.parameters().begin(), model.parameters().end()};
}

// dense → dropout "d" read by a residual branch (dense, batch_norm) and the shortcut.
const Json graph_spec = {{"input", {6}},
                         {"layers",
                          {{{"type", "dense"}, {"units", 8}, {"name", "a"}},
                           {{"type", "dropout"}, {"rate", 0.25}, {"name", "d"}},
                           {{"type", "dense"}, {"units", 8}},
                           {{"type", "batch_norm"}, {"name", "bn"}},
                           {{"type", "add"}, {"inputs", {"bn", "d"}}},
                           {{"type", "relu"}},
                           {{"type", "dense"}, {"units", 3}}}},
                         {"loss", "cross_entropy"},
                         {"optimizer", {{"type", "adam"}, {"lr", 0.01}}}};

}  // namespace

BOOST_AUTO_TEST_CASE(fashion_resnet_trains_to_identical_bits_with_one_and_two_threads) {
  const auto one = train_resnet(1), two = train_resnet(2);
  BOOST_REQUIRE_EQUAL(one.size(), two.size());
  BOOST_CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
  weft::Model fresh(weft::read_spec_file(WEFT_SOURCE_DIR "/examples/models/fashion_resnet.json"));
  fresh.initialize(5);
  BOOST_CHECK(std::memcmp(one.data(), fresh.parameters().data(), one.size() * sizeof(float)) != 0);
}

BOOST_AUTO_TEST_CASE(a_graph_model_resumed_from_its_state_equals_the_straight_run) {
  const auto data = weft::testing::random_classification(60, 6, 3, 7);
  weft::FitOptions fit;
  fit.epochs = 2;
  const weft::TrainOptions options{.batch_size = 16, .shard_size = 8, .threads = 2, .seed = 11};
  weft::Model straight_model(graph_spec);
  straight_model.initialize(3);
  weft::Trainer straight(straight_model, options);
  straight.fit(data, fit);

  weft::Model first_model(graph_spec);
  first_model.initialize(3);
  weft::Trainer first(first_model, options);
  weft::testing::StopAtStep stop(5);
  weft::FitOptions first_fit = fit;
  first_fit.callbacks = {&stop};
  first.fit(data, first_fit);
  BOOST_REQUIRE_EQUAL(first.step(), 5);

  // What a checkpoint holds: the resolved spec, the parameters and buffers, the trainer state.
  weft::Model second_model(first_model.spec());
  std::copy(first_model.parameters().begin(), first_model.parameters().end(), second_model.parameters().begin());
  std::copy(first_model.buffers().begin(), first_model.buffers().end(), second_model.buffers().begin());
  weft::Trainer second(second_model, options);
  second.restore(first.state());
  second.fit(data, fit);
  BOOST_CHECK_EQUAL(second.step(), straight.step());
  const auto a = straight_model.parameters(), b = second_model.parameters();
  BOOST_CHECK(std::memcmp(a.data(), b.data(), a.size_bytes()) == 0);
  const auto ba = straight_model.buffers(), bb = second_model.buffers();
  BOOST_CHECK(std::memcmp(ba.data(), bb.data(), ba.size_bytes()) == 0);
}
