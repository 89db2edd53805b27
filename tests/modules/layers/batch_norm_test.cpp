// batch_norm: values worked out by hand, whole-batch statistics under sharding, running
// estimates, and bit-identical training with 1 and 2 threads.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>

#include "gradient_cases.hpp"
#include "model_helpers.hpp"
#include "weft/executor.hpp"
#include "weft/trainer.hpp"

using weft::Json;
using weft::Shape;
using weft::Tensor;

WEFT_GRADIENT_CASES(batch_norm) {
  layer({{"type", "batch_norm"}}, Shape{4});                     // N·C
  layer({{"type", "batch_norm"}, {"affine", false}}, Shape{3});  // no scale and shift
  layer({{"type", "batch_norm"}}, Shape{3, 5});                  // N·C·L
  layer({{"type", "batch_norm"}, {"momentum", 0.3}}, Shape{2, 3, 3});  // N·C·H·W
  layer({{"type", "batch_norm"}}, Shape{1, 2, 1, 3});            // N·C·D·H·W, one channel
  weft::GradientCheckOptions eval;
  eval.training = false;  // running statistics: an affine map per channel
  layer({{"type", "batch_norm"}}, Shape{2, 3}, eval);
  weft::GradientCheckOptions big;
  big.batch = 9;
  big.shard_size = 4;
  layer({{"type", "batch_norm"}, {"eps", 1e-3}}, Shape{3, 2}, big);
}

namespace {

Json one_layer(const Shape& input, Json layer = {{"type", "batch_norm"}}) {
  return {{"input", input.to_vector()}, {"layers", Json::array({std::move(layer)})}, {"loss", "mse"}};
}

// The named tensor ("batch_norm_0/running_var") of a flat parameter or buffer storage.
std::vector<float> tensor_of(const weft::Model& model, const std::string& name, bool buffer) {
  const auto& table = buffer ? model.buffer_table() : model.parameter_table();
  const auto flat = buffer ? model.buffers() : model.parameters();
  for (const auto& t : table)
    if (t.name == name) return {flat.begin() + static_cast<std::ptrdiff_t>(t.offset), flat.begin() + static_cast<std::ptrdiff_t>(t.offset + t.size())};
  throw weft::Error("no tensor " + name);
}

// The output of one forward pass over x with shards of `shard` samples.
Tensor forward(weft::Model& model, const Tensor& x, bool training, std::int64_t shard) {
  weft::Executor exec(model, {shard, 2, false});
  exec.forward(x, training, 0, 1);
  Tensor y(x.shape());
  exec.copy_output(y);
  return y;
}

}  // namespace

BOOST_AUTO_TEST_CASE(batch_norm_normalises_dense_features_by_the_whole_batch) {
  // Batch of 4, two features; shards of 3 and 1 so the statistics cross shards.
  //   feature 0: 1, 2, 3, 6 → mean 3, biased variance (4 + 1 + 0 + 9)/4 = 3.5, unbiased 14/3
  //   feature 1: 0, 0, 4, 4 → mean 2, biased variance 4, unbiased 16/3
  // γ = (2, 1), β = (0.5, 0): y = γ·(x − mean)/sqrt(var + ε) + β, ε = 1e-5.
  weft::Model model(one_layer(Shape{2}));
  model.initialize(1);
  weft::testing::set_parameter(model, "batch_norm_0/weight", {2, 1});
  weft::testing::set_parameter(model, "batch_norm_0/bias", {0.5f, 0});
  Tensor x(Shape{4, 2});
  const float values[] = {1, 0, 2, 0, 3, 4, 6, 4};
  std::copy(std::begin(values), std::end(values), x.data());
  const Tensor y = forward(model, x, true, 3);
  const double s0 = std::sqrt(3.5 + 1e-5), s1 = std::sqrt(4 + 1e-5);
  const double expected[] = {2 * -2 / s0 + 0.5, -2 / s1, 2 * -1 / s0 + 0.5, -2 / s1,
                             0.5,               2 / s1,  2 * 3 / s0 + 0.5,  2 / s1};
  for (std::size_t i = 0; i < 8; ++i) BOOST_CHECK_CLOSE(y[i], expected[i], 1e-4);

  // Running estimates after one step with momentum 0.1 from (mean 0, var 1):
  //   mean = 0.1·(3, 2) = (0.3, 0.2); var = 0.9 + 0.1·(14/3, 16/3) = (1.36667, 1.43333).
  const auto mean = tensor_of(model, "batch_norm_0/running_mean", true);
  const auto var = tensor_of(model, "batch_norm_0/running_var", true);
  BOOST_CHECK_CLOSE(mean[0], 0.3f, 1e-4);
  BOOST_CHECK_CLOSE(mean[1], 0.2f, 1e-4);
  BOOST_CHECK_CLOSE(var[0], 0.9 + 1.4 / 3, 1e-4);
  BOOST_CHECK_CLOSE(var[1], 0.9 + 1.6 / 3, 1e-4);

  // Evaluation uses the running estimates and leaves them alone.
  const Tensor e = forward(model, x, false, 3);
  BOOST_CHECK_CLOSE(e[0], 2 * (1 - 0.3) / std::sqrt(0.9 + 1.4 / 3 + 1e-5) + 0.5, 1e-4);
  BOOST_CHECK_CLOSE(e[3], (0 - 0.2) / std::sqrt(0.9 + 1.6 / 3 + 1e-5), 1e-3);
  BOOST_CHECK_CLOSE(tensor_of(model, "batch_norm_0/running_mean", true)[0], 0.3f, 1e-4);
}

BOOST_AUTO_TEST_CASE(batch_norm_normalises_each_channel_over_samples_and_positions) {
  // Two samples of (2 channels, 1×2 positions), one sample per shard.
  //   channel 0: 1, 3 | 5, 7 → mean 4, biased variance (9 + 1 + 1 + 9)/4 = 5
  //   channel 1: 2, 2 | 2, 2 → mean 2, variance 0 → y = 0 (x − mean is exactly 0)
  weft::Model model(one_layer(Shape{2, 1, 2}, {{"type", "batch_norm"}, {"affine", false}}));
  model.initialize(1);
  BOOST_CHECK_EQUAL(model.parameter_count(), 0u);
  Tensor x(Shape{2, 2, 1, 2});
  const float values[] = {1, 3, 2, 2, 5, 7, 2, 2};
  std::copy(std::begin(values), std::end(values), x.data());
  const Tensor y = forward(model, x, true, 1);
  const double s = std::sqrt(5 + 1e-5);
  const double expected[] = {-3 / s, -1 / s, 0, 0, 1 / s, 3 / s, 0, 0};
  for (std::size_t i = 0; i < 8; ++i) BOOST_CHECK_SMALL(y[i] - expected[i], 1e-5);
  // Unbiased variance of channel 0 over m = 4 values: 20/3; running var = 0.9 + 0.1·20/3.
  BOOST_CHECK_CLOSE(tensor_of(model, "batch_norm_0/running_var", true)[0], 0.9 + 2.0 / 3, 1e-4);
}

BOOST_AUTO_TEST_CASE(sharded_batch_norm_step_equals_the_one_shard_step) {
  // Features far from zero (mean ~10000, std ~1) test the statistics' numerical care: a naive
  // Σx² − (Σx)²/m in float would lose the variance entirely.
  const Shape input{3, 4};
  const std::int64_t n = 37;
  Tensor x(input.with_batch(n)), r(input.with_batch(n));
  const weft::CounterRng rng(3);
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = static_cast<float>(10000 + rng.normal(i));
    r[i] = static_cast<float>(rng.derive(1).normal(i));
  }
  struct Result {
    Tensor y, dx, grads;
    std::vector<float> mean, var;
  };
  auto run = [&](std::int64_t shard, int threads) {
    weft::Model model(one_layer(input));
    model.initialize(4);
    weft::testing::set_parameter(model, "batch_norm_0/weight", {1.5f, -0.5f, 2});
    weft::Executor exec(model, {shard, threads, true});
    exec.forward(x, true, 0, 1);
    exec.backward(r);
    Result out{Tensor(x.shape()), Tensor(x.shape()), Tensor(Shape{static_cast<std::int64_t>(model.parameter_count())}),
               tensor_of(model, "batch_norm_0/running_mean", true), tensor_of(model, "batch_norm_0/running_var", true)};
    exec.copy_output(out.y);
    exec.copy_input_gradient(out.dx);
    exec.reduce_gradients(out.grads.span());
    return out;
  };
  const Result whole = run(n, 1), sharded = run(5, 2), sharded1 = run(5, 1);

  // Reference statistics in double, two passes, for channel 0 (values at i·12 + s, s < 4).
  double mean = 0, m2 = 0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t s = 0; s < 4; ++s) mean += x[static_cast<std::size_t>(i * 12 + s)];
  mean /= 4.0 * n;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t s = 0; s < 4; ++s) m2 += std::pow(x[static_cast<std::size_t>(i * 12 + s)] - mean, 2);
  BOOST_CHECK_CLOSE(sharded.mean[0], 0.1 * mean, 1e-5);
  BOOST_CHECK_CLOSE(sharded.var[0], 0.9 + 0.1 * m2 / (4.0 * n - 1), 1e-3);
  const double y0 = 1.5 * (x[0] - mean) / std::sqrt(m2 / (4.0 * n) + 1e-5);
  BOOST_CHECK_SMALL(sharded.y[0] - y0, 2e-3);

  auto max_diff = [](const Tensor& a, const Tensor& b) {
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, double(std::abs(a[i] - b[i])));
    return d;
  };
  BOOST_CHECK_SMALL(max_diff(whole.y, sharded.y), 2e-3);
  BOOST_CHECK_SMALL(max_diff(whole.dx, sharded.dx), 2e-3);
  BOOST_CHECK_SMALL(max_diff(whole.grads, sharded.grads), 2e-3);
  for (std::size_t c = 0; c < 3; ++c) {
    BOOST_CHECK_CLOSE(whole.mean[c], sharded.mean[c], 1e-5);
    BOOST_CHECK_CLOSE(whole.var[c], sharded.var[c], 1e-3);
  }
  // The thread count changes nothing at all.
  BOOST_CHECK(std::memcmp(sharded.y.data(), sharded1.y.data(), sharded.y.size() * sizeof(float)) == 0);
  BOOST_CHECK(std::memcmp(sharded.dx.data(), sharded1.dx.data(), sharded.dx.size() * sizeof(float)) == 0);
  BOOST_CHECK(std::memcmp(sharded.grads.data(), sharded1.grads.data(), sharded.grads.size() * sizeof(float)) == 0);
  // The gradient of Σ r·y with respect to x sums to 0 per channel (y is shift invariant).
  double total = 0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t s = 0; s < 4; ++s) total += sharded.dx[static_cast<std::size_t>(i * 12 + s)];
  BOOST_CHECK_SMALL(total, 1e-3);
}

BOOST_AUTO_TEST_CASE(training_with_batch_norm_is_bit_identical_on_one_and_two_threads) {
  const Json spec = {{"input", {2, 3, 3}},
                     {"layers", {{{"type", "batch_norm"}}, {{"type", "relu"}}, {{"type", "dropout"}, {"rate", 0.2}},
                                 {{"type", "batch_norm"}, {"momentum", 0.3}}}},
                     {"loss", "mse"},
                     {"optimizer", {{"type", "adam"}, {"lr", 0.01}}}};
  weft::Dataset data{Tensor(Shape{45, 2, 3, 3}), Tensor(Shape{45, 2, 3, 3}), "synthetic"};
  const weft::CounterRng rng(5);
  for (std::size_t i = 0; i < data.x.size(); ++i) {
    data.x[i] = static_cast<float>(3 * rng.normal(i) + 2);
    data.y[i] = static_cast<float>(rng.derive(1).normal(i));
  }
  float running_mean = 0;
  auto train = [&](int threads) {
    weft::Model model(spec);
    model.initialize(2);
    weft::Trainer trainer(model, {.batch_size = 20, .shard_size = 3, .threads = threads});
    for (int epoch = 0; epoch < 2; ++epoch) trainer.train_epoch(data);
    std::vector<float> out(model.parameters().begin(), model.parameters().end());
    out.insert(out.end(), model.buffers().begin(), model.buffers().end());
    running_mean = tensor_of(model, "batch_norm_0/running_mean", true)[0];
    return out;
  };
  const auto one = train(1), two = train(2);
  BOOST_REQUIRE_EQUAL(one.size(), two.size());
  BOOST_CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
  // The running mean of the first layer moved towards the data's mean of 2.
  BOOST_CHECK_GT(running_mean, 0.5f);
}

BOOST_AUTO_TEST_CASE(batch_norm_rejects_a_single_value_per_channel_in_training) {
  weft::Model model(one_layer(Shape{3}));
  model.initialize(1);
  const Tensor x(Shape{1, 3});
  const std::string msg = weft::testing::error_of([&] { forward(model, x, true, 4); });
  BOOST_CHECK_MESSAGE(msg.find("batch_norm") != std::string::npos && msg.find("more than one value") != std::string::npos, msg);
  // Evaluation of a single sample is fine.
  BOOST_CHECK_NO_THROW(forward(model, x, false, 4));
}

BOOST_AUTO_TEST_CASE(batch_statistics_stay_accurate_far_from_zero_on_long_rows) {
  // 100 positions per channel (vector blocks of 64 plus a tail), |mean|/std = 10⁴, shards of 3.
  // The running estimates after one step from (0, 1) with momentum 1 are the batch's mean and
  // unbiased variance, checked against a two-pass reference in double over the same floats.
  const Shape input{2, 10, 10};
  const std::int64_t n = 7;
  Tensor x(input.with_batch(n));
  const weft::CounterRng rng(8);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(-10000 + 0.5 * rng.normal(i));
  weft::Model model(one_layer(input, {{"type", "batch_norm"}, {"momentum", 1.0}}));
  model.initialize(1);
  (void)forward(model, x, true, 3);
  const auto mean = tensor_of(model, "batch_norm_0/running_mean", true);
  const auto var = tensor_of(model, "batch_norm_0/running_var", true);
  for (std::int64_t c = 0; c < 2; ++c) {
    double sum = 0, m2 = 0;
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t s = 0; s < 100; ++s) sum += x[static_cast<std::size_t>((i * 2 + c) * 100 + s)];
    const double m = sum / (100.0 * n);
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t s = 0; s < 100; ++s) m2 += std::pow(x[static_cast<std::size_t>((i * 2 + c) * 100 + s)] - m, 2);
    BOOST_CHECK_CLOSE(mean[static_cast<std::size_t>(c)], m, 1e-5);  // the float it is stored in
    BOOST_CHECK_CLOSE(var[static_cast<std::size_t>(c)], m2 / (100.0 * n - 1), 1e-3);  // percent: 1e-5 relative
  }
}
