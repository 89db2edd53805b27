// Training from a streamed HDF5 source: with one window it is bit for bit the in-memory run;
// with several windows the same seed gives the same bits for 1 and 2 threads, and a run stopped
// mid-epoch and resumed by a fresh trainer continues exactly as the straight run.
#include <boost/test/unit_test.hpp>

#include "hdf5_file.hpp"
#include "model_helpers.hpp"
#include "trainer_helpers.hpp"
#include "weft/io/hdf5_source.hpp"
#include "weft/trainer.hpp"

using weft::Json;

namespace {

const Json stream_spec = {{"input", {6}},
                   {"layers", {{{"type", "dense"}, {"units", 10}, {"init", "he_normal"}}, {{"type", "relu"}},
                               {{"type", "dropout"}, {"rate", 0.2}}, {{"type", "dense"}, {"units", 3}}}},
                   {"loss", "cross_entropy"},
                   {"optimizer", {{"type", "adam"}, {"lr", 0.01}}}};

weft::Dataset make_stream_data(std::int64_t n) { return weft::testing::random_classification(n, 6, 3, 7); }

std::string write_stream_file(const weft::testing::TempDir& dir, const weft::Dataset& d) {
  const std::string path = dir.file("train.h5");
  weft::io::H5File file(path, 'w');
  file.write_floats("features", d.x.shape(), d.x.data());
  file.write_floats("labels", d.y.shape(), d.y.data());
  return path;
}

weft::TrainOptions options(int threads) {
  weft::TrainOptions o;
  o.batch_size = 16;  // 100 samples: 7 mini-batches, the last one short
  o.shard_size = 8;
  o.threads = threads;
  o.seed = 11;
  return o;
}

std::vector<float> train_streamed(const weft::DataSource& data, int threads, std::int64_t epochs) {
  weft::Model model(stream_spec);
  model.initialize(3);
  weft::Trainer trainer(model, options(threads));
  weft::FitOptions fit;
  fit.epochs = epochs;
  trainer.fit(data, fit);
  return {model.parameters().begin(), model.parameters().end()};
}

weft::io::Hdf5Source streamed(const std::string& path, std::int64_t window) {
  weft::io::Hdf5SourceOptions o;
  o.window_rows = window;
  return weft::io::Hdf5Source(path, o);
}

}  // namespace

BOOST_AUTO_TEST_CASE(streaming_with_one_window_is_the_in_memory_run) {
  weft::testing::TempDir dir;
  const auto data = make_stream_data(100);
  const auto path = write_stream_file(dir, data);
  BOOST_CHECK(train_streamed(streamed(path, 100), 2, 2) == train_streamed(weft::InMemorySource(data), 2, 2));
  BOOST_CHECK(train_streamed(streamed(path, 1000), 2, 2) == train_streamed(weft::InMemorySource(data), 2, 2));
}

BOOST_AUTO_TEST_CASE(streamed_windows_give_the_same_bits_for_any_thread_count) {
  weft::testing::TempDir dir;
  const auto data = make_stream_data(100);
  const auto path = write_stream_file(dir, data);
  const auto one = train_streamed(streamed(path, 16), 1, 2);
  BOOST_CHECK(one == train_streamed(streamed(path, 16), 2, 2));
  BOOST_CHECK(one != train_streamed(weft::InMemorySource(data), 1, 2));  // a different (windowed) order
}

BOOST_AUTO_TEST_CASE(a_streamed_run_resumed_mid_epoch_continues_bit_for_bit) {
  weft::testing::TempDir dir;
  const auto path = write_stream_file(dir, make_stream_data(100));
  const auto source = streamed(path, 16);
  weft::Model straight_model(stream_spec);
  straight_model.initialize(3);
  weft::Trainer straight(straight_model, options(2));
  weft::FitOptions fit;
  fit.epochs = 2;
  straight.fit(source, fit);

  weft::Model first_model(stream_spec);
  first_model.initialize(3);
  weft::Trainer first(first_model, options(2));
  weft::testing::StopAtStep stop(10);  // epoch 2, mini-batch 3 of 7
  fit.callbacks = {&stop};
  first.fit(source, fit);
  BOOST_REQUIRE_EQUAL(first.position(), 3);

  weft::Model resumed_model(stream_spec);
  std::copy(first_model.parameters().begin(), first_model.parameters().end(), resumed_model.parameters().begin());
  weft::Trainer resumed(resumed_model, options(1));
  resumed.restore(first.state());
  fit.callbacks = {};
  resumed.fit(streamed(path, 16), fit);
  BOOST_CHECK_EQUAL(resumed.step(), straight.step());
  BOOST_CHECK(std::equal(resumed_model.parameters().begin(), resumed_model.parameters().end(),
                         straight_model.parameters().begin(), straight_model.parameters().end()));
  BOOST_CHECK(std::equal(resumed.slot(0).begin(), resumed.slot(0).end(), straight.slot(0).begin(), straight.slot(0).end()));
}
