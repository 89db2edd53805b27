// "activation": "relu" on conv and dense: the same bits as the layer followed by a relu layer,
// forward and backward, on both convolution paths; gradient cases; the setting's errors.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstring>

#include "gradient_cases.hpp"
#include "model_helpers.hpp"
#include "weft/executor.hpp"

using weft::Json;
using weft::Shape;
using weft::Tensor;
using weft::testing::same_bits;

// Small: a weight moves every output it touches, and the more outputs sit within a step of
// relu's kink the more the finite differences blur. The relu mask itself is pinned by the
// bit-equality test below.
WEFT_GRADIENT_CASES(fused_activation) {
  layer({{"type", "conv2d"}, {"filters", 2}, {"kernel", 2}, {"padding", 1}, {"activation", "relu"}}, Shape{1, 3, 2});
  layer({{"type", "conv1d"}, {"filters", 3}, {"kernel", 3}, {"stride", 2}, {"activation", "relu"}}, Shape{2, 9});
  layer({{"type", "dense"}, {"units", 4}, {"activation", "relu"}}, Shape{6});
}

namespace {

struct FusedPass {
  Tensor output, input_gradient, gradient;
};

// Forward and backward over a batch of 5 in shards of 2, from fixed inputs and weights.
FusedPass run_fused(const Json& layers, const Shape& input, std::span<const float> weights) {
  weft::Model m({{"input", input.to_vector()}, {"layers", layers}, {"loss", "mse"}});
  BOOST_REQUIRE_EQUAL(m.parameters().size(), weights.size());
  std::copy(weights.begin(), weights.end(), m.parameters().begin());
  weft::Executor exec(m, {2, 1, true});
  const weft::CounterRng rng(5);
  Tensor x(input.with_batch(5)), dy(m.output_shape().with_batch(5));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(rng.normal(i));
  for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = static_cast<float>(rng.derive(1).normal(i));
  FusedPass p{Tensor(dy.shape()), Tensor(x.shape()), Tensor(Shape{static_cast<std::int64_t>(weights.size())})};
  exec.forward(x, true, 0, 0);
  exec.copy_output(p.output);
  exec.backward(dy);
  exec.copy_input_gradient(p.input_gradient);
  exec.reduce_gradients(p.gradient.span());
  return p;
}

void check_fused_equals_separate(Json layer, const Shape& input) {
  Json fused = layer;
  fused["activation"] = "relu";
  weft::Model init({{"input", input.to_vector()}, {"layers", Json::array({layer})}, {"loss", "mse"}});
  init.initialize(3);
  const std::vector<float> weights(init.parameters().begin(), init.parameters().end());
  const FusedPass separate = run_fused(Json::array({layer, {{"type", "relu"}}}), input, weights);
  const FusedPass together = run_fused(Json::array({fused}), input, weights);
  // A case where relu decides nothing would prove little.
  const auto zeros = std::count(separate.output.data(), separate.output.data() + separate.output.size(), 0.0f);
  BOOST_CHECK(zeros > 0 && zeros < static_cast<std::ptrdiff_t>(separate.output.size()));
  BOOST_CHECK(same_bits(separate.output, together.output));
  BOOST_CHECK(same_bits(separate.input_gradient, together.input_gradient));
  BOOST_CHECK(same_bits(separate.gradient, together.gradient));
}

}  // namespace

BOOST_AUTO_TEST_CASE(fused_relu_gives_the_bits_of_a_separate_relu_layer) {
  // Stride 1 (shifted windows), stride 2 (im2col), grouped and padded, and dense.
  check_fused_equals_separate({{"type", "conv2d"}, {"filters", 6}, {"kernel", 3}, {"padding", 1}}, Shape{3, 7, 6});
  check_fused_equals_separate({{"type", "conv2d"}, {"filters", 4}, {"kernel", 3}, {"stride", 2}, {"groups", 2}},
                              Shape{4, 9, 8});
  check_fused_equals_separate({{"type", "dense"}, {"units", 7}}, Shape{10});
}

BOOST_AUTO_TEST_CASE(an_unknown_activation_names_the_choices) {
  const std::string error = weft::testing::error_of([] {
    weft::Model m({{"input", {4}}, {"layers", {{{"type", "dense"}, {"units", 2}, {"activation", "gelu"}}}}, {"loss", "mse"}});
  });
  BOOST_CHECK_MESSAGE(error.find("activation") != std::string::npos && error.find("relu") != std::string::npos, error);
}
