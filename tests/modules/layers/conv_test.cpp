// conv1d/2d/3d/conv: forward values against cases worked out by hand and against a plain
// nested-loop reference; gradient-check cases; shape errors at model build.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "gradient_cases.hpp"
#include "model_helpers.hpp"
#include "layers/vector_isa.hpp"
#include "one_layer.hpp"

using weft::Json;
using weft::Shape;
using weft::Tensor;
using weft::builtin::VectorIsa;
using weft::testing::OneLayer;

WEFT_GRADIENT_CASES(conv) {
  layer({{"type", "conv1d"}, {"filters", 3}, {"kernel", 3}}, Shape{2, 7});
  layer({{"type", "conv1d"}, {"filters", 2}, {"kernel", 3}, {"dilation", 2}, {"stride", 2}, {"padding", 2}}, Shape{2, 9});
  layer({{"type", "conv1d"}, {"filters", 3}, {"kernel", 2}, {"padding", "same"}, {"bias", false}}, Shape{3, 5});
  layer({{"type", "conv1d"}, {"filters", 6}, {"kernel", 3}, {"groups", 3}}, Shape{3, 6});
  layer({{"type", "conv2d"}, {"filters", 4}, {"kernel", 3}}, Shape{3, 5, 6});
  layer({{"type", "conv2d"}, {"filters", 3}, {"kernel", {3, 2}}, {"stride", 2}, {"padding", 1}}, Shape{2, 7, 6});
  layer({{"type", "conv2d"}, {"filters", 4}, {"kernel", 2}, {"groups", 2}, {"dilation", {2, 1}}}, Shape{4, 6, 5});
  layer({{"type", "conv2d"}, {"filters", 3}, {"kernel", 1}}, Shape{4, 3, 3});
  layer({{"type", "conv2d"}, {"filters", 2}, {"kernel", 3}, {"stride", 2}, {"padding", "same"}}, Shape{2, 5, 4});
  layer({{"type", "conv3d"}, {"filters", 2}, {"kernel", 2}, {"stride", {1, 2, 1}}, {"padding", 1}}, Shape{2, 4, 3, 3});
  layer({{"type", "conv"}, {"dims", 4}, {"filters", 2}, {"kernel", 2}, {"padding", {1, 0, 0, 1}}, {"groups", 2}},
        Shape{2, 3, 3, 2, 3});
  layer({{"type", "conv"}, {"dims", 1}, {"filters", 2}, {"kernel", 4}, {"stride", 3}}, Shape{1, 11});
  // Stride 1 takes the shifted-window path: channel and filter counts off its tile sizes
  // (4 or 8 × 24 or 48 forward, 6 or 12 × 16 or 32 weight gradient), padding, dilation, 3-d.
  layer({{"type", "conv2d"}, {"filters", 18}, {"kernel", 3}, {"padding", 2}, {"dilation", 2}}, Shape{5, 6, 7});
  layer({{"type", "conv3d"}, {"filters", 5}, {"kernel", {2, 3, 2}}, {"padding", 1}, {"groups", 1}}, Shape{3, 3, 4, 3});
}

namespace {

// x[i][j] = 4i + j on a 4×4 plane:
//    0  1  2  3
//    4  5  6  7
//    8  9 10 11
//   12 13 14 15
std::vector<float> counting_4x4() {
  std::vector<float> x(16);
  for (int i = 0; i < 16; ++i) x[static_cast<std::size_t>(i)] = float(i);
  return x;
}

// W = [[1, 2, 0], [0, 0, 0], [0, 0, -1]], bias 0.5: y(a, b) = x[a][b] + 2·x[a][b+1] − x[a+2][b+2] + 0.5
const std::vector<float> asymmetric_3x3 = {1, 2, 0, 0, 0, 0, 0, 0, -1};

}  // namespace

BOOST_AUTO_TEST_CASE(conv2d_3x3_on_4x4_by_hand) {
  OneLayer l({{"type", "conv2d"}, {"filters", 1}, {"kernel", 3}}, Shape{1, 4, 4});
  l.set_param("weight", asymmetric_3x3);
  l.set_param("bias", {0.5f});
  // y(i, j) = (4i + j) + 2(4i + j + 1) − (4(i + 2) + j + 2) + 0.5 = 8i + 2j − 7.5
  const Tensor y = l.run(counting_4x4());
  BOOST_REQUIRE(y.shape() == (Shape{1, 1, 2, 2}));
  BOOST_CHECK_CLOSE(y[0], -7.5f, 1e-4);
  BOOST_CHECK_CLOSE(y[1], -5.5f, 1e-4);
  BOOST_CHECK_CLOSE(y[2], 0.5f, 1e-4);
  BOOST_CHECK_CLOSE(y[3], 2.5f, 1e-4);
}

BOOST_AUTO_TEST_CASE(conv2d_strided_and_padded_by_hand) {
  OneLayer l({{"type", "conv2d"}, {"filters", 1}, {"kernel", 3}, {"stride", 2}, {"padding", 1}}, Shape{1, 4, 4});
  l.set_param("weight", asymmetric_3x3);
  l.set_param("bias", {0.5f});
  // Output (4 + 2 − 3) / 2 + 1 = 2 per axis; window (o1, o2) starts at (a, b) = (2·o1 − 1, 2·o2 − 1),
  // outside the plane reads 0:
  //   (0,0): a=−1,b=−1:  0 + 0 − x[1][1] = −5          → −4.5
  //   (0,1): a=−1,b= 1:  0 + 0 − x[1][3] = −7          → −6.5
  //   (1,0): a= 1,b=−1:  0 + 2·x[1][0] − x[3][1] = −5  → −4.5
  //   (1,1): a= 1,b= 1:  5 + 2·6 − 15 = 2              →  2.5
  const Tensor y = l.run(counting_4x4());
  BOOST_REQUIRE(y.shape() == (Shape{1, 1, 2, 2}));
  BOOST_CHECK_CLOSE(y[0], -4.5f, 1e-4);
  BOOST_CHECK_CLOSE(y[1], -6.5f, 1e-4);
  BOOST_CHECK_CLOSE(y[2], -4.5f, 1e-4);
  BOOST_CHECK_CLOSE(y[3], 2.5f, 1e-4);
}

BOOST_AUTO_TEST_CASE(grouped_conv2d_by_hand) {
  // Two channels [[1, 2], [3, 4]] and [[10, 20], [30, 40]]; 4 filters in 2 groups: filters 0, 1
  // see channel 0 only, filters 2, 3 channel 1 only. Weight (4, 1, 2, 2), no bias:
  //   f0 = [1, 0, 0, 1] → 1 + 4 = 5        f1 = [1, 1, 1, 1] → 10
  //   f2 = [0, 1, −1, 0] → 20 − 30 = −10   f3 = [1, 1, 1, 1] → 100
  OneLayer l({{"type", "conv2d"}, {"filters", 4}, {"kernel", 2}, {"groups", 2}, {"bias", false}}, Shape{2, 2, 2});
  l.set_param("weight", {1, 0, 0, 1, 1, 1, 1, 1, 0, 1, -1, 0, 1, 1, 1, 1});
  const Tensor y = l.run({1, 2, 3, 4, 10, 20, 30, 40});
  BOOST_REQUIRE(y.shape() == (Shape{1, 4, 1, 1}));
  BOOST_CHECK_CLOSE(y[0], 5.0f, 1e-4);
  BOOST_CHECK_CLOSE(y[1], 10.0f, 1e-4);
  BOOST_CHECK_CLOSE(y[2], -10.0f, 1e-4);
  BOOST_CHECK_CLOSE(y[3], 100.0f, 1e-4);
}

BOOST_AUTO_TEST_CASE(conv1d_dilated_by_hand) {
  // x = [1..6], kernel 3 with dilation 2 reads x[o], x[o+2], x[o+4]; w = [1, −1, 2], no bias:
  //   y0 = 1 − 3 + 2·5 = 8,  y1 = 2 − 4 + 2·6 = 10
  OneLayer l({{"type", "conv1d"}, {"filters", 1}, {"kernel", 3}, {"dilation", 2}, {"bias", false}}, Shape{1, 6});
  l.set_param("weight", {1, -1, 2});
  const Tensor y = l.run({1, 2, 3, 4, 5, 6});
  BOOST_REQUIRE(y.shape() == (Shape{1, 1, 2}));
  BOOST_CHECK_CLOSE(y[0], 8.0f, 1e-4);
  BOOST_CHECK_CLOSE(y[1], 10.0f, 1e-4);
}

BOOST_AUTO_TEST_CASE(same_padding_keeps_the_extent_divided_by_the_stride) {
  // x = [1, 2, 3, 4], w = [1, 1, 1]. Stride 1: one zero each side → [3, 6, 9, 7].
  OneLayer one({{"type", "conv1d"}, {"filters", 1}, {"kernel", 3}, {"padding", "same"}, {"bias", false}}, Shape{1, 4});
  one.set_param("weight", {1, 1, 1});
  const Tensor y1 = one.run({1, 2, 3, 4});
  BOOST_REQUIRE(y1.shape() == (Shape{1, 1, 4}));
  BOOST_CHECK_EQUAL(y1[0], 3.0f);
  BOOST_CHECK_EQUAL(y1[1], 6.0f);
  BOOST_CHECK_EQUAL(y1[2], 9.0f);
  BOOST_CHECK_EQUAL(y1[3], 7.0f);
  // Stride 2: ceil(4 / 2) = 2 outputs need (2 − 1)·2 + 3 − 4 = 1 padding, put at the end:
  // windows [1, 2, 3] and [3, 4, 0] → [6, 7].
  OneLayer two({{"type", "conv1d"}, {"filters", 1}, {"kernel", 3}, {"stride", 2}, {"padding", "same"}, {"bias", false}},
               Shape{1, 4});
  two.set_param("weight", {1, 1, 1});
  const Tensor y2 = two.run({1, 2, 3, 4});
  BOOST_REQUIRE(y2.shape() == (Shape{1, 1, 2}));
  BOOST_CHECK_EQUAL(y2[0], 6.0f);
  BOOST_CHECK_EQUAL(y2[1], 7.0f);
}

namespace {

// The definition of a grouped N-d convolution, written as plainly as possible, for one sample:
// y[f, o] = b[f] + Σ_{c in f's group, k} w[f, c, k] · x[g·C/G + c, o·stride − pad + k·dilation].
std::vector<double> reference_conv(const std::vector<float>& x, const Shape& in, std::span<const float> w,
                                   std::span<const float> b, std::int64_t filters, std::int64_t groups,
                                   const std::vector<std::int64_t>& kernel, const std::vector<std::int64_t>& stride,
                                   const std::vector<std::int64_t>& pad, const std::vector<std::int64_t>& dilation,
                                   const std::vector<std::int64_t>& out) {
  const std::size_t dims = kernel.size();
  const std::int64_t cin_g = in[0] / groups, fout_g = filters / groups;
  std::int64_t out_count = 1, k_count = 1;
  for (std::size_t d = 0; d < dims; ++d) out_count *= out[d], k_count *= kernel[d];
  std::vector<double> y(static_cast<std::size_t>(filters * out_count));
  for (std::int64_t f = 0; f < filters; ++f)
    for (std::int64_t q = 0; q < out_count; ++q) {
      double sum = b.empty() ? 0.0 : b[static_cast<std::size_t>(f)];
      for (std::int64_t c = 0; c < cin_g; ++c)
        for (std::int64_t kq = 0; kq < k_count; ++kq) {
          // Unravel q and kq (row-major), then locate the input element.
          std::int64_t qr = q, kr = kq, index = f / fout_g * cin_g + c;
          std::vector<std::int64_t> o(dims), k(dims);
          for (std::size_t d = dims; d-- > 0;) {
            o[d] = qr % out[d], qr /= out[d];
            k[d] = kr % kernel[d], kr /= kernel[d];
          }
          bool inside = true;
          for (std::size_t d = 0; d < dims; ++d) {
            const std::int64_t i = o[d] * stride[d] - pad[d] + k[d] * dilation[d];
            inside = inside && i >= 0 && i < in[d + 1];
            index = index * in[d + 1] + i;
          }
          if (inside) sum += double(w[static_cast<std::size_t>((f * cin_g + c) * k_count + kq)]) * x[static_cast<std::size_t>(index)];
        }
      y[static_cast<std::size_t>(f * out_count + q)] = sum;
    }
  return y;
}

// Runs a batch of three samples (so small outputs go through the multi-sample GEMM blocks) and
// compares each sample with the reference.
void check_against_reference(const Json& spec, const Shape& in, const std::vector<std::int64_t>& kernel,
                             const std::vector<std::int64_t>& stride, const std::vector<std::int64_t>& pad,
                             const std::vector<std::int64_t>& dilation) {
  OneLayer l(spec, in);
  const weft::CounterRng rng(3);
  constexpr std::int64_t batch = 3;
  Tensor x(in.with_batch(batch));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(rng.normal(i));
  auto b = l.param("bias");
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(rng.derive(1).normal(i));
  const Tensor y = l.run(x.view());
  const Shape out = l.output_shape();
  std::vector<std::int64_t> out_spatial(out.dims().begin() + 1, out.dims().end());
  BOOST_REQUIRE_EQUAL(y.size(), static_cast<std::size_t>(batch * out.numel()));
  double worst = 0;
  for (std::int64_t s = 0; s < batch; ++s) {
    const std::vector<float> sample(x.data() + s * in.numel(), x.data() + (s + 1) * in.numel());
    const auto ref = reference_conv(sample, in, l.param("weight"), b, spec["filters"].get<std::int64_t>(),
                                    spec.value("groups", std::int64_t{1}), kernel, stride, pad, dilation, out_spatial);
    for (std::size_t i = 0; i < ref.size(); ++i)
      worst = std::max(worst, std::abs(y[static_cast<std::size_t>(s * out.numel()) + i] - ref[i]));
  }
  BOOST_CHECK_SMALL(worst, 1e-4);
}

}  // namespace

BOOST_AUTO_TEST_CASE(conv_4d_matches_a_nested_loop_reference) {
  // Output extents: (4 + 2 − 2) + 1 = 5;  (3 − 2) / 2 + 1 = 1;  (4 + 2 − 3) + 1 = 4;  3 − (2·1 + 1) + 1 = 1
  check_against_reference({{"type", "conv"}, {"dims", 4}, {"filters", 4}, {"groups", 2}, {"kernel", {2, 2, 3, 2}},
                           {"stride", {1, 2, 1, 1}}, {"padding", {1, 0, 1, 0}}, {"dilation", {1, 1, 1, 2}}},
                          Shape{2, 4, 3, 4, 3}, {2, 2, 3, 2}, {1, 2, 1, 1}, {1, 0, 1, 0}, {1, 1, 1, 2});
  BOOST_CHECK((OneLayer({{"type", "conv"}, {"dims", 4}, {"filters", 4}, {"groups", 2}, {"kernel", {2, 2, 3, 2}},
                         {"stride", {1, 2, 1, 1}}, {"padding", {1, 0, 1, 0}}, {"dilation", {1, 1, 1, 2}}},
                        Shape{2, 4, 3, 4, 3})
                   .output_shape() == Shape{4, 5, 1, 4, 1}));
}

BOOST_AUTO_TEST_CASE(conv2d_and_conv3d_match_the_reference) {
  check_against_reference({{"type", "conv2d"}, {"filters", 6}, {"groups", 3}, {"kernel", {3, 2}}, {"stride", {2, 1}},
                           {"padding", {1, 2}}, {"dilation", {1, 2}}},
                          Shape{3, 7, 6}, {3, 2}, {2, 1}, {1, 2}, {1, 2});
  check_against_reference({{"type", "conv3d"}, {"filters", 3}, {"kernel", 2}, {"stride", 2}, {"padding", 1}},
                          Shape{2, 5, 4, 3}, {2, 2, 2}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1});
}

BOOST_AUTO_TEST_CASE(stride_one_convolutions_match_the_reference) {
  // The shifted-window path: fashion_cnn's two layers, tile edges in every direction, "same"
  // padding of an even kernel (more after than before), dilation, groups, 1-d and 3-d; in every
  // vector instruction set this CPU has (layers/vector_isa.hpp).
  const VectorIsa widest = weft::builtin::vector_isa();
  for (int isa = 0; isa <= static_cast<int>(widest); ++isa) {
  BOOST_TEST_CONTEXT("vector isa " << isa) {
  weft::builtin::limit_vector_isa(static_cast<VectorIsa>(isa));
  check_against_reference({{"type", "conv2d"}, {"filters", 32}, {"kernel", 3}}, Shape{1, 28, 28}, {3, 3}, {1, 1},
                          {0, 0}, {1, 1});
  check_against_reference({{"type", "conv2d"}, {"filters", 64}, {"kernel", 3}}, Shape{32, 13, 13}, {3, 3}, {1, 1},
                          {0, 0}, {1, 1});
  check_against_reference({{"type", "conv2d"}, {"filters", 18}, {"kernel", 3}, {"padding", 2}, {"dilation", 2}},
                          Shape{5, 6, 7}, {3, 3}, {1, 1}, {2, 2}, {2, 2});
  check_against_reference({{"type", "conv2d"}, {"filters", 6}, {"kernel", 4}, {"padding", "same"}, {"groups", 3}},
                          Shape{9, 5, 3}, {4, 4}, {1, 1}, {1, 1}, {1, 1});
  check_against_reference({{"type", "conv1d"}, {"filters", 7}, {"kernel", 5}, {"padding", 3}}, Shape{3, 40}, {5}, {1},
                          {3}, {1});
  check_against_reference({{"type", "conv3d"}, {"filters", 5}, {"kernel", {2, 3, 2}}, {"padding", {1, 0, 1}}},
                          Shape{3, 3, 4, 3}, {2, 3, 2}, {1, 1, 1}, {1, 0, 1}, {1, 1, 1});
  }
  }
  weft::builtin::limit_vector_isa(widest);
}

namespace {
std::string build_error(const Json& layer, const Shape& input) {
  return weft::testing::error_of([&] {
    weft::Model m({{"input", input.to_vector()}, {"layers", Json::array({layer, {{"type", "flatten"}}})}, {"loss", "mse"}});
  });
}
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

BOOST_AUTO_TEST_CASE(shapes_that_do_not_fit_are_rejected_at_build) {
  const std::string flat = build_error({{"type", "conv2d"}, {"filters", 4}, {"kernel", 3}}, Shape{784});
  BOOST_CHECK_MESSAGE(contains(flat, "layer 0 (conv2d) with input shape (784)") &&
                          contains(flat, "(channels, d1, d2) of rank 3, got rank 1"),
                      flat);
  const std::string big = build_error({{"type", "conv2d"}, {"filters", 4}, {"kernel", 5}, {"padding", 1}}, Shape{1, 2, 9});
  BOOST_CHECK_MESSAGE(contains(big, "layer 0 (conv2d) with input shape (1, 2, 9)") &&
                          contains(big, "at least the (dilated) kernel (5, 5)") &&
                          contains(big, "spatial axis 1 is 2 + 2 padding = 4"),
                      big);
  const std::string dilated = build_error({{"type", "conv1d"}, {"filters", 1}, {"kernel", 3}, {"dilation", 3}}, Shape{1, 6});
  BOOST_CHECK_MESSAGE(contains(dilated, "(dilated) kernel (7,)"), dilated);
  const std::string groups = build_error({{"type", "conv2d"}, {"filters", 6}, {"kernel", 1}, {"groups", 3}}, Shape{4, 5, 5});
  BOOST_CHECK_MESSAGE(contains(groups, "layer 0 (conv2d) with input shape (4, 5, 5)") &&
                          contains(groups, "groups = 3 needs input channels divisible by 3, got 4 channels"),
                      groups);
  const std::string filters = build_error({{"type", "conv2d"}, {"filters", 5}, {"kernel", 1}, {"groups", 2}}, Shape{4, 5, 5});
  BOOST_CHECK_MESSAGE(contains(filters, "layer 0 (conv2d)") && contains(filters, "'groups'") &&
                          contains(filters, "a divisor of filters (5)"),
                      filters);
  const std::string padding = build_error({{"type", "conv2d"}, {"filters", 1}, {"kernel", 1}, {"padding", "full"}}, Shape{1, 5, 5});
  BOOST_CHECK_MESSAGE(contains(padding, "'padding'") && contains(padding, "same"), padding);
  const std::string dims = build_error({{"type", "conv"}, {"dims", 5}, {"filters", 1}, {"kernel", 1}}, Shape{1, 2, 2, 2, 2, 2});
  BOOST_CHECK_MESSAGE(contains(dims, "'dims'"), dims);
  // 64·27 column rows × 128³ positions = 3.6·10⁹ entries: more than BLAS's int can index.
  const std::string huge = build_error({{"type", "conv3d"}, {"filters", 8}, {"kernel", 3}, {"padding", 1}}, Shape{64, 128, 128, 128});
  BOOST_CHECK_MESSAGE(contains(huge, "layer 0 (conv3d)") && contains(huge, "3623878656 entries per sample"), huge);
  const std::string kernel = build_error({{"type", "conv3d"}, {"filters", 1}, {"kernel", {2, 2}}}, Shape{1, 4, 4, 4});
  BOOST_CHECK_MESSAGE(contains(kernel, "'kernel'") && contains(kernel, "list of 3"), kernel);
}
