// Models with several inputs train from datasets with one features tensor per input, in memory
// and streamed from an HDF5 file with one dataset per input, with the one-input guarantees:
// 1 and 2 threads give the same bits, one window is the in-memory run, a run resumed from its
// state equals the straight run, a rank's part of a batch holds the rows of the whole batch.
// Bad data (a missing or misshapen dataset, unequal sample counts, the wrong number of inputs)
// is a one-line error naming it.
#include <boost/test/unit_test.hpp>

#include <cstring>

#include "hdf5_file.hpp"
#include "model_helpers.hpp"
#include "trainer_helpers.hpp"
#include "weft/io/hdf5_source.hpp"
#include "weft/trainer.hpp"

using weft::Json;
using weft::Shape;
using weft::Tensor;
using weft::testing::error_of;

namespace {

// "meta" (3) and "pixels" (2, 2) through their own dense layers, concatenated, then classified.
const Json two_input_spec = {{"inputs", {{"pixels", {2, 2}}, {"meta", {3}}}},
                   {"layers",
                    {{{"type", "flatten"}, {"inputs", {"pixels"}}, {"name", "flat"}},
                     {{"type", "dense"}, {"units", 6}, {"name", "p"}},
                     {{"type", "dense"}, {"units", 4}, {"inputs", {"meta"}}, {"name", "m"}},
                     {{"type", "concat"}, {"inputs", {"p", "m"}}},
                     {{"type", "relu"}},
                     {{"type", "dropout"}, {"rate", 0.2}},
                     {{"type", "dense"}, {"units", 3}}}},
                   {"loss", "cross_entropy"},
                   {"optimizer", {{"type", "adam"}, {"lr", 0.01}}}};

// Model input order is by name: "meta" (3 values) first, then "pixels" (2, 2). The class is the
// sign pattern of meta[0] + pixels[0]; every value of row r holds r in its fraction, so a test
// can tell which row a sample came from.
weft::Dataset two_inputs(std::int64_t n) {
  weft::Dataset d{Tensor(Shape{n, 3}), Tensor(Shape{n}), "two inputs", {Tensor(Shape{n, 2, 2})}};
  const weft::CounterRng rng(21);
  for (std::size_t i = 0; i < d.x.size(); ++i) d.x[i] = static_cast<float>(rng.normal(i));
  for (std::size_t i = 0; i < d.more_x[0].size(); ++i) d.more_x[0][i] = static_cast<float>(rng.derive(1).normal(i));
  for (std::int64_t r = 0; r < n; ++r) {
    const float s = d.x[static_cast<std::size_t>(r * 3)] + d.more_x[0][static_cast<std::size_t>(r * 4)];
    d.y[static_cast<std::size_t>(r)] = s < -0.5f ? 0.0f : s < 0.5f ? 1.0f : 2.0f;
  }
  return d;
}

std::string write_two_inputs(const weft::testing::TempDir& dir, const weft::Dataset& d, const std::string& name = "two.h5") {
  const std::string path = dir.file(name);
  weft::io::H5File file(path, 'w');
  file.write_floats("tabular", d.x.shape(), d.x.data());
  file.write_floats("images", d.more_x[0].shape(), d.more_x[0].data());
  file.write_floats("labels", d.y.shape(), d.y.data());
  return path;
}

weft::io::Hdf5SourceOptions mapped(std::int64_t window) {
  weft::io::Hdf5SourceOptions o;
  o.window_rows = window;
  o.inputs = {{"meta", "tabular", Shape{3}}, {"pixels", "images", Shape{2, 2}}};
  return o;
}

weft::TrainOptions two_input_options(int threads) {
  return {.batch_size = 16, .shard_size = 8, .threads = threads, .seed = 11};
}

// A model of `two_input_spec` initialised from seed 3, and its trainer.
struct TwoInputRun {
  explicit TwoInputRun(int threads) : trainer(initialized(model), two_input_options(threads)) {}
  static weft::Model& initialized(weft::Model& m) {
    m.initialize(3);
    return m;
  }
  std::vector<float> parameters() const { return {model.parameters().begin(), model.parameters().end()}; }
  weft::Model model{two_input_spec};
  weft::Trainer trainer;
};

// The parameters after `epochs` epochs of `data`.
std::vector<float> train_two_inputs(const weft::DataSource& data, int threads, std::int64_t epochs = 2) {
  TwoInputRun run(threads);
  run.trainer.fit(data, weft::FitOptions{.epochs = epochs, .callbacks = {}});
  return run.parameters();
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_two_input_model_trains_to_the_same_bits_with_one_and_two_threads_and_learns) {
  const auto data = two_inputs(100);
  const weft::InMemorySource source(data);
  const auto one = train_two_inputs(source, 1), two = train_two_inputs(source, 2);
  BOOST_CHECK(same_bits(one, two));

  TwoInputRun run(2);
  run.trainer.fit(data, weft::FitOptions{.epochs = 30, .callbacks = {}});
  BOOST_CHECK_GT(run.trainer.evaluate(data).accuracy, 0.8);  // three classes: chance is about 1/3
}

BOOST_AUTO_TEST_CASE(predict_and_train_step_take_one_tensor_per_input) {
  const auto data = two_inputs(40);
  TwoInputRun run(2);
  const std::vector<weft::ConstView> xs = {data.x.view(), data.more_x[0].view()};
  const Tensor whole = run.trainer.predict(xs), in_pieces = run.trainer.predict(xs, 16);
  BOOST_CHECK(std::memcmp(whole.data(), in_pieces.data(), whole.size() * sizeof(float)) == 0);
  BOOST_CHECK(std::isfinite(run.trainer.train_step(xs, data.y.view())));
  BOOST_CHECK_EQUAL(run.trainer.step(), 1);
}

BOOST_AUTO_TEST_CASE(one_window_of_a_two_dataset_file_is_the_in_memory_run_and_windows_keep_thread_independence) {
  weft::testing::TempDir dir;
  const auto data = two_inputs(100);
  const auto path = write_two_inputs(dir, data);
  const auto in_memory = train_two_inputs(weft::InMemorySource(data), 2);
  BOOST_CHECK(same_bits(train_two_inputs(weft::io::Hdf5Source(path, mapped(1000)), 1), in_memory));
  const weft::io::Hdf5Source windows(path, mapped(30));
  const auto one = train_two_inputs(windows, 1);
  BOOST_CHECK(same_bits(one, train_two_inputs(windows, 2)));
  BOOST_CHECK(!same_bits(one, in_memory));  // another order: the test above is not vacuous
}

BOOST_AUTO_TEST_CASE(a_part_of_a_batch_holds_every_input_of_the_same_rows_as_the_whole_batch) {
  weft::testing::TempDir dir;
  const auto data = two_inputs(50);
  const weft::io::Hdf5Source source(write_two_inputs(dir, data), mapped(20));
  std::vector<Tensor> whole(2), part(2);
  Tensor y_whole, y_part;
  const weft::EpochOrder order{true, 4, 1};
  BOOST_REQUIRE_EQUAL(source.open(order, 0)->read_inputs(12, 0, 12, whole, y_whole), 12);
  BOOST_REQUIRE_EQUAL(source.open(order, 0)->read_inputs(12, 4, 9, part, y_part), 12);
  BOOST_CHECK(std::memcmp(y_whole.data(), y_part.data(), y_whole.size() * sizeof(float)) == 0);
  for (std::size_t k = 0; k < 2; ++k) {
    const std::int64_t w = source.input_shape(k).numel();
    BOOST_CHECK(whole[k].shape() == source.input_shape(k).with_batch(12));
    for (std::int64_t i = 0; i < 12; ++i)
      for (std::int64_t j = 0; j < w; ++j) {
        const auto at = static_cast<std::size_t>(i * w + j);
        BOOST_CHECK_EQUAL(part[k][at], i >= 4 && i < 9 ? whole[k][at] : 0.0f);
      }
  }
  // Each sample's inputs come from the same file row: its label recomputed from both.
  for (std::int64_t i = 0; i < 12; ++i) {
    const float s = whole[0][static_cast<std::size_t>(i * 3)] + whole[1][static_cast<std::size_t>(i * 4)];
    BOOST_CHECK_EQUAL(y_whole[static_cast<std::size_t>(i)], s < -0.5f ? 0.0f : s < 0.5f ? 1.0f : 2.0f);
  }
}

BOOST_AUTO_TEST_CASE(each_input_is_prepared_by_its_own_function_in_whole_batches_and_in_parts) {
  // --normalize with several inputs: each input's statistics; here two maps that differ.
  weft::testing::TempDir dir;
  const auto path = write_two_inputs(dir, two_inputs(50));
  auto prepared = mapped(20);
  prepared.inputs[0].prepare = [](Tensor& x) {
    for (auto& v : x.span()) v = 2 * v + 1;
  };
  prepared.inputs[1].prepare = [](Tensor& x) {
    for (auto& v : x.span()) v = v - 100;
  };
  const weft::io::Hdf5Source raw(path, mapped(20)), source(path, prepared);
  const weft::EpochOrder order{true, 4, 1};
  std::vector<Tensor> as_read(2), whole(2), part(2);
  Tensor y;
  BOOST_REQUIRE_EQUAL(raw.open(order, 0)->read_inputs(12, 0, 12, as_read, y), 12);
  BOOST_REQUIRE_EQUAL(source.open(order, 0)->read_inputs(12, 0, 12, whole, y), 12);  // from the window
  BOOST_REQUIRE_EQUAL(source.open(order, 0)->read_inputs(12, 4, 9, part, y), 12);  // rows read one by one
  for (std::size_t k = 0; k < 2; ++k) {
    const std::int64_t w = source.input_shape(k).numel();
    for (std::int64_t i = 0; i < 12; ++i)
      for (std::int64_t j = 0; j < w; ++j) {
        const auto at = static_cast<std::size_t>(i * w + j);
        const float want = k == 0 ? 2 * as_read[k][at] + 1 : as_read[k][at] - 100;
        BOOST_CHECK_EQUAL(whole[k][at], want);
        BOOST_CHECK_EQUAL(part[k][at], i >= 4 && i < 9 ? want : 0.0f);
      }
  }
}

BOOST_AUTO_TEST_CASE(a_two_input_run_resumed_from_its_state_equals_the_straight_run) {
  weft::testing::TempDir dir;
  const weft::io::Hdf5Source data(write_two_inputs(dir, two_inputs(100)), mapped(30));
  const auto straight = train_two_inputs(data, 2);
  TwoInputRun first(2);
  weft::testing::StopAtStep stop(9);  // in the middle of the second epoch (7 steps each)
  first.trainer.fit(data, weft::FitOptions{.epochs = 2, .callbacks = {&stop}});
  BOOST_REQUIRE_EQUAL(first.trainer.step(), 9);

  // A fresh trainer on a model rebuilt from the spec, as --resume does from a checkpoint.
  weft::Model second_model(first.model.spec());
  std::copy(first.model.parameters().begin(), first.model.parameters().end(), second_model.parameters().begin());
  weft::Trainer second(second_model, two_input_options(1));
  second.restore(first.trainer.state());
  second.fit(data, weft::FitOptions{.epochs = 2, .callbacks = {}});
  BOOST_CHECK(same_bits(straight, {second_model.parameters().begin(), second_model.parameters().end()}));
}

BOOST_AUTO_TEST_CASE(a_validation_split_keeps_each_samples_inputs_together) {
  const auto data = two_inputs(40);
  const auto [train, validation] = weft::split_validation(data, 0.25, 5);
  BOOST_REQUIRE_EQUAL(train.input_count(), 2u);
  BOOST_REQUIRE_EQUAL(validation.size() + train.size(), 40);
  for (const weft::Dataset* d : {&train, &validation})
    for (std::int64_t i = 0; i < d->size(); ++i) {
      const float s = d->x[static_cast<std::size_t>(i * 3)] + d->more_x[0][static_cast<std::size_t>(i * 4)];
      BOOST_CHECK_EQUAL(d->y[static_cast<std::size_t>(i)], s < -0.5f ? 0.0f : s < 0.5f ? 1.0f : 2.0f);
    }
}

BOOST_AUTO_TEST_CASE(bad_data_for_several_inputs_is_an_error_naming_it) {
  weft::testing::TempDir dir;
  const auto data = two_inputs(20);
  const auto path = write_two_inputs(dir, data);

  weft::Model model(two_input_spec);
  weft::Trainer trainer(model, two_input_options(1));
  weft::Dataset one_input{data.x, data.y, "one input"};
  BOOST_CHECK_EQUAL(error_of([&] { trainer.train_epoch(one_input); }),
                    "'one input' has 1 input per sample; the model takes 2 (meta, pixels)");
  BOOST_CHECK_EQUAL(error_of([&] { trainer.evaluate(one_input); }),
                    "'one input' has 1 input per sample; the model takes 2 (meta, pixels)");

  auto missing = mapped(10);
  missing.inputs[1].dataset = "pictures";
  BOOST_CHECK_EQUAL(error_of([&] { weft::io::Hdf5Source(path, missing); }),
                    "HDF5 file '" + path + "' has no dataset 'pictures' (mapped to model input 'pixels')");

  auto misshapen = mapped(10);
  misshapen.inputs[0].shape = Shape{4};
  BOOST_CHECK_EQUAL(error_of([&] { weft::io::Hdf5Source(path, misshapen); }),
                    "HDF5 file '" + path + "': dataset 'tabular' has samples of shape (3) (3 values); model input "
                    "'meta' takes (4) (4 values)");

  const std::string uneven = dir.file("uneven.h5");
  {
    weft::io::H5File file(uneven, 'w');
    file.write_floats("tabular", data.x.shape(), data.x.data());
    file.write_floats("images", Shape{19, 2, 2}, data.more_x[0].data());
    file.write_floats("labels", data.y.shape(), data.y.data());
  }
  BOOST_CHECK_EQUAL(error_of([&] { weft::io::Hdf5Source(uneven, mapped(10)); }),
                    "HDF5 file '" + uneven + "': 'images' (model input 'pixels') has 19 samples but 'labels' has 20");
}

BOOST_AUTO_TEST_CASE(a_spec_maps_only_inputs_the_model_has_to_datasets) {
  Json with_map = two_input_spec;
  with_map["training"] = {{"datasets", {{"meta", "tabular"}, {"pixels", "images"}}}};
  const weft::Model model(with_map);
  BOOST_CHECK_EQUAL(model.spec()["training"]["datasets"]["pixels"], "images");
  BOOST_CHECK(!weft::Model(two_input_spec).spec().contains("training") ||
              !weft::Model(two_input_spec).spec()["training"].contains("datasets"));

  Json unknown = two_input_spec;
  unknown["training"] = {{"datasets", {{"image", "images"}}}};
  BOOST_CHECK_EQUAL(error_of([&] { weft::Model m(unknown); }),
                    "training: datasets: 'image' is not a model input (inputs: meta, pixels)");
  Json not_names = two_input_spec;
  not_names["training"] = {{"datasets", {{"meta", 3}}}};
  BOOST_CHECK(error_of([&] { weft::Model m(not_names); }).starts_with("training: 'datasets' must map model input names"));
}
