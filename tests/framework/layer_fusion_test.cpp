// Layer fusion (weft/layer_fusion.hpp): a convolution and the 2 × 2 max pooling that alone reads
// it run as one layer. The fused executor must give the unfused one's bits exactly: outputs,
// parameter gradients and input gradients, over passes that reuse the shard's workspace, with
// ties (constant inputs), NaN, odd sizes, padding, groups, dilation, no bias and no relu. Fusion
// must actually happen where it applies (the convolution's output then takes no buffer), and not
// where it does not (other pool shapes, strided convolutions, a second reader).
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "model_helpers.hpp"
#include "weft/executor.hpp"
#include "weft/gradient_check.hpp"
#include "weft/model.hpp"

using weft::Json;
using weft::Shape;
using weft::Tensor;
using weft::testing::same_bits;

namespace {

Json conv_pool_model(const Json& input, const Json& conv, const Json& pool, const Json& rest, const char* loss) {
  Json layers = Json::array({conv, pool});
  for (const auto& l : rest) layers.push_back(l);
  return {{"input", input}, {"layers", layers}, {"loss", loss}};
}

const Json fashion_like = conv_pool_model(
    {2, 12, 12}, {{"type", "conv2d"}, {"filters", 4}, {"kernel", 3}, {"activation", "relu"}},
    {{"type", "max_pool2d"}, {"kernel", 2}},
    {{{"type", "conv2d"}, {"filters", 6}, {"kernel", 3}, {"activation", "relu"}},  // 5 × 5 → 3 × 3
     {{"type", "max_pool2d"}, {"kernel", 2}},                                      // drops a row and a column
     {{"type", "flatten"}},
     {{"type", "dense"}, {"units", 3}}},
    "cross_entropy");

// Padding, dilation, groups, no bias, no activation; odd output (9 × 11 → 4 × 5).
const Json grouped = conv_pool_model(
    {4, 9, 11},
    {{"type", "conv2d"}, {"filters", 6}, {"kernel", 3}, {"padding", 2}, {"dilation", 2}, {"groups", 2}, {"bias", false}},
    {{"type", "max_pool2d"}, {"kernel", 2}, {"stride", 2}}, {{{"type", "flatten"}}, {{"type", "dense"}, {"units", 2}}},
    "mse");

// The generic names with "dims", a 1 × 1 kernel and a "same"-padded 2 × 4 kernel after it.
const Json generic = conv_pool_model(
    {3, 8, 8}, {{"type", "conv"}, {"dims", 2}, {"filters", 5}, {"kernel", 1}, {"activation", "relu"}},
    {{"type", "max_pool"}, {"dims", 2}, {"kernel", {2, 2}}},
    {{{"type", "conv2d"}, {"filters", 3}, {"kernel", {2, 4}}, {"padding", "same"}, {"activation", "relu"}},
     {{"type", "max_pool2d"}, {"kernel", 2}},
     {{"type", "flatten"}},
     {{"type", "dense"}, {"units", 4}}},
    "cross_entropy");

// 28 × 28 as Fashion-MNIST's first layer: pooled rows of 13 windows (whole and overlapping vector
// blocks), more filters than one gradient block of 16, and pooled rows of 5 after the second layer.
const Json wide_rows = conv_pool_model(
    {1, 28, 28}, {{"type", "conv2d"}, {"filters", 18}, {"kernel", 3}, {"activation", "relu"}},
    {{"type", "max_pool2d"}, {"kernel", 2}},
    {{{"type", "conv2d"}, {"filters", 4}, {"kernel", 3}, {"activation", "relu"}},
     {{"type", "max_pool2d"}, {"kernel", 2}},
     {{"type", "flatten"}},
     {{"type", "dense"}, {"units", 3}}},
    "cross_entropy");

Tensor filled(const Shape& shape, std::uint64_t seed, bool constant) {
  Tensor t(shape);
  const weft::CounterRng rng(seed);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = constant ? 0.5f : static_cast<float>(rng.normal(i));
  return t;
}

struct Pass {
  Tensor output, gradient, input_gradient;
};

// Forward and backward over `x` with labels 0, 1, ... (or targets 0.1·i), on `exec` (which computes
// the input gradient when `input_gradient`).
Pass run(weft::Executor& exec, const Tensor& x, bool input_gradient) {
  weft::Model& model = exec.model();
  const std::int64_t n = x.shape()[0], classes = model.output_shape().numel();
  Tensor targets(model.target_shape().with_batch(n));
  for (std::size_t i = 0; i < targets.size(); ++i)
    targets[i] = model.target_shape().rank() == 0 ? static_cast<float>(static_cast<std::int64_t>(i) % classes)
                                                  : 0.1f * static_cast<float>(i % 7);
  exec.forward(x.view(), true, 0, 1);
  Pass p{Tensor(model.output_shape().with_batch(n)), Tensor(Shape{static_cast<std::int64_t>(model.parameter_count())}),
         Tensor(x.shape())};
  exec.copy_output(p.output.view());
  exec.loss(targets.view(), true);
  exec.backward();
  exec.reduce_gradients(p.gradient.span());
  if (input_gradient) exec.copy_input_gradient(p.input_gradient.view());
  return p;
}

// Fused and unfused executors over three passes (random, constant: every window a tie, random
// again): the same bits.
struct Plans {
  std::int64_t fused_floats, plain_floats;  // activation floats per sample
  bool first_pair_fused;                    // the fused executor runs layers 0 and 1 as one
};
// With and without the input gradient (the first layer's backward then skips it).
Plans check_same_bits(const Json& spec, int threads, bool input_gradient = true) {
  weft::Model model(spec);
  model.initialize(3);
  weft::Executor fused(model, {.shard_size = 3, .threads = threads, .input_gradient = input_gradient});
  weft::Executor plain(model, {.shard_size = 3, .threads = threads, .input_gradient = input_gradient, .fuse_layers = false});
  const Shape shape = model.input_shape(0).with_batch(7);  // shards of 3, 3 and 1
  for (int pass = 0; pass < 3; ++pass) {
    const Tensor x = filled(shape, 11 + pass, pass == 1);
    const Pass a = run(fused, x, input_gradient), b = run(plain, x, input_gradient);
    BOOST_CHECK_MESSAGE(same_bits(a.output, b.output), "output, pass " << pass);
    BOOST_CHECK_MESSAGE(same_bits(a.gradient, b.gradient), "parameter gradient, pass " << pass);
    BOOST_CHECK_MESSAGE(same_bits(a.input_gradient, b.input_gradient), "input gradient, pass " << pass);
  }
  BOOST_CHECK(!plain.fused_with_next(0));
  return {fused.activation_floats_per_sample(), plain.activation_floats_per_sample(), fused.fused_with_next(0)};
}

}  // namespace

BOOST_AUTO_TEST_CASE(fused_convolution_and_pooling_give_the_unfused_bits) {
  for (const Json& spec : {fashion_like, grouped, generic, wide_rows})
    for (const int threads : {1, 2}) {
      const Plans p = check_same_bits(spec, threads);
      check_same_bits(spec, threads, false);
      BOOST_CHECK(p.first_pair_fused);
      BOOST_CHECK_LT(p.fused_floats, p.plain_floats);  // the convolutions' outputs took no buffer
    }
}

BOOST_AUTO_TEST_CASE(a_nan_propagates_through_the_fused_pair_as_through_the_two_layers) {
  weft::Model model(fashion_like);
  model.initialize(3);
  weft::Executor fused(model, {.shard_size = 4, .threads = 1});
  weft::Executor plain(model, {.shard_size = 4, .threads = 1, .fuse_layers = false});
  Tensor x = filled(model.input_shape(0).with_batch(4), 5, false);
  x[30] = std::numeric_limits<float>::quiet_NaN();
  Tensor a(model.output_shape().with_batch(4)), b(a.shape());
  fused.forward(x.view(), false, 0, 1);
  fused.copy_output(a.view());
  plain.forward(x.view(), false, 0, 1);
  plain.copy_output(b.view());
  BOOST_CHECK(std::isnan(a[0]));
  BOOST_CHECK(same_bits(a, b));
  BOOST_CHECK_EQUAL(fused.first_non_finite_layer(), plain.first_non_finite_layer());  // the first conv
  BOOST_CHECK_EQUAL(fused.first_non_finite_layer(), 0);
}

BOOST_AUTO_TEST_CASE(fused_models_match_finite_differences) {
  // One stage each: behind two stages of pooling so many points sit near a changed maximum
  // that the check skips a third of them as kinks.
  const Json tail = Json::array({{{"type", "flatten"}}, {{"type", "dense"}, {"units", 3}}});
  for (const Json& conv : {fashion_like["layers"][0], grouped["layers"][0]}) {
    const auto r = weft::check_model_gradients(conv_pool_model({4, 7, 8}, conv, {{"type", "max_pool2d"}, {"kernel", 2}}, tail, "mse"));
    BOOST_CHECK_MESSAGE(r.ok, r.report);
    BOOST_CHECK_GT(r.checked, 0);
  }
}

BOOST_AUTO_TEST_CASE(pairs_outside_the_fusion_run_as_two_layers) {
  const Json conv = {{"type", "conv2d"}, {"filters", 3}, {"kernel", 3}, {"activation", "relu"}};
  const Json tail = Json::array({{{"type", "flatten"}}, {{"type", "dense"}, {"units", 2}}});
  const Json specs[] = {
      conv_pool_model({2, 9, 9}, conv, {{"type", "max_pool2d"}, {"kernel", 3}, {"stride", 2}}, tail, "mse"),
      conv_pool_model({2, 9, 9}, conv, {{"type", "avg_pool2d"}, {"kernel", 2}}, tail, "mse"),
      conv_pool_model({2, 9, 9}, conv, {{"type", "max_pool2d"}, {"kernel", 2}, {"ceil_mode", true}}, tail, "mse"),
      conv_pool_model({2, 9, 9}, {{"type", "conv2d"}, {"filters", 3}, {"kernel", 3}, {"stride", 2}},
                      {{"type", "max_pool2d"}, {"kernel", 2}}, tail, "mse"),
      // The convolution's output is also read by the add: it must be written.
      {{"input", {2, 6, 6}},
       {"layers",
        {{{"type", "conv2d"}, {"filters", 2}, {"kernel", 1}, {"name", "c"}},
         {{"type", "max_pool2d"}, {"kernel", 2}},
         {{"type", "flatten"}},
         {{"type", "dense"}, {"units", 72}},
         {{"type", "reshape"}, {"shape", {2, 6, 6}}},
         {{"type", "add"}, {"inputs", {"reshape_4", "c"}}},
         {{"type", "flatten"}},
         {{"type", "dense"}, {"units", 2}}}},
       {"loss", "mse"}}};
  for (const Json& spec : specs) {
    BOOST_TEST_CHECKPOINT(spec.dump());
    const Plans p = check_same_bits(spec, 2);
    BOOST_CHECK(!p.first_pair_fused);
    BOOST_CHECK_EQUAL(p.fused_floats, p.plain_floats);
  }
}
