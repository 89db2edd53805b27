// dropout and spatial_dropout: masks keyed by sample, not shard; evaluation is the identity;
// the kept fraction matches the rate.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>

#include "gradient_cases.hpp"
#include "model_helpers.hpp"
#include "weft/executor.hpp"

using weft::Json;
using weft::Shape;
using weft::Tensor;
using weft::testing::same_bits;

WEFT_GRADIENT_CASES(dropout) {
  layer({{"type", "dropout"}, {"rate", 0.3}}, Shape{7});
  layer({{"type", "dropout"}, {"rate", 0.5}}, Shape{2, 3});
  layer({{"type", "dropout"}, {"rate", 0.0}}, Shape{3});
  weft::GradientCheckOptions eval;
  eval.training = false;
  layer({{"type", "dropout"}}, Shape{4}, eval);
  layer({{"type", "spatial_dropout"}, {"rate", 0.4}}, Shape{5, 3});
  layer({{"type", "spatial_dropout"}, {"rate", 0.25}}, Shape{4, 2, 2});
}

namespace {

struct Pass {
  Tensor y, dx;
};

// One forward and backward pass (dy = r) of a single dropout layer.
Pass run(const Json& layer, const Tensor& x, const Tensor& r, bool training, std::int64_t shard, int threads,
         std::int64_t step = 0) {
  weft::Model model({{"input", x.shape().without_batch().to_vector()}, {"layers", Json::array({layer})}, {"loss", "mse"}});
  weft::Executor exec(model, {shard, threads, true});
  exec.forward(x, training, step, 42);
  exec.backward(r);
  Pass out{Tensor(x.shape()), Tensor(x.shape())};
  exec.copy_output(out.y);
  exec.copy_input_gradient(out.dx);
  return out;
}

Tensor random(const Shape& shape, std::uint64_t seed) {
  Tensor t(shape);
  const weft::CounterRng rng(seed);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(rng.normal(i));
  return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(dropout_masks_do_not_depend_on_sharding_or_threads) {
  for (const Json& layer : {Json{{"type", "dropout"}, {"rate", 0.3}}, Json{{"type", "spatial_dropout"}, {"rate", 0.3}}}) {
    const Tensor x = random(Shape{23, 4, 5}, 1), r = random(Shape{23, 4, 5}, 2);
    const Pass whole = run(layer, x, r, true, 23, 1), sharded = run(layer, x, r, true, 4, 2),
               sharded1 = run(layer, x, r, true, 4, 1);
    BOOST_CHECK(same_bits(whole.y, sharded.y));
    BOOST_CHECK(same_bits(whole.dx, sharded.dx));
    BOOST_CHECK(same_bits(sharded.y, sharded1.y));
    // Backward applies the forward mask: dx is zero exactly where y is, and dx/r = y/x = 1/0.7.
    for (std::size_t i = 0; i < x.size(); ++i) {
      BOOST_CHECK_EQUAL(whole.y[i] == 0.0f, whole.dx[i] == 0.0f);
      if (whole.y[i] != 0) BOOST_CHECK_CLOSE(whole.dx[i], r[i] / 0.7f, 1e-4);
    }
    // Another step draws another mask.
    BOOST_CHECK(!same_bits(whole.y, run(layer, x, r, true, 23, 1, 1).y));
  }
}

BOOST_AUTO_TEST_CASE(dropout_is_the_identity_in_evaluation) {
  const Tensor x = random(Shape{9, 2, 3}, 3), r = random(Shape{9, 2, 3}, 4);
  for (const char* type : {"dropout", "spatial_dropout"}) {
    const Pass p = run({{"type", type}, {"rate", 0.6}}, x, r, false, 4, 2);
    BOOST_CHECK(same_bits(p.y, x));
    BOOST_CHECK(same_bits(p.dx, r));
  }
}

BOOST_AUTO_TEST_CASE(dropout_keeps_the_expected_fraction_scaled_by_the_inverse_keep_rate) {
  // 200 samples × 500 elements of ones, rate 0.3: kept fraction 0.7 ± 4·sqrt(0.21/100000) ≈ 0.0058.
  const Tensor ones(Shape{200, 500}, 1.0f);
  const Pass p = run({{"type", "dropout"}, {"rate", 0.3}}, ones, ones, true, 32, 2);
  std::int64_t kept = 0;
  for (std::size_t i = 0; i < p.y.size(); ++i) {
    if (p.y[i] != 0) {
      ++kept;
      BOOST_REQUIRE_CLOSE(p.y[i], 1 / 0.7f, 1e-4);
    }
  }
  BOOST_CHECK_CLOSE(static_cast<double>(kept) / 100000.0, 0.7, 0.0058 / 0.7 * 100);
  // The mean is preserved in expectation: mean(y) = 1 ± the same relative band.
  BOOST_CHECK_CLOSE(static_cast<double>(kept) / 0.7 / 100000.0, 1.0, 0.0058 / 0.7 * 100);
}

BOOST_AUTO_TEST_CASE(spatial_dropout_drops_whole_channels) {
  // 300 samples × 20 channels × 3×3 positions, rate 0.5: each channel all zero or all 2.
  const Tensor ones(Shape{300, 20, 3, 3}, 1.0f);
  const Pass p = run({{"type", "spatial_dropout"}, {"rate", 0.5}}, ones, ones, true, 64, 2);
  std::int64_t kept = 0;
  for (std::size_t ch = 0; ch < 300 * 20; ++ch) {
    const float first = p.y[ch * 9];
    BOOST_REQUIRE(first == 0.0f || first == 2.0f);
    for (std::size_t k = 1; k < 9; ++k) BOOST_REQUIRE_EQUAL(p.y[ch * 9 + k], first);
    kept += first != 0;
  }
  // 6000 channels: 0.5 ± 4·sqrt(0.25/6000) ≈ 0.026.
  BOOST_CHECK_SMALL(static_cast<double>(kept) / 6000.0 - 0.5, 0.026);
}

BOOST_AUTO_TEST_CASE(dropout_rejects_bad_settings_and_shapes) {
  auto build = [](const Json& layer, std::vector<std::int64_t> input) {
    return weft::testing::error_of(
        [&] { weft::Model({{"input", input}, {"layers", Json::array({layer})}, {"loss", "mse"}}); });
  };
  const std::string rate = build({{"type", "dropout"}, {"rate", 1.0}}, {4});
  BOOST_CHECK_MESSAGE(rate.find("'rate'") != std::string::npos && rate.find("[0, 1)") != std::string::npos, rate);
  const std::string flat = build({{"type", "spatial_dropout"}}, {4});
  BOOST_CHECK_MESSAGE(flat.find("layer 0 (spatial_dropout)") != std::string::npos && flat.find("channels") != std::string::npos, flat);
}
