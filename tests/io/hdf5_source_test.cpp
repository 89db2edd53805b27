// io::Hdf5Source: a streamed epoch visits every row once in a windowed order that is a pure
// function of (seed, epoch); one window in memory at a time; a seeded split; streamed
// standardisation statistics; errors that name the file, the dataset and the rows.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "hdf5_file.hpp"
#include "model_helpers.hpp"
#include "weft/io/hdf5_source.hpp"
#include "weft/io/normalization.hpp"
#include "weft/rng.hpp"

using weft::Shape;
using weft::Tensor;
using weft::testing::error_of;

namespace {

// n rows of `width` features: feature f of row r is r + f / 10; the label of row r is r, so the
// labels served tell which rows were read.
std::string write_rows(const weft::testing::TempDir& dir, std::int64_t n, std::int64_t width = 3) {
  const std::string path = dir.file("rows.h5");
  std::vector<float> x(static_cast<std::size_t>(n * width)), y(static_cast<std::size_t>(n));
  for (std::int64_t r = 0; r < n; ++r) {
    y[static_cast<std::size_t>(r)] = static_cast<float>(r);
    for (std::int64_t f = 0; f < width; ++f) x[static_cast<std::size_t>(r * width + f)] = static_cast<float>(r) + float(f) / 10;
  }
  weft::io::H5File file(path, 'w');
  file.write_floats("features", Shape{n, width}, x.data());
  file.write_floats("labels", Shape{n}, y.data());
  return path;
}

weft::io::Hdf5SourceOptions windows_of(std::int64_t rows) {
  weft::io::Hdf5SourceOptions o;
  o.window_rows = rows;
  return o;
}

// The rows of one epoch, read `batch` at a time.
std::vector<std::int64_t> epoch_rows(const weft::DataSource& s, weft::EpochOrder order, std::int64_t start = 0,
                                     std::int64_t batch = 7) {
  std::vector<std::int64_t> rows;
  const auto reader = s.open(order, start);
  Tensor x, y;
  while (const auto k = reader->read(batch, x, y)) {
    const std::int64_t width = x.shape().numel() / k;
    for (std::int64_t i = 0; i < k; ++i) {
      rows.push_back(static_cast<std::int64_t>(y[static_cast<std::size_t>(i)]));
      BOOST_REQUIRE_EQUAL(x[static_cast<std::size_t>(i * width)], y[static_cast<std::size_t>(i)]);  // features follow their row
    }
  }
  return rows;
}

std::vector<std::int64_t> iota(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_streamed_epoch_visits_every_row_once_in_a_seeded_order) {
  weft::testing::TempDir dir;
  const auto path = write_rows(dir, 103);
  const weft::io::Hdf5Source a(path, windows_of(20)), b(path, windows_of(20));  // 6 windows, the last of 3 rows
  const auto order = epoch_rows(a, {true, 5, 0});
  auto sorted = order;
  std::sort(sorted.begin(), sorted.end());
  BOOST_CHECK(sorted == iota(103));
  BOOST_CHECK(order != iota(103));
  BOOST_CHECK(order == epoch_rows(b, {true, 5, 0}));                // same seed, another source: same order
  BOOST_CHECK(order == epoch_rows(a, {true, 5, 0}, 0, 50));         // whatever the read sizes
  BOOST_CHECK(order != epoch_rows(a, {true, 6, 0}));                // another seed
  BOOST_CHECK(order != epoch_rows(a, {true, 5, 1}));                // another epoch
  BOOST_CHECK(epoch_rows(a, {false, 5, 0}) == iota(103));           // no shuffling: stored order

  // Windowed: the rows of a window come one after the other, so the window (row / 20) changes
  // exactly 5 times along the epoch, and the windows are not visited in stored order.
  int changes = 0;
  std::vector<std::int64_t> visited = {order[0] / 20};
  for (std::size_t i = 1; i < order.size(); ++i)
    if (order[i] / 20 != order[i - 1] / 20) {
      ++changes;
      visited.push_back(order[i] / 20);
    }
  BOOST_CHECK_EQUAL(changes, 5);
  BOOST_CHECK(visited != iota(6));
}

BOOST_AUTO_TEST_CASE(an_epoch_opened_mid_way_continues_the_same_order) {
  weft::testing::TempDir dir;
  const weft::io::Hdf5Source s(write_rows(dir, 103), windows_of(20));
  const auto whole = epoch_rows(s, {true, 9, 2});
  for (std::int64_t start : {0, 1, 19, 20, 37, 102, 103}) {
    const auto tail = epoch_rows(s, {true, 9, 2}, start);
    BOOST_CHECK(tail == std::vector<std::int64_t>(whole.begin() + start, whole.end()));
  }
}

BOOST_AUTO_TEST_CASE(one_window_holding_every_row_is_the_in_memory_shuffle) {
  weft::testing::TempDir dir;
  const weft::io::Hdf5Source s(write_rows(dir, 50), windows_of(64));
  BOOST_CHECK(epoch_rows(s, {true, 3, 4}) == weft::shuffled_indices(50, 3, 4));
}

BOOST_AUTO_TEST_CASE(the_reader_holds_one_window_of_rows_at_a_time) {
  weft::testing::TempDir dir;
  const weft::io::Hdf5Source s(write_rows(dir, 100), windows_of(20));  // 5 windows
  {
    const auto reader = s.open({true, 1, 0}, 0);
    Tensor x, y;
    std::int64_t served = 0;
    while (const auto k = reader->read(8, x, y)) {
      served += k;
      BOOST_CHECK_LE(s.resident_rows(), 20);
    }
    BOOST_CHECK_EQUAL(served, 100);
  }
  BOOST_CHECK_EQUAL(s.peak_resident_rows(), 20);
  BOOST_CHECK_EQUAL(s.resident_rows(), 0);  // released with the reader
}

BOOST_AUTO_TEST_CASE(a_seeded_split_divides_the_rows_without_reading_them) {
  weft::testing::TempDir dir;
  const auto path = write_rows(dir, 400);
  auto o = windows_of(64);
  o.split = {0.25, 3, false};
  const weft::io::Hdf5Source train(path, o);
  o.split.held_out = true;
  const weft::io::Hdf5Source val(path, o);
  BOOST_CHECK_EQUAL(train.size() + val.size(), 400);
  BOOST_CHECK(val.size() > 60 && val.size() < 140);  // 100 expected; binomial sd ≈ 8.7
  const auto t = epoch_rows(train, {}), v = epoch_rows(val, {});
  BOOST_CHECK(std::is_sorted(t.begin(), t.end()) && std::is_sorted(v.begin(), v.end()));
  std::vector<std::int64_t> all;
  std::merge(t.begin(), t.end(), v.begin(), v.end(), std::back_inserter(all));
  BOOST_CHECK(all == iota(400));  // disjoint and covering
  // The rule: row r is held out when the (seed, split) stream's r-th uniform draw is below 0.25.
  const auto stream = weft::CounterRng(3).derive(weft::rng_stream::split).derive(1);
  for (auto r : v) BOOST_CHECK_LT(stream.uniform_double(static_cast<std::uint64_t>(r)), 0.25);
  // Shuffled epochs of the training part still visit each of its rows once.
  auto shuffled = epoch_rows(train, {true, 8, 1});
  std::sort(shuffled.begin(), shuffled.end());
  BOOST_CHECK(shuffled == t);
}

// One rank of a data-parallel run reads only its part of each batch (SampleReader::read_part):
// its rows' features, the same values a whole read gives, zeros elsewhere, every target; the
// source counts exactly the feature rows read. With a split and a preparation applied to them.
BOOST_AUTO_TEST_CASE(a_part_of_each_batch_reads_only_its_rows_features) {
  weft::testing::TempDir dir;
  const auto path = write_rows(dir, 103);
  auto o = windows_of(20);  // batches of 16 cross windows
  o.split = {0.2, 4, false};
  o.prepare = [](Tensor& x) {
    for (auto& v : x.span()) v = 2 * v + 1;
  };
  const weft::io::Hdf5Source whole(path, o), part(path, o);
  const auto all = whole.open({true, 2, 1}, 0), mine = part.open({true, 2, 1}, 0);
  Tensor wx, wy, px, py;
  std::int64_t expected_rows = 0, batches = 0;
  for (;; ++batches) {
    const std::int64_t first = 5 * (batches % 3), end = first + 6;  // the front, middle and back of a batch
    const auto k = all->read(16, wx, wy);
    BOOST_REQUIRE_EQUAL(mine->read_part(16, first, end, px, py), k);
    if (k == 0) break;
    BOOST_REQUIRE(px.shape() == wx.shape() && py.shape() == wy.shape());
    BOOST_CHECK(std::equal(py.span().begin(), py.span().end(), wy.span().begin()));  // every target
    for (std::int64_t i = 0; i < k; ++i)
      for (std::int64_t f = 0; f < 3; ++f) {
        const auto at = static_cast<std::size_t>(i * 3 + f);
        const bool in_part = i >= first && i < std::min(end, k);
        BOOST_CHECK_EQUAL(px[at], in_part ? 2 * (wy[static_cast<std::size_t>(i)] + float(f) / 10) + 1 : 0.0f);
        BOOST_CHECK_EQUAL(px[at], in_part ? wx[at] : 0.0f);
      }
    expected_rows += std::max<std::int64_t>(0, std::min(end, k) - first);
  }
  BOOST_CHECK_EQUAL(batches, (whole.size() + 15) / 16);
  BOOST_CHECK_EQUAL(part.feature_rows_read(), expected_rows);
  BOOST_CHECK_EQUAL(whole.feature_rows_read(), 103);  // whole windows, split rows included
  BOOST_CHECK_LT(expected_rows, whole.size() / 2);
}

BOOST_AUTO_TEST_CASE(streamed_standardisation_statistics_equal_the_in_memory_ones) {
  // Values far from zero (mean 1000, spread 3) make a naive one-pass variance lose digits.
  const std::int64_t n = 1000, width = 5;
  Tensor x(Shape{n, width});
  const weft::CounterRng rng(4);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(1000 + 3 * rng.normal(i) + double(i % width));
  weft::io::FeatureMoments moments;
  for (std::int64_t begin = 0; begin < n; begin += 64) {
    const std::int64_t k = std::min<std::int64_t>(64, n - begin);
    Tensor block(Shape{k, width});
    std::copy_n(x.data() + begin * width, k * width, block.data());
    moments.add(block);
  }
  auto streamed = weft::io::Normalization::parse("standardize"), whole = streamed;
  streamed.fit(moments);
  whole.fit(x);
  weft::io::DataState a, b;
  streamed.to_state(a);
  whole.to_state(b);
  // Reference: a plain two-pass loop in long double.
  for (std::int64_t f = 0; f < width; ++f) {
    long double mean = 0, ss = 0;
    for (std::int64_t i = 0; i < n; ++i) mean += x[static_cast<std::size_t>(i * width + f)];
    mean /= n;
    for (std::int64_t i = 0; i < n; ++i) ss += (x[static_cast<std::size_t>(i * width + f)] - mean) * (x[static_cast<std::size_t>(i * width + f)] - mean);
    const auto std_ref = static_cast<double>(std::sqrt(ss / n));
    const auto fi = static_cast<std::size_t>(f);
    for (const auto* state : {&a, &b}) {
      BOOST_CHECK_CLOSE_FRACTION(state->tensors[0].second[fi], static_cast<double>(mean), 1e-12);
      BOOST_CHECK_CLOSE_FRACTION(state->tensors[1].second[fi], std_ref, 1e-12);
    }
    BOOST_CHECK_CLOSE_FRACTION(a.tensors[0].second[fi], b.tensors[0].second[fi], 1e-12);
    BOOST_CHECK_CLOSE_FRACTION(a.tensors[1].second[fi], b.tensors[1].second[fi], 1e-12);
  }
}

BOOST_AUTO_TEST_CASE(bad_files_are_named) {
  weft::testing::TempDir dir;
  const auto path = write_rows(dir, 10);
  {
    weft::io::H5File file(dir.file("uneven.h5"), 'w');
    const std::vector<float> x(30), y(9);
    file.write_floats("features", Shape{10, 3}, x.data());
    file.write_floats("labels", Shape{9}, y.data());
  }
  auto msg = error_of([&] { weft::io::Hdf5Source(dir.file("uneven.h5"), windows_of(4)); });
  BOOST_CHECK_MESSAGE(msg.find("'features' has 10 samples but 'labels' has 9") != std::string::npos, msg);

  auto o = windows_of(4);
  o.labels = "targets";
  msg = error_of([&] { weft::io::Hdf5Source(path, o); });
  BOOST_CHECK_MESSAGE(msg.find(path) != std::string::npos && msg.find("no dataset 'targets'") != std::string::npos, msg);

  o = windows_of(4);
  o.sample_shape = Shape{4};
  msg = error_of([&] { weft::io::Hdf5Source(path, o); });
  BOOST_CHECK_MESSAGE(msg.find("dataset 'features' has samples of shape (3)") != std::string::npos &&
                          msg.find("the model takes (4)") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(a_file_truncated_while_streaming_names_the_rows_it_could_not_read) {
  weft::testing::TempDir dir;
  const auto path = write_rows(dir, 2000, 8);
  const weft::io::Hdf5Source s(path, windows_of(500));
  BOOST_CHECK_EQUAL(epoch_rows(s, {}, 0, 500).size(), 0u + 2000);  // reads fine at first
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  const auto msg = error_of([&] { epoch_rows(s, {true, 1, 0}); });
  BOOST_CHECK_MESSAGE(msg.find("HDF5 file '" + path + "'") != std::string::npos && msg.find("of dataset '") != std::string::npos &&
                          msg.find("rows [") != std::string::npos && msg.find("truncated") != std::string::npos, msg);
}
