// max/avg pooling in 1–4 dimensions and global pooling: values by hand, the max-pool gradient
// routed to the argmax, gradient-check cases, build errors.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "gradient_cases.hpp"
#include "model_helpers.hpp"
#include "one_layer.hpp"
#include "layers/vector_isa.hpp"
#include "weft/executor.hpp"

using weft::Json;
using weft::Shape;
using weft::Tensor;
using weft::builtin::VectorIsa;
using weft::testing::OneLayer;

WEFT_GRADIENT_CASES(pooling) {
  layer({{"type", "max_pool1d"}, {"kernel", 3}, {"stride", 2}, {"padding", 1}}, Shape{2, 9});
  layer({{"type", "max_pool2d"}, {"kernel", 2}}, Shape{3, 5, 4});
  layer({{"type", "max_pool2d"}, {"kernel", 3}, {"stride", 1}, {"padding", 1}}, Shape{2, 5, 5});
  layer({{"type", "max_pool3d"}, {"kernel", {2, 2, 1}}}, Shape{2, 4, 3, 3});
  layer({{"type", "max_pool"}, {"dims", 4}, {"kernel", 2}, {"stride", 1}}, Shape{1, 3, 2, 3, 3});
  layer({{"type", "avg_pool1d"}, {"kernel", 3}, {"stride", 2}, {"padding", 1}}, Shape{2, 7});
  layer({{"type", "avg_pool2d"}, {"kernel", 2}, {"padding", 1}, {"count_include_pad", false}}, Shape{2, 5, 5});
  layer({{"type", "avg_pool2d"}, {"kernel", 3}, {"stride", 1}, {"padding", 1}}, Shape{1, 4, 5});
  layer({{"type", "avg_pool2d"}, {"kernel", 2}}, Shape{2, 5, 4});  // the 2 × 2 windows max pooling reads directly
  layer({{"type", "avg_pool3d"}, {"kernel", 2}, {"stride", {1, 2, 2}}}, Shape{2, 3, 4, 5});
  layer({{"type", "avg_pool"}, {"dims", 4}, {"kernel", {1, 2, 2, 1}}}, Shape{2, 2, 4, 4, 3});
  layer({{"type", "global_avg_pool"}}, Shape{3, 4, 5});
  layer({{"type", "global_max_pool"}}, Shape{3, 5});
  layer({{"type", "global_max_pool"}}, Shape{2, 3, 3, 2});
}

namespace {
// x[i][j] = 4i + j + offset on a 4×4 plane (see conv_test.cpp).
std::vector<float> ramp_4x4(float scale = 1, float offset = 0) {
  std::vector<float> x(16);
  for (int i = 0; i < 16; ++i) x[static_cast<std::size_t>(i)] = scale * float(i) + offset;
  return x;
}
void check_values(const Tensor& y, std::initializer_list<float> expected) {
  BOOST_REQUIRE_EQUAL(y.size(), expected.size());
  std::size_t i = 0;
  for (float e : expected) BOOST_CHECK_CLOSE(y[i++], e, 1e-4);
}
}  // namespace

BOOST_AUTO_TEST_CASE(max_pool_by_hand) {
  // Kernel 2 on the ramp 0..15: the bottom-right of each 2×2 block.
  check_values(OneLayer({{"type", "max_pool2d"}, {"kernel", 2}}, Shape{1, 4, 4}).run(ramp_4x4()), {5, 7, 13, 15});
  // Kernel 3, stride 2, padding 1 on −1..−16 (x[i][j] = −(4i + j + 1)): windows start at rows/cols
  // −1 and 1; padding never wins even though every real value is negative:
  //   (0,0) rows 0..1, cols 0..1 → −1;  (0,1) rows 0..1, cols 1..3 → −2;
  //   (1,0) rows 1..3, cols 0..1 → −5;  (1,1) rows 1..3, cols 1..3 → −6
  check_values(OneLayer({{"type", "max_pool2d"}, {"kernel", 3}, {"stride", 2}, {"padding", 1}}, Shape{1, 4, 4})
                   .run(ramp_4x4(-1, -1)),
               {-1, -2, -5, -6});
  // A NaN in a window is the window's maximum (it propagates, as in PyTorch), wherever it sits.
  const Tensor nan = OneLayer({{"type", "max_pool1d"}, {"kernel", 2}}, Shape{1, 4}).run({1, std::nanf(""), std::nanf(""), 2});
  BOOST_CHECK(std::isnan(nan[0]) && std::isnan(nan[1]));
}

BOOST_AUTO_TEST_CASE(avg_pool_by_hand) {
  // Kernel 3, stride 2, padding 1 on the ramp 0..15, window sums:
  //   (0,0) 0+1+4+5 = 10 (4 real);  (0,1) 1+2+3+5+6+7 = 24 (6 real);
  //   (1,0) 4+5+8+9+12+13 = 51 (6 real);  (1,1) 5+6+7+9+10+11+13+14+15 = 90 (9 real)
  // count_include_pad (default): divide by 9; otherwise by the real count.
  const Json spec = {{"type", "avg_pool2d"}, {"kernel", 3}, {"stride", 2}, {"padding", 1}};
  check_values(OneLayer(spec, Shape{1, 4, 4}).run(ramp_4x4()), {10.0f / 9, 24.0f / 9, 51.0f / 9, 10});
  Json real_only = spec;
  real_only["count_include_pad"] = false;
  check_values(OneLayer(real_only, Shape{1, 4, 4}).run(ramp_4x4()), {2.5f, 4, 8.5f, 10});
  // Overlapping 1-d windows: [1, 2, 3, 4, 5], kernel 3, stride 1 → [2, 3, 4]
  check_values(OneLayer({{"type", "avg_pool1d"}, {"kernel", 3}, {"stride", 1}}, Shape{1, 5}).run({1, 2, 3, 4, 5}), {2, 3, 4});
}

BOOST_AUTO_TEST_CASE(global_pools_by_hand) {
  // Channels [1, 2, 3, 4] and [−1, 5, 0, 0]: means 2.5 and 1, maxima 4 and 5.
  check_values(OneLayer({{"type", "global_avg_pool"}}, Shape{2, 2, 2}).run({1, 2, 3, 4, -1, 5, 0, 0}), {2.5f, 1});
  check_values(OneLayer({{"type", "global_max_pool"}}, Shape{2, 2, 2}).run({1, 2, 3, 4, -1, 5, 0, 0}), {4, 5});
}

BOOST_AUTO_TEST_CASE(max_pool_gradient_goes_to_the_argmax) {
  // [1, 3, 2, 0] kernel 2 → [3, 2]; dy = [10, 20] lands on the maxima: dx = [0, 10, 20, 0].
  // Overlapping windows (kernel 2, stride 1) on [0, 3, 1]: both windows pick x1 → dx1 = 10 + 20.
  auto input_gradient = [](const Json& spec, std::int64_t len, std::vector<float> x, std::vector<float> dy) {
    weft::Model m({{"input", {1, len}}, {"layers", Json::array({spec})}, {"loss", "mse"}});
    weft::Executor exec(m, {32, 1, true});
    Tensor xt(Shape{1, 1, len}), dyt(m.output_shape().with_batch(1)), dx(Shape{1, 1, len});
    std::copy(x.begin(), x.end(), xt.data());
    std::copy(dy.begin(), dy.end(), dyt.data());
    exec.forward(xt, true, 0, 0);
    exec.backward(dyt);
    exec.copy_input_gradient(dx);
    return dx;
  };
  check_values(input_gradient({{"type", "max_pool1d"}, {"kernel", 2}}, 4, {1, 3, 2, 0}, {10, 20}), {0, 10, 20, 0});
  check_values(input_gradient({{"type", "max_pool1d"}, {"kernel", 2}, {"stride", 1}}, 3, {0, 3, 1}, {10, 20}), {0, 30, 0});
  // Ties go to the first largest element and a NaN beats everything (the first NaN wins), both
  // without padding (windows side by side) and with it (one window at a time):
  //   kernel 3 on [5, 1, 5 | 0, 7, 7] → x0 and x4;  on [1, NaN, NaN | 4, 2, NaN] → x1 and x5;
  //   kernel 3, stride 3, padding 1 on [pad, 4, 4 | NaN, 1, NaN] → x0 and x2.
  const float nan = std::nanf("");
  const Json k3 = {{"type", "max_pool1d"}, {"kernel", 3}};
  check_values(input_gradient(k3, 6, {5, 1, 5, 0, 7, 7}, {10, 20}), {10, 0, 0, 0, 20, 0});
  check_values(input_gradient(k3, 6, {1, nan, nan, 4, 2, nan}, {10, 20}), {0, 10, 0, 0, 0, 20});
  check_values(input_gradient({{"type", "max_pool1d"}, {"kernel", 3}, {"padding", 1}}, 5, {4, 4, nan, 1, nan}, {10, 20}),
               {10, 0, 20, 0, 0});
}

BOOST_AUTO_TEST_CASE(two_by_two_max_pool_keeps_the_tie_and_nan_rules) {
  // 2 × 2 windows with stride 2 take a path of their own; the same rules hold there:
  //   [5 5 | 1 2]     window (0,0): a tie of 5s → the first, x0;  (0,1): 9, 9 → x6;
  //   [5 0 | 9 9]     window (1,0): NaN at x8 and x13 → the first NaN, x8;  (1,1): all 4 → x10.
  //   [N 3 | 4 4]
  //   [1 N | 4 4]
  const float nan = std::nanf("");
  weft::Model m({{"input", {1, 4, 4}}, {"layers", Json::array({{{"type", "max_pool2d"}, {"kernel", 2}}})}, {"loss", "mse"}});
  weft::Executor exec(m, {32, 1, true});
  Tensor x(Shape{1, 1, 4, 4}), dy(Shape{1, 1, 2, 2}), dx(Shape{1, 1, 4, 4}), y(Shape{1, 1, 2, 2});
  const float values[] = {5, 5, 1, 2, 5, 0, 9, 9, nan, 3, 4, 4, 1, nan, 4, 4};
  std::copy(std::begin(values), std::end(values), x.data());
  for (int i = 0; i < 4; ++i) dy[static_cast<std::size_t>(i)] = 10.0f * float(i + 1);
  exec.forward(x, true, 0, 0);
  exec.copy_output(y);
  exec.backward(dy);
  exec.copy_input_gradient(dx);
  BOOST_CHECK_EQUAL(y[0], 5.0f);
  BOOST_CHECK_EQUAL(y[1], 9.0f);
  BOOST_CHECK(std::isnan(y[2]));
  BOOST_CHECK_EQUAL(y[3], 4.0f);
  check_values(dx, {10, 0, 0, 0, 0, 0, 20, 0, 30, 0, 40, 0, 0, 0, 0, 0});
}

BOOST_AUTO_TEST_CASE(two_by_two_max_pool_matches_a_reference_on_every_row_width) {
  // Rows of 1 to 35 windows (whole vector blocks of 8, an overlapping or masked last block,
  // rows shorter than a vector), odd widths and heights (a last column and row no window reads),
  // many ties (values from {0, 1, 2}), one NaN, and several planes side by side, so a short row's
  // masked reads and writes would show up in its neighbours: each output and the index each
  // window routes its gradient to, against the rule written out plainly (first largest in slot
  // order, else the first NaN), in every vector instruction set this CPU has.
  const VectorIsa widest = weft::builtin::vector_isa();
  for (int isa = 0; isa <= static_cast<int>(widest); ++isa)
  for (const std::int64_t width : {70, 67, 64, 40, 36, 35, 33, 32, 26, 17, 16, 13, 11, 5, 2}) {
    weft::builtin::limit_vector_isa(static_cast<VectorIsa>(isa));
    constexpr std::int64_t height = 7, planes = 3;
    const std::int64_t out_h = height / 2, out_w = width / 2;
    weft::Model m({{"input", {planes, height, width}}, {"layers", Json::array({{{"type", "max_pool2d"}, {"kernel", 2}}})},
                   {"loss", "mse"}});
    weft::Executor exec(m, {32, 1, true});
    Tensor x(Shape{1, planes, height, width}), dy(m.output_shape().with_batch(1)), dx(x.shape()), y(dy.shape());
    const weft::CounterRng rng(11);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(rng.below(i, 3));
    x[static_cast<std::size_t>(height * width + 2 * width + 1)] = std::nanf("");  // plane 1, window (1, 0), slot 1
    for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = float(i + 1);
    exec.forward(x, true, 0, 0);
    exec.copy_output(y);
    exec.backward(dy);
    exec.copy_input_gradient(dx);
    std::vector<float> expected_dx(x.size(), 0.0f);
    for (std::int64_t p = 0; p < planes; ++p)
      for (std::int64_t oy = 0; oy < out_h; ++oy)
        for (std::int64_t ox = 0; ox < out_w; ++ox) {
          const std::int64_t top = p * height * width + 2 * oy * width + 2 * ox;
          const std::int64_t slots[4] = {top, top + 1, top + width, top + width + 1};
          std::int64_t pick = -1;
          for (std::int64_t s : slots)
            if (pick < 0 && std::isnan(x[static_cast<std::size_t>(s)])) pick = s;
          if (pick < 0) {
            pick = slots[0];
            for (std::int64_t s : slots)
              if (x[static_cast<std::size_t>(s)] > x[static_cast<std::size_t>(pick)]) pick = s;
          }
          const auto out = static_cast<std::size_t>((p * out_h + oy) * out_w + ox);
          const float want = x[static_cast<std::size_t>(pick)];
          BOOST_CHECK_MESSAGE(std::isnan(want) ? std::isnan(y[out]) : y[out] == want,
                              "isa " << isa << ", width " << width << ": output " << out << " is " << y[out] << ", expected " << want);
          expected_dx[static_cast<std::size_t>(pick)] += dy[out];
        }
    for (std::size_t i = 0; i < x.size(); ++i)
      BOOST_CHECK_MESSAGE(dx[i] == expected_dx[i],
                          "isa " << isa << ", width " << width << ": dx[" << i << "] is " << dx[i] << ", expected " << expected_dx[i]);
  }
  weft::builtin::limit_vector_isa(widest);
}

BOOST_AUTO_TEST_CASE(pooling_shape_errors_name_the_layer_and_the_need) {
  using weft::testing::error_of;
  auto build = [](const Json& layer, const Shape& in) {
    return error_of([&] { weft::Model({{"input", in.to_vector()}, {"layers", Json::array({layer})}, {"loss", "mse"}}); });
  };
  const std::string flat = build({{"type", "max_pool2d"}, {"kernel", 2}}, Shape{784});
  BOOST_CHECK_MESSAGE(flat.find("layer 0 (max_pool2d) with input shape (784)") != std::string::npos &&
                          flat.find("(channels, d1, d2) of rank 3") != std::string::npos,
                      flat);
  const std::string pad = build({{"type", "avg_pool2d"}, {"kernel", 2}, {"padding", 2}}, Shape{1, 6, 6});
  BOOST_CHECK_MESSAGE(pad.find("'padding'") != std::string::npos && pad.find("at most half the kernel (2, 2)") != std::string::npos,
                      pad);
  const std::string big = build({{"type", "max_pool1d"}, {"kernel", 5}}, Shape{3, 4});
  BOOST_CHECK_MESSAGE(big.find("layer 0 (max_pool1d) with input shape (3, 4)") != std::string::npos &&
                          big.find("kernel (5,)") != std::string::npos,
                      big);
  const std::string global = build({{"type", "global_avg_pool"}}, Shape{10});
  BOOST_CHECK_MESSAGE(global.find("rank 2 or more, got rank 1") != std::string::npos, global);
  const std::string same = build({{"type", "max_pool1d"}, {"kernel", 2}, {"padding", "same"}}, Shape{1, 4});
  BOOST_CHECK_MESSAGE(same.find("'padding'") != std::string::npos, same);
}
