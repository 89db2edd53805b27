// conv_transpose: a case by hand, the adjoint identity <conv(x), y> = <x, conv_transpose(y)> with
// shared weights in 1–3 dimensions, gradient-check cases, build errors.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "gradient_cases.hpp"
#include "model_helpers.hpp"
#include "one_layer.hpp"

using weft::Json;
using weft::Shape;
using weft::Tensor;
using weft::testing::OneLayer;

WEFT_GRADIENT_CASES(conv_transpose) {
  layer({{"type", "conv_transpose1d"}, {"filters", 2}, {"kernel", 3}, {"stride", 2}}, Shape{3, 4});
  layer({{"type", "conv_transpose1d"}, {"filters", 4}, {"kernel", 2}, {"groups", 2}, {"dilation", 2}, {"padding", 1}},
        Shape{2, 5});
  layer({{"type", "conv_transpose2d"}, {"filters", 3}, {"kernel", 3}, {"stride", 2}, {"padding", 1}, {"output_padding", 1}},
        Shape{2, 3, 4});
  layer({{"type", "conv_transpose2d"}, {"filters", 2}, {"kernel", 1}, {"bias", false}}, Shape{3, 3, 2});
  layer({{"type", "conv_transpose3d"}, {"filters", 2}, {"kernel", 2}, {"stride", {1, 2, 1}}}, Shape{2, 2, 3, 2});
  layer({{"type", "conv_transpose"}, {"dims", 2}, {"filters", 2}, {"kernel", {2, 3}}, {"groups", 2}}, Shape{4, 3, 3});
}

BOOST_AUTO_TEST_CASE(conv_transpose1d_by_hand) {
  // Each input value stamps the kernel into the output at stride 2: x = [1, 2], w = [1, 10, 100]
  // → output length (2 − 1)·2 + 3 = 5:  [1, 10, 100 + 2·1, 2·10, 2·100] = [1, 10, 102, 20, 200], + bias 0.5
  OneLayer l({{"type", "conv_transpose1d"}, {"filters", 1}, {"kernel", 3}, {"stride", 2}}, Shape{1, 2});
  l.set_param("weight", {1, 10, 100});
  l.set_param("bias", {0.5f});
  const Tensor y = l.run({1, 2});
  BOOST_REQUIRE(y.shape() == (Shape{1, 1, 5}));
  const float expected[] = {1.5f, 10.5f, 102.5f, 20.5f, 200.5f};
  for (std::size_t i = 0; i < 5; ++i) BOOST_CHECK_CLOSE(y[i], expected[i], 1e-4);
}

namespace {

// Random values from a counter stream.
std::vector<float> random_values(std::size_t n, std::uint64_t seed) {
  const weft::CounterRng rng(seed);
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(rng.normal(i));
  return v;
}

double dot(const Tensor& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < b.size(); ++i) s += double(a[i]) * b[i];
  return s;
}

// `conv` (bias off) maps (C, X...) to (F, Y...); the transposed layer with the same settings and
// weights, filters = C and `output_padding`, must map (F, Y...) back to (C, X...) as its adjoint.
void check_adjoint(Json conv, const Shape& x_shape, const Json& output_padding) {
  conv["bias"] = false;
  OneLayer forward(conv, x_shape);
  const Shape y_shape = forward.output_shape();
  Json transpose = conv;
  transpose["type"] = "conv_transpose";
  transpose["dims"] = x_shape.rank() - 1;
  transpose["filters"] = x_shape[0];
  transpose["output_padding"] = output_padding;
  OneLayer backward(transpose, y_shape);
  BOOST_REQUIRE(backward.output_shape() == x_shape);
  const auto w = forward.param("weight");
  backward.set_param("weight", {w.begin(), w.end()});
  const auto x = random_values(static_cast<std::size_t>(x_shape.numel()), 1);
  const auto y = random_values(static_cast<std::size_t>(y_shape.numel()), 2);
  const double lhs = dot(forward.run(x), y), rhs = dot(backward.run(y), x);
  BOOST_TEST_CONTEXT(conv.dump() << " on " << x_shape.str()) {
    BOOST_CHECK_GT(std::abs(lhs), 1e-2);
    BOOST_CHECK_SMALL(lhs - rhs, 1e-4 * std::abs(lhs));
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(conv_transpose_is_the_adjoint_of_conv) {
  // 1-d: length 8, kernel 3, stride 2, padding 1 → (8 + 2 − 3) / 2 + 1 = 4; back: (4 − 1)·2 − 2 + 3 = 7,
  // so output_padding 1 restores 8.
  check_adjoint({{"type", "conv1d"}, {"filters", 3}, {"kernel", 3}, {"stride", 2}, {"padding", 1}}, Shape{2, 8}, 1);
  check_adjoint({{"type", "conv1d"}, {"filters", 4}, {"kernel", 2}, {"dilation", 3}, {"groups", 2}}, Shape{2, 9}, 0);
  // 2-d: 7×6, kernel (3, 2), stride 2, padding (1, 0): (7 + 2 − 3)/2 + 1 = 4 → back 7 (op 0);
  // (6 − 2)/2 + 1 = 3 → back (3 − 1)·2 + 2 = 6 (op 0).
  check_adjoint({{"type", "conv2d"}, {"filters", 4}, {"kernel", {3, 2}}, {"stride", 2}, {"padding", {1, 0}}, {"groups", 2}},
                Shape{2, 7, 6}, {0, 0});
  // 3-d: 5×4×6, kernel 3, stride (2, 1, 3), padding 1, dilation (1, 2, 1):
  //   (5 + 2 − 3)/2 + 1 = 3 → back (3 − 1)·2 − 2 + 3 = 5;  (4 + 2 − 5) + 1 = 2 → back 1 − 2 + 5 = 4;
  //   (6 + 2 − 3)/3 + 1 = 2 → back 3 − 2 + 3 = 4, output_padding 2 restores 6.
  check_adjoint({{"type", "conv3d"}, {"filters", 2}, {"kernel", 3}, {"stride", {2, 1, 3}}, {"padding", 1},
                 {"dilation", {1, 2, 1}}},
                Shape{3, 5, 4, 6}, {0, 0, 2});
}

BOOST_AUTO_TEST_CASE(conv_transpose_build_errors) {
  auto build = [](const Json& layer, const Shape& in) {
    return weft::testing::error_of(
        [&] { weft::Model({{"input", in.to_vector()}, {"layers", Json::array({layer})}, {"loss", "mse"}}); });
  };
  const std::string op = build({{"type", "conv_transpose1d"}, {"filters", 1}, {"kernel", 3}, {"stride", 2}, {"output_padding", 2}},
                               Shape{1, 4});
  BOOST_CHECK_MESSAGE(op.find("'output_padding'") != std::string::npos &&
                          op.find("smaller than the stride or the dilation") != std::string::npos,
                      op);
  const std::string empty = build({{"type", "conv_transpose1d"}, {"filters", 1}, {"kernel", 1}, {"padding", 2}}, Shape{1, 3});
  BOOST_CHECK_MESSAGE(empty.find("layer 0 (conv_transpose1d) with input shape (1, 3)") != std::string::npos &&
                          empty.find("empty output") != std::string::npos,
                      empty);
  const std::string groups = build({{"type", "conv_transpose2d"}, {"filters", 2}, {"kernel", 1}, {"groups", 2}}, Shape{3, 2, 2});
  BOOST_CHECK_MESSAGE(groups.find("needs input channels divisible by 2, got 3") != std::string::npos, groups);
  const std::string flat = build({{"type", "conv_transpose2d"}, {"filters", 2}, {"kernel", 1}}, Shape{16});
  BOOST_CHECK_MESSAGE(flat.find("of rank 3, got rank 1") != std::string::npos, flat);
}
